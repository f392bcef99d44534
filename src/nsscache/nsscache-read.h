/* SPDX-License-Identifier: MIT */
/*
 * Reading a user and group table (docs/nsscache-format.md) in place.
 *
 * nsscache_validate() checks the whole image once, when it is mapped: the
 * header, every region inside the image and apart from the others, every
 * string offset inside the pool (whose last byte is NUL, so every string
 * ends inside it), every list inside its region, every member's group list
 * strictly ascending and below the group count, every index slot in range. After that, on the same bytes, no
 * lookup can read outside the image or loop: each probes at most
 * probe_limit (<= NSSCACHE_MAX_PROBE) slots, and each string it compares
 * ends in the pool. It reads the image front to back, once (no hashing):
 * it runs in every process that maps a table, before its first lookup.
 *
 * nsscache_check_reachable() adds what only a writer's bug could break,
 * at the cost of a lookup per key: lookups find what the writer meant them
 * to find. The publisher runs it on what it built; tests and the fuzzer run
 * it on everything.
 *
 * That holds only if the bytes cannot change after validation: map the
 * image from a frozen section (F_SEAL_WRITE), never from a writable one.
 *
 * Pure: no system call, no allocation, no lock, no global state; it links
 * into the NSS module (libc only) and the package. Results are views: they
 * point into the image, and live as long as its mapping does.
 */
#ifndef LSASHM_NSSCACHE_READ_H
#define LSASHM_NSSCACHE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "nsscache/nsscache-format.h"

struct nsscache_index_view {
        const uint32_t *slots;
        uint32_t mask; /* slots - 1; slots is a power of two */
        uint32_t probe_limit;
};

/* A validated image. Filled by nsscache_validate; read-only afterwards, so
 * any number of threads may look up through one view at once. */
struct nsscache_view {
        const uint8_t *base;
        uint64_t size;
        uint64_t generation;
        uint32_t n_users, n_groups, n_members;
        const struct nsscache_user_rec *users;
        const struct nsscache_group_rec *groups;
        const struct nsscache_member_rec *members;
        const uint32_t *member_names; /* string offsets */
        uint32_t n_member_names;
        const uint32_t *member_groups; /* group record numbers */
        uint32_t n_member_groups;
        const char *strings;
        uint32_t strings_size;
        struct nsscache_index_view index[NSSCACHE_INDEX_COUNT];
        struct nsscache_hash_key key;
};

/* One passwd entry. Every string is NUL-terminated inside the image;
 * passwd is always "x" (a static string, not in the image). */
struct nsscache_passwd {
        const char *name;
        const char *passwd;
        uint32_t uid;
        uint32_t gid;
        const char *gecos;
        const char *dir;
        const char *shell;
};

/* One group entry. Its members: nsscache_group_member(view, group, i) for
 * i < n_members, in source order. */
struct nsscache_group {
        const char *name;
        const char *passwd; /* always "x" */
        uint32_t gid;
        uint32_t n_members;
        const uint32_t *member_names; /* string offsets; use nsscache_group_member */
};

/*
 * Check the image at base, size bytes long (size must equal the header's
 * total_size: the whole mapping from base to the section's end), and fill
 * *ret for the lookups. *ret is left untouched on failure.
 *   -EINVAL           base or ret NULL, base not NSSCACHE_ALIGN-aligned
 *   -EPROTONOSUPPORT  a version this reader does not know (magic is right)
 *   -EBADMSG          anything else wrong: too short, wrong magic, sizes,
 *                     regions, strings, lists, indexes
 */
int nsscache_validate(const void *base, size_t size, struct nsscache_view *ret);

/* On a validated view: 0 when every index entry lies within its probe
 * limit of its key's home, every user and group is found by its name and by
 * its id (as itself or as an earlier record with the same key: first one
 * wins), every member name of every group finds that group in its list, and every member record is found by its name; else -EBADMSG. */
int nsscache_check_reachable(const struct nsscache_view *v);

/* Lookups: 0 and *ret filled, or -ENOENT (*ret untouched). Duplicates in
 * the sources: the first entry with that name, or that id, is found (each
 * independently, as glibc's files module does). name NULL: -ENOENT. */
int nsscache_user_by_name(const struct nsscache_view *v, const char *name, struct nsscache_passwd *ret);
int nsscache_user_by_uid(const struct nsscache_view *v, uint32_t uid, struct nsscache_passwd *ret);
int nsscache_group_by_name(const struct nsscache_view *v, const char *name, struct nsscache_group *ret);
int nsscache_group_by_gid(const struct nsscache_view *v, uint32_t gid, struct nsscache_group *ret);

/* Enumeration in source order, duplicates included (as files enumerates):
 * index 0 .. n_users-1 (n_groups-1). -ENOENT past the end. */
int nsscache_user_at(const struct nsscache_view *v, uint32_t index, struct nsscache_passwd *ret);
int nsscache_group_at(const struct nsscache_view *v, uint32_t index, struct nsscache_group *ret);

/* The i-th member name of a group got from this view; NULL when i is past
 * the group's last member. */
const char *nsscache_group_member(const struct nsscache_view *v, const struct nsscache_group *g, uint32_t i);

/* For initgroups: the group lines whose member list names `name` (the
 * name as the group file spells it, whether or not a user has it), as group
 * record numbers, strictly ascending: in source order, each line once.
 * glibc's files module answers initgroups with the gid of each of these
 * lines in this order, skipping those equal to the caller's primary gid and
 * repeating a gid that two lines share: nsscache_group_gid(v, number) gives
 * it (nsscache_group_at the whole group). A name no group lists: 0, with
 * *ret_groups NULL and *ret_count 0. name or an out pointer NULL: -EINVAL. */
int nsscache_member_groups(const struct nsscache_view *v, const char *name, const uint32_t **ret_groups,
                           uint32_t *ret_count);

/* The gid of group record number `group`; UINT32_MAX past the last one. */
uint32_t nsscache_group_gid(const struct nsscache_view *v, uint32_t group);

#endif
