/* SPDX-License-Identifier: MIT */
/*
 * The user and group table's reader (src/nsscache/nsscache-read.c) on any
 * bytes, as a process would map them. Properties:
 *   - nsscache_validate returns 0, -EBADMSG or -EPROTONOSUPPORT (the buffer
 *     is aligned and non-NULL: never -EINVAL);
 *   - on an accepted image every lookup and every enumeration stays inside
 *     the image (ASan watches the copy, which is exactly as long as the
 *     input) and ends: every string it returns is NUL-terminated inside the
 *     image, every member's group list strictly ascending and naming
 *     groups that exist;
 *   - when nsscache_check_reachable also accepts it, every record is found
 *     by its own name and id (the first of its name or id, with duplicates),
 *     and every member name of every group finds that group in its list:
 *     the check means what it says.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nsscache/nsscache-read.h"

static bool inside(const struct nsscache_view *v, const char *s)
{
        const char *start = (const char *)v->base, *end = start + v->size;
        if (s < start || s >= end)
                return false;
        return memchr(s, 0, (size_t)(end - s)) != NULL;
}

static void check_user(const struct nsscache_view *v, const struct nsscache_passwd *pw)
{
        FUZZ_CHECK(inside(v, pw->name) && inside(v, pw->gecos) && inside(v, pw->dir) && inside(v, pw->shell));
        FUZZ_CHECK(strcmp(pw->passwd, "x") == 0);
}

static void check_group(const struct nsscache_view *v, const struct nsscache_group *gr)
{
        FUZZ_CHECK(inside(v, gr->name) && strcmp(gr->passwd, "x") == 0);
        for (uint32_t j = 0; j < gr->n_members; j++)
                FUZZ_CHECK(inside(v, nsscache_group_member(v, gr, j)));
        FUZZ_CHECK(nsscache_group_member(v, gr, gr->n_members) == NULL);
}

static void check_groups(const struct nsscache_view *v, const char *name, bool reachable, uint32_t must_hold,
                         bool check_hold)
{
        const uint32_t *groups;
        uint32_t n;
        FUZZ_CHECK(nsscache_member_groups(v, name, &groups, &n) == 0);
        FUZZ_CHECK((n == 0) == (groups == NULL));
        bool held = false;
        for (uint32_t k = 0; k < n; k++) {
                FUZZ_CHECK(k == 0 || groups[k - 1] < groups[k]);
                FUZZ_CHECK(groups[k] < v->n_groups);
                (void)nsscache_group_gid(v, groups[k]);
                held |= groups[k] == must_hold;
        }
        if (reachable && check_hold)
                FUZZ_CHECK(held);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* Aligned as a mapping is, and exactly as long as the input. */
        uint8_t *image = aligned_alloc(NSSCACHE_ALIGN, size ? (size + NSSCACHE_ALIGN - 1) & ~(size_t)7 : 8);
        if (!image)
                return 0;
        memcpy(image, data, size);
        struct nsscache_view v;
        int r = nsscache_validate(image, size, &v);
        FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT);
        if (r < 0) {
                free(image);
                return 0;
        }
        bool reachable = nsscache_check_reachable(&v) == 0;
        struct nsscache_passwd pw, found;
        struct nsscache_group gr, gfound;
        for (uint32_t i = 0; nsscache_user_at(&v, i, &pw) == 0; i++) {
                FUZZ_CHECK(i < v.n_users);
                check_user(&v, &pw);
                int by_name = nsscache_user_by_name(&v, pw.name, &found);
                if (by_name == 0)
                        check_user(&v, &found);
                if (reachable)
                        FUZZ_CHECK(by_name == 0 && strcmp(found.name, pw.name) == 0);
                int by_uid = nsscache_user_by_uid(&v, pw.uid, &found);
                if (by_uid == 0)
                        check_user(&v, &found);
                if (reachable)
                        FUZZ_CHECK(by_uid == 0 && found.uid == pw.uid);
                check_groups(&v, pw.name, reachable, 0, false);
        }
        for (uint32_t i = 0; nsscache_group_at(&v, i, &gr) == 0; i++) {
                FUZZ_CHECK(i < v.n_groups);
                check_group(&v, &gr);
                int by_name = nsscache_group_by_name(&v, gr.name, &gfound);
                if (by_name == 0)
                        check_group(&v, &gfound);
                if (reachable)
                        FUZZ_CHECK(by_name == 0 && strcmp(gfound.name, gr.name) == 0);
                int by_gid = nsscache_group_by_gid(&v, gr.gid, &gfound);
                if (by_gid == 0)
                        check_group(&v, &gfound);
                if (reachable)
                        FUZZ_CHECK(by_gid == 0 && gfound.gid == gr.gid);
                for (uint32_t j = 0; j < gr.n_members; j++)
                        check_groups(&v, nsscache_group_member(&v, &gr, j), reachable, i, true);
        }
        /* Names and ids the image may not hold. */
        if (nsscache_user_by_name(&v, "", &pw) == 0)
                FUZZ_CHECK(pw.name[0] == 0);
        (void)nsscache_user_by_uid(&v, 0, &pw);
        (void)nsscache_group_by_name(&v, "root", &gr);
        (void)nsscache_group_by_gid(&v, UINT32_MAX, &gr);
        check_groups(&v, "root", reachable, 0, false);
        free(image);
        return 0;
}
