/* SPDX-License-Identifier: MIT */
/*
 * lsashmd and the lsashm command as the processes they are: the daemon
 * started with its command line (or by systemd-socket-activate), the example
 * records client and the admin command run against it as root and as
 * nobody, readiness through sd_notify, shutdown on SIGTERM.
 *
 * The programs come from the build (compile definitions set by
 * tests/CMakeLists.txt), or from the environment: LSASHMD, LSASHM_CLI,
 * LSASHM_RECORDS_PACKAGE, LSASHM_RECORDS_CLIENT, TEST_PACKAGE_DIR. A test
 * whose programs are unknown is skipped and says which.
 *
 * Every daemon is started with its own temporary socket, an empty
 * configuration file (the machine's /etc/lsashm is not the test's) and a
 * NOTIFY_SOCKET, and the test waits for READY=1 before using it. Every wait
 * is bounded; a daemon left behind by a failed assertion is killed by the
 * next setup or the group teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsashm/ntsecapi.h"
#include "packages/test-ap-package.h"
#include "packages/test-package-crash.h"
#include "packages/test-package-protocol.h"
#include "test-util.h"

#ifndef LSASHMD_PATH
#define LSASHMD_PATH NULL
#endif
#ifndef LSASHM_CLI_PATH
#define LSASHM_CLI_PATH NULL
#endif
#ifndef RECORDS_PACKAGE_PATH
#define RECORDS_PACKAGE_PATH NULL
#endif
#ifndef RECORDS_CLIENT_PATH
#define RECORDS_CLIENT_PATH NULL
#endif
#ifndef TEST_PACKAGE_DIR
#define TEST_PACKAGE_DIR NULL
#endif

#define NOBODY 65534u
/* Built with ThreadSanitizer (gcc says so with __SANITIZE_THREAD__, clang
 * through __has_feature). */
#if defined(__SANITIZE_THREAD__)
#define TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN_BUILD 1
#endif
#endif
#ifndef TSAN_BUILD
#define TSAN_BUILD 0
#endif

/* Generous: sanitizer builds on a busy machine. */
#define START_S 30
#define RUN_S 60

static char g_dir[64];
static char g_empty_conf[128];
static char g_tp_log[128];

/* ---- where the programs are ---- */

static const char *program(const char *env, const char *built)
{
        const char *p = getenv(env);
        if (p && *p)
                return p;
        return built && *built ? built : NULL;
}

static const char *lsashmd_path(void) { return program("LSASHMD", LSASHMD_PATH); }
static const char *cli_path(void) { return program("LSASHM_CLI", LSASHM_CLI_PATH); }
static const char *records_package_path(void) { return program("LSASHM_RECORDS_PACKAGE", RECORDS_PACKAGE_PATH); }
static const char *records_client_path(void) { return program("LSASHM_RECORDS_CLIENT", RECORDS_CLIENT_PATH); }
static const char *test_package_dir(void) { return program("TEST_PACKAGE_DIR", TEST_PACKAGE_DIR); }

static bool need(const char *what, const char *path)
{
        if (path && access(path, R_OK) == 0)
                return true;
        print_message("skipped: %s not available (%s)\n", what, path ? path : "not built, not in the environment");
        return false;
}

static void test_package(char *out, size_t len, const char *variant)
{
        snprintf(out, len, "%s/test-pkg-%s.so", test_package_dir(), variant);
}

/* A copy of a program that anyone may run, in our 0755 directory: the build
 * tree may sit under a directory nobody cannot enter. */
static void copy_for_everyone(const char *from, const char *name, char *out, size_t len)
{
        snprintf(out, len, "%s/%s", g_dir, name);
        int in = open(from, O_RDONLY | O_CLOEXEC);
        assert_true(in >= 0);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        assert_true(o >= 0);
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof(buf))) > 0)
                assert_int_equal(write(o, buf, (size_t)n), n);
        assert_int_equal(n, 0);
        close(in);
        assert_int_equal(fchmod(o, 0755), 0);
        assert_int_equal(close(o), 0);
}

/* ---- small helpers ---- */

static unsigned count_lines_with(const char *text, const char *needle)
{
        unsigned n = 0;
        for (const char *line = text; *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                const char *hit = strstr(line, needle);
                if (hit && hit < line + len)
                        n++;
                line += len + (end ? 1 : 0);
        }
        return n;
}

static bool connectable(const char *path)
{
        int s = tu_seqpacket_connect(path, 0);
        if (s >= 0)
                close(s);
        return s >= 0;
}

/* A datagram socket for sd_notify, bound at path. */
static int notify_socket(const char *path)
{
        int s = tu_notify_socket(path);
        assert_true(s >= 0);
        return s;
}

/* ---- processes ---- */

/* Start argv[0] with stdout and stderr in files (out/err, may be NULL),
 * extra environment "NAME=VALUE" strings (NULL-terminated, may be NULL),
 * as cr (NULL: as we are). */
static pid_t spawn(char *const argv[], const char *out, const char *err, const char *const *env,
                   const struct tu_creds *cr)
{
        pid_t pid = tu_spawn_as(argv, out, err, env, cr);
        assert_true(pid > 0);
        return pid;
}

/* Run a program to its end (RUN_S at most); its wait status, stdout and
 * stderr (freed by the caller). */
static int run(char *const argv[], const char *const *env, const struct tu_creds *cr, char **ret_out, char **ret_err)
{
        return tu_run_program(argv, env, cr, RUN_S, g_dir, ret_out, ret_err);
}

static void expect_exit(int status, int code, const char *what, const char *out, const char *err)
{
        if (tu_exited_with(status, code))
                return;
        char why[96];
        print_message("%s: stdout:\n%s\n%s: stderr:\n%s\n", what, out, what, err);
        fail_msg("%s %s, expected exit %d", what, tu_describe_status(status, why, sizeof(why)), code);
}

/* ---- the daemon ---- */

struct daemon {
        pid_t pid;
        char sock[100];
        char notify[128];
        char err[128];
        int notify_fd;
        char notes[4096]; /* every notification received, '|'-separated */
};

/* The one daemon a test runs at a time; the teardown kills it if the test
 * failed before stopping it. */
static struct daemon g_daemon = { .pid = -1, .notify_fd = -1 };

static void daemon_kill(struct daemon *d)
{
        if (d->pid == 0)
                d->pid = -1;
        if (d->pid > 0) {
                kill(d->pid, SIGKILL);
                tu_wait(d->pid, 10, NULL);
        }
        d->pid = -1;
        if (d->notify_fd >= 0)
                close(d->notify_fd);
        d->notify_fd = -1;
}

/* lsashmd --config EMPTY --socket SOCK --package P... with TP_LOG and
 * NOTIFY_SOCKET set; returns once it said READY=1. */
static void daemon_start(struct daemon *d, const char *name, const char *const *packages)
{
        memset(d, 0, sizeof(*d));
        d->notify_fd = -1;
        snprintf(d->sock, sizeof(d->sock), "%s/%s.sock", g_dir, name);
        snprintf(d->notify, sizeof(d->notify), "%s/%s.notify", g_dir, name);
        snprintf(d->err, sizeof(d->err), "%s/%s.err", g_dir, name);
        d->notify_fd = notify_socket(d->notify);
        char *argv[40];
        int n = 0;
        argv[n++] = (char *)(uintptr_t)lsashmd_path();
        argv[n++] = "--config";
        argv[n++] = g_empty_conf;
        argv[n++] = "--socket";
        argv[n++] = d->sock;
        for (const char *const *p = packages; *p && n < 36; p++) {
                argv[n++] = "--package";
                argv[n++] = (char *)(uintptr_t)*p;
        }
        argv[n] = NULL;
        char notify_env[160], log_env[160];
        snprintf(notify_env, sizeof(notify_env), "NOTIFY_SOCKET=%s", d->notify);
        snprintf(log_env, sizeof(log_env), "%s=%s", TP_LOG_ENV, g_tp_log);
        const char *env[] = { notify_env, log_env, NULL };
        d->pid = spawn(argv, NULL, d->err, env, NULL);
        if (!tu_notify_wait_log(d->notify_fd, "READY=1", START_S * 1000, d->notes, sizeof(d->notes))) {
                char *err = tu_slurp(d->err);
                print_message("lsashmd stderr:\n%s\n", err);
                free(err);
                fail_msg("lsashmd did not say READY=1 in %d s", START_S);
        }
        assert_true(connectable(d->sock));
}

/* SIGTERM (or sig); its wait status. */
static int daemon_stop(struct daemon *d, int sig)
{
        kill(d->pid, sig);
        int status = tu_wait(d->pid, RUN_S, NULL);
        d->pid = -1;
        if (d->notify_fd >= 0)
                tu_notify_wait_log(d->notify_fd, "STOPPING=1", 1000, d->notes, sizeof(d->notes));
        if (d->notify_fd >= 0)
                close(d->notify_fd);
        d->notify_fd = -1;
        return status;
}

/* ---- a client in a child, with the client API ---- */

#define CHECK(cond) CHILD_CHECK(cond)

/* Connect to sock (untrusted or as a logon process), look up TestPkg, echo;
 * an unknown package is not there. Exit status 0 when all went well. */
static pid_t client_echo_spawn(const char *sock, bool trusted)
{
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid != 0)
                return pid;
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        setenv("LSASHM_SOCKET", sock, 1);
        HANDLE h = NULL;
        if (trusted) {
                CHAR name[] = "test-lsashmd";
                LSA_STRING s = { sizeof(name) - 1, sizeof(name), name };
                LSA_OPERATIONAL_MODE mode;
                CHECK(LsaRegisterLogonProcess(&s, &h, &mode) == STATUS_SUCCESS);
        } else {
                CHECK(LsaConnectUntrusted(&h) == STATUS_SUCCESS);
        }
        CHAR pkg[] = TP_NAME_OK;
        LSA_STRING ps = { sizeof(pkg) - 1, sizeof(pkg), pkg };
        ULONG id;
        CHECK(LsaLookupAuthenticationPackage(h, &ps, &id) == STATUS_SUCCESS);
        CHAR none[] = "TestInitFails";
        LSA_STRING ns = { sizeof(none) - 1, sizeof(none), none };
        ULONG other;
        CHECK(LsaLookupAuthenticationPackage(h, &ns, &other) == STATUS_NO_SUCH_PACKAGE);
        struct {
                TP_REQUEST m;
                UCHAR data[64];
        } e;
        memset(&e, 0x3C, sizeof(e));
        e.m = (TP_REQUEST){ .MessageType = TpClientInfo };
        PVOID buf = NULL;
        ULONG len = 0;
        NTSTATUS proto;
        CHECK(LsaCallAuthenticationPackage(h, id, &e, sizeof(e), &buf, &len, &proto) == STATUS_SUCCESS);
        CHECK(proto == STATUS_SUCCESS && buf && len >= sizeof(TP_CLIENT_INFO_REPLY));
        TP_CLIENT_INFO_REPLY ci;
        memcpy(&ci, buf, sizeof(ci));
        CHECK(ci.Entry == (trusted ? TP_ENTRY_CALL : TP_ENTRY_UNTRUSTED));
        CHECK(ci.ProcessID == (ULONG)getpid());
        CHECK(LsaFreeReturnBuffer(buf) == STATUS_SUCCESS);
        e.m = (TP_REQUEST){ .MessageType = TpEcho };
        CHECK(LsaCallAuthenticationPackage(h, id, &e, sizeof(e), &buf, &len, &proto) == STATUS_SUCCESS);
        CHECK(proto == STATUS_SUCCESS && len == sizeof(e) && memcmp(buf, &e, sizeof(e)) == 0);
        CHECK(LsaFreeReturnBuffer(buf) == STATUS_SUCCESS);
        CHECK(LsaDeregisterLogonProcess(h) == STATUS_SUCCESS);
        _exit(0);
}

static void expect_client_echo(const char *sock, bool trusted)
{
        pid_t pid = client_echo_spawn(sock, trusted);
        int status = tu_wait(pid, RUN_S, NULL);
        char why[96];
        if (!tu_exited_with(status, 0))
                fail_msg("client against %s %s", sock, tu_describe_status(status, why, sizeof(why)));
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
        (void)state;
        signal(SIGPIPE, SIG_IGN);
        snprintf(g_dir, sizeof(g_dir), "/tmp/lsashm-test-lsashmd-XXXXXX");
        if (!mkdtemp(g_dir) || chmod(g_dir, 0755) < 0)
                return -1;
        snprintf(g_empty_conf, sizeof(g_empty_conf), "%s/empty.conf", g_dir);
        snprintf(g_tp_log, sizeof(g_tp_log), "%s/packages.log", g_dir);
        int fd = open(g_empty_conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -1;
        close(fd);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        daemon_kill(&g_daemon);
        return 0;
}

static int group_teardown(void **state)
{
        teardown(state);
        char cmd[128];
        /* Sockets, logs, copies of programs: all ours, all in g_dir. */
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
        if (strncmp(g_dir, "/tmp/lsashm-test-lsashmd-", 25) == 0 && system(cmd) != 0)
                return -1;
        return 0;
}

/* ---- tests ---- */

/* A package that fails SpInitialize is logged once and skipped; the good one
 * serves; SIGTERM stops lsashmd cleanly: exit 0, packages shut down, its
 * socket removed. */
static void test_lsashmd_skips_bad_package_and_stops_on_sigterm(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || !need("test packages", test_package_dir()))
                skip();
        char ok[512], bad[512];
        test_package(ok, sizeof(ok), "ok");
        test_package(bad, sizeof(bad), "init-fails");
        const char *pkgs[] = { ok, bad, NULL };
        unlink(g_tp_log);
        struct daemon *d = &g_daemon;
        daemon_start(d, "bad-package", pkgs);
        assert_non_null(strstr(d->notes, "READY=1"));

        char *err = tu_slurp(d->err);
        if (count_lines_with(err, "test-pkg-init-fails.so") != 1 || count_lines_with(err, "not loaded") != 1 ||
            count_lines_with(err, "test-pkg-ok.so") != 1) {
                print_message("lsashmd stderr:\n%s\n", err);
                fail_msg("expected one line naming the refused package, one naming the loaded one");
        }
        free(err);

        expect_client_echo(d->sock, false);
        expect_client_echo(d->sock, true);

        int status = daemon_stop(d, SIGTERM);
        err = tu_slurp(d->err);
        expect_exit(status, 0, "lsashmd after SIGTERM", "", err);
        free(err);
        struct stat st;
        assert_int_equal(lstat(d->sock, &st), -1);
        assert_int_equal(errno, ENOENT);
        char *log = tu_slurp(g_tp_log);
        assert_int_equal(count_lines_with(log, "shutdown " TP_NAME_OK), 1);
        free(log);
        assert_non_null(strstr(d->notes, "STOPPING=1"));
}

static void test_lsashmd_stops_on_sigint(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || !need("test packages", test_package_dir()))
                skip();
        char ok[512];
        test_package(ok, sizeof(ok), "ok");
        const char *pkgs[] = { ok, NULL };
        struct daemon *d = &g_daemon;
        daemon_start(d, "sigint", pkgs);
        expect_client_echo(d->sock, false);
        /* A second lsashmd on the same socket refuses to start (exit 2)
         * rather than take the first one's clients. */
        char *argv[] = { (char *)(uintptr_t)lsashmd_path(), "--config", g_empty_conf, "--socket", d->sock,
                         "--package", ok, NULL };
        char *out, *err2;
        int second = run(argv, NULL, NULL, &out, &err2);
        expect_exit(second, 2, "a second lsashmd on the same socket", out, err2);
        free(out);
        free(err2);
        expect_client_echo(d->sock, false);
        int status = daemon_stop(d, SIGINT);
        char *err = tu_slurp(d->err);
        expect_exit(status, 0, "lsashmd after SIGINT", "", err);
        free(err);
        struct stat st;
        assert_int_equal(lstat(d->sock, &st), -1);
}

/* READY=1 reaches NOTIFY_SOCKET within 5 s of the start. */
static void test_lsashmd_sd_notify_ready(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || !need("test packages", test_package_dir()))
                skip();
        char ok[512], notify[128], sock[100], err[128];
        test_package(ok, sizeof(ok), "ok");
        snprintf(notify, sizeof(notify), "%s/ready.notify", g_dir);
        snprintf(sock, sizeof(sock), "%s/ready.sock", g_dir);
        snprintf(err, sizeof(err), "%s/ready.err", g_dir);
        int ns = notify_socket(notify);
        char *argv[] = { (char *)(uintptr_t)lsashmd_path(), "--config", g_empty_conf, "--socket", sock,
                         "--package", ok, NULL };
        char notify_env[160];
        snprintf(notify_env, sizeof(notify_env), "NOTIFY_SOCKET=%s", notify);
        const char *env[] = { notify_env, NULL };
        struct daemon *d = &g_daemon;
        d->pid = spawn(argv, NULL, err, env, NULL);
        char notes[1024] = "";
        bool ready = tu_notify_wait_log(ns, "READY=1", 5000, notes, sizeof(notes));
        close(ns);
        /* Ready means serving: the package is there. */
        if (ready)
                expect_client_echo(sock, false);
        kill(d->pid, SIGTERM);
        int status = tu_wait(d->pid, RUN_S, NULL);
        d->pid = -1;
        if (!ready) {
                char *text = tu_slurp(err);
                print_message("lsashmd stderr:\n%s\nnotifications: %s\n", text, notes);
                free(text);
                fail_msg("no READY=1 on NOTIFY_SOCKET within 5 s");
        }
        assert_true(tu_exited_with(status, 0));
}

/* The example: the records client against lsashmd with the records
 * package, as root (adds, looks up, lists) and as nobody (untrusted: adding
 * refused, the rest works). */
static void test_lsashmd_records_example(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || !need("the records package", records_package_path()) ||
            !need("the records client", records_client_path()))
                skip();
        const char *pkgs[] = { records_package_path(), NULL };
        struct daemon *d = &g_daemon;
        daemon_start(d, "records", pkgs);
        char env_sock[160];
        assert_true(snprintf(env_sock, sizeof(env_sock), "LSASHM_SOCKET=%s", d->sock) < (int)sizeof(env_sock));
        const char *env[] = { env_sock, NULL };
        char client[160];
        copy_for_everyone(records_client_path(), "records-client", client, sizeof(client));
        const struct tu_creds nobody = { .uid = NOBODY, .gid = NOBODY };
        char *out, *err;

        /* As root: a trusted connection; the demo adds its records. */
        char *demo[] = { client, NULL };
        int status = run(demo, env, NULL, &out, &err);
        expect_exit(status, 0, "records-client (root)", out, err);
        assert_non_null(strstr(out, "records-client: ok"));
        assert_non_null(strstr(out, "added alpha"));
        free(out);
        free(err);

        /* As nobody: untrusted; adding is refused, as it should be, and the
         * demo still passes. */
        status = run(demo, env, &nobody, &out, &err);
        expect_exit(status, 0, "records-client (nobody)", out, err);
        assert_non_null(strstr(out, "records-client: ok"));
        assert_non_null(strstr(out, "untrusted"));
        assert_null(strstr(out, "added "));
        free(out);
        free(err);

        char *add[] = { client, "add", "delta", "from nobody", NULL };
        status = run(add, env, &nobody, &out, &err);
        expect_exit(status, 1, "records-client add (nobody)", out, err);
        assert_non_null(strstr(err, "trusted"));
        free(out);
        free(err);

        char *lookup[] = { client, "lookup", "alpha", NULL };
        status = run(lookup, env, &nobody, &out, &err);
        expect_exit(status, 0, "records-client lookup (nobody)", out, err);
        assert_non_null(strstr(out, "alpha=the first record"));
        free(out);
        free(err);

        char *list[] = { client, "list", NULL };
        status = run(list, env, &nobody, &out, &err);
        expect_exit(status, 0, "records-client list (nobody)", out, err);
        assert_non_null(strstr(out, "alpha=the first record"));
        assert_non_null(strstr(out, "gamma=the third record"));
        assert_null(strstr(out, "delta"));
        free(out);
        free(err);

        status = daemon_stop(d, SIGTERM);
        err = tu_slurp(d->err);
        expect_exit(status, 0, "lsashmd after SIGTERM", "", err);
        free(err);
}

/* lsashm status, as text and JSON, for root; refused for nobody. */
static void test_lsashm_cli_status(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || !need("lsashm", cli_path()) ||
            !need("test packages", test_package_dir()))
                skip();
        char ok[512], peer[512];
        test_package(ok, sizeof(ok), "ok");
        test_package(peer, sizeof(peer), "peer");
        const char *pkgs[] = { ok, peer, NULL };
        struct daemon *d = &g_daemon;
        daemon_start(d, "cli", pkgs);
        char cli[160];
        copy_for_everyone(cli_path(), "lsashm", cli, sizeof(cli));
        char *out, *err;

        char *text[] = { cli, "--socket", d->sock, "status", NULL };
        int status = run(text, NULL, NULL, &out, &err);
        expect_exit(status, 0, "lsashm status", out, err);
        assert_non_null(strstr(out, TP_NAME_OK));
        assert_non_null(strstr(out, TP_NAME_PEER));
        assert_non_null(strstr(out, "test-pkg-ok.so"));
        free(out);
        free(err);

        char *json[] = { cli, "--socket", d->sock, "status", "--json", NULL };
        status = run(json, NULL, NULL, &out, &err);
        expect_exit(status, 0, "lsashm status --json", out, err);
        assert_true(out[0] == '{');
        assert_non_null(strstr(out, "\"packages\""));
        assert_non_null(strstr(out, "\"name\":\"" TP_NAME_OK "\""));
        assert_non_null(strstr(out, "\"connections\""));
        /* Braces and brackets balance, outside strings. */
        int depth = 0;
        bool in_string = false;
        for (const char *p = out; *p; p++) {
                if (in_string) {
                        if (*p == '\\' && p[1])
                                p++;
                        else if (*p == '"')
                                in_string = false;
                } else if (*p == '"') {
                        in_string = true;
                } else if (*p == '{' || *p == '[') {
                        depth++;
                } else if (*p == '}' || *p == ']') {
                        assert_true(--depth >= 0);
                }
        }
        assert_int_equal(depth, 0);
        assert_false(in_string);
        free(out);
        free(err);

        /* The socket from the environment. */
        char env_sock[160];
        assert_true(snprintf(env_sock, sizeof(env_sock), "LSASHM_SOCKET=%s", d->sock) < (int)sizeof(env_sock));
        const char *env[] = { env_sock, NULL };
        char *plain[] = { cli, "status", NULL };
        status = run(plain, env, NULL, &out, &err);
        expect_exit(status, 0, "lsashm status ($LSASHM_SOCKET)", out, err);
        assert_non_null(strstr(out, TP_NAME_OK));
        free(out);
        free(err);

        /* Not for nobody: exit 1 and a message. */
        const struct tu_creds nobody = { .uid = NOBODY, .gid = NOBODY };
        status = run(text, NULL, &nobody, &out, &err);
        expect_exit(status, 1, "lsashm status (nobody)", out, err);
        assert_true(strlen(err) > 0);
        assert_null(strstr(out, TP_NAME_OK));
        free(out);
        free(err);

        status = daemon_stop(d, SIGTERM);
        err = tu_slurp(d->err);
        expect_exit(status, 0, "lsashmd after SIGTERM", "", err);
        free(err);

        /* Nobody listening: exit 1 and a message. */
        status = run(text, NULL, NULL, &out, &err);
        expect_exit(status, 1, "lsashm status (no lsashmd)", out, err);
        assert_true(strlen(err) > 0);
        free(out);
        free(err);
}

/* lsashm sessions, as text and JSON: a logon through an authentication
 * package (LsaAp* exports only) loaded by lsashmd, listed while its token
 * is open, gone once it is closed; refused for nobody. */
static void test_lsashm_cli_sessions(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || !need("lsashm", cli_path()) ||
            !need("test packages", test_package_dir()))
                skip();
        char ap[512];
        test_package(ap, sizeof(ap), "ap-ex2");
        const char *pkgs[] = { ap, NULL };
        struct daemon *d = &g_daemon;
        daemon_start(d, "sessions", pkgs);
        char cli[160];
        copy_for_everyone(cli_path(), "lsashm", cli, sizeof(cli));
        setenv("LSASHM_SOCKET", d->sock, 1);

        CHAR pname[] = "test-lsashmd";
        LSA_STRING ps = { sizeof(pname) - 1, sizeof(pname), pname };
        LSA_OPERATIONAL_MODE mode;
        HANDLE h;
        assert_int_equal(LsaRegisterLogonProcess(&ps, &h, &mode), STATUS_SUCCESS);
        CHAR pkgname[] = TAP_NAME_EX2;
        LSA_STRING pk = { sizeof(pkgname) - 1, sizeof(pkgname), pkgname };
        ULONG pkg;
        assert_int_equal(LsaLookupAuthenticationPackage(h, &pk, &pkg), STATUS_SUCCESS);
        struct {
                MSV1_0_INTERACTIVE_LOGON m;
                WCHAR chars[32];
        } a;
        memset(&a, 0, sizeof(a));
        a.m.MessageType = MsV1_0InteractiveLogon;
        const char *v[3] = { "DOM", TAP_USER_OK, TAP_PASSWORD };
        UNICODE_STRING *us[3] = { &a.m.LogonDomainName, &a.m.UserName, &a.m.Password };
        WCHAR *at = a.chars;
        for (int i = 0; i < 3; i++) {
                size_t n = strlen(v[i]);
                for (size_t k = 0; k < n; k++)
                        at[k] = (WCHAR)v[i][k];
                us[i]->Buffer = at;
                us[i]->Length = us[i]->MaximumLength = (USHORT)(n * 2);
                at += n;
        }
        TOKEN_SOURCE src = { .SourceName = "tcli" };
        PVOID prof;
        ULONG plen;
        LUID id;
        HANDLE tok;
        QUOTA_LIMITS q;
        NTSTATUS sub;
        assert_int_equal(LsaLogonUser(h, &ps, Interactive, pkg, &a, sizeof(a), NULL, &src, &prof, &plen, &id, &tok,
                                      &q, &sub),
                         STATUS_SUCCESS);

        char *out, *err;
        char *text[] = { cli, "--socket", d->sock, "sessions", NULL };
        int status = run(text, NULL, NULL, &out, &err);
        expect_exit(status, 0, "lsashm sessions", out, err);
        assert_non_null(strstr(out, "Logon sessions: 1"));
        assert_non_null(strstr(out, TAP_NAME_EX2));
        assert_non_null(strstr(out, "DOM\\" TAP_USER_OK));
        assert_non_null(strstr(out, "Interactive"));
        free(out);
        free(err);
        char *json[] = { cli, "--socket", d->sock, "sessions", "--json", NULL };
        status = run(json, NULL, NULL, &out, &err);
        expect_exit(status, 0, "lsashm sessions --json", out, err);
        assert_non_null(strstr(out, "\"user\":\"" TAP_USER_OK "\""));
        assert_non_null(strstr(out, "\"uid\":1000"));
        free(out);
        free(err);
        char *st[] = { cli, "--socket", d->sock, "status", NULL };
        status = run(st, NULL, NULL, &out, &err);
        expect_exit(status, 0, "lsashm status", out, err);
        assert_non_null(strstr(out, "Logon sessions: 1"));
        free(out);
        free(err);
        const struct tu_creds nobody = { .uid = NOBODY, .gid = NOBODY };
        status = run(text, NULL, &nobody, &out, &err);
        expect_exit(status, 1, "lsashm sessions (nobody)", out, err);
        assert_null(strstr(out, TAP_USER_OK));
        free(out);
        free(err);

        assert_int_equal(LsaFreeReturnBuffer(prof), STATUS_SUCCESS);
        assert_int_equal(LsashmCloseToken(tok), STATUS_SUCCESS);
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        /* The notice is served before the next request of anyone's. */
        bool gone = false;
        for (int i = 0; i < 100 && !gone; i++) {
                status = run(text, NULL, NULL, &out, &err);
                gone = strstr(out, "Logon sessions: 0") != NULL;
                free(out);
                free(err);
                if (!gone)
                        tu_sleep_ms(20);
        }
        assert_true(gone);
        unsetenv("LSASHM_SOCKET");
        status = daemon_stop(d, SIGTERM);
        err = tu_slurp(d->err);
        expect_exit(status, 0, "lsashmd after SIGTERM", "", err);
        free(err);
}

/* A socket that accepts (the kernel's backlog does) and never answers:
 * lsashm status gives up after $LSASHM_TIMEOUT_MS instead of hanging the
 * administrator's shell. */
static void test_lsashm_cli_status_silent_host_times_out(void **state)
{
        (void)state;
        if (!need("lsashm", cli_path()))
                skip();
        char dir[] = "/tmp/lsashm-cli-silent-XXXXXX", sock[96];
        assert_non_null(mkdtemp(dir));
        snprintf(sock, sizeof(sock), "%s/silent.sock", dir);
        int lfd = tu_seqpacket_listen(sock, 8);
        assert_true(lfd >= 0);
        const char *env[] = { "LSASHM_TIMEOUT_MS=300", NULL };
        char *argv[] = { (char *)(uintptr_t)cli_path(), "--socket", sock, "status", NULL };
        char *out, *err;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int status = run(argv, env, NULL, &out, &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        expect_exit(status, 1, "lsashm status (silent host)", out, err);
        assert_non_null(strstr(err, "in time"));
        assert_true(waited >= 0.25 && waited < 3.0);
        free(out);
        free(err);
        close(lfd);
        unlink(sock);
        rmdir(dir);
}

/* Started by systemd-socket-activate on the first connection, lsashmd
 * serves on the socket it was given, and leaves it in place at exit. */
/* CPU seconds (user + system) a process has used, from /proc. */
static double cpu_seconds(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        char *text = tu_slurp(path);
        const char *p = text ? strrchr(text, ')') : NULL;
        unsigned long utime = 0, stime = 0;
        /* After "(comm)": state, then fields 4..13, then utime and stime. */
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
                fail_msg("cannot read %s", path);
        free(text);
        return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* Out of descriptors, lsashmd refuses new connections at once (accept and
 * close) instead of leaving them in the backlog and spinning on them; it
 * logs that once, and serves again when descriptors are back. */
static void test_lsashmd_out_of_descriptors(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || access("/usr/bin/prlimit", X_OK) != 0)
                skip();
        char sock[100], err[128], pkg[256];
        snprintf(sock, sizeof(sock), "%.64s/nofile.sock", g_dir);
        snprintf(err, sizeof(err), "%s/nofile.err", g_dir);
        test_package(pkg, sizeof(pkg), "ok");
        /* Hard limit too: lsashmd raises its soft limit to the hard one. */
        char *argv[] = { "/usr/bin/prlimit", "--nofile=24:24", (char *)(uintptr_t)lsashmd_path(), "--config",
                         g_empty_conf, "--socket", sock, "--package", pkg, NULL };
        g_daemon.pid = spawn(argv, NULL, err, NULL, NULL);
        int64_t end = tu_now_ms() + START_S * 1000;
        while (!connectable(sock) && tu_now_ms() < end)
                tu_sleep_ms(20);
        assert_true(connectable(sock));

        enum { FLOOD = 64 };
        int fds[FLOOD];
        for (int i = 0; i < FLOOD; i++) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                memcpy(sa.sun_path, sock, strlen(sock) + 1);
                fds[i] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                assert_true(fds[i] >= 0);
                assert_int_equal(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
        }
        tu_sleep_ms(300);
        double before = cpu_seconds(g_daemon.pid);
        tu_sleep_ms(1000);
        double used = cpu_seconds(g_daemon.pid) - before;
        /* A spinning daemon burns a whole second here. */
        if (used > 0.3)
                fail_msg("lsashmd used %.2f s of CPU in 1 s with connections it cannot accept", used);
        /* Some of the flood were refused: the kernel says so at once. */
        unsigned refused = 0;
        for (int i = 0; i < FLOOD; i++) {
                char b;
                if (recv(fds[i], &b, 1, MSG_DONTWAIT) == 0)
                        refused++;
        }
        assert_true(refused > 0);
        for (int i = 0; i < FLOOD; i++)
                close(fds[i]);
        tu_sleep_ms(200);
        /* Descriptors are back: a real client is served. */
        expect_client_echo(sock, false);
        assert_true(tu_exited_with(daemon_stop(&g_daemon, SIGTERM), 0));
        char *log = tu_slurp(err);
        assert_non_null(log);
        unsigned lines = count_lines_with(log, "out of file descriptors");
        if (lines < 1 || lines > 2)
                fail_msg("expected one 'out of file descriptors' line, got %u:\n%s", lines, log);
        free(log);
}

static void test_lsashmd_socket_activation(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || !need("test packages", test_package_dir()))
                skip();
        char ssa[512] = "";
        const char *path = getenv("PATH");
        for (const char *p = path ? path : "/usr/bin:/bin"; p && *p;) {
                const char *colon = strchr(p, ':');
                size_t len = colon ? (size_t)(colon - p) : strlen(p);
                snprintf(ssa, sizeof(ssa), "%.*s/systemd-socket-activate", (int)len, p);
                if (access(ssa, X_OK) == 0)
                        break;
                ssa[0] = '\0';
                p = colon ? colon + 1 : NULL;
        }
        if (!ssa[0]) {
                print_message("skipped: no systemd-socket-activate in PATH\n");
                skip();
        }
        char ok[512], sock[100], notify[128], err[128], listen_arg[128], notify_arg[160], log_arg[160];
        test_package(ok, sizeof(ok), "ok");
        snprintf(sock, sizeof(sock), "%s/activated->sock", g_dir);
        snprintf(notify, sizeof(notify), "%s/activated.notify", g_dir);
        snprintf(err, sizeof(err), "%s/activated->err", g_dir);
        snprintf(listen_arg, sizeof(listen_arg), "--listen=%s", sock);
        snprintf(notify_arg, sizeof(notify_arg), "--setenv=NOTIFY_SOCKET=%s", notify);
        snprintf(log_arg, sizeof(log_arg), "--setenv=%s=%s", TP_LOG_ENV, g_tp_log);
        int ns = notify_socket(notify);
        char *argv[] = { ssa, "--seqpacket", listen_arg, notify_arg, log_arg,
                         (char *)(uintptr_t)lsashmd_path(), "--config", g_empty_conf, "--package", ok, NULL };
        struct daemon *d = &g_daemon;
        d->notify_fd = ns;
        d->pid = spawn(argv, NULL, err, NULL, NULL);
        /* It listens first, and starts lsashmd on the first connection. */
        int64_t end = tu_now_ms() + START_S * 1000;
        struct stat st;
        while (lstat(sock, &st) < 0 && tu_now_ms() < end)
                tu_sleep_ms(10);
        if (lstat(sock, &st) < 0) {
                char *text = tu_slurp(err);
                print_message("systemd-socket-activate stderr:\n%s\n", text);
                free(text);
                fail_msg("systemd-socket-activate never listened on %s", sock);
        }
        expect_client_echo(sock, false);
        char notes[1024] = "";
        assert_true(tu_notify_wait_log(ns, "READY=1", START_S * 1000, notes, sizeof(notes)));
        expect_client_echo(sock, true);
        char *text = tu_slurp(err);
        if (!strstr(text, "the socket systemd passed")) {
                print_message("stderr:\n%s\n", text);
                fail_msg("lsashmd did not use the socket it was passed");
        }
        free(text);
        int status = daemon_stop(d, SIGTERM);
        text = tu_slurp(err);
        expect_exit(status, 0, "socket-activated lsashmd after SIGTERM", "", text);
        free(text);
        /* Not its socket to remove. */
        assert_int_equal(lstat(sock, &st), 0);
        unlink(sock);
}

/* ---- signals: a dying lsashmd wipes, SIGHUP reloads, the rest do not kill ---- */

/* lsashmd --config CONF --socket SOCK --package P..., as daemon_start. */
/* A client that calls TpSleep for ms; exits 0 when the call was answered
 * with success, 3 when the host went away under it. */
static pid_t client_sleep_spawn(const char *sock, ULONG ms)
{
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid != 0)
                return pid;
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        setenv("LSASHM_SOCKET", sock, 1);
        HANDLE h = NULL;
        CHECK(LsaConnectUntrusted(&h) == STATUS_SUCCESS);
        CHAR pkg[] = TP_NAME_OK;
        LSA_STRING ps = { sizeof(pkg) - 1, sizeof(pkg), pkg };
        ULONG id;
        CHECK(LsaLookupAuthenticationPackage(h, &ps, &id) == STATUS_SUCCESS);
        TP_REQUEST m = { .MessageType = TpSleep, .Arg = ms };
        PVOID buf = NULL;
        ULONG len = 0;
        NTSTATUS proto;
        NTSTATUS st = LsaCallAuthenticationPackage(h, id, &m, sizeof(m), &buf, &len, &proto);
        if (st == STATUS_PORT_DISCONNECTED)
                _exit(3);
        CHECK(st == STATUS_SUCCESS && proto == STATUS_SUCCESS && buf && len >= sizeof(m));
        /* The host stops right after this reply and wipes every reply
         * section as it goes: the buffer holds the answer or zeros. */
        ULONG type = ((const volatile TP_REQUEST *)buf)->MessageType;
        CHECK(type == TpSleep || type == 0);
        /* The host may be gone by now: then the buffer is only forgotten. */
        st = LsaFreeReturnBuffer(buf);
        CHECK(st == STATUS_SUCCESS || st == STATUS_PORT_DISCONNECTED);
        _exit(0);
}

static void wait_sleeping(void)
{
        int64_t end = tu_now_ms() + RUN_S * 1000;
        for (;;) {
                char *log = tu_slurp(g_tp_log);
                bool found = strstr(log, "sleeping " TP_NAME_OK) != NULL;
                free(log);
                if (found)
                        return;
                if (tu_now_ms() > end)
                        fail_msg("the package never started its call");
                tu_sleep_ms(5);
        }
}

/* SIGTERM during a call: the call finishes and is answered, then lsashmd
 * stops as ever (packages shut down, exit 0). */
static void test_lsashmd_stop_waits_for_calls(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || !need("test packages", test_package_dir()))
                skip();
        char ok[512];
        test_package(ok, sizeof(ok), "ok");
        const char *pkgs[] = { ok, NULL };
        unlink(g_tp_log);
        struct daemon *d = &g_daemon;
        daemon_start(d, "stop-waits", pkgs);
        pid_t client = client_sleep_spawn(d->sock, 1500);
        wait_sleeping();
        int status = daemon_stop(d, SIGTERM);
        char *err = tu_slurp(d->err);
        expect_exit(status, 0, "lsashmd stopped during a call", "", err);
        assert_null(strstr(err, "still running"));
        free(err);
        char why[96];
        int cs = tu_wait(client, RUN_S, NULL);
        if (!tu_exited_with(cs, 0))
                fail_msg("the client whose call was in flight %s", tu_describe_status(cs, why, sizeof(why)));
        char *log = tu_slurp(g_tp_log);
        assert_int_equal(count_lines_with(log, "shutdown " TP_NAME_OK), 1);
        free(log);
}

/* SIGTERM during a call that does not end: lsashmd waits 5 s, says so,
 * and exits anyway; the client learns the host is gone. */
static void test_lsashmd_stop_is_bounded(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || !need("test packages", test_package_dir()))
                skip();
        char ok[512];
        test_package(ok, sizeof(ok), "ok");
        const char *pkgs[] = { ok, NULL };
        unlink(g_tp_log);
        struct daemon *d = &g_daemon;
        daemon_start(d, "stop-bounded", pkgs);
        pid_t client = client_sleep_spawn(d->sock, 60000);
        wait_sleeping();
        int64_t t0 = tu_now_ms();
        int status = daemon_stop(d, SIGTERM);
        int64_t took = tu_now_ms() - t0;
        char *err = tu_slurp(d->err);
        expect_exit(status, 0, "lsashmd stopped during an endless call", "", err);
        if (!strstr(err, "1 call still running after 5000 ms")) {
                print_message("lsashmd stderr:\n%s\n", err);
                fail_msg("no line about the call left running");
        }
        free(err);
        assert_true(took >= 4500);
        assert_true(took < 30000);
        struct stat st;
        assert_int_equal(lstat(d->sock, &st), -1);
        char why[96];
        int cs = tu_wait(client, RUN_S, NULL);
        if (!tu_exited_with(cs, 3))
                fail_msg("the client whose call was cut off %s", tu_describe_status(cs, why, sizeof(why)));
}

static void daemon_start_conf(struct daemon *d, const char *name, const char *conf, const char *const *packages)
{
        /* daemon_start passes g_empty_conf: lend it this name meanwhile. */
        char keep[sizeof(g_empty_conf)];
        memcpy(keep, g_empty_conf, sizeof(keep));
        snprintf(g_empty_conf, sizeof(g_empty_conf), "%s", conf);
        daemon_start(d, name, packages);
        memcpy(g_empty_conf, keep, sizeof(keep));
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_true(fputs(text, f) >= 0);
        assert_int_equal(fclose(f), 0);
}

/* Wait until the daemon's stderr holds needle (true) or timeout_s passes. */
static bool log_wait(const struct daemon *d, const char *needle, int timeout_s)
{
        int64_t end = tu_now_ms() + timeout_s * 1000;
        do {
                char *text = tu_slurp(d->err);
                bool found = strstr(text, needle) != NULL;
                free(text);
                if (found)
                        return true;
                tu_sleep_ms(20);
        } while (tu_now_ms() < end);
        return false;
}

static void expect_log(const struct daemon *d, const char *needle)
{
        if (log_wait(d, needle, RUN_S))
                return;
        char *text = tu_slurp(d->err);
        print_message("lsashmd stderr:\n%s\n", text);
        free(text);
        fail_msg("lsashmd never logged '%s'", needle);
}

static bool all_bytes(const volatile UCHAR *p, size_t len, UCHAR v)
{
        for (size_t i = 0; i < len; i++)
                if (p[i] != v)
                        return false;
        return true;
}

/* A client of TestCrash: takes a secret back in its return buffer and maps
 * the package's section holding another, keeps both mapped, makes the
 * package crash lsashmd (how: TC_CRASH_*), then reads both again: zeros.
 * Exit 0 when so. */
static pid_t client_crash_spawn(const char *sock, ULONG how)
{
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid != 0)
                return pid;
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        setenv("LSASHM_SOCKET", sock, 1);
        HANDLE h = NULL;
        CHECK(LsaConnectUntrusted(&h) == STATUS_SUCCESS);
        CHAR pkg[] = TC_NAME;
        LSA_STRING ps = { sizeof(pkg) - 1, sizeof(pkg), pkg };
        ULONG id;
        CHECK(LsaLookupAuthenticationPackage(h, &ps, &id) == STATUS_SUCCESS);
        struct {
                TC_REQUEST m;
                UCHAR secret[3000];
        } s;
        s.m = (TC_REQUEST){ .MessageType = TcSecret };
        memset(s.secret, 0x5C, sizeof(s.secret));
        PVOID buf = NULL;
        ULONG len = 0;
        NTSTATUS proto;
        CHECK(LsaCallAuthenticationPackage(h, id, &s, sizeof(s), &buf, &len, &proto) == STATUS_SUCCESS);
        CHECK(buf && len == sizeof(s.secret) && all_bytes(buf, len, 0x5C));
        TC_REQUEST q = { .MessageType = TcSection };
        PVOID rbuf = NULL;
        ULONG rlen = 0;
        CHECK(LsaCallAuthenticationPackage(h, id, &q, sizeof(q), &rbuf, &rlen, &proto) == STATUS_SUCCESS);
        CHECK(rbuf && rlen == sizeof(TC_SECTION_REPLY));
        TC_SECTION_REPLY r;
        memcpy(&r, rbuf, sizeof(r));
        PVOID view = NULL;
        ULONG view_size = 0;
        CHECK(LsashmMapSection(h, r.SectionId, &view, &view_size) == STATUS_SUCCESS);
        CHECK(view_size >= r.SecretOffset + TC_SECRET_LENGTH);
        const UCHAR *secret = (const UCHAR *)view + r.SecretOffset;
        CHECK(all_bytes(secret, TC_SECRET_LENGTH, TC_SECRET_BYTE));
        /* The call never returns from the package: it ends when lsashmd is
         * gone, and lsashmd wipes before it goes. */
        TC_REQUEST crash = { .MessageType = TcCrash, .Arg = how };
        PVOID none = NULL;
        ULONG none_len = 0;
        CHECK(LsaCallAuthenticationPackage(h, id, &crash, sizeof(crash), &none, &none_len, &proto) !=
              STATUS_SUCCESS);
        CHECK(all_bytes(buf, len, 0));
        CHECK(all_bytes(rbuf, rlen, 0));
        CHECK(all_bytes(secret, TC_SECRET_LENGTH, 0));
        _exit(0);
}

static void crash_and_check(const char *name, ULONG how, int sig, const char *line)
{
        if (!need("lsashmd", lsashmd_path()) || !need("test packages", test_package_dir()))
                skip();
        char crash[512];
        test_package(crash, sizeof(crash), "crash");
        const char *pkgs[] = { crash, NULL };
        struct daemon *d = &g_daemon;
        daemon_start(d, name, pkgs);
        int status = tu_wait(client_crash_spawn(d->sock, how), RUN_S, NULL);
        char why[96];
        int dstatus = tu_wait(d->pid, RUN_S, NULL);
        d->pid = -1;
        char *err = tu_slurp(d->err);
        if (!tu_exited_with(status, 0)) {
                print_message("lsashmd stderr:\n%s\n", err);
                fail_msg("client of a crashing package %s", tu_describe_status(status, why, sizeof(why)));
        }
        /* It dies of the package's signal, as without the wipe, so that a
         * core and systemd's "signal=" still show the crash. Under
         * ThreadSanitizer the runtime's own handler takes the re-raised
         * signal and exits with 128 + its number instead. */
        bool tsan_death = TSAN_BUILD && dstatus != -1 && WIFEXITED(dstatus) && WEXITSTATUS(dstatus) == 128 + sig;
        if (!tsan_death && (dstatus == -1 || !WIFSIGNALED(dstatus) || WTERMSIG(dstatus) != sig)) {
                print_message("lsashmd stderr:\n%s\n", err);
                fail_msg("lsashmd %s, expected to die of signal %d", tu_describe_status(dstatus, why, sizeof(why)),
                         sig);
        }
        if (!strstr(err, line)) {
                print_message("lsashmd stderr:\n%s\n", err);
                fail_msg("no line '%s'", line);
        }
        free(err);
}

/* A package's stray store: lsashmd zeroes the client's return buffer, its
 * reply section and the package's shared section before it dies of SIGSEGV,
 * and names the package and the entry point. */
static void test_lsashmd_crash_wipes_secrets_segv(void **state)
{
        (void)state;
        crash_and_check("crash-segv", TC_CRASH_FAULT, SIGSEGV,
                        "lsashmd: SIGSEGV in package TestCrash, entry point CallPackageUntrusted; wiped ");
}

/* The same for abort() (what glibc does on heap corruption). */
static void test_lsashmd_crash_wipes_secrets_abort(void **state)
{
        (void)state;
        crash_and_check("crash-abort", TC_CRASH_ABORT, SIGABRT,
                        "lsashmd: SIGABRT in package TestCrash, entry point CallPackageUntrusted; wiped ");
}

/* As nobody (and nogroup), LsaRegisterLogonProcess: its status as the exit
 * code, 0 for STATUS_SUCCESS, 1 otherwise. */
static int nobody_register(const char *sock)
{
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                setenv("LSASHM_SOCKET", sock, 1);
                tu_become(&(struct tu_creds){ .uid = NOBODY, .gid = NOBODY });
                CHAR name[] = "test-lsashmd";
                LSA_STRING s = { sizeof(name) - 1, sizeof(name), name };
                HANDLE h = NULL;
                LSA_OPERATIONAL_MODE mode;
                NTSTATUS st = LsaRegisterLogonProcess(&s, &h, &mode);
                _exit(st == STATUS_SUCCESS ? 0 : 1);
        }
        int status = tu_wait(pid, RUN_S, NULL);
        assert_true(status != -1 && WIFEXITED(status));
        return WEXITSTATUS(status);
}

/* SIGHUP reloads: a logon-group added to the file lets its members register
 * at once; a file with an error is refused with its file:line and the one
 * in use kept; a changed socket is named as needing a restart. lsashmd
 * serves throughout. */
static void test_lsashmd_sighup_reloads(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || !need("test packages", test_package_dir()))
                skip();
        struct group *gr = getgrgid(NOBODY);
        if (!gr) {
                print_message("skipped: no group %u\n", NOBODY);
                skip();
        }
        char group[64];
        snprintf(group, sizeof(group), "%s", gr->gr_name);
        char ok[512], conf[100], text[512];
        test_package(ok, sizeof(ok), "ok");
        snprintf(conf, sizeof(conf), "%s/reload.conf", g_dir);
        write_file(conf, "max-connections 100\n");
        const char *pkgs[] = { ok, NULL };
        struct daemon *d = &g_daemon;
        daemon_start_conf(d, "reload", conf, pkgs);
        assert_int_equal(nobody_register(d->sock), 1);

        snprintf(text, sizeof(text), "max-connections 100\nmax-connections-per-uid 2\nlogon-group %s\n", group);
        write_file(conf, text);
        assert_int_equal(kill(d->pid, SIGHUP), 0);
        expect_log(d, "lsashmd: reloaded ");
        assert_int_equal(nobody_register(d->sock), 0);
        expect_client_echo(d->sock, false);

        /* The new limits reach the connection skeleton: two idle
         * connections of this uid fill a per-uid limit of 2, and a third
         * is refused until they go. */
        int idle[2];
        for (int i = 0; i < 2; i++) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                assert_true(strlen(d->sock) < sizeof(sa.sun_path));
                memcpy(sa.sun_path, d->sock, strlen(d->sock) + 1);
                idle[i] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                assert_true(idle[i] >= 0);
                assert_int_equal(connect(idle[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
        }
        tu_sleep_ms(300); /* accepted and counted */
        int refused = tu_wait(client_echo_spawn(d->sock, false), RUN_S, NULL);
        assert_false(tu_exited_with(refused, 0));
        close(idle[0]);
        close(idle[1]);
        tu_sleep_ms(300);
        expect_client_echo(d->sock, false);

        /* Broken: the old configuration stays, logon-group included. */
        write_file(conf, "max-connections 100\nno-such-directive 1\n");
        assert_int_equal(kill(d->pid, SIGHUP), 0);
        expect_log(d, "lsashmd: reload refused");
        char where[200];
        snprintf(where, sizeof(where), "%s:2:", conf);
        expect_log(d, where);
        assert_int_equal(nobody_register(d->sock), 0);

        /* What cannot change while running is said so, and the rest is
         * applied: the group is gone again. */
        write_file(conf, "socket-mode 0600\n");
        assert_int_equal(kill(d->pid, SIGHUP), 0);
        expect_log(d, "lsashmd: reload: socket-mode changed in");
        expect_log(d, "needs a restart");
        assert_int_equal(nobody_register(d->sock), 1);
        expect_client_echo(d->sock, true);

        int status = daemon_stop(d, SIGTERM);
        char *err = tu_slurp(d->err);
        expect_exit(status, 0, "lsashmd after reloads and SIGTERM", "", err);
        assert_int_equal(count_lines_with(err, "lsashmd: reloaded "), 2);
        free(err);
}

/* SIGUSR1 logs a status line, SIGUSR2 and SIGPIPE are ignored: none of them
 * stops lsashmd. SIGQUIT is a clean stop like SIGTERM: packages shut down,
 * exit 0. */
static void test_lsashmd_usr_signals_do_not_kill(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || !need("test packages", test_package_dir()))
                skip();
        char ok[512];
        test_package(ok, sizeof(ok), "ok");
        const char *pkgs[] = { ok, NULL };
        struct daemon *d = &g_daemon;
        unlink(g_tp_log);
        daemon_start(d, "usr", pkgs);
        assert_int_equal(kill(d->pid, SIGUSR1), 0);
        expect_log(d, "lsashmd: status: serving 1 package");
        assert_int_equal(kill(d->pid, SIGUSR2), 0);
        assert_int_equal(kill(d->pid, SIGPIPE), 0);
        tu_sleep_ms(200);
        expect_client_echo(d->sock, false);
        int status = daemon_stop(d, SIGQUIT);
        char *err = tu_slurp(d->err);
        expect_exit(status, 0, "lsashmd after SIGQUIT", "", err);
        free(err);
        char *log = tu_slurp(g_tp_log);
        assert_int_equal(count_lines_with(log, "shutdown " TP_NAME_OK), 1);
        free(log);
}

/* lsashmd needs no privilege: started as a uid of its own with no
 * capability (as lsashmd.service runs it), it serves root's untrusted and
 * logon-process connections, refuses nobody's logon registration, and stops
 * cleanly. */
static void test_lsashmd_runs_unprivileged(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || !need("test packages", test_package_dir()))
                skip();
        const uid_t daemon_uid = 65533;
        char ok_built[512], ok[512], lsashmd[512], home[80];
        test_package(ok_built, sizeof(ok_built), "ok");
        /* The build tree may be closed to other users: copies in g_dir. */
        copy_for_everyone(ok_built, "test-pkg-ok.so", ok, sizeof(ok));
        copy_for_everyone(lsashmd_path(), "lsashmd", lsashmd, sizeof(lsashmd));
        snprintf(home, sizeof(home), "%s/unprivileged", g_dir);
        assert_int_equal(mkdir(home, 0755), 0);
        assert_int_equal(chown(home, daemon_uid, daemon_uid), 0);

        struct daemon *d = &g_daemon;
        memset(d, 0, sizeof(*d));
        snprintf(d->sock, sizeof(d->sock), "%s/lsashmd.sock", home);
        snprintf(d->notify, sizeof(d->notify), "%s/unprivileged.notify", g_dir);
        snprintf(d->err, sizeof(d->err), "%s/unprivileged.err", g_dir);
        d->notify_fd = notify_socket(d->notify);
        assert_int_equal(chmod(d->notify, 0666), 0);
        char notify_env[160];
        snprintf(notify_env, sizeof(notify_env), "NOTIFY_SOCKET=%.127s", d->notify);
        const char *env[] = { notify_env, NULL };
        char *argv[] = { lsashmd, "--config", g_empty_conf, "--socket", d->sock, "--package", ok, NULL };
        d->pid = spawn(argv, NULL, d->err, env, &(struct tu_creds){ .uid = daemon_uid, .gid = daemon_uid });
        if (!tu_notify_wait_log(d->notify_fd, "READY=1", START_S * 1000, d->notes, sizeof(d->notes))) {
                char *err = tu_slurp(d->err);
                print_message("lsashmd stderr:\n%s\n", err);
                free(err);
                fail_msg("unprivileged lsashmd did not say READY=1 in %d s", START_S);
        }
        /* No capability at all, effective or permitted. */
        char status_path[64];
        snprintf(status_path, sizeof(status_path), "/proc/%d/status", (int)d->pid);
        char *status_text = tu_slurp(status_path);
        assert_non_null(strstr(status_text, "CapEff:\t0000000000000000"));
        assert_non_null(strstr(status_text, "CapPrm:\t0000000000000000"));
        free(status_text);

        expect_client_echo(d->sock, false);
        expect_client_echo(d->sock, true);
        assert_int_equal(nobody_register(d->sock), 1);

        int status = daemon_stop(d, SIGTERM);
        char *err = tu_slurp(d->err);
        expect_exit(status, 0, "unprivileged lsashmd after SIGTERM", "", err);
        free(err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_lsashmd_skips_bad_package_and_stops_on_sigterm, teardown),
                cmocka_unit_test_teardown(test_lsashmd_stops_on_sigint, teardown),
                cmocka_unit_test_teardown(test_lsashmd_sd_notify_ready, teardown),
                cmocka_unit_test_teardown(test_lsashmd_records_example, teardown),
                cmocka_unit_test_teardown(test_lsashm_cli_status, teardown),
                cmocka_unit_test(test_lsashm_cli_status_silent_host_times_out),
                cmocka_unit_test(test_lsashm_cli_sessions),
                cmocka_unit_test_teardown(test_lsashmd_socket_activation, teardown),
                cmocka_unit_test_teardown(test_lsashmd_out_of_descriptors, teardown),
                cmocka_unit_test_teardown(test_lsashmd_crash_wipes_secrets_segv, teardown),
                cmocka_unit_test_teardown(test_lsashmd_crash_wipes_secrets_abort, teardown),
                cmocka_unit_test_teardown(test_lsashmd_sighup_reloads, teardown),
                cmocka_unit_test_teardown(test_lsashmd_usr_signals_do_not_kill, teardown),
                cmocka_unit_test_teardown(test_lsashmd_runs_unprivileged, teardown),
                cmocka_unit_test_teardown(test_lsashmd_stop_waits_for_calls, teardown),
                cmocka_unit_test_teardown(test_lsashmd_stop_is_bounded, teardown),
        };
        if (geteuid() != 0) {
                /* Running the clients as nobody, and trusted connections,
                 * need root. */
                printf("test-lsashmd: skipped: needs root\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
