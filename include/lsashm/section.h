/* SPDX-License-Identifier: MIT */
/*
 * lsashm native section API.
 *
 * Glossary
 *   section  A shared memory region backed by a sealed memfd. Its size is fixed
 *            when it is created (the reserved size); only a prefix of it is
 *            committed (backed by real pages and accessible) at any time.
 *   block    A piece of a section handed out by lsashm_section_alloc(). Blocks
 *            are 16-byte aligned and zero-filled.
 *   offset   A byte position inside a section. Offsets, not pointers, are what
 *            processes exchange: each process maps a section at its own address.
 *   owner    The process that created the section. It alone runs the heap; all
 *            heap metadata lives in its private memory, never in the section.
 *   client   Any other process that maps the section. Clients may be able to
 *            write to it, so the owner never trusts what the section contains.
 *   view     A client's mapping of a section (see share.h in a later release).
 *
 * Errors are negative errno values; outputs (ret_*) are left untouched on
 * failure. All functions are thread-safe; a handle may be used from many
 * threads at once.
 */
#ifndef LSASHM_SECTION_H
#define LSASHM_SECTION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define LSASHM_PUBLIC __attribute__((visibility("default")))
#else
#define LSASHM_PUBLIC
#endif

typedef struct lsashm_section lsashm_section_t;

/* Granularity and alignment of every block. */
#define LSASHM_SECTION_ALIGNMENT 16u

/* Largest reservable section: the heap counts 16-byte granules in 30 bits. */
#define LSASHM_SECTION_MAX_SIZE ((uint64_t)1 << 34) /* 16 GiB */

/* Longest name accepted (memfd_create allows 249 bytes plus its "memfd:" prefix). */
#define LSASHM_SECTION_NAME_MAX 249u

enum lsashm_section_flags {
        /* Skip explicit_bzero on free and on delete: for data that holds no
         * secrets. Blocks are still zero-filled when allocated. */
        LSASHM_SECTION_NO_WIPE = 1u << 0,
        /* Seal the memfd with F_SEAL_FUTURE_WRITE at creation: after that only
         * the owner's own mapping can write; no new writable mapping, write(2)
         * or hole punch is possible for anyone, root included. */
        LSASHM_SECTION_READERS_ONLY = 1u << 1,
};

struct lsashm_section_config {
        uint64_t max_size;     /* bytes to reserve, rounded up to whole pages; > 0 */
        uint64_t initial_size; /* bytes the first growth commits, rounded up to pages;
                                * <= max_size (see lsashm_section_create) */
        uint32_t flags;        /* enum lsashm_section_flags */
        const char *name;      /* NULL means "lsashm"; shows as /memfd:NAME in /proc/PID/maps */
};

struct lsashm_section_stats {
        uint64_t reserved;      /* bytes of address space reserved */
        uint64_t committed;     /* bytes backed by pages and accessible; the file's size;
                                 * 0 from create until the first growth */
        uint64_t in_use;        /* bytes in live blocks (each rounded up to 16) */
        uint64_t free;          /* committed - in_use */
        uint64_t largest_free;  /* largest block allocatable without growing */
        uint64_t live_blocks;   /* blocks allocated and not yet freed */
        uint64_t peak_in_use;   /* highest in_use seen */
        uint64_t peak_committed;/* highest committed seen */
        uint64_t refused_frees; /* frees refused: NULL section, foreign, interior, stale */
        uint64_t failed_allocs; /* allocations that returned an error */
};

/*
 * Create a section: reserve cfg->max_size bytes, sealed, with nothing
 * committed. The first growth commits cfg->initial_size (or more, if its
 * request needs more): the first allocation, a read-only share, a
 * lsashm_section_fd or a freeze (these two commit everything). So a section
 * nobody allocates from costs no page, and a full tmpfs or memory limit is
 * that first call's -ENOMEM/-ENOSPC, never a SIGBUS: every accessible page is
 * still a real page. Until then no pointer is inside the committed part.
 *   -EINVAL  cfg NULL, ret NULL, max_size 0, initial_size > max_size, unknown
 *            flags, name too long or containing '/'
 *   -EFBIG   max_size > LSASHM_SECTION_MAX_SIZE
 *   -EMFILE, -ENFILE  no file descriptor left
 *   -ENOMEM  no memory for the reservation or the private metadata
 *   other    as returned by memfd_create, fchmod, fcntl or mmap
 */
LSASHM_PUBLIC int lsashm_section_create(const struct lsashm_section_config *cfg,
                                        lsashm_section_t **ret);

/*
 * Delete a section: wipe every page a block ever used, or every committed
 * page once a writable descriptor has left (unless NO_WIPE), unmap it,
 * close the memfd and free the heap. Blocks still allocated go with it.
 * Clients that still map the section keep a valid mapping that reads zeros.
 * After it returns the handle must not be used again: it may already name a
 * new section. A call racing it on another thread either completes first or
 * fails with -ESTALE.
 *   -EINVAL  s NULL
 *   -ESTALE  already deleted
 */
LSASHM_PUBLIC int lsashm_section_delete(lsashm_section_t *s);

/*
 * Allocate a zero-filled, 16-byte-aligned block of at least size bytes.
 * The committed part grows on demand up to the reserved size.
 *   -EINVAL  s or ret_ptr NULL, size 0
 *   -E2BIG   size larger than the section's max_size
 *   -ENOSPC  no free range large enough was found, even at the reserved
 *            size. The search is O(1) by size class: a free block within
 *            1/32 of the request's size may go unused when more than 16
 *            blocks of that class sit in front of it.
 *   -ENOMEM  the pages or the private metadata could not be had
 *   -ESTALE  the section was deleted
 */
LSASHM_PUBLIC int lsashm_section_alloc(lsashm_section_t *s, size_t size, void **ret_ptr);

/*
 * Free a block. A NULL ptr does nothing and returns 0. The block is wiped
 * (unless NO_WIPE) before it can be handed out again.
 *   -EINVAL  s NULL, or ptr is not the start of a live block of s (foreign,
 *            interior or already freed); the heap is unchanged and the
 *            refusal is counted in refused_frees
 *   -ESTALE  the section was deleted
 */
LSASHM_PUBLIC int lsashm_section_free(lsashm_section_t *s, void *ptr);

/* The section's base address in this process; NULL for NULL or deleted. */
LSASHM_PUBLIC void *lsashm_section_base(lsashm_section_t *s);

/*
 * Translate a pointer into the section to its offset.
 *   -EINVAL  s or ret_offset NULL
 *   -ERANGE  ptr is not inside the committed part
 *   -ESTALE  the section was deleted
 */
LSASHM_PUBLIC int lsashm_section_offset(lsashm_section_t *s, const void *ptr,
                                        uint64_t *ret_offset);

/* Translate an offset to a pointer; NULL when [offset, offset+len) is not
 * wholly inside the committed part (overflow-safe) or the section is gone. */
LSASHM_PUBLIC void *lsashm_section_ptr(lsashm_section_t *s, uint64_t offset, size_t len);

/*
 * The section's memfd, for sharing (fork inherits it; SCM_RIGHTS sends it).
 * The descriptor stays owned by the section: do not close it. It is
 * close-on-exec and sealed against shrinking, growing and further seals.
 * The file is as large as the committed part, and the descriptor is
 * writable, so before it is returned the whole reserved size is committed
 * (the section cannot grow after that): whoever holds it cannot make the
 * system allocate more than that.
 *   -EINVAL  s NULL;  -ESTALE  deleted;  -ENOMEM, -ENOSPC  the commit failed
 */
LSASHM_PUBLIC int lsashm_section_fd(lsashm_section_t *s);

/*
 * Fill *ret with a consistent snapshot of the section's counters.
 *   -EINVAL  s or ret NULL;  -ESTALE  deleted
 */
LSASHM_PUBLIC int lsashm_section_stats(lsashm_section_t *s, struct lsashm_section_stats *ret);

/*
 * Walk the heap's private metadata and check every invariant.
 *   0 when consistent; -EUCLEAN on the first broken invariant;
 *   -EINVAL  s NULL;  -ESTALE  deleted
 */
LSASHM_PUBLIC int lsashm_section_check(lsashm_section_t *s);

/*
 * Freeze a section for good: nobody, the owner and root included, can ever
 * change its bytes again, so readers may check its contents once when they
 * map it and then use them without copies or re-checks.
 *   - the rest of the reservation is committed; the memfd is sealed with
 *     F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL (write(2),
 *     writable mappings, mprotect to writing, hole punching, truncation and
 *     seal changes all fail, for every holder of every descriptor);
 *   - the owner's mapping is replaced, at the same address, by a read-only
 *     one: what the owner wrote stays readable through the same pointers.
 *     No thread may write to the section while this call runs.
 * After it: lsashm_section_alloc gives -EROFS; lsashm_section_free gives
 * -EROFS (counted in refused_frees); shares are read-only whatever is
 * asked; lsashm_section_delete unmaps and closes but cannot wipe: a frozen
 * section is for public data only.
 * Freezing a frozen section returns 0.
 *   -EINVAL  s NULL;  -ESTALE  deleted
 *   -EBUSY   another writable mapping of the section exists (a client's
 *            writable view, a forked child's copy of the owner's mapping),
 *            or a writable descriptor has left the owner (lsashm_section_fd,
 *            a writable share: its holder was promised the seals as they
 *            were). Nothing changed (but the section may now be committed
 *            in full), except for a LSASHM_SECTION_READERS_ONLY
 *            section, whose owner cannot map it writable again: its mapping
 *            stays read-only (alloc and free give -EROFS) and a later call
 *            completes the freeze once the other mappings are gone.
 *   -ENOMEM, -ENOSPC  committing the rest failed (nothing changed)
 */
LSASHM_PUBLIC int lsashm_section_freeze(lsashm_section_t *s);

/*
 * Sections made by LsaCreateSharedMemory() (ntsecpkg.h) are named by their
 * base address. These reach the same section through that name, checked
 * against the registry like the Windows calls, so a deleted or unknown
 * address gives -ENOENT and is never dereferenced.
 */
LSASHM_PUBLIC int lsashm_shared_memory_stats(const void *shared_mem,
                                             struct lsashm_section_stats *ret);
LSASHM_PUBLIC int lsashm_shared_memory_fd(const void *shared_mem);
LSASHM_PUBLIC int lsashm_shared_memory_check(const void *shared_mem);
LSASHM_PUBLIC int lsashm_shared_memory_freeze(const void *shared_mem);

#ifdef __cplusplus
}
#endif

#endif
