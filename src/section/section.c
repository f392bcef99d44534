/* SPDX-License-Identifier: MIT */
/*
 * Sections: reserve, commit, grow, wipe, delete, and the native API.
 *
 * The whole reserved size is one MAP_SHARED mapping of the memfd. Only the
 * committed prefix is accessible; the rest is PROT_NONE, so a stray access by
 * the owner faults at once instead of silently allocating pages. Committing
 * fallocates before it unprotects, so every accessible page is a real page.
 * Create commits nothing; the first growth commits the initial size.
 *
 * The memfd is exactly as large as the committed prefix: committing extends
 * it. A client may map a descriptor of it over any length, but a page past
 * the end of the file is never allocated: touching one is a SIGBUS in that
 * client alone. So nobody can make the system allocate more than the owner
 * committed, as long as nobody else can extend the file: that needs a
 * writable file description, and before one leaves the owner the section
 * is committed in full and sealed against growing and further seals
 * (commit_all_and_seal).
 *
 * A frozen section (lsashm_section_freeze) is committed in full, its memfd
 * sealed against writing, and the owner's mapping replaced by a read-only
 * one at the same address: nobody can change its bytes any more, so its
 * readers may check them once and trust them after. The heap stays as it
 * was, for the stats; it is never asked to change again.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "section/crash-wipe.h"
#include "section/section-internal.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* The committed part grows by at least this much, or by 1/32 of what it
 * already is, so growth costs few syscalls without much idle memory. */
#define GROW_STEP_MIN ((uint64_t)64 << 10)
#define GROW_STEP_SHIFT 5

#define KNOWN_FLAGS (LSASHM_SECTION_NO_WIPE | LSASHM_SECTION_READERS_ONLY)

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lsashm_section *pool;

static void *metadata_resize(void *ctx, void *old, size_t size)
{
        (void)ctx;
        if (size == 0) {
                free(old);
                return NULL;
        }
        return realloc(old, size);
}

static const struct heap_mem_ops private_metadata = { .resize = metadata_resize };

static uint64_t page_size(void)
{
        static uint64_t cached;
        uint64_t p = __atomic_load_n(&cached, __ATOMIC_RELAXED);
        if (!p) {
                p = (uint64_t)sysconf(_SC_PAGESIZE);
                __atomic_store_n(&cached, p, __ATOMIC_RELAXED);
        }
        return p;
}

static uint64_t round_up(uint64_t v, uint64_t to)
{
        return (v + to - 1) / to * to;
}

static struct lsashm_section *handle_get(void)
{
        pthread_mutex_lock(&pool_lock);
        struct lsashm_section *s = pool;
        if (s)
                pool = s->next_spare;
        pthread_mutex_unlock(&pool_lock);
        if (s)
                return s;
        /* calloc: the lock starts free. */
        return calloc(1, sizeof(*s));
}

static void handle_put(struct lsashm_section *s)
{
        pthread_mutex_lock(&pool_lock);
        s->next_spare = pool;
        pool = s;
        pthread_mutex_unlock(&pool_lock);
}

void section_lock_wait(struct lsashm_section *s)
{
        /* Spin while the holder is most likely running, then give the CPU
         * away (it may be the holder's), then nap: a long holder is in a
         * syscall, and a napping waiter costs nobody anything. */
        for (unsigned n = 0;; n++) {
                if (n < 256)
                        cpu_relax();
                else if (n < 512)
                        sched_yield();
                else
                        nanosleep(&(struct timespec){ .tv_nsec = 50000 }, NULL);
                if (section_trylock(s))
                        return;
        }
}

static bool wipes(const struct lsashm_section *s)
{
        return !(s->flags & LSASHM_SECTION_NO_WIPE);
}

/*
 * Whether every byte of free space is known to be zero, so that allocating
 * need not zero it again. With wiping on, free() wipes each block before the
 * heap can hand it out again and new pages come zero from the kernel; the
 * owner's own mapping writes only into live blocks (writing a freed block is
 * the owner's use-after-free). Anybody else needs a writable descriptor, and
 * before one leaves the owner the seals are locked (commit_all_and_seal): from
 * then on a client may scribble on free space, and allocation zeroes again,
 * for the rest of the section's life.
 */
static bool free_space_is_zero(const struct lsashm_section *s)
{
        return wipes(s) && !s->seals_locked;
}

static int seal_size(struct lsashm_section *s)
{
        if (s->size_sealed)
                return 0;
        int r = memfd_section_seal_size(s->fd);
        if (r < 0)
                return r;
        s->size_sealed = true;
        return 0;
}

/* Make [committed, new_committed) accessible, real and known to the heap;
 * map the first populate bytes of them too, which an allocation is about to
 * use. */
static int commit_to(struct lsashm_section *s, uint64_t new_committed, uint64_t populate)
{
        uint64_t delta = new_committed - s->committed;
        uint8_t *start = s->base + s->committed;

        /* Metadata first: after the pages are committed nothing may fail. */
        int r = heap_reserve(&s->heap);
        if (r < 0)
                return r;
        r = memfd_section_commit(s->fd, s->committed, delta);
        if (r < 0)
                return r == -EFBIG ? -ENOSPC : r;
        if (mprotect(start, delta, PROT_READ | PROT_WRITE) < 0)
                return -errno;
        /* Growing for an allocation: map the pages now, in one call on this
         * slow path, rather than one fault at a time inside the allocations
         * and frees (zeroing, wiping) that follow. At create and for a share
         * nobody asked for the memory yet: its pages are mapped by their
         * first write, as any fresh memory is, and pages nobody uses cost no
         * fault at all. Best effort: older kernels lack it. */
        if (populate)
                (void)madvise(start, populate < delta ? populate : delta, MADV_POPULATE_WRITE);
        r = heap_extend(&s->heap, new_committed);
        if (r < 0)
                return r;
        s->committed = new_committed;
        crash_wipe_set_length(s->crash_slot, new_committed);
        if (new_committed > s->peak_committed)
                s->peak_committed = new_committed;
        /* Best effort: a writable share retries it, and nothing else needs it. */
        if (s->live && s->committed == s->reserved)
                (void)seal_size(s);
        return 0;
}

static int commit_all(struct lsashm_section *s)
{
        if (s->committed < s->reserved) {
                int r = commit_to(s, s->reserved, 0);
                if (r < 0)
                        return r;
        }
        return seal_size(s);
}

/* Before a descriptor that can grow the file or add seals leaves the owner:
 * the whole reservation committed, the size sealed for good, and the seals
 * locked (clients of a writable view check for both). */
static int commit_all_and_seal(struct lsashm_section *s)
{
        int r = commit_all(s);
        if (r < 0 || s->seals_locked)
                return r;
        r = memfd_section_lock_seals(s->fd);
        if (r < 0)
                return r;
        s->seals_locked = true;
        return 0;
}

static int grow_for(struct lsashm_section *s, uint64_t size)
{
        uint64_t page = page_size();
        uint64_t room = s->reserved - s->committed;
        uint64_t need = round_up(heap_extension_needed(&s->heap, size), page);
        if (need == 0 || need > room)
                return -ENOSPC;
        uint64_t want = s->committed >> GROW_STEP_SHIFT;
        if (want < GROW_STEP_MIN)
                want = GROW_STEP_MIN;
        want = round_up(want, page);
        if (want < need)
                want = need;
        uint64_t populate = want;
        /* The first growth commits what create was asked for (initial_size):
         * create itself commits nothing (see lsashm_section_create). Only the
         * pages this request needs are mapped at once; the rest wait for
         * their first write, as they would have after an eager create, and
         * a section that holds one small block costs one page fault. */
        if (s->committed == 0 && s->first_commit) {
                want = s->first_commit > need ? s->first_commit : need;
                populate = need;
        }
        if (want > room)
                want = room;
        int r = commit_to(s, s->committed + want, populate);
        /* Under memory pressure settle for exactly what this request needs. */
        if (r < 0 && want > need)
                r = commit_to(s, s->committed + need, need);
        return r;
}

int section_alloc_locked(struct lsashm_section *s, uint64_t size, void **ret_ptr)
{
        uint64_t offset, block_size;
        int r;

        if (size == 0) {
                r = -EINVAL;
                goto fail;
        }
        if (s->owner_readonly) {
                r = -EROFS;
                goto fail;
        }
        if (size > s->max_size) {
                r = -E2BIG;
                goto fail;
        }
        r = heap_alloc(&s->heap, size, &offset, &block_size);
        if (r == -ENOSPC) {
                r = grow_for(s, size);
                if (r == 0)
                        r = heap_alloc(&s->heap, size, &offset, &block_size);
        }
        if (r < 0)
                goto fail;
        /* The caller was promised zeros. Free space is zero already while
         * nobody but the owner can write it (see free_space_is_zero); else
         * the block may hold what a client wrote there: zero it. */
        if (!free_space_is_zero(s))
                memset(s->base + offset, 0, block_size);
        *ret_ptr = s->base + offset;
        return 0;
fail:
        s->failed_allocs++;
        return r;
}

int section_free_locked(struct lsashm_section *s, void *ptr)
{
        if (!ptr)
                return 0;
        uintptr_t p = (uintptr_t)ptr, base = (uintptr_t)s->base;
        uint64_t size;
        if (s->owner_readonly) {
                /* Its blocks stay as they are: nothing may be wiped or reused. */
                s->refused_frees++;
                return -EROFS;
        }
        if (p < base || p - base >= s->committed || heap_free(&s->heap, p - base, &size) < 0) {
                s->refused_frees++;
                return -EINVAL;
        }
        /* The heap already counts the block as free, but the lock is still
         * held, so no allocation can hand it out before it is wiped. */
        if (wipes(s))
                explicit_bzero(s->base + (p - base), size);
        return 0;
}

void section_stats_locked(struct lsashm_section *s, struct lsashm_section_stats *ret)
{
        struct heap_stats hs;
        /* Blocks kept for reuse count as free either way; merged back, they
         * also count in the largest free block. */
        heap_quick_flush(&s->heap);
        heap_stats(&s->heap, &hs);
        *ret = (struct lsashm_section_stats){
                .reserved = s->reserved,
                .committed = s->committed,
                .in_use = hs.in_use,
                .free = s->committed - hs.in_use,
                .largest_free = hs.largest_free,
                .live_blocks = hs.live_blocks,
                .peak_in_use = hs.peak_in_use,
                .peak_committed = s->peak_committed,
                .refused_frees = s->refused_frees,
                .failed_allocs = s->failed_allocs,
        };
}

int section_check_locked(struct lsashm_section *s)
{
        int r = heap_check(&s->heap);
        if (r < 0)
                return r;
        struct heap_stats hs;
        heap_stats(&s->heap, &hs);
        if (hs.managed != s->committed || s->committed > s->reserved)
                return -EUCLEAN;
        return 0;
}

/* Undo whatever part of a section exists. Lock held, or not yet shared. */
static void section_release(struct lsashm_section *s)
{
        /* Out of the crash-wipe table before the mapping goes. */
        crash_wipe_remove(s->crash_slot);
        s->crash_slot = NULL;
        if (s->base) {
                /* Clients may keep their mappings after we let go: what they
                 * can still read must be zeros, not the package's data. */
                if (wipes(s) && !s->owner_readonly) {
                        uint64_t len = s->committed;
                        /* While only the owner could write, nothing above the
                         * highest block ever handed out was written: those
                         * pages are still as zero as the kernel gave them, and
                         * touching them would only cost page faults. */
                        uint64_t used = (uint64_t)s->heap.high_water << HEAP_GRANULE_SHIFT;
                        if (free_space_is_zero(s) && used < len)
                                len = used;
                        if (len)
                                explicit_bzero(s->base, len);
                }
                munmap(s->base, s->reserved);
        }
        if (s->fd >= 0)
                close(s->fd);
        heap_destroy(&s->heap);
        s->live = false;
        s->registered = false;
        s->base = NULL;
        s->fd = -1;
}

void section_delete_locked(struct lsashm_section *s)
{
        /* Watchers learn of it before the handle can be reused. */
        for (unsigned i = 0; i < SECTION_MAX_WATCHERS; i++)
                if (s->watchers[i].fn)
                        s->watchers[i].fn(s->watchers[i].ctx, s->id);
        memset(s->watchers, 0, sizeof(s->watchers));
        section_release(s);
        section_lock_release(s);
        handle_put(s);
}

static int validate_config(const struct lsashm_section_config *cfg)
{
        if (!cfg || cfg->max_size == 0 || cfg->initial_size > cfg->max_size || (cfg->flags & ~KNOWN_FLAGS))
                return -EINVAL;
        if (cfg->name && (strlen(cfg->name) > LSASHM_SECTION_NAME_MAX || strchr(cfg->name, '/')))
                return -EINVAL;
        if (cfg->max_size > LSASHM_SECTION_MAX_SIZE)
                return -EFBIG;
        return 0;
}

int lsashm_section_create(const struct lsashm_section_config *cfg, lsashm_section_t **ret)
{
        int r = validate_config(cfg);
        if (r < 0)
                return r;
        if (!ret)
                return -EINVAL;

        uint64_t page = page_size();
        uint64_t reserved = round_up(cfg->max_size, page);
        uint64_t initial = round_up(cfg->initial_size, page);
        struct lsashm_section *s = handle_get();
        if (!s)
                return -ENOMEM;

        section_lock(s);
        static uint64_t next_id;
        s->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
        memset(s->watchers, 0, sizeof(s->watchers));
        s->flags = cfg->flags;
        s->max_size = cfg->max_size;
        s->reserved = reserved;
        s->committed = s->peak_committed = 0;
        s->first_commit = initial;
        s->size_sealed = s->seals_locked = s->frozen = s->owner_readonly = false;
        s->refused_frees = s->failed_allocs = 0;
        s->fd = -1;
        s->base = NULL;
        s->crash_slot = NULL;
        r = heap_init(&s->heap, &private_metadata, reserved);
        if (r < 0)
                goto fail;
        r = memfd_section_create(cfg->name ? cfg->name : "lsashm", &s->fd);
        if (r < 0)
                goto fail;
        /* Past the end of the (empty) file: legal, and never touched. */
        void *base = mmap(NULL, reserved, PROT_NONE, MAP_SHARED, s->fd, 0);
        if (base == MAP_FAILED) {
                r = -errno;
                goto fail;
        }
        s->base = base;
        /* Known to a dying process's wipe before it can hold a secret. */
        if (wipes(s) && !(s->crash_slot = crash_wipe_add(base))) {
                r = -ENOMEM;
                goto fail;
        }
        /* Nothing is committed yet, not even initial_size: the first growth
         * (an allocation, a share, lsashm_section_fd, a freeze) commits it, so
         * a section nobody allocates from costs no page and no fallocate,
         * and its delete has nothing to wipe or free. The guarantee is the
         * same: every accessible page is a real page, committed before it is
         * unprotected, and a refused commit is that call's error. */
        /* Seal only now that the owner's mapping exists: FUTURE_WRITE refuses
         * every writable mapping made after it, the owner's included. */
        r = memfd_section_seal(s->fd, cfg->flags & LSASHM_SECTION_READERS_ONLY);
        if (r < 0)
                goto fail;
        s->live = true;
        section_lock_release(s);
        *ret = s;
        return 0;
fail:
        section_release(s);
        section_lock_release(s);
        handle_put(s);
        return r;
}

/* Lock s and make sure it is live; on failure it is left unlocked. */
static int lock_live(struct lsashm_section *s)
{
        if (!s)
                return -EINVAL;
        section_lock(s);
        if (!s->live) {
                section_lock_release(s);
                return -ESTALE;
        }
        return 0;
}

int lsashm_section_delete(lsashm_section_t *s)
{
        int r = lock_live(s);
        if (r < 0)
                return r;
        section_delete_locked(s);
        return 0;
}

int lsashm_section_alloc(lsashm_section_t *s, size_t size, void **ret_ptr)
{
        if (!ret_ptr)
                return -EINVAL;
        int r = lock_live(s);
        if (r < 0)
                return r;
        r = section_alloc_locked(s, size, ret_ptr);
        section_lock_release(s);
        return r;
}

int lsashm_section_free(lsashm_section_t *s, void *ptr)
{
        int r = lock_live(s);
        if (r < 0)
                return r;
        r = section_free_locked(s, ptr);
        section_lock_release(s);
        return r;
}

void *lsashm_section_base(lsashm_section_t *s)
{
        if (lock_live(s) < 0)
                return NULL;
        void *base = s->base;
        section_lock_release(s);
        return base;
}

int lsashm_section_offset(lsashm_section_t *s, const void *ptr, uint64_t *ret_offset)
{
        if (!ret_offset)
                return -EINVAL;
        int r = lock_live(s);
        if (r < 0)
                return r;
        uintptr_t p = (uintptr_t)ptr, base = (uintptr_t)s->base;
        if (p < base || p - base >= s->committed)
                r = -ERANGE;
        else
                *ret_offset = p - base;
        section_lock_release(s);
        return r;
}

void *lsashm_section_ptr(lsashm_section_t *s, uint64_t offset, size_t len)
{
        if (lock_live(s) < 0)
                return NULL;
        uint64_t end;
        void *p = NULL;
        if (!__builtin_add_overflow(offset, (uint64_t)len, &end) && end <= s->committed &&
            offset < s->committed)
                p = s->base + offset;
        section_lock_release(s);
        return p;
}

/* Replace the owner's mapping, at the same address, by one of the same
 * pages: read-only through a read-only description (which the kernel does
 * not count as a writable mapping, and which mprotect cannot make writable),
 * or read-write through the section's own descriptor to undo a freeze that
 * failed. The new mapping is made elsewhere and then moved over the old one:
 * an mmap refused (a readers-only section forbids even us a new writable
 * mapping) leaves the old mapping where it was, which a failing MAP_FIXED
 * mmap may not (some kernels unmap the range before they check the seals). */
static int remap(struct lsashm_section *s, bool writable)
{
        int fd = s->fd;
        if (!writable) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
        }
        void *p = mmap(NULL, s->reserved, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
        int r = p == MAP_FAILED ? -errno : 0;
        if (fd != s->fd)
                close(fd);
        if (r < 0)
                return r;
        if (mremap(p, s->reserved, s->reserved, MREMAP_MAYMOVE | MREMAP_FIXED, s->base) == MAP_FAILED) {
                r = -errno;
                munmap(p, s->reserved);
        }
        return r;
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

int section_freeze_locked(struct lsashm_section *s)
{
        if (s->frozen)
                return 0;
        /* A writable descriptor has left with the seals locked (its holder
         * was promised them): F_SEAL_WRITE can no longer be added. */
        if (s->seals_locked)
                return -EBUSY;
        int r = commit_all(s);
        if (r < 0)
                return r;
        if (!s->owner_readonly) {
                /* The crash wipe writes through our mapping: out of its table
                 * first, with a slot kept for the way back. */
                struct crash_wipe_slot *spare = NULL;
                if (wipes(s) && !(spare = crash_wipe_add(s->base)))
                        return -ENOMEM;
                crash_wipe_remove(s->crash_slot);
                s->crash_slot = NULL;
                r = remap(s, false);
                if (r == 0)
                        r = memfd_section_seal_write(s->fd);
                if (r == 0) {
                        crash_wipe_remove(spare);
                        s->owner_readonly = true;
                } else if (remap(s, true) == 0) {
                        /* Another writable mapping (a client's view, a forked
                         * child's copy of ours) or no /proc: back to where we
                         * were, the same pages. Only a write racing this call
                         * could have faulted: the caller's to avoid. */
                        s->crash_slot = spare;
                        crash_wipe_set_length(s->crash_slot, s->committed);
                        return r == -EPERM ? -EBUSY : r;
                } else {
                        /* F_SEAL_FUTURE_WRITE (readers-only) forbids even us a
                         * new writable mapping: the owner stays read-only and
                         * a later call may complete the freeze. */
                        crash_wipe_remove(spare);
                        s->owner_readonly = true;
                        return r == -EPERM ? -EBUSY : r;
                }
        } else {
                r = memfd_section_seal_write(s->fd);
                if (r < 0)
                        return r == -EPERM ? -EBUSY : r;
        }
        (void)madvise(s->base, s->committed, MADV_POPULATE_READ);
        s->frozen = s->seals_locked = true;
        return 0;
}

int lsashm_section_freeze(lsashm_section_t *s)
{
        int r = lock_live(s);
        if (r < 0)
                return r;
        r = section_freeze_locked(s);
        section_lock_release(s);
        return r;
}

int section_fd_locked(struct lsashm_section *s)
{
        /* Our own descriptor is writable: whoever the caller gives it to
         * could grow the file past what we committed. */
        int r = commit_all_and_seal(s);
        return r < 0 ? r : s->fd;
}

int lsashm_section_fd(lsashm_section_t *s)
{
        int r = lock_live(s);
        if (r < 0)
                return r;
        r = section_fd_locked(s);
        section_lock_release(s);
        return r;
}

int lsashm_section_stats(lsashm_section_t *s, struct lsashm_section_stats *ret)
{
        if (!ret)
                return -EINVAL;
        int r = lock_live(s);
        if (r < 0)
                return r;
        section_stats_locked(s, ret);
        section_lock_release(s);
        return 0;
}

int lsashm_section_check(lsashm_section_t *s)
{
        int r = lock_live(s);
        if (r < 0)
                return r;
        r = section_check_locked(s);
        section_lock_release(s);
        return r;
}

/* --- for the layers above (section-ops.h) --- */

void section_unlock(struct lsashm_section *s)
{
        section_lock_release(s);
}

uint64_t section_id_locked(const struct lsashm_section *s)
{
        return s->id;
}

static int lock_identity(struct lsashm_section *s, uint64_t id)
{
        int r = lock_live(s);
        if (r < 0)
                return r;
        if (s->id != id) {
                section_lock_release(s);
                return -ESTALE;
        }
        return 0;
}

int section_identity(struct lsashm_section *s, uint64_t *ret_id)
{
        int r = lock_live(s);
        if (r < 0)
                return r;
        *ret_id = s->id;
        section_lock_release(s);
        return 0;
}

int section_watch(struct lsashm_section *s, uint64_t id, section_watch_fn fn, void *ctx)
{
        int r = lock_identity(s, id);
        if (r < 0)
                return r;
        r = -ENOSPC;
        for (unsigned i = 0; i < SECTION_MAX_WATCHERS; i++)
                if (!s->watchers[i].fn) {
                        s->watchers[i].fn = fn;
                        s->watchers[i].ctx = ctx;
                        r = 0;
                        break;
                }
        section_lock_release(s);
        return r;
}

void section_unwatch(struct lsashm_section *s, uint64_t id, section_watch_fn fn, void *ctx)
{
        if (lock_identity(s, id) < 0)
                return;
        for (unsigned i = 0; i < SECTION_MAX_WATCHERS; i++)
                if (s->watchers[i].fn == fn && s->watchers[i].ctx == ctx) {
                        s->watchers[i].fn = NULL;
                        s->watchers[i].ctx = NULL;
                        break; /* one registration: the section may be published under other names */
                }
        section_lock_release(s);
}

/* Checks and commits common to every descriptor a client gets, the section
 * locked; writable may come back false (readers-only, frozen). */
static int prepare_share(struct lsashm_section *s, bool *writable)
{
        if (s->committed == 0 && s->first_commit == 0)
                /* Nothing to map yet, nor asked for at create: mmap of zero
                 * bytes is no view. */
                return -ENODATA;
        /* Readers-only sections carry F_SEAL_FUTURE_WRITE: nobody may get a
         * writable view of one, whatever the policy says. */
        if (s->flags & LSASHM_SECTION_READERS_ONLY)
                *writable = false;
        /* Frozen: nobody may write; the descriptor says so too. */
        if (s->frozen)
                *writable = false;
        /* A writable description can extend the file (fallocate, ftruncate):
         * it leaves only once there is nothing left to extend. A read-only
         * one cannot, so read-only clients share a file that still grows. */
        if (*writable)
                return commit_all_and_seal(s);
        if (s->committed == 0)
                /* Not grown yet (create commits nothing): the reader sees
                 * what it would have seen had create committed eagerly,
                 * initial_size of zeros. */
                return commit_to(s, s->first_commit, 0);
        return 0;
}

/* Always a new open file description, never a dup of ours: the client must
 * not share our file status flags. A read-only one cannot become a writable
 * mapping (mmap PROT_WRITE, mprotect, write and fallocate all need a writable
 * description), and the inode's mode (0600) keeps other users from reopening
 * it for writing through /proc. */
static int reopen(const struct lsashm_section *s, bool writable)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
        int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static void fill_share(const struct lsashm_section *s, int fd, bool writable, struct section_share *ret)
{
        int seals = fcntl(s->fd, F_GET_SEALS);
        *ret = (struct section_share){ .fd = fd, .size = s->committed, .seals = seals < 0 ? 0u : (unsigned)seals,
                                       .writable = writable };
}

int section_share(struct lsashm_section *s, uint64_t id, bool writable, struct section_share *ret)
{
        int r = lock_identity(s, id);
        if (r < 0)
                return r;
        r = prepare_share(s, &writable);
        int fd = r < 0 ? r : reopen(s, writable);
        if (fd >= 0)
                fill_share(s, fd, writable, ret);
        section_lock_release(s);
        return fd < 0 ? fd : 0;
}

int section_share_reader(struct lsashm_section *s, uint64_t id, int *ro_fd, struct section_share *ret)
{
        int r = lock_identity(s, id);
        if (r < 0)
                return r;
        bool writable = false;
        r = prepare_share(s, &writable);
        if (r == 0 && *ro_fd < 0) {
                int fd = reopen(s, false);
                if (fd < 0)
                        r = fd;
                else
                        *ro_fd = fd;
        }
        if (r == 0)
                fill_share(s, *ro_fd, false, ret);
        section_lock_release(s);
        return r;
}

int section_root_in_range(struct lsashm_section *s, uint64_t id, uint64_t root)
{
        int r = lock_identity(s, id);
        if (r < 0)
                return r;
        if (root >= s->committed)
                r = -ERANGE;
        section_lock_release(s);
        return r;
}
