/* SPDX-License-Identifier: MIT */
/*
 * The user and group table: build, validate, look up (round trips with
 * duplicates, empty tables, 100k users), and every corruption refused by
 * nsscache_validate, never a crash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "nsscache/nsscache-build.h"
#include "nsscache/nsscache-hash.h"
#include "nsscache/nsscache-read.h"

/* ---- helpers ---- */

struct image {
        uint8_t *mem;
        size_t size;
};

static void image_free(struct image *im)
{
        free(im->mem);
        im->mem = NULL;
}

/* Build in into fresh memory of exactly the planned size plus extra. */
static struct image build_extra(const struct nsscache_build_input *in, size_t extra)
{
        struct nsscache_image *plan = NULL;
        assert_int_equal(nsscache_image_plan(in, &plan), 0);
        size_t size = nsscache_image_size(plan) + extra;
        assert_true(size % NSSCACHE_ALIGN == 0);
        void *mem = NULL;
        assert_int_equal(posix_memalign(&mem, 4096, size), 0);
        memset(mem, 0xa5, size);
        assert_int_equal(nsscache_image_write(plan, mem, size), 0);
        nsscache_image_free(plan);
        return (struct image){ .mem = mem, .size = size };
}

static struct image build(const struct nsscache_build_input *in)
{
        return build_extra(in, 0);
}

static struct nsscache_view view_of(const struct image *im)
{
        struct nsscache_view v;
        assert_int_equal(nsscache_validate(im->mem, im->size, &v), 0);
        return v;
}

static struct nsscache_header *hdr(struct image *im)
{
        return (struct nsscache_header *)im->mem;
}

static uint8_t *region(struct image *im, enum nsscache_region r)
{
        return im->mem + hdr(im)->regions[r].offset;
}

static int validate(const struct image *im)
{
        struct nsscache_view v;
        return nsscache_validate(im->mem, im->size, &v);
}

static const uint8_t seed1[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

/* A small table with duplicates: two "dup" users (uids 1001, 1002), two
 * users with uid 1000 ("alice", "alias"), a group listed twice by name and
 * two groups with one gid. */
static const char *const wheel_members[] = { "alice", "bob" };
static const char *const staff_members[] = { "bob", "carol", "bob" };
static const char *const dup_members[] = { "alice" };
static const char *const dup2_members[] = { "carol" };
static const char *const same_gid_members[] = { "alice", "nobody-in-passwd" };

static const struct nsscache_user_in small_users[] = {
        { "alice", "secret-hash", 1000, 1000, "Alice A,,,", "/home/alice", "/bin/bash" },
        { "bob", "x", 1001, 100, "", "/home/bob", "/bin/sh" },
        { "alias", "x", 1000, 1000, "second uid 1000", "/home/alias", "/bin/bash" },
        { "carol", "*", 1002, 100, NULL, NULL, NULL },
        { "bob", "x", 2001, 200, "second bob", "/tmp", "/bin/false" },
};
static const struct nsscache_group_in small_groups[] = {
        { "wheel", 10, wheel_members, 2 }, { "staff", 50, staff_members, 3 },      { "dup", 60, dup_members, 1 },
        { "dup", 61, dup2_members, 1 },    { "samegid", 50, same_gid_members, 2 }, { "empty", 70, NULL, 0 },
};

static struct nsscache_build_input small_input(void)
{
        struct nsscache_build_input in = {
                .users = small_users,
                .n_users = sizeof(small_users) / sizeof(small_users[0]),
                .groups = small_groups,
                .n_groups = sizeof(small_groups) / sizeof(small_groups[0]),
                .generation = 42,
        };
        memcpy(in.seed, seed1, sizeof(in.seed));
        return in;
}

/* The gids initgroups answers for name, in order, as files would. */
static void assert_gids(const struct nsscache_view *v, const char *name, const uint32_t *want, uint32_t n)
{
        const uint32_t *groups = (const uint32_t *)1;
        uint32_t count = 99;
        assert_int_equal(nsscache_member_groups(v, name, &groups, &count), 0);
        assert_int_equal(count, n);
        for (uint32_t i = 0; i < n; i++) {
                if (i)
                        assert_true(groups[i - 1] < groups[i]);
                assert_int_equal(nsscache_group_gid(v, groups[i]), want[i]);
        }
        if (n == 0)
                assert_null(groups);
}

/* ---- the hash ---- */

static void test_hash_is_siphash(void **state)
{
        (void)state;
        /* As SipHash-2-4 the same code must agree with libsodium's. */
        assert_true(sodium_init() >= 0);
        uint8_t key[16], msg[64];
        for (unsigned i = 0; i < 16; i++)
                key[i] = (uint8_t)i;
        for (unsigned i = 0; i < 64; i++)
                msg[i] = (uint8_t)i;
        struct nsscache_hash_key k;
        nsscache_hash_key_from_seed(key, &k);
        for (size_t len = 0; len <= 64; len++) {
                uint8_t out[crypto_shorthash_BYTES];
                crypto_shorthash(out, msg, len, key);
                uint64_t want = 0;
                for (unsigned i = 0; i < 8; i++)
                        want |= (uint64_t)out[i] << (8 * i);
                assert_true(nsscache_siphash(&k, msg, len, 2, 4) == want);
        }
        /* The table's variant: 1-3, keyed; ids as 4 little-endian bytes. */
        uint8_t id[4] = { 0x78, 0x56, 0x34, 0x12 };
        assert_true(nsscache_hash_id(&k, 0x12345678) == nsscache_siphash(&k, id, 4, 1, 3));
        assert_true(nsscache_hash(&k, "alice", 5) != nsscache_hash(&k, "alicf", 5));
        /* SipHash-1-3's published vector for key 00..0f and empty input
         * (bytes dc c4 0f 05 58 01 ac ab), and a pinned value: readers and
         * writers of other versions must agree, so the hash never changes. */
        assert_true(nsscache_hash(&k, msg, 0) == UINT64_C(0xabac0158050fc4dc));
        assert_true(nsscache_hash(&k, "root", 4) == UINT64_C(0xb11bcb357ef81efa));
}

/* ---- round trips ---- */

static void test_round_trip_small(void **state)
{
        (void)state;
        struct nsscache_build_input in = small_input();
        struct image im = build(&in);
        struct nsscache_view v = view_of(&im);
        struct nsscache_passwd pw;
        struct nsscache_group gr;

        assert_int_equal(v.generation, 42);
        assert_int_equal(v.n_users, 5);
        assert_int_equal(v.n_groups, 6);

        assert_int_equal(nsscache_user_by_name(&v, "alice", &pw), 0);
        assert_string_equal(pw.name, "alice");
        assert_string_equal(pw.passwd, "x"); /* never the input's hash */
        assert_int_equal(pw.uid, 1000);
        assert_int_equal(pw.gid, 1000);
        assert_string_equal(pw.gecos, "Alice A,,,");
        assert_string_equal(pw.dir, "/home/alice");
        assert_string_equal(pw.shell, "/bin/bash");

        /* NULL fields are empty strings. */
        assert_int_equal(nsscache_user_by_name(&v, "carol", &pw), 0);
        assert_string_equal(pw.gecos, "");
        assert_string_equal(pw.dir, "");
        assert_string_equal(pw.shell, "");

        /* First by name and first by id, independently (glibc files). */
        assert_int_equal(nsscache_user_by_name(&v, "bob", &pw), 0);
        assert_int_equal(pw.uid, 1001);
        assert_int_equal(nsscache_user_by_uid(&v, 1000, &pw), 0);
        assert_string_equal(pw.name, "alice");
        assert_int_equal(nsscache_user_by_uid(&v, 2001, &pw), 0);
        assert_string_equal(pw.name, "bob");
        assert_string_equal(pw.gecos, "second bob");
        assert_int_equal(nsscache_user_by_name(&v, "alias", &pw), 0);
        assert_int_equal(pw.uid, 1000);

        /* Misses. */
        assert_int_equal(nsscache_user_by_name(&v, "mallory", &pw), -ENOENT);
        assert_int_equal(nsscache_user_by_name(&v, "", &pw), -ENOENT);
        assert_int_equal(nsscache_user_by_name(&v, NULL, &pw), -ENOENT);
        assert_int_equal(nsscache_user_by_uid(&v, 4242, &pw), -ENOENT);
        assert_int_equal(nsscache_group_by_name(&v, "nogroup", &gr), -ENOENT);
        assert_int_equal(nsscache_group_by_gid(&v, 4242, &gr), -ENOENT);

        /* Groups: members in source order, duplicates kept as listed. */
        assert_int_equal(nsscache_group_by_name(&v, "staff", &gr), 0);
        assert_int_equal(gr.gid, 50);
        assert_string_equal(gr.passwd, "x");
        assert_int_equal(gr.n_members, 3);
        assert_string_equal(nsscache_group_member(&v, &gr, 0), "bob");
        assert_string_equal(nsscache_group_member(&v, &gr, 1), "carol");
        assert_string_equal(nsscache_group_member(&v, &gr, 2), "bob");
        assert_null(nsscache_group_member(&v, &gr, 3));
        assert_int_equal(nsscache_group_by_gid(&v, 50, &gr), 0);
        assert_string_equal(gr.name, "staff");
        assert_int_equal(nsscache_group_by_name(&v, "dup", &gr), 0);
        assert_int_equal(gr.gid, 60);
        assert_int_equal(nsscache_group_by_gid(&v, 61, &gr), 0);
        assert_string_equal(gr.name, "dup");
        assert_int_equal(nsscache_group_by_name(&v, "empty", &gr), 0);
        assert_int_equal(gr.n_members, 0);
        assert_null(nsscache_group_member(&v, &gr, 0));

        /* Enumeration: every line, in source order. */
        const char *unames[] = { "alice", "bob", "alias", "carol", "bob" };
        for (uint32_t i = 0; i < 5; i++) {
                assert_int_equal(nsscache_user_at(&v, i, &pw), 0);
                assert_string_equal(pw.name, unames[i]);
        }
        assert_int_equal(nsscache_user_at(&v, 5, &pw), -ENOENT);
        const char *gnames[] = { "wheel", "staff", "dup", "dup", "samegid", "empty" };
        for (uint32_t i = 0; i < 6; i++) {
                assert_int_equal(nsscache_group_at(&v, i, &gr), 0);
                assert_string_equal(gr.name, gnames[i]);
        }
        assert_int_equal(nsscache_group_at(&v, 6, &gr), -ENOENT);

        /* initgroups: every group line naming the member, in source order,
         * each line once (bob twice on staff's line), two lines with one gid
         * twice: what glibc's files module answers. */
        assert_gids(&v, "alice", (const uint32_t[]){ 10, 60, 50 }, 3);
        assert_gids(&v, "bob", (const uint32_t[]){ 10, 50 }, 2);
        assert_gids(&v, "carol", (const uint32_t[]){ 50, 61 }, 2);
        assert_gids(&v, "nobody-in-passwd", (const uint32_t[]){ 50 }, 1);
        assert_gids(&v, "alias", NULL, 0);
        assert_gids(&v, "mallory", NULL, 0);
        const uint32_t *g;
        uint32_t n;
        assert_int_equal(nsscache_member_groups(&v, NULL, &g, &n), -EINVAL);
        assert_int_equal(nsscache_member_groups(&v, "bob", NULL, &n), -EINVAL);
        assert_int_equal(nsscache_group_gid(&v, 5), 70);
        assert_int_equal(nsscache_group_gid(&v, 6), UINT32_MAX);
        image_free(&im);
}

static void test_round_trip_empty(void **state)
{
        (void)state;
        struct nsscache_build_input in = { .generation = 1 };
        struct image im = build(&in);
        struct nsscache_view v = view_of(&im);
        struct nsscache_passwd pw;
        struct nsscache_group gr;
        assert_int_equal(v.n_users, 0);
        assert_int_equal(v.n_groups, 0);
        assert_int_equal(nsscache_user_by_name(&v, "root", &pw), -ENOENT);
        assert_int_equal(nsscache_user_by_uid(&v, 0, &pw), -ENOENT);
        assert_int_equal(nsscache_group_by_name(&v, "root", &gr), -ENOENT);
        assert_int_equal(nsscache_group_by_gid(&v, 0, &gr), -ENOENT);
        assert_int_equal(nsscache_user_at(&v, 0, &pw), -ENOENT);
        assert_int_equal(nsscache_group_at(&v, 0, &gr), -ENOENT);
        assert_gids(&v, "root", NULL, 0);
        image_free(&im);
}

/* A section is whole pages: the image may be larger than the table, and
 * its size is then the memory's. */
static void test_round_trip_padded(void **state)
{
        (void)state;
        struct nsscache_build_input in = small_input();
        struct image im = build_extra(&in, 4096);
        struct nsscache_view v = view_of(&im);
        assert_int_equal(hdr(&im)->total_size, im.size);
        for (size_t i = im.size - 4096; i < im.size; i++)
                assert_int_equal(im.mem[i], 0);
        struct nsscache_passwd pw;
        assert_int_equal(nsscache_user_by_name(&v, "carol", &pw), 0);
        /* Any other size than the recorded one is refused. */
        struct nsscache_view w;
        assert_int_equal(nsscache_validate(im.mem, im.size - 8, &w), -EBADMSG);
        image_free(&im);
}

static void test_round_trip_100k_users(void **state)
{
        (void)state;
        enum {
                N = 100000,
                G = 2000,
                M = 50
        };
        struct nsscache_user_in *users = calloc(N, sizeof(*users));
        char(*names)[16] = calloc(N, sizeof(*names));
        char(*dirs)[24] = calloc(N, sizeof(*dirs));
        struct nsscache_group_in *groups = calloc(G, sizeof(*groups));
        char(*gnames)[16] = calloc(G, sizeof(*gnames));
        const char **members = calloc((size_t)G * M, sizeof(*members));
        assert_non_null(users);
        assert_non_null(names);
        assert_non_null(dirs);
        assert_non_null(groups);
        assert_non_null(gnames);
        assert_non_null(members);
        for (uint32_t i = 0; i < N; i++) {
                snprintf(names[i], sizeof(names[i]), "user%u", i);
                snprintf(dirs[i], sizeof(dirs[i]), "/home/user%u", i);
                users[i] = (struct nsscache_user_in){ names[i], "x", 10000 + i, 100, "", dirs[i], "/bin/sh" };
        }
        for (uint32_t g = 0; g < G; g++) {
                snprintf(gnames[g], sizeof(gnames[g]), "group%u", g);
                for (uint32_t m = 0; m < M; m++)
                        members[g * M + m] = names[(g * 7919u + m * 31u) % N];
                groups[g] = (struct nsscache_group_in){ gnames[g], 20000 + g, &members[g * M], M };
        }
        struct nsscache_build_input in = { users, N, groups, G, 7, { 0 } };
        memcpy(in.seed, seed1, sizeof(in.seed));
        struct image im = build(&in);
        struct nsscache_view v = view_of(&im);
        for (uint32_t i = 0; i < N; i += 1) {
                struct nsscache_passwd pw;
                assert_int_equal(nsscache_user_by_name(&v, names[i], &pw), 0);
                assert_int_equal(pw.uid, 10000 + i);
                assert_int_equal(nsscache_user_by_uid(&v, 10000 + i, &pw), 0);
                assert_string_equal(pw.dir, dirs[i]);
        }
        for (uint32_t g = 0; g < G; g++) {
                struct nsscache_group gr;
                assert_int_equal(nsscache_group_by_gid(&v, 20000 + g, &gr), 0);
                assert_string_equal(gr.name, gnames[g]);
                assert_int_equal(gr.n_members, M);
        }
        /* Every member's list holds the groups naming it. */
        for (uint32_t g = 0; g < G; g += 97) {
                const char *who = members[g * M];
                const uint32_t *list;
                uint32_t n;
                assert_int_equal(nsscache_member_groups(&v, who, &list, &n), 0);
                int found = 0;
                for (uint32_t k = 0; k < n; k++) {
                        if (k)
                                assert_true(list[k - 1] < list[k]);
                        found |= nsscache_group_gid(&v, list[k]) == 20000 + g;
                }
                assert_true(found);
        }
        for (unsigned i = 0; i < NSSCACHE_INDEX_COUNT; i++)
                assert_true(v.index[i].probe_limit <= NSSCACHE_MAX_PROBE);
        assert_int_equal(nsscache_check_reachable(&v), 0);
        image_free(&im);
        free(users);
        free(names);
        free(dirs);
        free(groups);
        free(gnames);
        free(members);
}

static void test_build_refuses_bad_input(void **state)
{
        (void)state;
        struct nsscache_image *plan = NULL;
        struct nsscache_build_input in = small_input();
        assert_int_equal(nsscache_image_plan(NULL, &plan), -EINVAL);
        assert_int_equal(nsscache_image_plan(&in, NULL), -EINVAL);
        struct nsscache_user_in bad_user = { NULL, "x", 1, 1, "", "", "" };
        struct nsscache_build_input b = { .users = &bad_user, .n_users = 1 };
        assert_int_equal(nsscache_image_plan(&b, &plan), -EINVAL);
        b = (struct nsscache_build_input){ .users = NULL, .n_users = 1 };
        assert_int_equal(nsscache_image_plan(&b, &plan), -EINVAL);
        const char *const null_member[] = { "a", NULL };
        struct nsscache_group_in bad_group = { "g", 1, null_member, 2 };
        b = (struct nsscache_build_input){ .groups = &bad_group, .n_groups = 1 };
        assert_int_equal(nsscache_image_plan(&b, &plan), -EINVAL);
        b = (struct nsscache_build_input){ .n_users = NSSCACHE_MAX_RECORDS + 1, .users = small_users };
        assert_int_equal(nsscache_image_plan(&b, &plan), -E2BIG);
        assert_null(plan);

        assert_int_equal(nsscache_image_plan(&in, &plan), 0);
        size_t size = nsscache_image_size(plan);
        void *mem;
        assert_int_equal(posix_memalign(&mem, 64, size + 64), 0);
        assert_int_equal(nsscache_image_write(plan, mem, size - NSSCACHE_ALIGN), -EINVAL);
        assert_int_equal(nsscache_image_write(plan, mem, size + 1), -EINVAL);
        assert_int_equal(nsscache_image_write(plan, (uint8_t *)mem + 4, size), -EINVAL);
        assert_int_equal(nsscache_image_write(plan, NULL, size), -EINVAL);
        assert_int_equal(nsscache_image_write(NULL, mem, size), -EINVAL);
        assert_int_equal(nsscache_image_write(plan, mem, size), 0);
        assert_int_equal(nsscache_image_size(NULL), 0);
        nsscache_image_free(plan);
        nsscache_image_free(NULL);
        free(mem);
}

/* ---- corruption: each refused at validate time ---- */

static void test_validate_refuses_bad_arguments(void **state)
{
        (void)state;
        struct nsscache_build_input in = small_input();
        struct image im = build(&in);
        struct nsscache_view v;
        assert_int_equal(nsscache_validate(NULL, im.size, &v), -EINVAL);
        assert_int_equal(nsscache_validate(im.mem, im.size, NULL), -EINVAL);
        assert_int_equal(nsscache_validate(im.mem + 4, im.size - 8, &v), -EINVAL);
        /* Truncated anywhere, including inside the header. */
        for (size_t len = 0; len < im.size; len += (len < 256 ? 1 : 61))
                assert_int_equal(nsscache_validate(im.mem, len, &v), -EBADMSG);
        image_free(&im);
}

static void test_validate_refuses_bad_header(void **state)
{
        (void)state;
        struct nsscache_build_input in = small_input();
        struct image im = build(&in);
        struct nsscache_header saved = *hdr(&im);

        hdr(&im)->magic[0] ^= 1;
        assert_int_equal(validate(&im), -EBADMSG);
        *hdr(&im) = saved;
        hdr(&im)->version = 2;
        assert_int_equal(validate(&im), -EPROTONOSUPPORT);
        *hdr(&im) = saved;
        hdr(&im)->header_size += 8;
        assert_int_equal(validate(&im), -EBADMSG);
        *hdr(&im) = saved;
        hdr(&im)->total_size += 8;
        assert_int_equal(validate(&im), -EBADMSG);
        *hdr(&im) = saved;
        hdr(&im)->n_regions--;
        assert_int_equal(validate(&im), -EBADMSG);
        *hdr(&im) = saved;
        hdr(&im)->flags = 1;
        assert_int_equal(validate(&im), -EBADMSG);
        *hdr(&im) = saved;
        hdr(&im)->n_users++;
        assert_int_equal(validate(&im), -EBADMSG);
        *hdr(&im) = saved;
        hdr(&im)->n_groups = UINT32_MAX;
        assert_int_equal(validate(&im), -EBADMSG);
        *hdr(&im) = saved;
        hdr(&im)->n_members--;
        assert_int_equal(validate(&im), -EBADMSG);
        for (unsigned i = 0; i < NSSCACHE_INDEX_COUNT; i++) {
                *hdr(&im) = saved;
                hdr(&im)->probe_limit[i] = 0;
                assert_int_equal(validate(&im), -EBADMSG);
                hdr(&im)->probe_limit[i] = NSSCACHE_MAX_PROBE + 1;
                assert_int_equal(validate(&im), -EBADMSG);
        }
        *hdr(&im) = saved;
        assert_int_equal(validate(&im), 0);
        image_free(&im);
}

static void test_validate_refuses_bad_regions(void **state)
{
        (void)state;
        struct nsscache_build_input in = small_input();
        struct image im = build(&in);
        struct nsscache_header saved = *hdr(&im);
        for (unsigned r = 0; r < NSSCACHE_REGION_COUNT; r++) {
                struct nsscache_region_desc *d = &hdr(&im)->regions[r];
                /* Outside the image. */
                *hdr(&im) = saved;
                d->offset = (uint32_t)im.size;
                d->size = 8;
                assert_int_equal(validate(&im), -EBADMSG);
                *hdr(&im) = saved;
                d->size = UINT32_MAX;
                assert_int_equal(validate(&im), -EBADMSG);
                /* Over the header. */
                *hdr(&im) = saved;
                d->offset = 0;
                assert_int_equal(validate(&im), -EBADMSG);
                /* Misaligned. */
                *hdr(&im) = saved;
                d->offset += 4;
                assert_int_equal(validate(&im), -EBADMSG);
                /* Overlapping its neighbour. */
                if (r + 1 < NSSCACHE_REGION_COUNT && saved.regions[r].size && saved.regions[r + 1].size) {
                        *hdr(&im) = saved;
                        hdr(&im)->regions[r + 1].offset = d->offset;
                        assert_int_equal(validate(&im), -EBADMSG);
                }
        }
        *hdr(&im) = saved;
        /* A size that does not fit the counts. */
        hdr(&im)->regions[NSSCACHE_REGION_USERS].size -= 8;
        assert_int_equal(validate(&im), -EBADMSG);
        *hdr(&im) = saved;
        hdr(&im)->regions[NSSCACHE_REGION_MEMBER_GROUPS].size -= 2;
        assert_int_equal(validate(&im), -EBADMSG);
        *hdr(&im) = saved;
        hdr(&im)->regions[NSSCACHE_REGION_STRINGS].size = 0;
        assert_int_equal(validate(&im), -EBADMSG);
        /* Index sizes: not a power of two, too small. */
        *hdr(&im) = saved;
        hdr(&im)->regions[NSSCACHE_REGION_USER_BY_NAME].size -= 4;
        assert_int_equal(validate(&im), -EBADMSG);
        *hdr(&im) = saved;
        hdr(&im)->regions[NSSCACHE_REGION_GROUP_BY_GID].size = 4 * 4;
        assert_int_equal(validate(&im), -EBADMSG);
        *hdr(&im) = saved;
        assert_int_equal(validate(&im), 0);
        image_free(&im);
}

static void test_validate_refuses_bad_strings(void **state)
{
        (void)state;
        struct nsscache_build_input in = small_input();
        struct image im = build(&in);
        uint8_t *pool = region(&im, NSSCACHE_REGION_STRINGS);
        uint32_t pool_size = hdr(&im)->regions[NSSCACHE_REGION_STRINGS].size;

        /* The pool's last string not terminated inside it. */
        pool[pool_size - 1] = 'x';
        assert_int_equal(validate(&im), -EBADMSG);
        pool[pool_size - 1] = 0;
        assert_int_equal(validate(&im), 0);

        /* Each string offset of each record kind, one past the pool. */
        struct nsscache_user_rec *u = (void *)region(&im, NSSCACHE_REGION_USERS);
        uint32_t *fields[] = { &u[1].name, &u[1].gecos, &u[1].dir, &u[1].shell };
        for (unsigned i = 0; i < 4; i++) {
                uint32_t keep = *fields[i];
                *fields[i] = pool_size;
                assert_int_equal(validate(&im), -EBADMSG);
                *fields[i] = UINT32_MAX;
                assert_int_equal(validate(&im), -EBADMSG);
                *fields[i] = keep;
        }
        struct nsscache_group_rec *g = (void *)region(&im, NSSCACHE_REGION_GROUPS);
        uint32_t keep = g[2].name;
        g[2].name = pool_size;
        assert_int_equal(validate(&im), -EBADMSG);
        g[2].name = keep;
        uint32_t *refs = (void *)region(&im, NSSCACHE_REGION_MEMBER_NAMES);
        keep = refs[0];
        refs[0] = pool_size + 100;
        assert_int_equal(validate(&im), -EBADMSG);
        refs[0] = keep;
        struct nsscache_member_rec *m = (void *)region(&im, NSSCACHE_REGION_MEMBERS);
        keep = m[0].name;
        m[0].name = pool_size;
        assert_int_equal(validate(&im), -EBADMSG);
        m[0].name = keep;
        assert_int_equal(validate(&im), 0);
        image_free(&im);
}

static void test_validate_refuses_bad_lists(void **state)
{
        (void)state;
        struct nsscache_build_input in = small_input();
        struct image im = build(&in);
        uint32_t n_refs = hdr(&im)->regions[NSSCACHE_REGION_MEMBER_NAMES].size / 4;
        uint32_t n_lists = hdr(&im)->regions[NSSCACHE_REGION_MEMBER_GROUPS].size / 4;
        struct nsscache_group_rec *g = (void *)region(&im, NSSCACHE_REGION_GROUPS);
        struct nsscache_member_rec *m = (void *)region(&im, NSSCACHE_REGION_MEMBERS);
        uint32_t *lists = (void *)region(&im, NSSCACHE_REGION_MEMBER_GROUPS);

        /* Member lists outside their region, by first or by count, with overflow. */
        struct nsscache_group_rec gk = g[1];
        g[1].members_first = n_refs;
        assert_int_equal(validate(&im), -EBADMSG);
        g[1] = gk;
        g[1].members_count = n_refs;
        assert_int_equal(validate(&im), -EBADMSG);
        g[1].members_first = UINT32_MAX;
        g[1].members_count = 2;
        assert_int_equal(validate(&im), -EBADMSG);
        g[1] = gk;
        /* An empty list at the very end is fine. */
        g[5].members_first = n_refs;
        assert_int_equal(validate(&im), 0);

        /* Group lists: outside, empty, unsorted, repeated, past the groups. */
        struct nsscache_member_rec mk = m[0];
        assert_true(mk.groups_count >= 2);
        m[0].groups_first = n_lists;
        assert_int_equal(validate(&im), -EBADMSG);
        m[0] = mk;
        m[0].groups_count = n_lists + 1;
        assert_int_equal(validate(&im), -EBADMSG);
        m[0].groups_first = UINT32_MAX;
        assert_int_equal(validate(&im), -EBADMSG);
        m[0] = mk;
        m[0].groups_count = 0;
        assert_int_equal(validate(&im), -EBADMSG);
        m[0] = mk;
        uint32_t *l = lists + mk.groups_first, a = l[0], b = l[1];
        l[0] = b;
        l[1] = a;
        assert_int_equal(validate(&im), -EBADMSG);
        l[0] = b;
        assert_int_equal(validate(&im), -EBADMSG);
        l[0] = a;
        l[1] = hdr(&im)->n_groups;
        assert_int_equal(validate(&im), -EBADMSG);
        l[1] = UINT32_MAX;
        assert_int_equal(validate(&im), -EBADMSG);
        l[1] = b;
        assert_int_equal(validate(&im), 0);
        image_free(&im);
}

/* What validation need not catch (lookups stay safe) and the publisher's
 * check does: a record missing from its index, a member list that
 * forgets a group. */
static void test_check_reachable_finds_writer_bugs(void **state)
{
        (void)state;
        struct nsscache_build_input in = small_input();
        struct image im = build(&in);
        struct nsscache_view v = view_of(&im);
        assert_int_equal(nsscache_check_reachable(&v), 0);
        for (unsigned i = 0; i < NSSCACHE_INDEX_COUNT; i++) {
                uint32_t *slots = (void *)region(&im, NSSCACHE_INDEX_REGION(i));
                uint32_t nslots = hdr(&im)->regions[NSSCACHE_INDEX_REGION(i)].size / 4;
                for (uint32_t s = 0; s < nslots; s++) {
                        if (!slots[s])
                                continue;
                        uint32_t keep = slots[s];
                        slots[s] = 0;
                        v = view_of(&im);
                        assert_int_equal(nsscache_check_reachable(&v), -EBADMSG);
                        slots[s] = keep;
                }
        }
        /* alice's list without its last group (samegid, record 4). */
        struct nsscache_member_rec *m = (void *)region(&im, NSSCACHE_REGION_MEMBERS);
        struct nsscache_passwd pw;
        v = view_of(&im);
        assert_int_equal(nsscache_user_by_name(&v, "alice", &pw), 0);
        assert_string_equal(v.strings + m[0].name, "alice");
        m[0].groups_count--;
        v = view_of(&im);
        assert_int_equal(nsscache_check_reachable(&v), -EBADMSG);
        m[0].groups_count++;
        v = view_of(&im);
        assert_int_equal(nsscache_check_reachable(&v), 0);
        image_free(&im);
}

static void test_validate_refuses_bad_indexes(void **state)
{
        (void)state;
        struct nsscache_build_input in = small_input();
        struct image im = build(&in);
        for (unsigned i = 0; i < NSSCACHE_INDEX_COUNT; i++) {
                uint32_t *slots = (void *)region(&im, NSSCACHE_INDEX_REGION(i));
                uint32_t nslots = hdr(&im)->regions[NSSCACHE_INDEX_REGION(i)].size / 4;
                uint32_t n = i < 2 ? 5 : i < 4 ? 6 : hdr(&im)->n_members;
                uint32_t full = 0;
                for (uint32_t s = 0; s < nslots; s++)
                        if (slots[s])
                                full = s;
                /* A record number past the end. */
                uint32_t keep = slots[full];
                slots[full] = n + 1;
                assert_int_equal(validate(&im), -EBADMSG);
                slots[full] = UINT32_MAX;
                assert_int_equal(validate(&im), -EBADMSG);
                slots[full] = keep;
                /* Every slot full: more entries than records. */
                uint32_t *copy = malloc(nslots * 4);
                memcpy(copy, slots, nslots * 4);
                for (uint32_t s = 0; s < nslots; s++)
                        slots[s] = 1;
                assert_int_equal(validate(&im), -EBADMSG);
                memcpy(slots, copy, nslots * 4);
                /* An entry beyond its probe limit of its home: safe to look
                 * up through (validation passes), but the deeper check that
                 * the publisher runs finds it. */
                uint32_t limit = hdr(&im)->probe_limit[i];
                struct nsscache_view v = view_of(&im);
                assert_int_equal(nsscache_check_reachable(&v), 0);
                uint32_t moved = (full + nslots / 2) & (nslots - 1);
                if (nslots / 2 >= limit && slots[moved] == 0) {
                        slots[full] = 0;
                        slots[moved] = keep;
                        v = view_of(&im);
                        assert_int_equal(nsscache_check_reachable(&v), -EBADMSG);
                }
                memcpy(slots, copy, nslots * 4);
                free(copy);
                assert_int_equal(validate(&im), 0);
        }
        image_free(&im);
}

/* Flip every byte of a small image in turn: validation either refuses it
 * or yields a view whose lookups stay inside the image (ASan watches). */
static void test_validate_survives_every_byte_flip(void **state)
{
        (void)state;
        struct nsscache_build_input in = small_input();
        struct image im = build(&in);
        for (size_t i = 0; i < im.size; i++) {
                for (unsigned bit = 0; bit < 8; bit += 3) {
                        im.mem[i] ^= (uint8_t)(1u << bit);
                        struct nsscache_view v;
                        if (nsscache_validate(im.mem, im.size, &v) == 0) {
                                struct nsscache_passwd pw;
                                struct nsscache_group gr;
                                const uint32_t *g;
                                uint32_t n;
                                (void)nsscache_user_by_name(&v, "alice", &pw);
                                (void)nsscache_user_by_uid(&v, 1000, &pw);
                                (void)nsscache_group_by_name(&v, "staff", &gr);
                                (void)nsscache_group_by_gid(&v, 50, &gr);
                                (void)nsscache_member_groups(&v, "bob", &g, &n);
                                (void)nsscache_check_reachable(&v);
                                for (uint32_t k = 0; nsscache_group_at(&v, k, &gr) == 0; k++)
                                        for (uint32_t j = 0; j < gr.n_members; j++)
                                                assert_non_null(nsscache_group_member(&v, &gr, j));
                        }
                        im.mem[i] ^= (uint8_t)(1u << bit);
                }
        }
        assert_int_equal(validate(&im), 0);
        image_free(&im);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hash_is_siphash),
                cmocka_unit_test(test_round_trip_small),
                cmocka_unit_test(test_round_trip_empty),
                cmocka_unit_test(test_round_trip_padded),
                cmocka_unit_test(test_round_trip_100k_users),
                cmocka_unit_test(test_build_refuses_bad_input),
                cmocka_unit_test(test_validate_refuses_bad_arguments),
                cmocka_unit_test(test_validate_refuses_bad_header),
                cmocka_unit_test(test_validate_refuses_bad_regions),
                cmocka_unit_test(test_validate_refuses_bad_strings),
                cmocka_unit_test(test_validate_refuses_bad_lists),
                cmocka_unit_test(test_validate_refuses_bad_indexes),
                cmocka_unit_test(test_check_reachable_finds_writer_bugs),
                cmocka_unit_test(test_validate_survives_every_byte_flip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
