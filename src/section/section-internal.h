/* SPDX-License-Identifier: MIT */
#ifndef LSASHM_SECTION_INTERNAL_H
#define LSASHM_SECTION_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#if defined(__has_include)
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define LSASHM_HAVE_SINGLE_THREADED 1
#endif
#endif

#include "heap/heap.h"
#include "lsashm/section.h"
#include "section/section-ops.h"

/* Private to src/section (and to tests): the layers above see only
 * section-ops.h, and the handle is opaque to them. */

/*
 * A section's handle. Handles are type-stable: once made, the struct is never
 * returned to malloc, only to a pool for reuse, and its lock is initialised
 * exactly once. A thread that still holds the address of a deleted section
 * (a racing call, or the registry's per-thread cache) can therefore always
 * take the lock and find live == false, instead of touching freed memory.
 * Every field below the lock is read and written with the lock held.
 */
#define SECTION_MAX_WATCHERS 8

struct lsashm_section {
        int lock; /* 0 free, 1 held: section_lock, section_lock_release */
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
        uint64_t committed; /* also the memfd's size */
        uint64_t first_commit; /* initial_size in pages: what the first growth commits */
        bool size_sealed;   /* F_SEAL_GROW: committed == reserved for good */
        bool seals_locked;  /* F_SEAL_SEAL: a writable descriptor has left; no freeze */
        bool owner_readonly; /* our mapping is read-only: a freeze began */
        bool frozen;         /* F_SEAL_WRITE: nobody can change a byte */
        uint64_t peak_committed;
        uint64_t refused_frees;
        uint64_t failed_allocs;
        struct crash_wipe_slot *crash_slot; /* NULL for NO_WIPE sections */
        struct heap heap;
        struct lsashm_section *next_spare; /* guarded by the pool's lock */
};

/*
 * A section's lock. Critical sections are short (an O(1) heap step and at
 * most one block's memset), so it is a spin lock: taking it is one atomic
 * exchange, giving it back a plain release store. (A mutex gives it back with
 * a second atomic read-modify-write, and on x86 every such instruction first
 * waits for the critical section's stores, a block just zeroed, to drain.)
 * While the process has only ever had one thread, as libc tells, there is
 * nobody to exclude and no atomic is needed at all: libc's own malloc makes
 * the same choice. A waiter spins briefly, then yields its CPU, then naps
 * (section_lock_wait): the holder may be preempted on a busy machine, and the
 * rare long holders (commit, delete) make syscalls.
 */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ __volatile__("yield");
#endif
}

static inline bool process_single_threaded(void)
{
#if LSASHM_HAVE_SINGLE_THREADED
        return __libc_single_threaded != 0;
#else
        return false;
#endif
}

static inline bool section_trylock(struct lsashm_section *s)
{
        if (__atomic_load_n(&s->lock, __ATOMIC_RELAXED) != 0)
                return false;
        if (process_single_threaded()) {
                /* No other thread exists, and none can start before this
                 * one calls pthread_create, which publishes this store. */
                __atomic_store_n(&s->lock, 1, __ATOMIC_RELAXED);
                return true;
        }
        return __atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE) == 0;
}

/* section.c: the contended path of section_lock. */
void section_lock_wait(struct lsashm_section *s);

static inline void section_lock(struct lsashm_section *s)
{
        if (!section_trylock(s))
                section_lock_wait(s);
}

/* The layers above give it back through section_unlock (section-ops.h). */
static inline void section_lock_release(struct lsashm_section *s)
{
        __atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

/* memfd.c */
/* An empty, owner-only memfd: its size is always the committed size. */
int memfd_section_create(const char *name, int *ret_fd);
/* Against shrinking (and writes, for readers-only sections); once. */
int memfd_section_seal(int fd, bool readers_only);
/* Against growing; once, when fully committed. */
int memfd_section_seal_size(int fd);
/* Against further seals: before a writable descriptor leaves the owner. */
int memfd_section_lock_seals(int fd);
/* Against any change of the bytes, and further seals: the freeze. -EBUSY
 * while a writable shared mapping of the file exists anywhere. */
int memfd_section_seal_write(int fd);
/* Make [offset, offset+len) real pages, extending the file to its end, so a
 * full tmpfs or a memory limit is an error now and never a SIGBUS later.
 * Tests replace it to inject failure. */
extern int (*memfd_section_commit)(int fd, uint64_t offset, uint64_t len);

#endif
