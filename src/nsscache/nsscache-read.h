/* SPDX-License-Identifier: MIT */
/*
 * Reading a user and group table (docs/nsscache-format.md) in place.
 *
 * nsscache_validate() checks the whole image once, when it is mapped: the
 * header, every region inside the image and apart from the others, every
 * string offset inside the pool (whose last byte is NUL, so every string
 * ends inside it), every list inside its region, every gid list strictly
 * ascending, every index slot in range. After that, on the same bytes, no
 * lookup can read outside the image or loop: each probes at most
 * probe_limit (<= NSSCACHE_MAX_PROBE) slots, and each string it compares
 * ends in the pool. It reads the image front to back, once (no hashing):
 * it runs in every process that maps a table, before its first lookup.
 *
 * nsscache_check_reachable() adds what only a writer's bug could break and
 * what costs a hash per key: every indexed record sits within its probe
 * limit of its key's home, so lookups find it. The publisher runs it on
 * what it built; tests and the fuzzer run it on everything.
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
        const uint32_t *gids;
        uint32_t n_gids;
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

/* On a validated view: 0, or -EBADMSG when some index entry lies probe
 * limit or more slots from its key's home (a lookup would miss it). */
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

/* For initgroups: the gids of every group (every group line, duplicates
 * included) whose member list names `name`, strictly ascending, without
 * duplicates. The user's primary gid is not added (it is in the list only
 * if a group lists the user as a member). A name no group lists: 0, with
 * *ret_gids NULL and *ret_count 0. name NULL: -EINVAL. */
int nsscache_member_gids(const struct nsscache_view *v, const char *name, const uint32_t **ret_gids,
                         uint32_t *ret_count);

#endif
