/* SPDX-License-Identifier: MIT */
/*
 * lsashmd as an administrator runs it, as a process: which configuration it
 * read (the file and its .d drop-ins), packages' own settings read through
 * LsashmGetPackageSetting and replaced on SIGHUP, require-packages, syslog
 * priorities on its lines when stderr is the journal (and not otherwise),
 * and the version, uptime, configuration and limits in `lsashm status`.
 *
 * Programs come from the build (compile definitions) or the environment
 * (LSASHMD, LSASHM_CLI, TEST_PACKAGE_DIR), as in test-lsashmd.c. Root only
 * (exit 77 otherwise): `lsashm status` needs an admin.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsashm/ntsecapi.h"
#include "lsashm/ntsecpkg.h" /* STATUS_NO_MORE_ENTRIES, with LsashmGetPackageSetting */
#include "packages/test-package-protocol.h"
#include "packages/test-package-settings.h"
#include "test-util.h"

#ifndef LSASHMD_PATH
#define LSASHMD_PATH NULL
#endif
#ifndef LSASHM_CLI_PATH
#define LSASHM_CLI_PATH NULL
#endif
#ifndef TEST_PACKAGE_DIR
#define TEST_PACKAGE_DIR NULL
#endif

#define START_S 30
#define RUN_S   60

static char g_dir[64];

static const char *program(const char *env, const char *built)
{
        const char *p = getenv(env);
        if (p && *p)
                return p;
        return built && *built ? built : NULL;
}

static const char *lsashmd_path(void)
{
        return program("LSASHMD", LSASHMD_PATH);
}
static const char *cli_path(void)
{
        return program("LSASHM_CLI", LSASHM_CLI_PATH);
}
static const char *package_dir(void)
{
        return program("TEST_PACKAGE_DIR", TEST_PACKAGE_DIR);
}

static bool ready_to_run(void)
{
        const char *what[] = { lsashmd_path(), cli_path(), package_dir() };
        for (size_t i = 0; i < 3; i++) {
                if (!what[i] || access(what[i], R_OK) != 0) {
                        print_message("skipped: lsashmd, lsashm or the test packages not available\n");
                        return false;
                }
        }
        return true;
}

static void package(char *out, size_t len, const char *variant)
{
        snprintf(out, len, "%s/test-pkg-%s.so", package_dir(), variant);
}

static void write_file(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void write_file(const char *path, const char *fmt, ...)
{
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        va_list ap;
        va_start(ap, fmt);
        assert_true(vfprintf(f, fmt, ap) >= 0);
        va_end(ap);
        assert_int_equal(fclose(f), 0);
}

/* ---- one daemon at a time ---- */

struct daemon {
        pid_t pid;
        char sock[100];
        char err[128];
};

static struct daemon g_daemon = { .pid = -1 };

/* lsashmd --socket SOCK ARGS... with env added; its pid, once it said
 * READY=1, or -1 when it exited first (its wait status in *ret_status). */
static pid_t daemon_start(struct daemon *d, const char *name, const char *const *args, const char *const *env,
                          int *ret_status)
{
        snprintf(d->sock, sizeof(d->sock), "%s/%s.sock", g_dir, name);
        snprintf(d->err, sizeof(d->err), "%s/%s.err", g_dir, name);
        char notify[128], notify_env[160];
        snprintf(notify, sizeof(notify), "%s/%s.notify", g_dir, name);
        snprintf(notify_env, sizeof(notify_env), "NOTIFY_SOCKET=%s", notify);
        int ns = tu_notify_socket(notify);
        assert_true(ns >= 0);
        char *argv[32];
        int n = 0;
        argv[n++] = (char *)(uintptr_t)lsashmd_path();
        argv[n++] = "--socket";
        argv[n++] = d->sock;
        for (; args && *args && n < 30; args++)
                argv[n++] = (char *)(uintptr_t)*args;
        argv[n] = NULL;
        const char *envs[8] = { notify_env };
        for (int i = 1; env && *env && i < 7; env++)
                envs[i++] = *env;
        d->pid = tu_spawn(argv, NULL, d->err, envs);
        assert_true(d->pid > 0);
        /* READY=1, or the daemon's end: whichever comes first. */
        int64_t end = tu_now_ms() + START_S * 1000;
        while (tu_now_ms() < end) {
                if (tu_notify_wait(ns, "READY=1", 50)) {
                        close(ns);
                        return d->pid;
                }
                int status;
                if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
                        d->pid = -1;
                        close(ns);
                        *ret_status = status;
                        return -1;
                }
        }
        close(ns);
        fail_msg("lsashmd neither said READY=1 nor exited in %d s", START_S);
        return -1;
}

static void daemon_ready(struct daemon *d, const char *name, const char *const *args, const char *const *env)
{
        int status = 0;
        if (daemon_start(d, name, args, env, &status) < 0) {
                char *err = tu_slurp(d->err);
                char why[96];
                print_message("lsashmd stderr:\n%s\n", err);
                free(err);
                fail_msg("lsashmd %s before READY=1", tu_describe_status(status, why, sizeof(why)));
        }
}

static int daemon_stop(struct daemon *d)
{
        kill(d->pid, SIGTERM);
        int status = tu_wait(d->pid, RUN_S, NULL);
        d->pid = -1;
        return status;
}

static bool log_wait(const struct daemon *d, const char *needle)
{
        int64_t end = tu_now_ms() + RUN_S * 1000;
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
        if (log_wait(d, needle))
                return;
        char *text = tu_slurp(d->err);
        print_message("lsashmd stderr:\n%s\n", text);
        free(text);
        fail_msg("lsashmd never logged '%s'", needle);
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
        (void)state;
        signal(SIGPIPE, SIG_IGN);
        snprintf(g_dir, sizeof(g_dir), "/tmp/lsashm-test-admin-XXXXXX");
        if (!mkdtemp(g_dir) || chmod(g_dir, 0755) < 0)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        if (g_daemon.pid > 0) {
                kill(g_daemon.pid, SIGKILL);
                tu_wait(g_daemon.pid, 10, NULL);
        }
        g_daemon.pid = -1;
        return 0;
}

static int group_teardown(void **state)
{
        teardown(state);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
        if (strncmp(g_dir, "/tmp/lsashm-test-admin-", 23) == 0 && system(cmd) != 0)
                return -1;
        return 0;
}

/* ---- a TestSettings client, in a child ---- */

struct ask {
        const char *key;
        ULONG index;
        ULONG value_size;
        TS_MESSAGE_TYPE type;
};

/* LsashmGetPackageSetting's answer inside lsashmd, through TestSettings. */
static TS_REPLY settings_ask(const char *sock, struct ask a)
{
        int pipefd[2];
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                setenv("LSASHM_SOCKET", sock, 1);
                HANDLE h = NULL;
                CHILD_CHECK(LsaConnectUntrusted(&h) == STATUS_SUCCESS);
                CHAR name[] = TS_NAME;
                LSA_STRING s = { sizeof(name) - 1, sizeof(name), name };
                ULONG id;
                CHILD_CHECK(LsaLookupAuthenticationPackage(h, &s, &id) == STATUS_SUCCESS);
                TS_REQUEST m = { .MessageType = a.type ? (ULONG)a.type : TsGet,
                                 .Index = a.index,
                                 .ValueSize = a.value_size };
                snprintf(m.Key, sizeof(m.Key), "%s", a.key);
                PVOID buf = NULL;
                ULONG len = 0;
                NTSTATUS proto;
                CHILD_CHECK(LsaCallAuthenticationPackage(h, id, &m, sizeof(m), &buf, &len, &proto) == STATUS_SUCCESS);
                CHILD_CHECK(len == sizeof(TS_REPLY));
                CHILD_CHECK(tu_write_all(pipefd[1], buf, sizeof(TS_REPLY)));
                LsaFreeReturnBuffer(buf);
                LsaDeregisterLogonProcess(h);
                _exit(0);
        }
        close(pipefd[1]);
        TS_REPLY r;
        memset(&r, 0, sizeof(r));
        bool got = tu_read_all(pipefd[0], &r, sizeof(r));
        close(pipefd[0]);
        int status = tu_wait(pid, RUN_S, NULL);
        assert_true(tu_exited_with(status, 0));
        assert_true(got);
        return r;
}

static void expect_setting(const char *sock, const char *key, ULONG index, const char *value)
{
        TS_REPLY r = settings_ask(sock, (struct ask){ key, index, TS_MAX_VALUE, TsGet });
        if (r.Status != STATUS_SUCCESS)
                fail_msg("%s[%u]: status 0x%08X, expected '%s'", key, (unsigned)index, (unsigned)r.Status, value);
        assert_string_equal(r.Value, value);
        assert_int_equal(r.ValueLength, strlen(value));
}

/* ---- tests ---- */

/* The file given and its drop-in directory are read, in that order, and
 * lsashmd says which; a --config that does not exist stops it (exit 1). */
static void test_lsashmd_logs_configuration_read(void **state)
{
        (void)state;
        if (!ready_to_run())
                skip();
        char conf[128], dropins[136], one[160], ignored[160], ok[512];
        snprintf(conf, sizeof(conf), "%s/read.conf", g_dir);
        snprintf(dropins, sizeof(dropins), "%s.d", conf);
        snprintf(one, sizeof(one), "%s/10-limits.conf", dropins);
        snprintf(ignored, sizeof(ignored), "%s/20-ignored.conf.bak", dropins);
        package(ok, sizeof(ok), "ok");
        write_file(conf, "max-connections 77\n");
        assert_int_equal(mkdir(dropins, 0755), 0);
        write_file(one, "package %s\nmax-connections-per-uid 9\n", ok);
        write_file(ignored, "not a directive\n");
        const char *args[] = { "--config", conf, NULL };
        struct daemon *d = &g_daemon;
        daemon_ready(d, "read", args, NULL);
        char want[400];
        snprintf(want, sizeof(want), "configuration: read %s, and 1 file of %s", conf, dropins);
        expect_log(d, want);
        /* The drop-in's package line loaded the package. */
        expect_log(d, "loaded package " TP_NAME_OK);
        /* Both files' limits are in force: lsashm status says so. */
        char *argv[] = { (char *)(uintptr_t)cli_path(), "--socket", d->sock, "status", NULL };
        char *out, *err;
        int status = tu_run_program(argv, NULL, NULL, RUN_S, g_dir, &out, &err);
        assert_true(tu_exited_with(status, 0));
        if (!strstr(out, "max-connections 77, max-connections-per-uid 9")) {
                print_message("lsashm status:\n%s\n", out);
                fail_msg("the limits of the file and its drop-in are not both in the report");
        }
        free(out);
        free(err);
        assert_true(tu_exited_with(daemon_stop(d), 0));

        /* A file asked for that is not there: an error, not the defaults. */
        char missing[160];
        snprintf(missing, sizeof(missing), "%s/missing.conf", g_dir);
        const char *bad[] = { "--config", missing, NULL };
        status = 0;
        assert_int_equal(daemon_start(d, "missing", bad, NULL, &status), -1);
        assert_true(tu_exited_with(status, 1));
        char *text = tu_slurp(d->err);
        assert_non_null(strstr(text, "missing.conf: No such file or directory"));
        free(text);
}

/* TestSettings reads its lines, single and multi-valued, from the file and
 * a drop-in, at SpInitialize and later; every status of the call; SIGHUP
 * replaces the values. */
static void test_lsashmd_package_settings(void **state)
{
        (void)state;
        if (!ready_to_run())
                skip();
        char conf[128], dropins[136], extra[160], pkg[512];
        snprintf(conf, sizeof(conf), "%s/settings.conf", g_dir);
        snprintf(dropins, sizeof(dropins), "%s.d", conf);
        snprintf(extra, sizeof(extra), "%s/nsscache-style.conf", dropins);
        package(pkg, sizeof(pkg), "settings");
        write_file(conf,
                   "package %s\n"
                   "test-pkg-settings.at-init  ready at start  # a comment\n"
                   "test-pkg-settings.passwd /var/lib/cache/passwd\n"
                   "other-package.passwd /not/ours\n",
                   pkg);
        assert_int_equal(mkdir(dropins, 0755), 0);
        write_file(extra,
                   "test-pkg-settings.passwd /var/lib/cache/passwd.extra\n"
                   "test-pkg-settings.group /var/lib/cache/group\n");
        const char *args[] = { "--config", conf, NULL };
        struct daemon *d = &g_daemon;
        daemon_ready(d, "settings", args, NULL);

        /* Read in SpInitialize already; blanks inside a value kept. */
        TS_REPLY r = settings_ask(d->sock, (struct ask){ "", 0, 0, TsAtInit });
        assert_int_equal(r.Status, STATUS_SUCCESS);
        assert_string_equal(r.Value, "ready at start");
        /* A multi-valued key, in file order across files; its end. */
        expect_setting(d->sock, "passwd", 0, "/var/lib/cache/passwd");
        expect_setting(d->sock, "passwd", 1, "/var/lib/cache/passwd.extra");
        expect_setting(d->sock, "group", 0, "/var/lib/cache/group");
        r = settings_ask(d->sock, (struct ask){ "passwd", 2, TS_MAX_VALUE, TsGet });
        assert_int_equal(r.Status, STATUS_NO_MORE_ENTRIES);
        /* Another package's keys are not ours; unknown keys are not found. */
        r = settings_ask(d->sock, (struct ask){ "shadow", 0, TS_MAX_VALUE, TsGet });
        assert_int_equal(r.Status, STATUS_OBJECT_NAME_NOT_FOUND);
        /* Too small a buffer: the size needed, NUL included, nothing written. */
        r = settings_ask(d->sock, (struct ask){ "group", 0, 5, TsGet });
        assert_int_equal(r.Status, STATUS_BUFFER_TOO_SMALL);
        assert_int_equal(r.ValueLength, strlen("/var/lib/cache/group") + 1);
        assert_int_equal(r.Value[0], 0);
        r = settings_ask(d->sock, (struct ask){ "group", 0, (ULONG)strlen("/var/lib/cache/group"), TsGet });
        assert_int_equal(r.Status, STATUS_BUFFER_TOO_SMALL);
        /* Bad arguments. */
        r = settings_ask(d->sock, (struct ask){ "", 0, TS_MAX_VALUE, TsGet });
        assert_int_equal(r.Status, STATUS_INVALID_PARAMETER);

        /* SIGHUP: the new values from then on. */
        write_file(extra, "test-pkg-settings.group /srv/group\n");
        kill(d->pid, SIGHUP);
        expect_log(d, "reload: 4 package settings in use");
        expect_setting(d->sock, "group", 0, "/srv/group");
        expect_setting(d->sock, "passwd", 0, "/var/lib/cache/passwd");
        r = settings_ask(d->sock, (struct ask){ "passwd", 1, TS_MAX_VALUE, TsGet });
        assert_int_equal(r.Status, STATUS_NO_MORE_ENTRIES);
        /* A file with a mistake changes nothing. */
        write_file(extra, "test-pkg-settings.group\n");
        kill(d->pid, SIGHUP);
        expect_log(d, "reload refused");
        expect_setting(d->sock, "group", 0, "/srv/group");
        assert_true(tu_exited_with(daemon_stop(d), 0));
}

/* require-packages: a package that does not load stops lsashmd with exit
 * status 3 before READY=1, from the file or from --require-packages; with
 * every package loaded it serves. */
static void test_lsashmd_require_packages(void **state)
{
        (void)state;
        if (!ready_to_run())
                skip();
        char conf[128], ok[512], bad[512];
        snprintf(conf, sizeof(conf), "%s/require.conf", g_dir);
        package(ok, sizeof(ok), "ok");
        package(bad, sizeof(bad), "init-fails");
        write_file(conf, "require-packages yes\npackage %s\npackage %s\n", ok, bad);
        struct daemon *d = &g_daemon;
        const char *args[] = { "--config", conf, NULL };
        int status = 0;
        assert_int_equal(daemon_start(d, "require-file", args, NULL, &status), -1);
        assert_true(tu_exited_with(status, 3));
        char *text = tu_slurp(d->err);
        assert_non_null(strstr(text, "require-packages: 1 of 2 packages did not load: exiting"));
        free(text);
        /* Its socket is gone with it: clients see no lsashmd. */
        assert_int_equal(access(d->sock, F_OK), -1);

        char empty[128];
        snprintf(empty, sizeof(empty), "%s/require-empty.conf", g_dir);
        write_file(empty, "# nothing\n");
        const char *cli[] = { "--config", empty, "--require-packages", "--package", bad, NULL };
        assert_int_equal(daemon_start(d, "require-cli", cli, NULL, &status), -1);
        assert_true(tu_exited_with(status, 3));

        /* Everything there: it serves. */
        write_file(conf, "require-packages yes\npackage %s\n", ok);
        daemon_ready(d, "require-ok", args, NULL);
        assert_true(tu_exited_with(daemon_stop(d), 0));
}

/* Journal: every line has its priority, errors <3>; else no line has one. */
__attribute__((noinline)) static bool priorities_as_expected(const char *text, bool journal)
{
        if (!journal)
                return !strchr(text, '<') && strstr(text, "lsashmd: configuration: read ");
        const char *refused = strstr(text, "<3>lsashmd: package ");
        if (!refused || !strstr(refused, "not loaded") || !strstr(text, "<6>lsashmd: configuration: read ") ||
            !strstr(text, "<6>lsashmd: loaded package " TP_NAME_OK) || !strstr(text, "<6>lsashmd: SIGTERM: stopping"))
                return false;
        for (const char *line = text; *line;) {
                if (line[0] != '<' || line[1] < '0' || line[1] > '7' || line[2] != '>')
                        return false;
                const char *nl = strchr(line, '\n');
                line = nl ? nl + 1 : line + strlen(line);
        }
        return true;
}

/* With JOURNAL_STREAM naming its stderr, every line starts with its syslog
 * priority; errors are <3>, a package's LsashmLogMessage lines carry theirs
 * and its name. With JOURNAL_STREAM naming something else,
 * none does. */
static void test_lsashmd_journal_priorities(void **state)
{
        (void)state;
        if (!ready_to_run())
                skip();
        char conf[128], ok[512], bad[512], settings[512];
        snprintf(conf, sizeof(conf), "%s/journal.conf", g_dir);
        write_file(conf, "# nothing\n");
        package(ok, sizeof(ok), "ok");
        package(bad, sizeof(bad), "init-fails");
        package(settings, sizeof(settings), "settings");
        struct daemon *d = &g_daemon;
        for (int journal = 1; journal >= 0; journal--) {
                const char *name = journal ? "journal" : "not-journal";
                char err[128];
                snprintf(err, sizeof(err), "%s/%s.err", g_dir, name);
                /* The file tu_spawn truncates keeps its inode. */
                write_file(err, "%s", "");
                struct stat st;
                assert_int_equal(stat(err, &st), 0);
                char env[96];
                snprintf(env, sizeof(env), "JOURNAL_STREAM=%llu:%llu", (unsigned long long)st.st_dev,
                         (unsigned long long)st.st_ino + (journal ? 0 : 1));
                const char *envs[] = { env, NULL };
                const char *args[] = {
                        "--config", conf, "--package", ok, "--package", settings, "--package", bad, NULL
                };
                daemon_ready(d, name, args, envs);
                /* A package's own line, with a line break it may not forge
                 * another line with. */
                settings_ask(d->sock,
                             (struct ask){ journal ? "broken\n<0>forged" : "plain", LSASHM_LOG_ERROR, 0, TsLog });
                expect_log(d,
                           journal ? "<3>lsashmd: package " TS_NAME ": broken?<0>forged\n"
                                   : "\nlsashmd: package " TS_NAME ": plain\n");
                assert_true(tu_exited_with(daemon_stop(d), 0));
                char *text = tu_slurp(d->err);
                if (!priorities_as_expected(text, journal)) {
                        print_message("lsashmd stderr:\n%s\n", text);
                        fail_msg("%s", journal ? "lines without their priority" : "priorities outside the journal");
                }
                free(text);
        }
}

/* lsashm status shows the version, the uptime, the configuration file and
 * the limits (text and JSON); both programs say their version. */
static void test_lsashm_status_shows_the_daemon(void **state)
{
        (void)state;
        if (!ready_to_run())
                skip();
        char conf[128], ok[512];
        snprintf(conf, sizeof(conf), "%s/status.conf", g_dir);
        write_file(conf, "max-connections 100\nreply-max 128K\n");
        package(ok, sizeof(ok), "ok");
        const char *args[] = { "--config", conf, "--package", ok, NULL };
        struct daemon *d = &g_daemon;
        daemon_ready(d, "status", args, NULL);
        char *argv[] = { (char *)(uintptr_t)cli_path(), "--socket", d->sock, "status", NULL, NULL };
        char *out, *err;
        assert_true(tu_exited_with(tu_run_program(argv, NULL, NULL, RUN_S, g_dir, &out, &err), 0));
        char want[200];
        snprintf(want, sizeof(want), "Configuration: %s\n", conf);
        if (strncmp(out, "lsashmd " LSASHM_VERSION ", pid ", strlen("lsashmd " LSASHM_VERSION ", pid ")) ||
            !strstr(out, ", up 0d 00:00:") || !strstr(out, want) ||
            !strstr(out,
                    "Limits: max-connections 100, max-connections-per-uid 64, reserved-connections 32, "
                    "reply-max 131072, worker-threads ")) {
                print_message("lsashm status:\n%s\n", out);
                fail_msg("version, uptime, configuration or limits missing");
        }
        free(out);
        free(err);
        argv[4] = "--json";
        assert_true(tu_exited_with(tu_run_program(argv, NULL, NULL, RUN_S, g_dir, &out, &err), 0));
        snprintf(want, sizeof(want), "{\"daemon\":{\"version\":\"%s\",\"pid\":%d,", LSASHM_VERSION, (int)d->pid);
        assert_int_equal(strncmp(out, want, strlen(want)), 0);
        snprintf(want, sizeof(want), "\"config\":\"%s\",\"limits\":{\"max_connections\":100,", conf);
        assert_non_null(strstr(out, want));
        free(out);
        free(err);
        assert_true(tu_exited_with(daemon_stop(d), 0));

        char *v1[] = { (char *)(uintptr_t)cli_path(), "--version", NULL };
        assert_true(tu_exited_with(tu_run_program(v1, NULL, NULL, RUN_S, g_dir, &out, &err), 0));
        assert_string_equal(out, "lsashm " LSASHM_VERSION "\n");
        free(out);
        free(err);
        char *v2[] = { (char *)(uintptr_t)lsashmd_path(), "--version", NULL };
        assert_true(tu_exited_with(tu_run_program(v2, NULL, NULL, RUN_S, g_dir, &out, &err), 0));
        assert_string_equal(out, "lsashmd " LSASHM_VERSION "\n");
        free(out);
        free(err);
}

int main(void)
{
        if (geteuid() != 0) {
                printf("skipped: needs root (lsashm status is for admins)\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_lsashmd_logs_configuration_read, teardown),
                cmocka_unit_test_teardown(test_lsashmd_package_settings, teardown),
                cmocka_unit_test_teardown(test_lsashmd_require_packages, teardown),
                cmocka_unit_test_teardown(test_lsashmd_journal_priorities, teardown),
                cmocka_unit_test_teardown(test_lsashm_status_shows_the_daemon, teardown),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
