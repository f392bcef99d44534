/* SPDX-License-Identifier: MIT */
/*
 * The registry of sections made by LsaCreateSharedMemory, which names them by
 * base address only. Every Windows call looks its SharedMem up here first, so
 * a pointer that was never returned, an interior one, or one already deleted
 * is refused without ever being dereferenced.
 *
 * Lock order: the registry's lock, then a section's lock. The per-thread
 * cache skips the registry's lock; that is safe because handles are
 * type-stable (see section-internal.h) and the cached entry is re-verified
 * under the section's own lock.
 */
#include <errno.h>
#include <stdlib.h>

#include "section/section-internal.h"

#define INITIAL_SLOTS 64u

struct registry_slot {
        uintptr_t base; /* 0: empty */
        struct lsashm_section *section;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct registry_slot *slots;
static size_t slot_mask; /* capacity - 1 */
static size_t slot_count;

static _Thread_local const void *cached_base;
static _Thread_local struct lsashm_section *cached_section;

static size_t home_of(uintptr_t base)
{
        /* Bases are page-aligned: drop the zero bits, then Fibonacci-hash. */
        return (size_t)(((uint64_t)base >> 12) * 0x9E3779B97F4A7C15ull >> 32) & slot_mask;
}

static size_t find_slot(uintptr_t base)
{
        size_t i = home_of(base);
        while (slots[i].base && slots[i].base != base)
                i = (i + 1) & slot_mask;
        return i;
}

static int grow(void)
{
        size_t cap = slots ? (slot_mask + 1) * 2 : INITIAL_SLOTS;
        struct registry_slot *fresh = calloc(cap, sizeof(*fresh));
        if (!fresh)
                return -ENOMEM;
        struct registry_slot *old = slots;
        size_t old_cap = old ? slot_mask + 1 : 0;
        slots = fresh;
        slot_mask = cap - 1;
        for (size_t i = 0; i < old_cap; i++)
                if (old[i].base)
                        slots[find_slot(old[i].base)] = old[i];
        free(old);
        return 0;
}

int registry_add(struct lsashm_section *s)
{
        int r = 0;
        pthread_mutex_lock(&registry_lock);
        if (!slots || (slot_count + 1) * 2 > slot_mask + 1)
                r = grow();
        if (r == 0) {
                section_lock(s);
                uintptr_t base = (uintptr_t)s->base;
                slots[find_slot(base)] = (struct registry_slot){ .base = base, .section = s };
                slot_count++;
                s->registered = true;
                pthread_mutex_unlock(&s->lock);
        }
        pthread_mutex_unlock(&registry_lock);
        return r;
}

/* Backward-shift deletion: no tombstones, so probe chains never lengthen. */
static void remove_slot(size_t i)
{
        for (size_t j = (i + 1) & slot_mask; slots[j].base; j = (j + 1) & slot_mask) {
                size_t home = home_of(slots[j].base);
                bool home_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
                if (!home_between) {
                        slots[i] = slots[j];
                        i = j;
                }
        }
        slots[i] = (struct registry_slot){ 0 };
        slot_count--;
}

static bool usable(const struct lsashm_section *s, const void *base)
{
        return s->live && s->registered && s->base == base;
}

static struct lsashm_section *lookup_locked_registry(const void *base, bool take)
{
        if (!slots)
                return NULL;
        size_t i = find_slot((uintptr_t)base);
        struct lsashm_section *s = slots[i].section;
        if (!slots[i].base)
                return NULL;
        section_lock(s);
        if (take) {
                remove_slot(i);
                s->registered = false;
        }
        return s;
}

struct lsashm_section *registry_acquire(const void *base)
{
        if (!base)
                return NULL;
        struct lsashm_section *s = cached_section;
        if (s && cached_base == base) {
                section_lock(s);
                if (usable(s, base))
                        return s;
                pthread_mutex_unlock(&s->lock);
        }
        pthread_mutex_lock(&registry_lock);
        s = lookup_locked_registry(base, false);
        pthread_mutex_unlock(&registry_lock);
        if (s) {
                cached_base = base;
                cached_section = s;
        }
        return s;
}

struct lsashm_section *registry_take(const void *base)
{
        if (!base)
                return NULL;
        pthread_mutex_lock(&registry_lock);
        struct lsashm_section *s = lookup_locked_registry(base, true);
        pthread_mutex_unlock(&registry_lock);
        return s;
}
