/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's user and group database: built from one seed, written as
 * passwd(5)/group(5) files and as libnss-cache's files with their indexes.
 *
 * Every file is written to a temporary name and renamed over the target, the
 * way useradd, vipw and directory sync jobs replace them, so a reader sees
 * the old file or the new one and never half of one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nssbench.h"

static uint64_t xorshift64(uint64_t *s)
{
        uint64_t x = *s;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *s = x;
        return x;
}

static uint32_t draw(uint64_t *s, uint32_t n)
{
        return (uint32_t)(((xorshift64(s) >> 32) * n) >> 32);
}

void nssb_user_name(uint32_t i, char out[16])
{
        snprintf(out, 16, "user%05u", i);
}

void nssb_miss_name(uint32_t i, char out[16])
{
        snprintf(out, 16, NSSB_MISS_PREFIX "%05u", i);
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

int nssb_data_build(struct nssb_data *d)
{
        memset(d, 0, sizeof(*d));
        d->member_pool = calloc((size_t)NSSB_GROUPS * NSSB_MEMBERS_MAX, sizeof(uint32_t));
        uint32_t *stamp = calloc(NSSB_USERS, sizeof(uint32_t));
        if (!d->member_pool || !stamp) {
                free(stamp);
                nssb_data_free(d);
                return -ENOMEM;
        }
        uint64_t rng = NSSB_SEED;
        for (uint32_t i = 0; i < NSSB_USERS; i++)
                d->primary_group[i] = draw(&rng, NSSB_GROUPS);

        uint32_t used = 0;
        for (uint32_t j = 0; j < NSSB_GROUPS; j++) {
                uint32_t n = NSSB_MEMBERS_MIN + draw(&rng, NSSB_MEMBERS_MAX - NSSB_MEMBERS_MIN + 1);
                uint32_t *m = d->member_pool + used;
                /* Distinct members: stamp holds j+1 for users already in group j. */
                for (uint32_t k = 0; k < n;) {
                        uint32_t u = draw(&rng, NSSB_USERS);
                        if (stamp[u] == j + 1)
                                continue;
                        stamp[u] = j + 1;
                        m[k++] = u;
                }
                qsort(m, n, sizeof(*m), cmp_u32);
                d->member_offset[j] = used;
                d->nmembers[j] = n;
                used += n;
        }
        free(stamp);

        for (uint32_t i = 0; i < NSSB_USERS; i++)
                d->ngroups[i] = 1;
        for (uint32_t j = 0; j < NSSB_GROUPS; j++)
                for (uint32_t k = 0; k < d->nmembers[j]; k++) {
                        uint32_t u = d->member_pool[d->member_offset[j] + k];
                        if (d->primary_group[u] != j)
                                d->ngroups[u]++;
                }
        return 0;
}

void nssb_data_free(struct nssb_data *d)
{
        if (!d)
                return;
        free(d->member_pool);
        d->member_pool = NULL;
}

/* A growable text buffer; any failure sticks and is reported at the end. */
struct text {
        char *p;
        size_t len, cap;
        bool failed;
};

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_printf(struct text *t, const char *fmt, ...)
{
        if (t->failed)
                return;
        for (;;) {
                va_list ap;
                va_start(ap, fmt);
                int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        t->failed = true;
                        return;
                }
                if (t->p && (size_t)n < t->cap - t->len) {
                        t->len += (size_t)n;
                        return;
                }
                size_t cap = t->cap ? t->cap * 2 : 1u << 20;
                while (cap < t->len + (size_t)n + 1)
                        cap *= 2;
                char *p = realloc(t->p, cap);
                if (!p) {
                        t->failed = true;
                        return;
                }
                t->p = p;
                t->cap = cap;
        }
}

static int write_file(const char *path, const void *buf, size_t len)
{
        char tmp[4096];
        if ((size_t)snprintf(tmp, sizeof(tmp), "%s.nssb-new", path) >= sizeof(tmp))
                return -ENAMETOOLONG;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        int e = errno;
                        close(fd);
                        unlink(tmp);
                        return -e;
                }
                p += n;
                len -= (size_t)n;
        }
        if (close(fd) < 0 || rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return -e;
        }
        return 0;
}

static int text_write(struct text *t, const char *path)
{
        int r = t->failed ? -ENOMEM : write_file(path, t->p, t->len);
        free(t->p);
        *t = (struct text){ 0 };
        return r;
}

/* passwd text; when offsets is given, the byte offset of each user's line
 * (root's line comes first and is not indexed). */
static void passwd_text(const struct nssb_data *d, struct text *t, unsigned version, size_t *offsets)
{
        text_printf(t, "root:x:0:0:root:/root:/bin/bash\n");
        for (uint32_t i = 0; i < NSSB_USERS; i++) {
                char name[16];
                nssb_user_name(i, name);
                if (offsets)
                        offsets[i] = t->len;
                if (i == NSSB_CHANGED_USER)
                        text_printf(t, "%s:x:%u:%u:User %05u v%u:/home/%s:/bin/bash\n", name, NSSB_FIRST_UID + i,
                                    NSSB_FIRST_GID + d->primary_group[i], i, version, name);
                else
                        text_printf(t, "%s:x:%u:%u:User %05u:/home/%s:/bin/bash\n", name, NSSB_FIRST_UID + i,
                                    NSSB_FIRST_GID + d->primary_group[i], i, name);
        }
}

static void group_text(const struct nssb_data *d, struct text *t, size_t *offsets)
{
        text_printf(t, "root:x:0:\n");
        for (uint32_t j = 0; j < NSSB_GROUPS; j++) {
                if (offsets)
                        offsets[j] = t->len;
                text_printf(t, "group%04u:x:%u:", j, NSSB_FIRST_GID + j);
                for (uint32_t k = 0; k < d->nmembers[j]; k++) {
                        char name[16];
                        nssb_user_name(d->member_pool[d->member_offset[j] + k], name);
                        text_printf(t, k ? ",%s" : "%s", name);
                }
                text_printf(t, "\n");
        }
}

int nssb_write_passwd(const struct nssb_data *d, const char *path, unsigned version)
{
        struct text t = { 0 };
        passwd_text(d, &t, version, NULL);
        return text_write(&t, path);
}

int nssb_write_group(const struct nssb_data *d, const char *path)
{
        struct text t = { 0 };
        group_text(d, &t, NULL);
        return text_write(&t, path);
}

/* ------------------------------------------------------------------------ */
/* libnss-cache's index: fixed-width lines "KEY\0OFFSET\0...\0\n" sorted by   */
/* strcmp() of KEY, which the module bsearch()es after mapping the file.     */

struct ix_entry {
        char key[16];
        size_t offset;
};

static int cmp_ix(const void *a, const void *b)
{
        return strcmp(((const struct ix_entry *)a)->key, ((const struct ix_entry *)b)->key);
}

static int write_index(struct ix_entry *e, size_t n, const char *path)
{
        qsort(e, n, sizeof(*e), cmp_ix);
        size_t key_w = 0, off_w = 0;
        for (size_t i = 0; i < n; i++) {
                char num[24];
                size_t k = strlen(e[i].key), o = (size_t)snprintf(num, sizeof(num), "%zu", e[i].offset);
                key_w = k > key_w ? k : key_w;
                off_w = o > off_w ? o : off_w;
        }
        size_t width = key_w + 1 + off_w + 1 + 1; /* key NUL offset NUL... '\n' */
        char *buf = calloc(n, width);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char *line = buf + i * width;
                size_t k = strlen(e[i].key);
                memcpy(line, e[i].key, k);
                snprintf(line + k + 1, width - k - 2, "%zu", e[i].offset);
                line[width - 1] = '\n';
        }
        int r = write_file(path, buf, n * width);
        free(buf);
        return r;
}

int nssb_write_nsscache(const struct nssb_data *d, const char *dir, unsigned version)
{
        char path[4096];
        size_t *off = calloc(NSSB_USERS > NSSB_GROUPS ? NSSB_USERS : NSSB_GROUPS, sizeof(size_t));
        struct ix_entry *ix = calloc(NSSB_USERS, sizeof(*ix));
        int r = -ENOMEM;
        if (!off || !ix)
                goto out;

        /* The index must not be older than its table (the module refuses a
         * stale index), so each table goes first. */
        struct text t = { 0 };
        passwd_text(d, &t, version, off);
        snprintf(path, sizeof(path), "%s/passwd.cache", dir);
        if ((r = text_write(&t, path)) < 0)
                goto out;
        for (uint32_t i = 0; i < NSSB_USERS; i++) {
                nssb_user_name(i, ix[i].key);
                ix[i].offset = off[i];
        }
        snprintf(path, sizeof(path), "%s/passwd.cache.ixname", dir);
        if ((r = write_index(ix, NSSB_USERS, path)) < 0)
                goto out;
        for (uint32_t i = 0; i < NSSB_USERS; i++) {
                snprintf(ix[i].key, sizeof(ix[i].key), "%u", NSSB_FIRST_UID + i);
                ix[i].offset = off[i];
        }
        snprintf(path, sizeof(path), "%s/passwd.cache.ixuid", dir);
        if ((r = write_index(ix, NSSB_USERS, path)) < 0)
                goto out;

        group_text(d, &t, off);
        snprintf(path, sizeof(path), "%s/group.cache", dir);
        if ((r = text_write(&t, path)) < 0)
                goto out;
        for (uint32_t j = 0; j < NSSB_GROUPS; j++) {
                snprintf(ix[j].key, sizeof(ix[j].key), "group%04u", j);
                ix[j].offset = off[j];
        }
        snprintf(path, sizeof(path), "%s/group.cache.ixname", dir);
        if ((r = write_index(ix, NSSB_GROUPS, path)) < 0)
                goto out;
        for (uint32_t j = 0; j < NSSB_GROUPS; j++) {
                snprintf(ix[j].key, sizeof(ix[j].key), "%u", NSSB_FIRST_GID + j);
                ix[j].offset = off[j];
        }
        snprintf(path, sizeof(path), "%s/group.cache.ixgid", dir);
        r = write_index(ix, NSSB_GROUPS, path);
out:
        free(off);
        free(ix);
        return r;
}
