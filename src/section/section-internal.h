/* SPDX-License-Identifier: MIT */
#ifndef LSASHM_SECTION_INTERNAL_H
#define LSASHM_SECTION_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "heap/heap.h"
#include "lsashm/section.h"

/*
 * A section's handle. Handles are type-stable: once made, the struct is never
 * returned to malloc, only to a pool for reuse, and its lock is initialised
 * exactly once. A thread that still holds the address of a deleted section
 * (a racing call, or the registry's per-thread cache) can therefore always
 * take the lock and find live == false, instead of touching freed memory.
 * Every field below the lock is read and written with the lock held.
 */
#define SECTION_MAX_WATCHERS 8

/* Called with the section's lock held while the section is being deleted;
 * it may take only leaf locks and must not call back into the section. */
typedef void (*section_watch_fn)(void *ctx, uint64_t section_id);

struct lsashm_section {
        pthread_mutex_t lock;
        bool live;
        uint64_t id; /* unique in this process, never reused */
        struct {
                section_watch_fn fn;
                void *ctx;
        } watchers[SECTION_MAX_WATCHERS];
        bool registered; /* named by LsaCreateSharedMemory's registry */
        uint32_t flags;
        int fd;
        uint8_t *base;
        uint64_t max_size; /* as asked; no block may be larger */
        uint64_t reserved; /* max_size rounded up to pages */
        uint64_t committed;
        uint64_t peak_committed;
        uint64_t refused_frees;
        uint64_t failed_allocs;
        struct crash_wipe_slot *crash_slot; /* NULL for NO_WIPE sections */
        struct heap heap;
        struct lsashm_section *next_spare; /* guarded by the pool's lock */
};

/* Take a section's lock. Critical sections are short (an O(1) heap step and
 * a memset), so a waiter spins briefly before it sleeps: sleeping and waking
 * through the kernel costs far more than the wait. Uncontended, this is the
 * plain mutex's single atomic. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ __volatile__("yield");
#endif
}

static inline void section_lock(struct lsashm_section *s)
{
        if (pthread_mutex_trylock(&s->lock) == 0)
                return;
        for (int spins = 0; spins < 200; spins++) {
                cpu_relax();
                if (pthread_mutex_trylock(&s->lock) == 0)
                        return;
        }
        pthread_mutex_lock(&s->lock);
}

/* memfd.c */
int memfd_section_create(const char *name, uint64_t size, int *ret_fd);
int memfd_section_seal(int fd, bool readers_only);
/* Make [offset, offset+len) real pages, so a full tmpfs or a memory limit is
 * an error now and never a SIGBUS later. Tests replace it to inject failure. */
extern int (*memfd_section_commit)(int fd, uint64_t offset, uint64_t len);

/* section.c: the same operations as the public API, on a section whose lock
 * the caller holds and which it has seen live. */
int section_alloc_locked(struct lsashm_section *s, uint64_t size, void **ret_ptr);
int section_free_locked(struct lsashm_section *s, void *ptr);
void section_stats_locked(struct lsashm_section *s, struct lsashm_section_stats *ret);
int section_check_locked(struct lsashm_section *s);
/* Wipes, unmaps and closes; unlocks and returns the handle to the pool. */
void section_delete_locked(struct lsashm_section *s);

/* What a client needs to map a section. */
struct section_share {
        int fd;             /* a new descriptor, close-on-exec, the caller's to close */
        uint64_t size;      /* the committed part: what may be mapped and read */
        unsigned int seals; /* as F_GET_SEALS reports them */
        bool writable;      /* false for readers-only sections, whatever was asked */
};

/* All of these fail with -ESTALE unless s is live and still has identity id:
 * handles are type-stable, so a caller may hold one that was deleted (and
 * reused) meanwhile. */
int section_identity(struct lsashm_section *s, uint64_t *ret_id);
int section_watch(struct lsashm_section *s, uint64_t id, section_watch_fn fn, void *ctx);
void section_unwatch(struct lsashm_section *s, uint64_t id, section_watch_fn fn, void *ctx);
/* A descriptor for a client: read-only ones are opened O_RDONLY anew, so
 * they cannot be turned into a writable mapping. */
int section_share(struct lsashm_section *s, uint64_t id, bool writable, struct section_share *ret);
int section_root_in_range(struct lsashm_section *s, uint64_t id, uint64_t root);

/* registry.c: base address -> section, for LsaCreateSharedMemory's sections. */
int registry_add(struct lsashm_section *s);
/* The live registered section whose base is exactly base, locked; or NULL. */
struct lsashm_section *registry_acquire(const void *base);
/* Same, and removed from the registry so no new call can find it. */
struct lsashm_section *registry_take(const void *base);

#endif
