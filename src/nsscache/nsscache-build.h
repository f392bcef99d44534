/* SPDX-License-Identifier: MIT */
/*
 * Building a user and group table (docs/nsscache-format.md).
 *
 * Two steps, so the caller can size the memory before it has any:
 *   nsscache_image_plan()   lays the table out in private memory (pool,
 *                           records, lists, indexes) and knows its size;
 *   nsscache_image_write()  copies it into the caller's memory: a section
 *                           of at least nsscache_image_size() bytes, which
 *                           the caller then freezes and publishes.
 * The plan copies what it needs: the input may be freed after planning.
 *
 * Pure: no system call, no lock; it allocates (malloc) only while planning.
 * Not part of the NSS module, which only reads (nsscache-read.h).
 */
#ifndef LSASHM_NSSCACHE_BUILD_H
#define LSASHM_NSSCACHE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "nsscache/nsscache-format.h"

/* One passwd(5) line. NULL gecos, dir or shell are stored as "". */
struct nsscache_user_in {
        const char *name;   /* non-NULL */
        const char *passwd; /* ignored: the table stores no password field ("x") */
        uint32_t uid;
        uint32_t gid;
        const char *gecos;
        const char *dir;
        const char *shell;
};

/* One group(5) line. gr_passwd is not taken: the table always says "x". */
struct nsscache_group_in {
        const char *name; /* non-NULL */
        uint32_t gid;
        const char *const *members; /* n_members non-NULL names, in source order */
        uint32_t n_members;
};

struct nsscache_build_input {
        const struct nsscache_user_in *users; /* in source order; may be NULL when n_users is 0 */
        uint32_t n_users;
        const struct nsscache_group_in *groups;
        uint32_t n_groups;
        uint64_t generation;
        uint8_t seed[16]; /* random for each generation: the indexes' hash key */
};

struct nsscache_image;

/*
 * Plan the table for in. Duplicate names or ids are all kept as records
 * (enumeration shows every line, as files does); each index holds the first
 * record with a key, so lookups find the first line, as files does.
 *   -EINVAL  in or ret NULL; a NULL name or member; a count with a NULL array
 *   -E2BIG   more than NSSCACHE_MAX_RECORDS users, groups or member names,
 *            or a table larger than NSSCACHE_MAX_SIZE
 *   -ENOMEM
 */
int nsscache_image_plan(const struct nsscache_build_input *in, struct nsscache_image **ret);

/* Bytes the table needs: a multiple of NSSCACHE_ALIGN. */
size_t nsscache_image_size(const struct nsscache_image *img);

/*
 * Write the table at mem (NSSCACHE_ALIGN-aligned). mem_size may exceed the
 * table's size (a section is whole pages): the header then records mem_size
 * as the image's total size, and the tail is zeros. mem_size is what the
 * reader must later be given as the image's size.
 *   -EINVAL  img or mem NULL, mem misaligned, mem_size not a multiple of
 *            NSSCACHE_ALIGN or smaller than the table
 *   -E2BIG   mem_size > NSSCACHE_MAX_SIZE
 */
int nsscache_image_write(const struct nsscache_image *img, void *mem, size_t mem_size);

/* NULL is fine. */
void nsscache_image_free(struct nsscache_image *img);

#endif
