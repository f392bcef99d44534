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
#include <assert.h>
#include <errno.h>

#include "section/section-internal.h"
#include "util/oa-table-libc.h"

/* base address -> struct lsashm_section *, under registry_lock. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct oa_table registry;

static _Thread_local const void *cached_base;
static _Thread_local struct lsashm_section *cached_section;

int registry_add(struct lsashm_section *s)
{
        pthread_mutex_lock(&registry_lock);
        int r = oa_table_reserve(&registry, &oa_table_libc_mem, 1);
        if (r == 0) {
                section_lock(s);
                /* Two live mappings never share a base, but a section torn
                 * down by another way than registry_take (section.c clears
                 * its registered flag, not its entry) leaves its base here:
                 * the newcomer at that address replaces the stale entry. */
                oa_table_remove(&registry, (uintptr_t)s->base);
                r = oa_table_insert(&registry, (uintptr_t)s->base, (uintptr_t)s);
                assert(r == 0);
                s->registered = true;
                section_lock_release(s);
        }
        pthread_mutex_unlock(&registry_lock);
        return r;
}

static bool usable(const struct lsashm_section *s, const void *base)
{
        return s->live && s->registered && s->base == base;
}

static struct lsashm_section *lookup_locked_registry(const void *base, bool take)
{
        struct lsashm_section *s = (struct lsashm_section *)oa_table_find(&registry, (uintptr_t)base);
        if (!s)
                return NULL;
        section_lock(s);
        if (take) {
                oa_table_remove(&registry, (uintptr_t)base);
                s->registered = false;
        }
        return s;
}

static struct lsashm_section *acquire_uncached(const void *base);

/* Inlined into the allocate and free paths below: the thread's last section
 * again, checked under its own lock, costs no call and no registry lock. */
static inline struct lsashm_section *acquire(const void *base)
{
        if (!base)
                return NULL;
        struct lsashm_section *s = cached_section;
        if (s && cached_base == base) {
                section_lock(s);
                if (usable(s, base))
                        return s;
                section_lock_release(s);
        }
        return acquire_uncached(base);
}

struct lsashm_section *registry_acquire(const void *base)
{
        return acquire(base);
}

int registry_alloc(const void *base, uint64_t size, void **ret_ptr)
{
        struct lsashm_section *s = acquire(base);
        if (!s)
                return -ENOENT;
        int r = section_alloc_locked(s, size, ret_ptr);
        section_lock_release(s);
        return r;
}

int registry_free(const void *base, void *ptr)
{
        struct lsashm_section *s = acquire(base);
        if (!s)
                return -ENOENT;
        int r = section_free_locked(s, ptr);
        section_lock_release(s);
        return r;
}

static struct lsashm_section *acquire_uncached(const void *base)
{
        struct lsashm_section *s;
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
