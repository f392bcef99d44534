/* SPDX-License-Identifier: MIT */
/*
 * libnss_lsashm.so.2 against a real lsashmd serving lsashm-nsscache.so
 * (nss-fixture.h): every entry point called directly with buffers from one
 * byte up, misses, errno, enumeration, initgroups, duplicates and
 * non-UTF-8 names, no descriptor kept, no system call on a warm lookup
 * (seccomp strict mode), fork, a process that closes every descriptor,
 * republication by inotify and by a trusted call, the messages and their
 * access rule, a corrupted table refused, and the daemon going away.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "nss-fixture.h"
#include "nsscache/nsscache-read.h"

/* Duplicates (first wins, by name and by id independently), a malformed
 * line, non-UTF-8 bytes, a group of 201 members. */
static const char passwd_text[] = "root:x:0:0:root:/root:/bin/bash\n"
                                  "alice:secret-hash:1000:1000:Alice Liddell,,,:/home/alice:/bin/bash\n"
                                  "bob:x:1001:1001::/home/bob:/bin/sh\n"
                                  "this line is malformed\n"
                                  "carol:x:1002:100:Carol:/home/carol:/bin/zsh\n"
                                  "alice:x:2000:2000:Second Alice:/x:/y\n"
                                  "dupuid:x:1001:1:Dup uid:/d:/e\n"
                                  "caf\xc3\xa9\xff:x:1003:100:non-UTF-8:/home/cafe:/bin/sh\n";
static char group_text[8192];

static struct nss_fixture F;

static void make_group_text(void)
{
        int n = snprintf(group_text, sizeof(group_text),
                         "root:x:0:\n"
                         "users:x:100:alice,carol\n"
                         "staff:secret:50:alice,bob\n"
                         "dev:x:60:bob,caf\xc3\xa9\xff\n"
                         "bogus:x:zz:alice\n"
                         "users:x:101:bob\n"
                         "big:x:70:");
        for (int i = 0; i < 200; i++)
                n += snprintf(group_text + n, sizeof(group_text) - (size_t)n, "member%03d,", i);
        snprintf(group_text + n, sizeof(group_text) - (size_t)n, "alice\n");
}

static int group_setup(void **state)
{
        (void)state;
        make_group_text();
        if (nf_setup(&F, passwd_text, group_text) < 0) {
                fprintf(stderr, "setup failed: %s\n", dlerror() ? dlerror() : strerror(errno));
                char *err = tu_slurp(F.err);
                fprintf(stderr, "lsashmd:\n%s\n", err);
                free(err);
                return -1;
        }
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        nf_teardown(&F);
        return 0;
}

/* ---- passwd ---- */

static size_t pw_need(const char *name, const char *gecos, const char *dir, const char *shell)
{
        return strlen(name) + 1 + 2 + strlen(gecos) + 1 + strlen(dir) + 1 + strlen(shell) + 1;
}

/* Buffers of every size from 1 byte: TRYAGAIN/ERANGE until exactly the
 * size the entry needs, then the entry. Each buffer is its own allocation,
 * so ASan sees any byte written past it. */
static void check_pw_sizes(const char *name, uid_t uid, bool by_name, const char *gecos, const char *dir,
                           const char *shell, gid_t gid)
{
        size_t need = pw_need(name, gecos, dir, shell);
        for (size_t len = 1; len <= need + 8; len++) {
                char *buf = malloc(len);
                assert_non_null(buf);
                struct passwd pw;
                int err = 12345;
                errno = EBADMSG;
                enum nss_status st =
                        by_name ? F.getpwnam_r(name, &pw, buf, len, &err) : F.getpwuid_r(uid, &pw, buf, len, &err);
                if (len < need) {
                        assert_int_equal(st, NSS_STATUS_TRYAGAIN);
                        assert_int_equal(err, ERANGE);
                } else {
                        assert_int_equal(st, NSS_STATUS_SUCCESS);
                        assert_int_equal(err, 12345); /* untouched on success */
                        assert_int_equal(errno, EBADMSG);
                        assert_string_equal(pw.pw_name, name);
                        assert_string_equal(pw.pw_passwd, "x");
                        assert_int_equal(pw.pw_uid, uid);
                        assert_int_equal(pw.pw_gid, gid);
                        assert_string_equal(pw.pw_gecos, gecos);
                        assert_string_equal(pw.pw_dir, dir);
                        assert_string_equal(pw.pw_shell, shell);
                        assert_true(pw.pw_name >= buf && pw.pw_shell < buf + len);
                }
                free(buf);
        }
}

static void test_nss_getpw_buffers_from_one_byte(void **state)
{
        (void)state;
        check_pw_sizes("alice", 1000, true, "Alice Liddell,,,", "/home/alice", "/bin/bash", 1000);
        check_pw_sizes("alice", 1000, false, "Alice Liddell,,,", "/home/alice", "/bin/bash", 1000);
        check_pw_sizes("root", 0, false, "root", "/root", "/bin/bash", 0);
        check_pw_sizes("bob", 1001, true, "", "/home/bob", "/bin/sh", 1001);
        /* The first line with a uid wins, as in files. */
        check_pw_sizes("bob", 1001, false, "", "/home/bob", "/bin/sh", 1001);
        check_pw_sizes("dupuid", 1001, true, "Dup uid", "/d", "/e", 1);
        check_pw_sizes("caf\xc3\xa9\xff", 1003, true, "non-UTF-8", "/home/cafe", "/bin/sh", 100);
}

/* ---- group ---- */

static void check_gr(const struct group *gr, const char *name, gid_t gid, const char *const *members, size_t n)
{
        assert_string_equal(gr->gr_name, name);
        assert_string_equal(gr->gr_passwd, "x");
        assert_int_equal(gr->gr_gid, gid);
        for (size_t i = 0; i < n; i++) {
                assert_non_null(gr->gr_mem[i]);
                assert_string_equal(gr->gr_mem[i], members[i]);
        }
        assert_null(gr->gr_mem[n]);
}

static void check_gr_sizes(const char *name, gid_t gid, bool by_name, const char *const *members, size_t n)
{
        bool done = false;
        for (size_t len = 1; !done; len++) {
                assert_true(len < 65536);
                char *buf = malloc(len);
                assert_non_null(buf);
                struct group gr;
                int err = 12345;
                enum nss_status st =
                        by_name ? F.getgrnam_r(name, &gr, buf, len, &err) : F.getgrgid_r(gid, &gr, buf, len, &err);
                if (st == NSS_STATUS_TRYAGAIN) {
                        assert_int_equal(err, ERANGE);
                } else {
                        assert_int_equal(st, NSS_STATUS_SUCCESS);
                        assert_int_equal(err, 12345);
                        check_gr(&gr, name, gid, members, n);
                        /* Nothing smaller could have held it. */
                        size_t need = (n + 1) * sizeof(char *) + strlen(name) + 1 + 2;
                        for (size_t i = 0; i < n; i++)
                                need += strlen(members[i]) + 1;
                        assert_true(len >= need && len <= need + sizeof(char *));
                        done = true;
                }
                free(buf);
        }
}

static void test_nss_getgr_buffers_from_one_byte(void **state)
{
        (void)state;
        static const char *const users[] = { "alice", "carol" };
        static const char *const staff[] = { "alice", "bob" };
        static const char *const dev[] = { "bob", "caf\xc3\xa9\xff" };
        check_gr_sizes("users", 100, true, users, 2);
        check_gr_sizes("users", 100, false, users, 2);
        check_gr_sizes("staff", 50, true, staff, 2);
        check_gr_sizes("dev", 60, false, dev, 2);
        check_gr_sizes("root", 0, true, NULL, 0);
        /* The second "users" line is found by its own gid only. */
        static const char *const users2[] = { "bob" };
        check_gr_sizes("users", 101, false, users2, 1);
        const char *big[201];
        char names[200][16];
        for (int i = 0; i < 200; i++) {
                snprintf(names[i], sizeof(names[i]), "member%03d", i);
                big[i] = names[i];
        }
        big[200] = "alice";
        check_gr_sizes("big", 70, true, big, 201);
}

/* ---- misses ---- */

static void test_nss_misses_are_notfound_errno_0(void **state)
{
        (void)state;
        char buf[1024];
        struct passwd pw;
        struct group gr;
        int err = 77;
        assert_int_equal(F.getpwnam_r("nosuchuser", &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
        assert_int_equal(err, 0);
        err = 77;
        assert_int_equal(F.getpwuid_r(4242, &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
        assert_int_equal(err, 0);
        err = 77;
        assert_int_equal(F.getgrnam_r("nosuchgroup", &gr, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
        assert_int_equal(err, 0);
        err = 77;
        assert_int_equal(F.getgrgid_r(4242, &gr, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
        assert_int_equal(err, 0);
        /* The malformed lines are not served. */
        assert_int_equal(F.getpwnam_r("this line is malformed", &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
        assert_int_equal(F.getgrnam_r("bogus", &gr, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
        assert_int_equal(F.getpwnam_r("", &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
        assert_int_equal(F.getpwnam_r(NULL, &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
        assert_int_equal(F.getpwuid_r((uid_t)-1, &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
}

/* ---- enumeration ---- */

static void test_nss_enumeration_in_source_order(void **state)
{
        (void)state;
        static const char *const users[] = { "root", "alice", "bob", "carol", "alice", "dupuid", "caf\xc3\xa9\xff" };
        static const uid_t uids[] = { 0, 1000, 1001, 1002, 2000, 1001, 1003 };
        for (int round = 0; round < 2; round++) {
                assert_int_equal(F.setpwent(0), NSS_STATUS_SUCCESS);
                for (size_t i = 0; i < 7; i++) {
                        struct passwd pw;
                        char small[4], buf[512];
                        int err = 0;
                        /* A small buffer: ERANGE, and the same entry next time. */
                        assert_int_equal(F.getpwent_r(&pw, small, sizeof(small), &err), NSS_STATUS_TRYAGAIN);
                        assert_int_equal(err, ERANGE);
                        assert_int_equal(F.getpwent_r(&pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
                        assert_string_equal(pw.pw_name, users[i]);
                        assert_int_equal(pw.pw_uid, uids[i]);
                        assert_string_equal(pw.pw_passwd, "x");
                }
                struct passwd pw;
                char buf[512];
                int err = 0;
                assert_int_equal(F.getpwent_r(&pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
                assert_int_equal(err, ENOENT);
                assert_int_equal(F.endpwent(), NSS_STATUS_SUCCESS);
        }
        static const char *const groups[] = { "root", "users", "staff", "dev", "users", "big" };
        assert_int_equal(F.setgrent(1), NSS_STATUS_SUCCESS);
        for (size_t i = 0; i < 6; i++) {
                struct group gr;
                char buf[8192];
                int err = 0;
                assert_int_equal(F.getgrent_r(&gr, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
                assert_string_equal(gr.gr_name, groups[i]);
                assert_string_equal(gr.gr_passwd, "x");
        }
        struct group gr;
        char buf[8192];
        int err = 0;
        assert_int_equal(F.getgrent_r(&gr, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
        assert_int_equal(F.endgrent(), NSS_STATUS_SUCCESS);
        /* getgrent without setgrent starts at the beginning. */
        assert_int_equal(F.getgrent_r(&gr, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
        assert_string_equal(gr.gr_name, "root");
        assert_int_equal(F.endgrent(), NSS_STATUS_SUCCESS);
}

/* ---- initgroups ---- */

static void test_nss_initgroups_grows_the_array_within_its_limit(void **state)
{
        (void)state;
        long int start = 1, size = 1;
        gid_t *groups = malloc(sizeof(gid_t));
        assert_non_null(groups);
        groups[0] = 1000;
        int err = 0;
        /* alice: users (100), staff (50), big (70), in file order, as files. */
        assert_int_equal(F.initgroups_dyn("alice", 1000, &start, &size, &groups, 0, &err), NSS_STATUS_SUCCESS);
        assert_int_equal(start, 4);
        assert_true(size >= 4);
        assert_int_equal(groups[1], 100);
        assert_int_equal(groups[2], 50);
        assert_int_equal(groups[3], 70);

        /* The primary group is left out; what the array holds already is
         * not looked at (files adds it again too). */
        start = 2;
        groups[0] = 70;
        groups[1] = 100;
        assert_int_equal(F.initgroups_dyn("alice", 70, &start, &size, &groups, 0, &err), NSS_STATUS_SUCCESS);
        assert_int_equal(start, 4);
        assert_int_equal(groups[2], 100);
        assert_int_equal(groups[3], 50);

        /* A limit: never more than it. */
        free(groups);
        groups = malloc(sizeof(gid_t));
        assert_non_null(groups);
        groups[0] = 1;
        start = 1;
        size = 1;
        assert_int_equal(F.initgroups_dyn("alice", 1, &start, &size, &groups, 2, &err), NSS_STATUS_SUCCESS);
        assert_int_equal(start, 2);
        assert_int_equal(size, 2);
        assert_int_equal(groups[1], 100);

        /* No groups: success, nothing added. The non-UTF-8 member is found. */
        start = 1;
        assert_int_equal(F.initgroups_dyn("root", 0, &start, &size, &groups, 0, &err), NSS_STATUS_SUCCESS);
        assert_int_equal(start, 1);
        assert_int_equal(F.initgroups_dyn("caf\xc3\xa9\xff", 100, &start, &size, &groups, 0, &err), NSS_STATUS_SUCCESS);
        assert_int_equal(start, 2);
        assert_int_equal(groups[1], 60);
        free(groups);
}

/* ---- processes: descriptors, system calls, fork ---- */

#define CHILD_OK(cond)                                                             \
        do {                                                                       \
                if (!(cond)) {                                                     \
                        fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
                        fflush(stderr);                                            \
                        _exit(1);                                                  \
                }                                                                  \
        } while (0)

static bool lookup_alice(void)
{
        char buf[256];
        struct passwd pw;
        int err;
        return F.getpwnam_r("alice", &pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS &&
                strcmp(pw.pw_gecos, "Alice Liddell,,,") == 0;
}

static void run_in_child(void (*fn)(void *), void *arg)
{
        char why[128];
        int status = tu_run_child(fn, arg, NULL, 60, why, sizeof(why));
        if (!tu_exited_ok(status))
                fail_msg("child: %s", why);
}

/* A process's first lookup connects, maps and closes: no descriptor is
 * left, and only the two mappings (the epoch and the table) are added: the
 * client library's reply region is gone with the connection. */
static void test_nss_no_descriptor_left(void **state)
{
        (void)state;
        char *argv[] = { NSS_PROBE_PATH, NSS_MODULE_PATH, "alice", NULL };
        char *out, *err;
        int status = tu_run_program(argv, NULL, NULL, 60, F.dir, &out, &err);
        int st, fds, fds2, maps, maps2;
        assert_int_equal(sscanf(out, "%d fds %d %d maps %d %d", &st, &fds, &fds2, &maps, &maps2), 5);
        print_message("first lookup: descriptors %d -> %d, mappings %d -> %d\n", fds, fds2, maps, maps2);
        assert_true(tu_exited_ok(status));
        assert_int_equal(st, NSS_STATUS_SUCCESS);
        assert_int_equal(fds, fds2);
#ifndef TEST_SANITIZED /* a sanitizer's allocator maps memory of its own */
        assert_int_equal(maps2 - maps, 2);
#endif
        free(out);
        free(err);
}

/* Warm, then seccomp strict mode: any system call but read, write, exit
 * and sigreturn kills the process. 10,000 lookups of each kind, then exit. */
static void child_zero_syscalls(void *arg)
{
        (void)arg;
        CHILD_OK(lookup_alice());
        gid_t *groups = malloc(64 * sizeof(gid_t));
        CHILD_OK(groups);
        static char buf[16384];
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0)
                _exit(2);
        int bad = 0;
        for (int i = 0; i < 10000; i++) {
                struct passwd pw;
                struct group gr;
                int err;
                bad += F.getpwnam_r("carol", &pw, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS;
                bad += F.getpwuid_r(1002, &pw, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS;
                bad += F.getpwnam_r("nosuch", &pw, buf, sizeof(buf), &err) != NSS_STATUS_NOTFOUND;
                bad += F.getgrnam_r("big", &gr, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS;
                bad += F.getgrgid_r(60, &gr, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS;
                long int start = 1, size = 64;
                groups[0] = 1000;
                bad += F.initgroups_dyn("alice", 1000, &start, &size, &groups, 0, &err) != NSS_STATUS_SUCCESS ||
                        start != 4;
        }
        syscall(SYS_exit, bad ? 3 : 0);
}

static void test_nss_warm_lookup_makes_no_system_call(void **state)
{
        (void)state;
        char why[128];
        int status = tu_run_child(child_zero_syscalls, NULL, NULL, 60, why, sizeof(why));
        if (tu_exited_with(status, 2))
                skip(); /* no seccomp here */
        if (!tu_exited_ok(status))
                fail_msg("child: %s (killed by SIGKILL: a system call was made)", why);
}

static void child_after_fork(void *arg)
{
        (void)arg;
        /* The parent's mappings, inherited. */
        CHILD_OK(lookup_alice());
        pid_t pid = fork();
        CHILD_OK(pid >= 0);
        if (pid == 0)
                _exit(lookup_alice() ? 0 : 1);
        int status;
        CHILD_OK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_nss_lookup_across_fork(void **state)
{
        (void)state;
        assert_true(lookup_alice()); /* warm in the parent */
        run_in_child(child_after_fork, NULL);
}

/* ---- changes ---- */

static const char *pw_gecos(const char *name, char *buf, size_t len)
{
        struct passwd pw;
        int err;
        return F.getpwnam_r(name, &pw, buf, len, &err) == NSS_STATUS_SUCCESS ? pw.pw_gecos : NULL;
}

/* Wait (10 s at most: a loaded machine) until alice's gecos is want. */
static uint64_t wait_for_gecos(const char *want)
{
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < 1000; i++) {
                char buf[256];
                const char *g = pw_gecos("alice", buf, sizeof(buf));
                if (g && strcmp(g, want) == 0) {
                        clock_gettime(CLOCK_MONOTONIC, &t1);
                        return (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
                }
                tu_sleep_ms(10);
        }
        return UINT64_MAX;
}

static void set_alice_gecos(const char *gecos)
{
        char text[sizeof(passwd_text) + 64];
        char *p = strstr(passwd_text, "Alice Liddell,,,");
        assert_non_null(p);
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - passwd_text), passwd_text, gecos,
                 p + strlen("Alice Liddell,,,"));
        assert_true(nf_write_str(F.passwd, text));
}

static void test_nss_source_change_is_published(void **state)
{
        (void)state;
        uint64_t gen = nf_generation();
        assert_true(gen > 0);
        set_alice_gecos("Alice, renamed over");
        uint64_t ms = wait_for_gecos("Alice, renamed over");
        assert_true(ms != UINT64_MAX);
        print_message("change visible after %llu ms\n", (unsigned long long)ms);
        assert_true(nf_generation() > gen);
        /* Written in place (no rename): seen too. */
        char text[sizeof(passwd_text)];
        memcpy(text, passwd_text, sizeof(text));
        FILE *f = fopen(F.passwd, "we");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
        assert_true(wait_for_gecos("Alice Liddell,,,") != UINT64_MAX);
}

static void child_closes_everything(void *arg)
{
        int *pipe_fds = arg;
        CHILD_OK(lookup_alice());
        char go;
        CHILD_OK(read(pipe_fds[0], &go, 1) == 1);
        /* As a daemon does before it settles, or a program that dup2s over
         * descriptors it does not know. */
        close_range(0, ~0u, 0);
        /* The parent changed the source: the next lookups remap. */
        for (int i = 0; i < 1000; i++) {
                char buf[256];
                const char *g = pw_gecos("alice", buf, sizeof(buf));
                if (g && strcmp(g, "Alice, while closed") == 0) {
                        CHILD_OK(tu_count_fds() == 0);
                        return;
                }
                tu_sleep_ms(10);
        }
        _exit(4);
}

static void test_nss_process_that_closes_all_descriptors(void **state)
{
        (void)state;
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                child_closes_everything(p);
                _exit(0);
        }
        set_alice_gecos("Alice, while closed");
        assert_true(wait_for_gecos("Alice, while closed") != UINT64_MAX);
        assert_int_equal(write(p[1], "g", 1), 1);
        int status = tu_wait(pid, 60, NULL);
        close(p[0]);
        close(p[1]);
        char why[64];
        if (!tu_exited_ok(status))
                fail_msg("child: %s", tu_describe_status(status, why, sizeof(why)));
        set_alice_gecos("Alice Liddell,,,");
        assert_true(wait_for_gecos("Alice Liddell,,,") != UINT64_MAX);
}

/* ---- the messages ---- */

static void test_nss_messages_and_who_may_reload(void **state)
{
        (void)state;
        uint64_t gen = nf_generation();
        assert_true(gen > 0);
        /* Trusted (root, as a logon process): a new generation at once. */
        uint64_t g2 = nf_reload();
        assert_true(g2 > gen);
        assert_int_equal(nf_generation(), g2);
        /* Untrusted: refused, nothing published. */
        NSSCACHE_QUERY_RESPONSE q;
        NTSTATUS pst;
        assert_int_equal(nf_call(false, NssCacheReloadMessage, &q, sizeof(q), &pst), STATUS_SUCCESS);
        assert_int_equal(pst, STATUS_ACCESS_DENIED);
        assert_int_equal(nf_generation(), g2);
        /* Query: anyone. */
        memset(&q, 0, sizeof(q));
        assert_int_equal(nf_call(false, NssCacheQueryMessage, &q, sizeof(q), &pst), STATUS_SUCCESS);
        assert_int_equal(pst, STATUS_SUCCESS);
        assert_int_equal(q.MessageType, NssCacheQueryMessage);
        assert_int_equal(q.Generation, g2);
        assert_true(q.EpochSectionId != 0 && q.TableSectionId != 0);
        assert_int_equal(q.EpochOffset % 64, 0);
        /* Stats: what the sources held. */
        NSSCACHE_STATS_RESPONSE s;
        assert_int_equal(nf_call(false, NssCacheStatsMessage, &s, sizeof(s), &pst), STATUS_SUCCESS);
        assert_int_equal(pst, STATUS_SUCCESS);
        assert_int_equal(s.Users, 7);
        assert_int_equal(s.Groups, 6);
        assert_int_equal(s.SkippedLines, 2);
        assert_int_equal(s.Sources, 2);
        assert_true(s.TableBytes > 0 && s.TableBytes % 4096 == 0);
        assert_true(s.LastReloadTime > 0);
        /* Unknown message. */
        assert_int_equal(nf_call(false, 99, NULL, 0, &pst), STATUS_SUCCESS);
        assert_int_equal(pst, STATUS_NOT_SUPPORTED);
}

/* SIGKILL wipes nothing, but the kernel marks the lease the package held:
 * warm processes notice at their next lookup, then a new lsashmd is found. */
static void test_nss_daemon_killed_is_noticed(void **state)
{
        (void)state;
        assert_true(lookup_alice());
        nf_daemon_stop(&F, SIGKILL);
        char buf[256];
        struct passwd pw;
        int err = 0;
        assert_int_equal(F.getpwnam_r("alice", &pw, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
        assert_int_equal(err, ENOENT);
        set_alice_gecos("Alice, after a restart");
        assert_true(nf_daemon_start(&F));
        assert_true(wait_for_gecos("Alice, after a restart") != UINT64_MAX);
        set_alice_gecos("Alice Liddell,,,");
        assert_true(wait_for_gecos("Alice Liddell,,,") != UINT64_MAX);
}

/* ---- the daemon going away ---- */

static void test_nss_daemon_down_is_unavail(void **state)
{
        (void)state;
        assert_true(lookup_alice());
        assert_true(WIFEXITED(nf_daemon_stop(&F, SIGTERM)));
        /* Its epoch was wiped: a warm process notices and finds nobody. */
        char buf[256];
        struct passwd pw;
        struct group gr;
        int err = 0;
        assert_int_equal(F.getpwnam_r("alice", &pw, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
        assert_int_equal(err, ENOENT);
        assert_int_equal(F.getgrgid_r(50, &gr, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
        long int start = 1, size = 4;
        gid_t *groups = calloc(4, sizeof(gid_t));
        assert_int_equal(F.initgroups_dyn("alice", 1, &start, &size, &groups, 0, &err), NSS_STATUS_UNAVAIL);
        free(groups);
        assert_int_equal(F.setpwent(0), NSS_STATUS_UNAVAIL);
        assert_int_equal(F.getpwent_r(&pw, buf, sizeof(buf), &err), NSS_STATUS_UNAVAIL);
        F.endpwent();
        /* A fresh process: UNAVAIL at once, no descriptor left behind. */
        char *argv[] = { NSS_PROBE_PATH, NSS_MODULE_PATH, "alice", NULL };
        char *out, *errs;
        int status = tu_run_program(argv, NULL, NULL, 60, F.dir, &out, &errs);
        assert_true(tu_exited_ok(status));
        assert_int_equal(atoi(out), NSS_STATUS_UNAVAIL);
        free(out);
        free(errs);
        /* Back: answered again. */
        assert_true(nf_daemon_start(&F));
        assert_true(lookup_alice());
}

/* ---- a retired table ---- */

/* The package deletes a replaced table after its grace; a client that
 * mapped it keeps its mapping, and reads the same bytes (a frozen section
 * is never wiped); the id no longer maps. */
static void test_nss_retired_table_stays_readable_in_a_mapping(void **state)
{
        (void)state;
        NSSCACHE_QUERY_RESPONSE q;
        NTSTATUS pst;
        assert_int_equal(nf_call(false, NssCacheQueryMessage, &q, sizeof(q), &pst), STATUS_SUCCESS);
        assert_int_equal(pst, STATUS_SUCCESS);
        HANDLE h;
        assert_int_equal(LsaConnectUntrusted(&h), STATUS_SUCCESS);
        PVOID base;
        ULONG size;
        assert_int_equal(LsashmMapSection(h, q.TableSectionId, &base, &size), STATUS_SUCCESS);
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        struct nsscache_view v;
        assert_int_equal(nsscache_validate(base, size, &v), 0);
        assert_int_equal(v.generation, q.Generation);
        struct nsscache_passwd pw;
        assert_int_equal(nsscache_user_by_name(&v, "alice", &pw), 0);
        /* Replaced three times, and past the package's grace. */
        for (int i = 0; i < 3; i++)
                assert_true(nf_reload() > q.Generation);
        tu_sleep_ms(2500);
        assert_true(nf_reload() > q.Generation);
        assert_int_equal(LsaConnectUntrusted(&h), STATUS_SUCCESS);
        PVOID again;
        assert_int_equal(LsashmMapSection(h, q.TableSectionId, &again, &size), STATUS_NOT_FOUND);
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        /* Ours still, unchanged. */
        assert_int_equal(nsscache_validate(base, v.size, &v), 0);
        assert_int_equal(nsscache_user_by_name(&v, "alice", &pw), 0);
        assert_string_equal(pw.gecos, "Alice Liddell,,,");
        assert_int_equal(LsashmUnmapSection(base), STATUS_SUCCESS);
}

/* ---- hostile sources ---- */

/* 100,000 users, a 2 MiB line and a line of NUL bytes in one passwd file:
 * served but for the two bad lines (counted), found at the end as at the
 * start; the previous sources afterwards. */
static void test_nss_hostile_sources_100k_users(void **state)
{
        (void)state;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        assert_non_null(f);
        fputs(passwd_text, f);
        for (unsigned i = 0; i < 100000; i++)
                fprintf(f, "h%u:x:%u:%u:Hostile \xff%u:/home/h%u:/bin/sh\n", i, 100000 + i, 100 + i % 5, i, i);
        for (unsigned i = 0; i < 2u << 20; i++)
                fputc('a' + (int)(i % 26), f);
        fputc('\n', f);
        static const char nul_line[] = "nul:x:1:1:\0\0\0:/:/\n";
        fwrite(nul_line, 1, sizeof(nul_line) - 1, f);
        fputs("last:x:424242:1:The last line:/l:/bin/sh\n", f);
        assert_int_equal(fclose(f), 0);
        assert_true(nf_write_file(F.passwd, text, len));
        free(text);
        uint64_t gen = nf_reload();
        assert_true(gen > 0);
        NSSCACHE_STATS_RESPONSE s;
        NTSTATUS pst;
        assert_int_equal(nf_call(false, NssCacheStatsMessage, &s, sizeof(s), &pst), STATUS_SUCCESS);
        assert_int_equal(s.Users, 7 + 100000 + 1);
        assert_int_equal(s.SkippedLines, 2 + 2); /* the two of the fixture, and ours */
        char buf[512];
        struct passwd pw;
        int err;
        assert_int_equal(F.getpwnam_r("h99999", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
        assert_int_equal(pw.pw_uid, 199999);
        assert_string_equal(pw.pw_gecos,
                            "Hostile \xff"
                            "99999");
        assert_int_equal(F.getpwuid_r(424242, &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
        assert_string_equal(pw.pw_name, "last");
        assert_int_equal(F.getpwnam_r("h0", &pw, buf, sizeof(buf), &err), NSS_STATUS_SUCCESS);
        assert_int_equal(F.getpwnam_r("nul", &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
        assert_true(lookup_alice());
        assert_true(nf_write_str(F.passwd, passwd_text));
        assert_true(nf_reload() > gen);
        assert_int_equal(F.getpwnam_r("h0", &pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND);
}

/* ---- lsashm status ---- */

static void test_nss_status_shows_the_cache(void **state)
{
        (void)state;
        /* (inotify may publish once more after a reload: no exact generation) */
        assert_true(nf_reload() > 0);
        const char *want = ", 7 users, 6 groups, ";
        char *argv[] = { LSASHM_CLI_PATH, "--socket", F.sock, "status", NULL };
        char *out, *err;
        int status = tu_run_program(argv, NULL, NULL, 60, F.dir, &out, &err);
        assert_true(tu_exited_ok(status));
        if (!strstr(out, "LsashmNssCache: generation ") || !strstr(out, want) ||
            !strstr(out, " bytes, 2 skipped lines, last reload 20") || !strstr(out, F.passwd) || !strstr(out, F.group))
                fail_msg("no cache status in:\n%s", out);
        free(out);
        free(err);
        char *json[] = { LSASHM_CLI_PATH, "--socket", F.sock, "status", "--json", NULL };
        status = tu_run_program(json, NULL, NULL, 60, F.dir, &out, &err);
        assert_true(tu_exited_ok(status));
        if (!strstr(out, "\"status\":\"generation "))
                fail_msg("no cache status in:\n%s", out);
        free(out);
        free(err);
}

/* ---- a damaged table ---- */

/* A package posing as the cache publishes a table damaged before it was
 * frozen: a fresh process's lookups are UNAVAIL (refused at map time),
 * never a crash, never an answer. The undamaged control is served. */
static void test_nss_corrupt_table_refused_at_map_time(void **state)
{
        (void)state;
        static const char *const modes[] = { "none",  "magic", "size",  "generation", "string",
                                             "index", "short", "epoch", "epochmagic", "unfrozen" };
        for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
                char sock[160], notify[160], err[160], env_sock[200];
                snprintf(sock, sizeof(sock), "%s/corrupt.sock", F.dir);
                snprintf(notify, sizeof(notify), "%s/corrupt.notify", F.dir);
                snprintf(err, sizeof(err), "%s/corrupt.err", F.dir);
                setenv("TEST_NSSCACHE_CORRUPT", modes[i], 1);
                pid_t d = tu_lsashmd_start(LSASHMD_PATH, F.empty, sock, CORRUPT_PACKAGE_PATH, notify, err, NF_START_S);
                unsetenv("TEST_NSSCACHE_CORRUPT");
                assert_true(d > 0);
                snprintf(env_sock, sizeof(env_sock), "LSASHM_SOCKET=%s", sock);
                const char *env[] = { env_sock, NULL };
                char *argv[] = { NSS_PROBE_PATH, NSS_MODULE_PATH, "alice", NULL };
                char *out, *errs;
                int status = tu_run_program(argv, env, NULL, 60, F.dir, &out, &errs);
                kill(d, SIGKILL);
                tu_wait(d, 10, NULL);
                char why[64];
                if (!tu_exited_ok(status))
                        fail_msg("%s: nss-probe %s: %s%s", modes[i], tu_describe_status(status, why, sizeof(why)), out,
                                 errs);
                int want = i == 0 ? NSS_STATUS_SUCCESS : NSS_STATUS_UNAVAIL;
                if (atoi(out) != want)
                        fail_msg("%s: status %d, expected %d", modes[i], atoi(out), want);
                free(out);
                free(errs);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nss_getpw_buffers_from_one_byte),
                cmocka_unit_test(test_nss_getgr_buffers_from_one_byte),
                cmocka_unit_test(test_nss_misses_are_notfound_errno_0),
                cmocka_unit_test(test_nss_enumeration_in_source_order),
                cmocka_unit_test(test_nss_initgroups_grows_the_array_within_its_limit),
                cmocka_unit_test(test_nss_no_descriptor_left),
                cmocka_unit_test(test_nss_warm_lookup_makes_no_system_call),
                cmocka_unit_test(test_nss_lookup_across_fork),
                cmocka_unit_test(test_nss_source_change_is_published),
                cmocka_unit_test(test_nss_process_that_closes_all_descriptors),
                cmocka_unit_test(test_nss_messages_and_who_may_reload),
                cmocka_unit_test(test_nss_retired_table_stays_readable_in_a_mapping),
                cmocka_unit_test(test_nss_hostile_sources_100k_users),
                cmocka_unit_test(test_nss_status_shows_the_cache),
                cmocka_unit_test(test_nss_corrupt_table_refused_at_map_time),
                cmocka_unit_test(test_nss_daemon_killed_is_noticed),
                cmocka_unit_test(test_nss_daemon_down_is_unavail),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
