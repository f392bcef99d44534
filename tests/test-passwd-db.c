/* SPDX-License-Identifier: MIT */
/*
 * The user database of the sample package lsashm-passwd
 * (packages/passwd/passwd-db.c): every field of a line parsed and refused
 * when malformed, a missing file, round trips, the file replaced atomically
 * with mode 0600 and its owner kept, nothing left behind when a write fails,
 * and the writers' lock excluding a second writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "passwd-db.h"

static char g_dir[64];
static char g_path[128];

#define HASH "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"

static int setup(void **state)
{
        (void)state;
        snprintf(g_dir, sizeof(g_dir), "/tmp/lsashm-passwd-db-XXXXXX");
        assert_non_null(mkdtemp(g_dir));
        snprintf(g_path, sizeof(g_path), "%s/passwd.db", g_dir);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static void write_file(const char *text)
{
        FILE *f = fopen(g_path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* Load text; the status, and the line blamed. */
static int load_text(const char *text, struct passwd_db *db, unsigned *line)
{
        write_file(text);
        bool missing = true;
        int r = passwd_db_load(g_path, db, &missing, line);
        assert_false(missing);
        return r;
}

static void test_passwd_db_parses_every_field(void **state)
{
        (void)state;
        struct passwd_db db;
        unsigned line;
        assert_int_equal(load_text("# comment\n\nalice:1001:100:27,4,1000:-:0:" HASH "\n"
                                   "bob.b_-x:0:0:-:disabled,must-change:3:" HASH,
                                   &db, &line),
                         0);
        assert_int_equal(db.n, 2);
        struct passwd_user *a = passwd_db_find(&db, "alice", 5);
        assert_non_null(a);
        assert_int_equal(a->uid, 1001);
        assert_int_equal(a->gid, 100);
        assert_int_equal(a->ngroups, 3);
        assert_int_equal(a->groups[0], 27);
        assert_int_equal(a->groups[2], 1000);
        assert_int_equal(a->flags, 0);
        assert_string_equal(a->hash, HASH);
        struct passwd_user *b = passwd_db_find(&db, "bob.b_-x", 8);
        assert_non_null(b);
        assert_int_equal(b->flags, PASSWD_DISABLED | PASSWD_MUST_CHANGE);
        assert_int_equal(b->failures, 3);
        assert_int_equal(b->ngroups, 0);
        assert_null(passwd_db_find(&db, "alic", 4));
        assert_null(passwd_db_find(&db, "alicex", 6));
        passwd_db_free(&db);
}

static void test_passwd_db_refuses_malformed_lines(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "alice:1:1:-:-:0\n",                                    /* a field short */
                ":1:1:-:-:0:" HASH "\n",                                /* no name */
                "-alice:1:1:-:-:0:" HASH "\n",                          /* an option-like name */
                "al ice:1:1:-:-:0:" HASH "\n",                          /* a space */
                "alice:x:1:-:-:0:" HASH "\n",                           /* uid not a number */
                "alice:4294967295:1:-:-:0:" HASH "\n",                  /* uid (uid_t)-1 */
                "alice:99999999999:1:-:-:0:" HASH "\n",                 /* uid too large */
                "alice:1::-:-:0:" HASH "\n",                            /* no gid */
                "alice:1:1:2,:-:0:" HASH "\n",                          /* an empty group */
                "alice:1:1:-:sleepy:0:" HASH "\n",                      /* an unknown flag */
                "alice:1:1:-:disabled,:0:" HASH "\n",                   /* a trailing comma */
                "alice:1:1:-:-:-1:" HASH "\n",                          /* negative failures */
                "alice:1:1:-:-:0:\n",                                   /* no hash */
                "alice:1:1:-:-:0:" HASH "\nalice:2:2:-:-:0:" HASH "\n", /* a name twice */
                "alice:1:1:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33"
                ":-:0:" HASH "\n", /* 33 groups */
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1:1:-:-:0:" HASH "\n", /* 65 */
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct passwd_db db;
                unsigned line = 0;
                char text[512];
                snprintf(text, sizeof(text), "# first\n%s", bad[i]);
                if (load_text(text, &db, &line) != -EINVAL)
                        fail_msg("accepted: %s", bad[i]);
                assert_true(line >= 2);
                assert_null(db.users);
                assert_int_equal(db.n, 0);
        }
        /* A NUL byte inside a line. */
        FILE *f = fopen(g_path, "w");
        assert_non_null(f);
        fwrite("alice:1:1:-:-:0:$arg\0n\n", 1, 23, f);
        fclose(f);
        struct passwd_db db;
        assert_int_equal(passwd_db_load(g_path, &db, NULL, NULL), -EINVAL);
}

static void test_passwd_db_missing_file_and_directory(void **state)
{
        (void)state;
        struct passwd_db db;
        bool missing = false;
        assert_int_equal(passwd_db_load(g_path, &db, &missing, NULL), 0);
        assert_true(missing);
        assert_int_equal(db.n, 0);
        /* Without ret_missing, a missing file is an error. */
        assert_int_equal(passwd_db_load(g_path, &db, NULL, NULL), -ENOENT);
        /* A directory is not a database. */
        assert_int_equal(passwd_db_load(g_dir, &db, &missing, NULL), -EINVAL);
        /* A symbolic link is not followed. */
        char link[160];
        snprintf(link, sizeof(link), "%s/link", g_dir);
        write_file("");
        assert_int_equal(symlink(g_path, link), 0);
        assert_int_equal(passwd_db_load(link, &db, &missing, NULL), -ELOOP);
}

static void test_passwd_db_round_trip_atomic_0600(void **state)
{
        (void)state;
        struct passwd_db db = { 0 };
        struct passwd_user u = { .uid = 5,
                                 .gid = 6,
                                 .ngroups = 2,
                                 .groups = { 7, 8 },
                                 .flags = PASSWD_PASSWORD_EXPIRED | PASSWD_ACCOUNT_EXPIRED,
                                 .failures = 2 };
        strcpy(u.name, "carol");
        strcpy(u.hash, HASH);
        assert_int_equal(passwd_db_add(&db, &u), 0);
        assert_int_equal(passwd_db_add(&db, &u), -EEXIST);
        strcpy(u.name, "dave");
        u.ngroups = 0;
        u.flags = 0;
        assert_int_equal(passwd_db_add(&db, &u), 0);
        /* The old file's owner is kept; mode becomes 0600 whatever it was. */
        write_file("");
        assert_int_equal(chmod(g_path, 0644), 0);
        bool root = geteuid() == 0;
        if (root)
                assert_int_equal(chown(g_path, 123, 456), 0);
        assert_int_equal(passwd_db_save(g_path, &db), 0);
        struct stat st;
        assert_int_equal(stat(g_path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        if (root) {
                assert_int_equal(st.st_uid, 123);
                assert_int_equal(st.st_gid, 456);
        }
        passwd_db_free(&db);

        struct passwd_db back;
        assert_int_equal(passwd_db_load(g_path, &back, NULL, NULL), 0);
        assert_int_equal(back.n, 2);
        struct passwd_user *c = passwd_db_find(&back, "carol", 5);
        assert_non_null(c);
        assert_int_equal(c->flags, PASSWD_PASSWORD_EXPIRED | PASSWD_ACCOUNT_EXPIRED);
        assert_int_equal(c->failures, 2);
        assert_int_equal(c->ngroups, 2);
        assert_int_equal(c->groups[1], 8);
        assert_string_equal(c->hash, HASH);
        passwd_db_free(&back);

        /* Only the database and nothing else (no temporary) in the directory. */
        char cmd[200];
        snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", g_dir);
        assert_int_equal(system(cmd), 0);
}

static void test_passwd_db_failed_save_keeps_old_file(void **state)
{
        (void)state;
        write_file("alice:1:1:-:-:0:" HASH "\n");
        struct passwd_db db = { 0 };
        struct passwd_user u = { .uid = 1 };
        strcpy(u.name, "x");
        strcpy(u.hash, HASH);
        assert_int_equal(passwd_db_add(&db, &u), 0);
        /* A directory that is not there: nothing written anywhere. */
        char ro[160];
        snprintf(ro, sizeof(ro), "%s/nodir/passwd.db", g_dir);
        assert_int_equal(passwd_db_save(ro, &db), -ENOENT);
        passwd_db_free(&db);
        struct passwd_db back;
        assert_int_equal(passwd_db_load(g_path, &back, NULL, NULL), 0);
        assert_int_equal(back.n, 1);
        passwd_db_free(&back);
}

static void test_passwd_db_lock_excludes(void **state)
{
        (void)state;
        int fd = passwd_db_lock(g_path);
        assert_true(fd >= 0);
        char lock[160];
        snprintf(lock, sizeof(lock), "%s.lock", g_path);
        int other = open(lock, O_RDWR | O_CLOEXEC);
        assert_true(other >= 0);
        assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
        assert_int_equal(errno, EWOULDBLOCK);
        close(fd);
        assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
        close(other);
}

static void test_passwd_flags_and_names(void **state)
{
        (void)state;
        unsigned f;
        assert_int_equal(passwd_flags_parse("-", &f), 0);
        assert_int_equal(f, 0);
        assert_int_equal(passwd_flags_parse("account-expired,password-expired", &f), 0);
        assert_int_equal(f, PASSWD_ACCOUNT_EXPIRED | PASSWD_PASSWORD_EXPIRED);
        assert_int_equal(passwd_flags_parse("disabled,", &f), -EINVAL);
        assert_int_equal(passwd_flags_parse("disable", &f), -EINVAL);
        assert_int_equal(passwd_flags_parse("", &f), 0);
        assert_true(passwd_name_valid("a", 1));
        assert_false(passwd_name_valid("", 0));
        assert_false(passwd_name_valid("a:b", 3));
        assert_false(passwd_name_valid("a/b", 3));
        assert_false(passwd_name_valid("é", 2));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_passwd_db_parses_every_field, setup, teardown),
                cmocka_unit_test_setup_teardown(test_passwd_db_refuses_malformed_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_passwd_db_missing_file_and_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_passwd_db_round_trip_atomic_0600, setup, teardown),
                cmocka_unit_test_setup_teardown(test_passwd_db_failed_save_keeps_old_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_passwd_db_lock_excludes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_passwd_flags_and_names, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
