/* SPDX-License-Identifier: MIT */
/*
 * The user and group table: its layout in a frozen section, byte for byte.
 * docs/nsscache-format.md is the specification; this header is its C form,
 * shared by the builder (nsscache-build.c) and the reader (nsscache-read.c).
 *
 * Glossary
 *   image    the table: one header, then regions, in one frozen section.
 *   region   a byte range of the image named in the header's region table.
 *   pool     the string region: NUL-terminated strings, named by their byte
 *            offset from the pool's start (a "string offset").
 *   member   a name listed in some group's member list; each distinct one
 *            has a member record with the group lines that list it, by
 *            group record number, ascending (source order).
 *   index    an open-addressing hash table of 32-bit slots: 0 is empty,
 *            otherwise record number + 1. Linear probing from the key's
 *            home slot, at most probe_limit slots.
 *
 * Every integer is little-endian, every offset is from the image's first
 * byte (region offsets) or from its region's first byte (string offsets,
 * list positions): never a pointer.
 */
#ifndef LSASHM_NSSCACHE_FORMAT_H
#define LSASHM_NSSCACHE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the table is little-endian and read in place: a big-endian reader must convert each field"
#endif

#define NSSCACHE_MAGIC      "LSASHMNC" /* 8 bytes, no NUL */
#define NSSCACHE_MAGIC_SIZE 8u
#define NSSCACHE_VERSION    1u

/* Region offsets, the header's size and the image's size are multiples of
 * this: every record and slot is then naturally aligned when the image is
 * (a section's base is page-aligned). */
#define NSSCACHE_ALIGN 8u

/* Offsets are 32-bit: no image is larger. */
#define NSSCACHE_MAX_SIZE    ((uint64_t)UINT32_MAX - (NSSCACHE_ALIGN - 1))
/* Users, groups, members, each: keeps every count * record size in 32 bits. */
#define NSSCACHE_MAX_RECORDS (1u << 24)
/* A lookup probes at most this many slots; the builder grows an index until
 * every key sits within it. */
#define NSSCACHE_MAX_PROBE   64u
/* Smallest index: a lookup never masks with 0. */
#define NSSCACHE_MIN_SLOTS   8u
/* Largest index: 2 slots per record at most NSSCACHE_MAX_RECORDS, times 8
 * for the doublings a pathological seed could need. */
#define NSSCACHE_MAX_SLOTS   (1u << 28)

enum nsscache_region {
        NSSCACHE_REGION_USERS,          /* struct nsscache_user_rec[n_users], source order */
        NSSCACHE_REGION_GROUPS,         /* struct nsscache_group_rec[n_groups], source order */
        NSSCACHE_REGION_MEMBERS,        /* struct nsscache_member_rec[n_members] */
        NSSCACHE_REGION_MEMBER_NAMES,   /* uint32_t string offsets: the groups' member lists */
        NSSCACHE_REGION_MEMBER_GROUPS,  /* uint32_t group record numbers: the members' group lists */
        NSSCACHE_REGION_USER_BY_NAME,   /* uint32_t slots */
        NSSCACHE_REGION_USER_BY_UID,    /* uint32_t slots */
        NSSCACHE_REGION_GROUP_BY_NAME,  /* uint32_t slots */
        NSSCACHE_REGION_GROUP_BY_GID,   /* uint32_t slots */
        NSSCACHE_REGION_MEMBER_BY_NAME, /* uint32_t slots */
        NSSCACHE_REGION_STRINGS,        /* the pool; its last byte is NUL */
        NSSCACHE_REGION_COUNT
};

/* The indexes, in the order of their regions and of probe_limit[]. */
enum nsscache_index {
        NSSCACHE_INDEX_USER_BY_NAME,
        NSSCACHE_INDEX_USER_BY_UID,
        NSSCACHE_INDEX_GROUP_BY_NAME,
        NSSCACHE_INDEX_GROUP_BY_GID,
        NSSCACHE_INDEX_MEMBER_BY_NAME,
        NSSCACHE_INDEX_COUNT
};

#define NSSCACHE_INDEX_REGION(i) ((enum nsscache_region)(NSSCACHE_REGION_USER_BY_NAME + (i)))

struct nsscache_region_desc {
        uint32_t offset; /* from the image's start; a multiple of NSSCACHE_ALIGN */
        uint32_t size;   /* bytes */
};

struct nsscache_header {
        uint8_t magic[NSSCACHE_MAGIC_SIZE];                         /*   0 NSSCACHE_MAGIC */
        uint32_t version;                                           /*   8 NSSCACHE_VERSION */
        uint32_t header_size;                                       /*  12 sizeof(struct nsscache_header) */
        uint64_t total_size;                                        /*  16 the image's size: the mapping's */
        uint64_t generation;                                        /*  24 the publisher's counter */
        uint8_t seed[16];                                           /*  32 the hash key, random per generation */
        uint32_t n_users;                                           /*  48 */
        uint32_t n_groups;                                          /*  52 */
        uint32_t n_members;                                         /*  56 distinct member names */
        uint32_t n_regions;                                         /*  60 NSSCACHE_REGION_COUNT */
        uint32_t probe_limit[NSSCACHE_INDEX_COUNT];                 /* 64 per index: slots a lookup probes at most */
        uint32_t flags;                                             /*  84 0 */
        struct nsscache_region_desc regions[NSSCACHE_REGION_COUNT]; /* 88 */
};

/* One passwd line. pw_passwd is always "x": it is not stored. */
struct nsscache_user_rec {
        uint32_t name; /* string offsets */
        uint32_t uid;
        uint32_t gid;
        uint32_t gecos;
        uint32_t dir;
        uint32_t shell;
};

/* One group line. gr_passwd is always "x": it is not stored. */
struct nsscache_group_rec {
        uint32_t name; /* string offset */
        uint32_t gid;
        uint32_t members_first; /* position in MEMBER_NAMES (in entries, not bytes) */
        uint32_t members_count;
};

/* One distinct member name and the group lines that list it, for
 * initgroups: what files answers is the gid of each, in this order. */
struct nsscache_member_rec {
        uint32_t name;         /* string offset */
        uint32_t groups_first; /* position in MEMBER_GROUPS (in entries) */
        uint32_t groups_count; /* >= 1; group record numbers, strictly ascending */
};

_Static_assert(sizeof(struct nsscache_region_desc) == 8, "region descriptor layout");
_Static_assert(offsetof(struct nsscache_header, probe_limit) == 64, "header layout");
_Static_assert(offsetof(struct nsscache_header, regions) == 88, "header layout");
_Static_assert(sizeof(struct nsscache_header) == 176, "header layout");
_Static_assert(sizeof(struct nsscache_header) % NSSCACHE_ALIGN == 0, "regions after it can be aligned");
_Static_assert(sizeof(struct nsscache_user_rec) == 24, "user record layout");
_Static_assert(sizeof(struct nsscache_group_rec) == 16, "group record layout");
_Static_assert(sizeof(struct nsscache_member_rec) == 12, "member record layout");

/* The keyed hash of every index: SipHash-1-3 with the header's seed as key
 * (k0 = seed[0..7], k1 = seed[8..15], little-endian). Names are hashed as
 * their bytes without the NUL; ids as their 4 little-endian bytes. A key's
 * home slot is the hash's low bits (hash & (slots - 1)). nsscache-hash.h. */
struct nsscache_hash_key {
        uint64_t k0, k1;
};

#endif
