/* SPDX-License-Identifier: MIT */
/* The user database of lsashm-passwd: parse, format, lock, replace. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passwd-db.h"

static const struct {
        const char *word;
        unsigned flag;
} flag_words[] = {
        { "disabled", PASSWD_DISABLED },
        { "account-expired", PASSWD_ACCOUNT_EXPIRED },
        { "password-expired", PASSWD_PASSWORD_EXPIRED },
        { "must-change", PASSWD_MUST_CHANGE },
};
#define NFLAG_WORDS (sizeof(flag_words) / sizeof(flag_words[0]))

bool passwd_name_valid(const char *name, size_t length)
{
        if (length == 0 || length > PASSWD_NAME_MAX || name[0] == '-')
                return false;
        for (size_t i = 0; i < length; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-'))
                        return false;
        }
        return true;
}

/* A decimal id, 0 to UINT32_MAX - 1 ((uid_t)-1 is "no id"), all of s. */
static int id_parse(const char *s, size_t n, uint32_t *ret)
{
        if (n == 0 || n > 10)
                return -EINVAL;
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (v >= UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

static int flags_parse_n(const char *s, size_t n, unsigned *ret)
{
        unsigned flags = 0;
        if (n == 1 && s[0] == '-') {
                *ret = 0;
                return 0;
        }
        while (n > 0) {
                const char *comma = memchr(s, ',', n);
                size_t len = comma ? (size_t)(comma - s) : n;
                size_t i;
                for (i = 0; i < NFLAG_WORDS; i++)
                        if (strlen(flag_words[i].word) == len && memcmp(flag_words[i].word, s, len) == 0)
                                break;
                if (i == NFLAG_WORDS)
                        return -EINVAL;
                flags |= flag_words[i].flag;
                if (!comma)
                        break;
                n -= len + 1;
                s = comma + 1;
                if (n == 0)
                        return -EINVAL; /* a trailing comma */
        }
        *ret = flags;
        return 0;
}

int passwd_flags_parse(const char *text, unsigned *ret)
{
        return flags_parse_n(text, strlen(text), ret);
}

static int groups_parse(const char *s, size_t n, struct passwd_user *u)
{
        u->ngroups = 0;
        if (n == 1 && s[0] == '-')
                return 0;
        while (1) {
                const char *comma = memchr(s, ',', n);
                size_t len = comma ? (size_t)(comma - s) : n;
                if (u->ngroups == PASSWD_GROUPS_MAX || id_parse(s, len, &u->groups[u->ngroups]) < 0)
                        return -EINVAL;
                u->ngroups++;
                if (!comma)
                        return 0;
                n -= len + 1;
                s = comma + 1;
        }
}

/* One line, without its newline, into u. */
static int line_parse(const char *line, size_t n, struct passwd_user *u)
{
        const char *field[7];
        size_t len[7];
        size_t nf = 0;
        const char *p = line, *end = line + n;
        while (nf < 7) {
                const char *colon = nf < 6 ? memchr(p, ':', (size_t)(end - p)) : NULL;
                field[nf] = p;
                len[nf] = colon ? (size_t)(colon - p) : (size_t)(end - p);
                nf++;
                if (!colon)
                        break;
                p = colon + 1;
        }
        if (nf != 7)
                return -EINVAL;
        memset(u, 0, sizeof(*u));
        uint32_t failures;
        if (!passwd_name_valid(field[0], len[0]) || id_parse(field[1], len[1], &u->uid) < 0 ||
            id_parse(field[2], len[2], &u->gid) < 0 || groups_parse(field[3], len[3], u) < 0 ||
            flags_parse_n(field[4], len[4], &u->flags) < 0 || id_parse(field[5], len[5], &failures) < 0 ||
            len[6] == 0 || len[6] >= PASSWD_HASH_MAX || memchr(field[6], '\0', len[6]))
                return -EINVAL;
        memcpy(u->name, field[0], len[0]);
        u->failures = failures;
        memcpy(u->hash, field[6], len[6]);
        return 0;
}

struct passwd_user *passwd_db_find(struct passwd_db *db, const char *name, size_t name_length)
{
        for (size_t i = 0; i < db->n; i++)
                if (strlen(db->users[i].name) == name_length && memcmp(db->users[i].name, name, name_length) == 0)
                        return &db->users[i];
        return NULL;
}

int passwd_db_add(struct passwd_db *db, const struct passwd_user *u)
{
        if (passwd_db_find(db, u->name, strlen(u->name)))
                return -EEXIST;
        if (db->n == db->cap) {
                size_t cap = db->cap ? db->cap * 2 : 16;
                struct passwd_user *users = calloc(cap, sizeof(*users));
                if (!users)
                        return -ENOMEM;
                if (db->n)
                        memcpy(users, db->users, db->n * sizeof(*users));
                struct passwd_db old = *db;
                db->users = users;
                db->cap = cap;
                passwd_db_free(&old);
        }
        db->users[db->n++] = *u;
        return 0;
}

void passwd_db_free(struct passwd_db *db)
{
        if (db->users) {
                explicit_bzero(db->users, db->cap * sizeof(*db->users));
                free(db->users);
        }
        db->users = NULL;
        db->n = db->cap = 0;
}

int passwd_db_load(const char *path, struct passwd_db *db, bool *ret_missing, unsigned *ret_line)
{
        memset(db, 0, sizeof(*db));
        if (ret_missing)
                *ret_missing = false;
        if (ret_line)
                *ret_line = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT && ret_missing) {
                        *ret_missing = true;
                        return 0;
                }
                return -errno;
        }
        struct stat st;
        int r = fstat(fd, &st) < 0                        ? -errno
                : !S_ISREG(st.st_mode)                    ? -EINVAL
                : st.st_size > (off_t)PASSWD_DB_MAX_BYTES ? -EFBIG
                                                          : 0;
        if (r < 0) {
                close(fd);
                return r;
        }
        size_t size = (size_t)st.st_size;
        char *text = malloc(size + 1);
        if (!text) {
                close(fd);
                return -ENOMEM;
        }
        size_t got = 0;
        while (got < size) {
                ssize_t n = read(fd, text + got, size - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t)n;
        }
        close(fd);
        unsigned lineno = 0;
        for (size_t pos = 0; pos < got && r == 0;) {
                char *nl = memchr(text + pos, '\n', got - pos);
                size_t n = nl ? (size_t)(nl - (text + pos)) : got - pos;
                lineno++;
                const char *line = text + pos;
                pos += n + 1;
                if (n == 0 || line[0] == '#')
                        continue;
                struct passwd_user u;
                r = line_parse(line, n, &u);
                if (r == 0)
                        r = passwd_db_add(db, &u);
                if (r == -EEXIST)
                        r = -EINVAL; /* a name twice */
                explicit_bzero(&u, sizeof(u));
                if (r < 0 && ret_line)
                        *ret_line = lineno;
        }
        explicit_bzero(text, size + 1);
        free(text);
        if (r < 0)
                passwd_db_free(db);
        return r;
}

static int write_all(int fd, const char *buf, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, buf, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                buf += w;
                n -= (size_t)w;
        }
        return 0;
}

static int user_format(const struct passwd_user *u, char *out, size_t size)
{
        char groups[PASSWD_GROUPS_MAX * 11 + 2] = "-", flags[96] = "-";
        size_t at = 0;
        for (unsigned i = 0; i < u->ngroups; i++)
                at += (size_t)snprintf(groups + at, sizeof(groups) - at, "%s%" PRIu32, i ? "," : "", u->groups[i]);
        at = 0;
        for (size_t i = 0; i < NFLAG_WORDS; i++)
                if (u->flags & flag_words[i].flag)
                        at += (size_t)snprintf(flags + at, sizeof(flags) - at, "%s%s", at ? "," : "",
                                               flag_words[i].word);
        int n = snprintf(out, size, "%s:%" PRIu32 ":%" PRIu32 ":%s:%s:%u:%s\n", u->name, u->uid, u->gid, groups, flags,
                         u->failures, u->hash);
        return n < 0 || (size_t)n >= size ? -EINVAL : n;
}

int passwd_db_save(const char *path, const struct passwd_db *db)
{
        char dir[PATH_MAX], tmp[PATH_MAX];
        if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir) ||
            snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        struct stat old;
        bool had_old = stat(path, &old) == 0;
        int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
        if (fd < 0)
                return -errno;
        int r = 0;
        if (fchmod(fd, 0600) < 0 || (had_old && fchown(fd, old.st_uid, old.st_gid) < 0 && errno != EPERM))
                r = -errno;
        r = r ? r
              : write_all(fd, "# lsashm-passwd user database: name:uid:gid:groups:flags:failures:hash\n",
                          sizeof("# lsashm-passwd user database: name:uid:gid:groups:flags:failures:hash\n") - 1);
        char line[PASSWD_NAME_MAX + PASSWD_HASH_MAX + PASSWD_GROUPS_MAX * 11 + 200];
        for (size_t i = 0; r == 0 && i < db->n; i++) {
                int n = user_format(&db->users[i], line, sizeof(line));
                r = n < 0 ? n : write_all(fd, line, (size_t)n);
        }
        explicit_bzero(line, sizeof(line));
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
        }
        return 0;
}

int passwd_db_lock(const char *path)
{
        char lock[PATH_MAX];
        if (snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock))
                return -ENAMETOOLONG;
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
        }
        return fd;
}
