/* SPDX-License-Identifier: MIT */
/*
 * lsashm-passwd: the administrator's command for the user database of the
 * lsashm-passwd.so authentication package (passwd-db.h has the format).
 *
 *   lsashm-passwd [--db PATH] add USER UID GID [GID,GID...] [--flags WORDS]
 *   lsashm-passwd [--db PATH] passwd USER
 *   lsashm-passwd [--db PATH] flags USER WORDS|-
 *   lsashm-passwd [--db PATH] unlock USER
 *   lsashm-passwd [--db PATH] delete USER
 *   lsashm-passwd [--db PATH] list
 *
 * add and passwd read the password from the terminal (twice, without echo)
 * or, when standard input is not a terminal, as its first line. The
 * database is $LSASHM_PASSWD_DB, else PASSWD_DB_DEFAULT_PATH; every change
 * is an atomic replacement under the database's lock, mode 0600.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "passwd-db.h"

#define PASSWORD_MAX 1024

static void usage(FILE *f)
{
        fputs("usage: lsashm-passwd [--db PATH] add USER UID GID [GID,GID...] [--flags WORDS]\n"
              "       lsashm-passwd [--db PATH] passwd USER\n"
              "       lsashm-passwd [--db PATH] flags USER WORDS|-\n"
              "       lsashm-passwd [--db PATH] unlock USER\n"
              "       lsashm-passwd [--db PATH] delete USER\n"
              "       lsashm-passwd [--db PATH] list\n"
              "flags: disabled, account-expired, password-expired, must-change (comma-separated)\n",
              f);
}

static int fail(const char *what, int r)
{
        fprintf(stderr, "lsashm-passwd: %s: %s\n", what, strerror(-r));
        return 1;
}

/* One line of at most PASSWORD_MAX bytes, without its newline. */
static int line_read(FILE *f, char *buf, size_t size)
{
        if (!fgets(buf, (int)size, f))
                return -EIO;
        size_t n = strlen(buf);
        if (n && buf[n - 1] == '\n')
                buf[--n] = '\0';
        else if (!feof(f))
                return -E2BIG;
        return 0;
}

static int password_read(char *buf, size_t size)
{
        if (!isatty(STDIN_FILENO))
                return line_read(stdin, buf, size);
        struct termios old, quiet;
        if (tcgetattr(STDIN_FILENO, &old) < 0)
                return -errno;
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        char again[PASSWORD_MAX + 2];
        fputs("Password: ", stderr);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        int r = line_read(stdin, buf, size);
        fputs("\nAgain: ", stderr);
        if (r == 0)
                r = line_read(stdin, again, sizeof(again));
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
        if (r == 0 && strcmp(buf, again) != 0) {
                fputs("lsashm-passwd: the passwords differ\n", stderr);
                r = -EINVAL;
        }
        explicit_bzero(again, sizeof(again));
        return r;
}

/* The argon2id cost: libsodium's interactive limits, or, for tests only,
 * $LSASHM_PASSWD_COST=min. */
static int password_hash(struct passwd_user *u)
{
        char pw[PASSWORD_MAX + 2];
        int r = password_read(pw, sizeof(pw));
        if (r < 0)
                return r;
        if (pw[0] == '\0') {
                fputs("lsashm-passwd: an empty password is refused\n", stderr);
                return -EINVAL;
        }
        const char *cost = getenv("LSASHM_PASSWD_COST");
        bool min = cost && strcmp(cost, "min") == 0;
        _Static_assert(crypto_pwhash_STRBYTES <= PASSWD_HASH_MAX, "hash fits");
        r = crypto_pwhash_str(u->hash, pw, strlen(pw),
                              min ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              min ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE);
        explicit_bzero(pw, sizeof(pw));
        return r == 0 ? 0 : -ENOMEM;
}

static int id_arg(const char *s, uint32_t *ret)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || v >= UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

static int groups_arg(const char *s, struct passwd_user *u)
{
        char copy[PASSWD_GROUPS_MAX * 12];
        if (snprintf(copy, sizeof(copy), "%s", s) >= (int)sizeof(copy))
                return -EINVAL;
        u->ngroups = 0;
        for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (u->ngroups == PASSWD_GROUPS_MAX || id_arg(tok, &u->groups[u->ngroups]) < 0)
                        return -EINVAL;
                u->ngroups++;
        }
        return 0;
}

int main(int argc, char **argv)
{
        const char *db_path = getenv("LSASHM_PASSWD_DB");
        if (!db_path || !*db_path)
                db_path = PASSWD_DB_DEFAULT_PATH;
        int a = 1;
        if (a + 1 < argc && strcmp(argv[a], "--db") == 0) {
                db_path = argv[a + 1];
                a += 2;
        }
        if (a >= argc || strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
                usage(a >= argc ? stderr : stdout);
                return a >= argc ? 2 : 0;
        }
        const char *cmd = argv[a++];
        int nargs = argc - a;
        char **args = argv + a;
        bool is_list = strcmp(cmd, "list") == 0;
        if (!is_list && nargs < 1) {
                usage(stderr);
                return 2;
        }
        if (sodium_init() < 0) {
                fputs("lsashm-passwd: libsodium failed to initialise\n", stderr);
                return 1;
        }

        int lock = -1;
        if (!is_list && (lock = passwd_db_lock(db_path)) < 0)
                return fail(db_path, lock);
        struct passwd_db db;
        bool missing;
        unsigned line;
        int r = passwd_db_load(db_path, &db, &missing, &line);
        if (r < 0) {
                if (r == -EINVAL)
                        fprintf(stderr, "lsashm-passwd: %s: line %u is malformed\n", db_path, line);
                else
                        fail(db_path, r);
                return 1;
        }

        int status = 0;
        bool changed = false;
        struct passwd_user *u = nargs >= 1 ? passwd_db_find(&db, args[0], strlen(args[0])) : NULL;
        if (is_list) {
                for (size_t i = 0; i < db.n; i++) {
                        const struct passwd_user *v = &db.users[i];
                        printf("%s uid=%u gid=%u groups=", v->name, v->uid, v->gid);
                        for (unsigned g = 0; g < v->ngroups; g++)
                                printf("%s%u", g ? "," : "", v->groups[g]);
                        printf(" flags=%s%s%s%s failures=%u\n", v->flags & PASSWD_DISABLED ? "disabled " : "",
                               v->flags & PASSWD_ACCOUNT_EXPIRED ? "account-expired " : "",
                               v->flags & PASSWD_PASSWORD_EXPIRED ? "password-expired " : "",
                               v->flags & PASSWD_MUST_CHANGE ? "must-change " : "", v->failures);
                }
        } else if (strcmp(cmd, "add") == 0) {
                struct passwd_user nu = { 0 };
                unsigned flags = 0;
                int n = nargs;
                if (n >= 2 && strcmp(args[n - 2], "--flags") == 0) {
                        if (passwd_flags_parse(args[n - 1], &flags) < 0) {
                                fprintf(stderr, "lsashm-passwd: unknown flag in %s\n", args[n - 1]);
                                status = 2;
                        }
                        n -= 2;
                }
                if (status) {
                } else if (n < 3 || n > 4 || !passwd_name_valid(args[0], strlen(args[0])) ||
                           id_arg(args[1], &nu.uid) < 0 || id_arg(args[2], &nu.gid) < 0 ||
                           (n == 4 && groups_arg(args[3], &nu) < 0)) {
                        usage(stderr);
                        status = 2;
                } else if (u) {
                        fprintf(stderr, "lsashm-passwd: %s exists already\n", args[0]);
                        status = 1;
                } else {
                        memcpy(nu.name, args[0], strlen(args[0]));
                        nu.flags = flags;
                        r = password_hash(&nu);
                        if (r == 0)
                                r = passwd_db_add(&db, &nu);
                        explicit_bzero(&nu, sizeof(nu));
                        status = r < 0 ? fail("add", r) : 0;
                        changed = r == 0;
                }
        } else if (!u) {
                fprintf(stderr, "lsashm-passwd: no user %s\n", args[0]);
                status = 1;
        } else if (strcmp(cmd, "passwd") == 0 && nargs == 1) {
                r = password_hash(u);
                if (r == 0) {
                        u->failures = 0;
                        u->flags &= ~(unsigned)(PASSWD_PASSWORD_EXPIRED | PASSWD_MUST_CHANGE);
                }
                status = r < 0 ? fail("passwd", r) : 0;
                changed = r == 0;
        } else if (strcmp(cmd, "flags") == 0 && nargs == 2) {
                if (passwd_flags_parse(args[1], &u->flags) < 0) {
                        fprintf(stderr, "lsashm-passwd: unknown flag in %s\n", args[1]);
                        status = 2;
                }
                changed = status == 0;
        } else if (strcmp(cmd, "unlock") == 0 && nargs == 1) {
                u->failures = 0;
                changed = true;
        } else if (strcmp(cmd, "delete") == 0 && nargs == 1) {
                size_t i = (size_t)(u - db.users);
                explicit_bzero(u, sizeof(*u));
                memmove(u, u + 1, (db.n - i - 1) * sizeof(*u));
                db.n--;
                changed = true;
        } else {
                usage(stderr);
                status = 2;
        }
        if (changed && (r = passwd_db_save(db_path, &db)) < 0)
                status = fail(db_path, r);
        passwd_db_free(&db);
        if (lock >= 0)
                close(lock);
        return status;
}
