/* SPDX-License-Identifier: MIT */
/*
 * The NSS module's view of the cache: the table of one generation, mapped
 * read-only and validated, and the epoch section that says whether it is
 * still the current one.
 *
 * Fast path (every lookup): one acquire load of the current snapshot, one
 * of the epoch's generation and one of its lease word; no system call, no
 * lock, no allocation. When the generation differs or the lease says the
 * package's process died (nothing could wipe the epoch then: SIGKILL), or
 * nothing is mapped yet, the slow path, under the one
 * lock of the module: connect to lsashmd, ask the package where the epoch
 * and the table are, map what is new, validate the table, and close every
 * descriptor again (the connection is deregistered; only mappings stay).
 *
 * Lifetimes. A snapshot is never freed while a lookup may hold it: one
 * that is replaced is kept mapped until NSS_RETIRE_GENERATIONS newer ones
 * were mapped after it and NSS_RETIRE_SECONDS have passed, and never while
 * an enumeration (setpwent/getpwent_r) reads it. A lookup takes well under a
 * microsecond; a thread stopped inside one for longer than that grace (a
 * debugger) is the one case this does not cover. The grace is short because
 * a mapping keeps its table in memory after the package deleted it: a
 * publisher at 10 Hz leaves each process at most ~20 old tables mapped.
 *
 * Fork: the lock is taken around fork (pthread_atfork), so a child never
 * inherits it held; the child keeps the mappings and answers from them.
 *
 * Inside lsashmd itself the module answers nothing (NULL here, UNAVAIL to
 * glibc): lsashmd resolves group names while it starts, and asking itself
 * on its own socket would wait for an answer only it can give. It is told
 * apart by the symbol every package host exports to its packages
 * (LsashmSectionId), seen through a weak reference.
 */
#ifndef LSASHM_NSS_SNAPSHOT_H
#define LSASHM_NSS_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "lsashm/nsscache.h"
#include "nsscache/nsscache-read.h"

#define NSS_RETIRE_GENERATIONS 2u
#define NSS_RETIRE_SECONDS     2u

struct nss_epoch_map;

struct nss_snapshot {
        struct nsscache_view view;
        const NSSCACHE_EPOCH *epoch; /* inside epoch_map's mapping */
        const uint32_t *lease;       /* epoch->Lease's futex word */
        uint64_t generation;         /* the table's own */
        void *table_base;
        /* Under the module's lock: */
        struct nss_epoch_map *epoch_map;
        struct nss_snapshot *next_retired;
        uint64_t retired_at_ms;
        unsigned newer; /* snapshots mapped since this one was replaced */
        unsigned pins;  /* enumerations reading it */
};

extern struct nss_snapshot *nss_current;

const struct nss_snapshot *nss_snapshot_refresh(void);

/* Is s still the current generation of a live package? Two loads from the
 * epoch's one cache line. */
static inline bool nss_snapshot_current(const struct nss_snapshot *s)
{
        return __atomic_load_n(&s->epoch->Generation, __ATOMIC_ACQUIRE) == s->generation &&
                !(__atomic_load_n(s->lease, __ATOMIC_RELAXED) & NSSCACHE_LEASE_OWNER_DIED);
}

/* The snapshot to answer from, or NULL when the cache cannot be reached. */
static inline const struct nss_snapshot *nss_snapshot_get(void)
{
        const struct nss_snapshot *s = __atomic_load_n(&nss_current, __ATOMIC_ACQUIRE);
        if (s && nss_snapshot_current(s))
                return s;
        return nss_snapshot_refresh();
}

/* Enumeration: the module's lock, and a snapshot kept mapped until unpinned. */
void nss_lock(void);
void nss_unlock(void);
/* Under the lock: the current snapshot (refreshed if need be), pinned, or NULL. */
struct nss_snapshot *nss_snapshot_pin_locked(void);
void nss_snapshot_unpin_locked(struct nss_snapshot *s);

#endif
