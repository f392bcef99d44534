/* SPDX-License-Identifier: MIT */
/*
 * passwd(5) and group(5) files into entries (source.h says what a valid line
 * is). Each file is read whole into one buffer, then split in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Grow *array (of elem bytes each, *cap of them) to hold one more. */
static int grow(void **array, size_t *cap, size_t n, size_t elem)
{
        if (n < *cap)
                return 0;
        size_t ncap = *cap ? *cap * 2 : 64;
        if (ncap > SIZE_MAX / elem)
                return -ENOMEM;
        void *p = realloc(*array, ncap * elem);
        if (!p)
                return -ENOMEM;
        *array = p;
        *cap = ncap;
        return 0;
}

/* A decimal id: digits only, at most 4294967294. */
static bool parse_id(const char *s, uint32_t *ret)
{
        uint64_t v = 0;
        if (!*s)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                v = v * 10 + (uint64_t)(*s - '0');
                if (v >= UINT32_MAX)
                        return false;
        }
        *ret = (uint32_t)v;
        return true;
}

/* Split line at ':' into exactly n fields (NUL-terminated in place). */
static bool split_fields(char *line, char **fields, unsigned n)
{
        unsigned i = 0;
        fields[i++] = line;
        for (char *p = line; *p; p++) {
                if (*p != ':')
                        continue;
                if (i == n)
                        return false;
                *p = '\0';
                fields[i++] = p + 1;
        }
        return i == n;
}

static bool name_ok(const char *name)
{
        return *name && *name != '+' && *name != '-';
}

struct line_state {
        struct nss_sources *s;
        const char *path;
        unsigned logged;
};

static void skip_line(struct line_state *ls, size_t lineno, const char *reason)
{
        ls->s->skipped++;
        if (ls->s->log && ls->logged < NSS_SOURCE_MAX_LOGGED) {
                ls->logged++;
                ls->s->log(ls->s->log_ctx, ls->path, lineno, reason);
        }
}

static int add_user(struct line_state *ls, char *line, size_t lineno)
{
        char *f[7];
        struct nss_source_user u;
        if (!split_fields(line, f, 7)) {
                skip_line(ls, lineno, "not 7 fields");
                return 0;
        }
        if (!name_ok(f[0])) {
                skip_line(ls, lineno, "empty or +/- name");
                return 0;
        }
        if (!parse_id(f[2], &u.uid) || !parse_id(f[3], &u.gid)) {
                skip_line(ls, lineno, "bad uid or gid");
                return 0;
        }
        u.name = f[0];
        u.gecos = f[4];
        u.dir = f[5];
        u.shell = f[6];
        struct nss_sources *s = ls->s;
        if (grow((void **)&s->users, &s->cap_users, s->nusers, sizeof(*s->users)) < 0)
                return -ENOMEM;
        s->users[s->nusers++] = u;
        return 0;
}

static int add_group(struct line_state *ls, char *line, size_t lineno)
{
        char *f[4];
        struct nss_sources *s = ls->s;
        struct nss_source_group g;
        if (!split_fields(line, f, 4)) {
                skip_line(ls, lineno, "not 4 fields");
                return 0;
        }
        if (!name_ok(f[0])) {
                skip_line(ls, lineno, "empty or +/- name");
                return 0;
        }
        if (!parse_id(f[2], &g.gid)) {
                skip_line(ls, lineno, "bad gid");
                return 0;
        }
        g.name = f[0];
        g.first_member = s->nmembers;
        g.nmembers = 0;
        char *p = f[3];
        while (*p) {
                while (is_blank(*p))
                        p++;
                char *start = p;
                while (*p && *p != ',')
                        p++;
                char *end = p;
                if (*p)
                        *p++ = '\0';
                while (end > start && is_blank(end[-1]))
                        *--end = '\0';
                if (end == start)
                        continue;
                if (grow((void **)&s->members, &s->cap_members, s->nmembers, sizeof(*s->members)) < 0) {
                        s->nmembers = g.first_member;
                        return -ENOMEM;
                }
                s->members[s->nmembers++] = start;
                g.nmembers++;
        }
        if (grow((void **)&s->groups, &s->cap_groups, s->ngroups, sizeof(*s->groups)) < 0) {
                s->nmembers = g.first_member;
                return -ENOMEM;
        }
        s->groups[s->ngroups++] = g;
        return 0;
}

static int parse(struct nss_sources *s, char *buf, size_t len, const char *path, enum nss_source_kind kind)
{
        struct line_state ls = { .s = s, .path = path };
        size_t lineno = 0;
        char *p = buf, *end = buf + len;
        while (p < end) {
                lineno++;
                char *nl = memchr(p, '\n', (size_t)(end - p));
                char *eol = nl ? nl : end;
                size_t n = (size_t)(eol - p);
                char *line = p;
                p = nl ? nl + 1 : end;
                if (n > NSS_SOURCE_MAX_LINE) {
                        skip_line(&ls, lineno, "line too long");
                        continue;
                }
                if (memchr(line, '\0', n)) {
                        skip_line(&ls, lineno, "NUL byte");
                        continue;
                }
                /* The last line may end the buffer: its NUL goes past the
                 * data, which nss_source_load allocates room for. */
                line[n] = '\0';
                while (is_blank(*line))
                        line++;
                /* glibc keeps a CR before the newline in the last field;
                 * so do we (it is not a blank inside the line). */
                if (*line == '\0' || *line == '#')
                        continue;
                int r = kind == NSS_SOURCE_PASSWD ? add_user(&ls, line, lineno) : add_group(&ls, line, lineno);
                if (r < 0)
                        return r;
        }
        if (ls.logged == NSS_SOURCE_MAX_LOGGED && s->log)
                s->log(s->log_ctx, path, 0, "more malformed lines not logged");
        return 0;
}

int nss_source_parse_passwd(struct nss_sources *s, char *buf, size_t len, const char *path)
{
        return parse(s, buf, len, path, NSS_SOURCE_PASSWD);
}

int nss_source_parse_group(struct nss_sources *s, char *buf, size_t len, const char *path)
{
        return parse(s, buf, len, path, NSS_SOURCE_GROUP);
}

int nss_source_load(struct nss_sources *s, const char *path, enum nss_source_kind kind)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        if (!S_ISREG(st.st_mode)) {
                close(fd);
                return -EINVAL;
        }
        if ((uint64_t)st.st_size > NSS_SOURCE_MAX_FILE) {
                close(fd);
                return -EFBIG;
        }
        /* The file may change while we read: read until EOF, up to the cap. */
        size_t cap = (size_t)st.st_size + 1, len = 0;
        char *buf = malloc(cap + 1);
        int r = buf ? 0 : -ENOMEM;
        while (r == 0) {
                if (len == cap) {
                        if (cap > NSS_SOURCE_MAX_FILE) {
                                r = -EFBIG;
                                break;
                        }
                        char *nb = realloc(buf, cap * 2 + 1);
                        if (!nb) {
                                r = -ENOMEM;
                                break;
                        }
                        buf = nb;
                        cap *= 2;
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        r = -errno;
                else if (n == 0)
                        break;
                else
                        len += (size_t)n;
        }
        close(fd);
        if (r == 0)
                r = grow((void **)&s->buffers, &s->cap_buffers, s->nbuffers, sizeof(*s->buffers));
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[len] = '\0'; /* room for the last line's terminator */
        s->buffers[s->nbuffers++] = buf;
        return parse(s, buf, len, path, kind);
}

void nss_sources_clear(struct nss_sources *s)
{
        for (size_t i = 0; i < s->nbuffers; i++)
                free(s->buffers[i]);
        free(s->buffers);
        free(s->users);
        free(s->groups);
        free(s->members);
        nss_source_log_fn log = s->log;
        void *ctx = s->log_ctx;
        memset(s, 0, sizeof(*s));
        s->log = log;
        s->log_ctx = ctx;
}
