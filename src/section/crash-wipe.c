/* SPDX-License-Identifier: MIT */
/*
 * The crash-wipe table (crash-wipe.h). Slots live in chunks that are never
 * freed, linked from a static first chunk, so a signal handler can walk them
 * with plain atomic loads while other threads add and remove sections.
 * Writers (create, delete) take a mutex to hand slots out; the handler takes
 * nothing.
 *
 * A slot is wiped when its length is non-zero. The protocol that keeps the
 * handler off a mapping that is going away:
 *   - a slot's base is stored only while its length is 0, and before the
 *     length that makes it visible (so a handler that sees the length sees
 *     that base);
 *   - remove stores length 0, then reads `wiping`; the handler stores
 *     `wiping`, then reads each length. Both sequentially consistent: either
 *     the handler sees length 0 and skips the slot, or remove sees `wiping`
 *     and never lets the caller unmap.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "section/crash-wipe.h"

#define CHUNK_SLOTS 1024

struct crash_wipe_slot {
        _Atomic uintptr_t base;
        _Atomic uint64_t length;
        struct crash_wipe_slot *next_free; /* guarded by lock */
};

struct chunk {
        struct crash_wipe_slot slots[CHUNK_SLOTS];
        struct chunk *_Atomic next;
};

static struct chunk first_chunk;
static atomic_int wiping;
static atomic_uint live;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct crash_wipe_slot *free_slots; /* guarded by lock */
static struct chunk *newest = &first_chunk; /* guarded by lock */
static unsigned newest_used;               /* guarded by lock */

static struct crash_wipe_slot *slot_take_locked(void)
{
        struct crash_wipe_slot *s = free_slots;
        if (s) {
                free_slots = s->next_free;
                return s;
        }
        if (newest_used == CHUNK_SLOTS) {
                struct chunk *c = calloc(1, sizeof(*c));
                if (!c)
                        return NULL;
                /* Published whole: the handler may follow next at once. */
                atomic_store(&newest->next, c);
                newest = c;
                newest_used = 0;
        }
        return &newest->slots[newest_used++];
}

struct crash_wipe_slot *crash_wipe_add(void *base)
{
        pthread_mutex_lock(&lock);
        struct crash_wipe_slot *s = slot_take_locked();
        pthread_mutex_unlock(&lock);
        if (!s)
                return NULL;
        /* Length is 0 here: no handler reads this base yet. */
        atomic_store(&s->base, (uintptr_t)base);
        atomic_fetch_add(&live, 1);
        return s;
}

/* Wait for the end if a wipe is under way: what the caller is about to take
 * away (unmap, or make inaccessible) may be what the handler is writing. */
static void wait_out_a_wipe(void)
{
        if (atomic_load(&wiping)) {
                for (;;)
                        pause();
        }
}

void crash_wipe_set_length(struct crash_wipe_slot *s, uint64_t length)
{
        if (!s)
                return;
        uint64_t old = atomic_exchange(&s->length, length);
        if (length < old)
                wait_out_a_wipe();
}

void crash_wipe_remove(struct crash_wipe_slot *s)
{
        if (!s)
                return;
        atomic_store(&s->length, 0);
        wait_out_a_wipe();
        atomic_fetch_sub(&live, 1);
        pthread_mutex_lock(&lock);
        s->next_free = free_slots;
        free_slots = s;
        pthread_mutex_unlock(&lock);
}

unsigned crash_wipe_all(void)
{
        unsigned wiped = 0;
        atomic_store(&wiping, 1);
        for (struct chunk *c = &first_chunk; c; c = atomic_load(&c->next)) {
                for (unsigned i = 0; i < CHUNK_SLOTS; i++) {
                        uint64_t len = atomic_load(&c->slots[i].length);
                        if (!len)
                                continue;
                        void *base = (void *)atomic_load(&c->slots[i].base);
                        memset(base, 0, len); /* async-signal-safe since POSIX.1-2008 TC2 */
                        wiped++;
                }
        }
        /* The stores must reach memory before the process dies, whatever
         * the compiler thinks of writes nobody reads afterwards. */
        __asm__ __volatile__("" ::: "memory");
        return wiped;
}

unsigned crash_wipe_count(void)
{
        return atomic_load(&live);
}
