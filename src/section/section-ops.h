/* SPDX-License-Identifier: MIT */
#ifndef LSASHM_SECTION_OPS_H
#define LSASHM_SECTION_OPS_H

/*
 * What the layers above sections (src/share, src/host, src/lsa) may do with
 * one, besides the public API: the handle stays opaque to them, and only
 * src/section includes section-internal.h.
 *
 * Handles are type-stable (never freed, only reused), so a caller may hold
 * one that was deleted and reused meanwhile: every call here that takes an
 * id fails with -ESTALE unless the section is live and still has that
 * identity, checked under the section's own lock.
 */
#include <stdbool.h>
#include <stdint.h>

#include "lsashm/section.h"

/* ---- identity, deletion watchers, descriptors for clients ---- */

/* Called with the section's lock held while the section is being deleted;
 * it may take only leaf locks and must not call back into the section. */
typedef void (*section_watch_fn)(void *ctx, uint64_t section_id);

/* Unique in this process, never reused: -ESTALE once deleted. */
int section_identity(lsashm_section_t *s, uint64_t *ret_id);
/* At most SECTION_MAX_WATCHERS (8) per section: -ENOSPC beyond. */
int section_watch(lsashm_section_t *s, uint64_t id, section_watch_fn fn, void *ctx);
void section_unwatch(lsashm_section_t *s, uint64_t id, section_watch_fn fn, void *ctx);

/* What a client needs to map a section. */
struct section_share {
        int fd;             /* a new descriptor, close-on-exec, the caller's to close */
        uint64_t size;      /* the committed part, the file's size: what may be mapped and read */
        unsigned int seals; /* as F_GET_SEALS reports them */
        bool writable;      /* false for readers-only sections, whatever was asked */
};

/* A descriptor for a client: read-only ones are opened O_RDONLY anew, so
 * they cannot be turned into a writable mapping nor extend the file. Before
 * a writable one is made the section is committed in full and sealed against
 * growing: -ENOMEM/-ENOSPC if that fails. -ENODATA: nothing committed. */
int section_share(lsashm_section_t *s, uint64_t id, bool writable, struct section_share *ret);
/* The same for a reader, through a read-only descriptor the caller keeps for
 * this section: *ro_fd, made here the first time (while it is -1) and the
 * caller's to close once it stops sharing the section. ret->fd is *ro_fd,
 * lent, not a new one. Every reader so shares one open file description;
 * a read-only one has nothing a reader could use against another (its
 * offset and status flags matter to read(2), not to a mapping). -ESTALE if
 * the section is no longer id: *ro_fd must not be passed on then. */
int section_share_reader(lsashm_section_t *s, uint64_t id, int *ro_fd, struct section_share *ret);
/* 0 if root is an offset inside the committed part, else -ERANGE. */
int section_root_in_range(lsashm_section_t *s, uint64_t id, uint64_t root);

/* ---- sections named by base address (LsaCreateSharedMemory's) ----
 *
 * registry_acquire and registry_take return the section locked: call the
 * *_locked operations on it, then section_unlock (section_delete_locked
 * unlocks itself). */

int registry_add(lsashm_section_t *s);
/* The live registered section whose base is exactly base, locked; or NULL. */
lsashm_section_t *registry_acquire(const void *base);
/* registry_acquire, section_alloc_locked or section_free_locked, unlock:
 * the allocate and free of LSA's callbacks in one call. -ENOENT when no live
 * registered section has that base; else what the operation returned. */
int registry_alloc(const void *base, uint64_t size, void **ret_ptr);
int registry_free(const void *base, void *ptr);
/* Same, and removed from the registry so no new call can find it. */
lsashm_section_t *registry_take(const void *base);

void section_unlock(lsashm_section_t *s);
uint64_t section_id_locked(const lsashm_section_t *s);
/* The same operations as the public API, on a locked live section. */
int section_alloc_locked(lsashm_section_t *s, uint64_t size, void **ret_ptr);
int section_free_locked(lsashm_section_t *s, void *ptr);
void section_stats_locked(lsashm_section_t *s, struct lsashm_section_stats *ret);
int section_check_locked(lsashm_section_t *s);
/* The owner's descriptor, once the section is fully committed and sealed
 * against growing (it is writable: see section.c); or -ENOMEM/-ENOSPC. */
int section_fd_locked(lsashm_section_t *s);
/* lsashm_section_freeze on a locked live section. */
int section_freeze_locked(lsashm_section_t *s);
/* Wipes, unmaps and closes; unlocks and returns the handle to the pool. */
void section_delete_locked(lsashm_section_t *s);

#endif
