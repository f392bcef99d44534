/* SPDX-License-Identifier: MIT */
/*
 * The host's log (src/host/log.c): priorities taken from a line's "<N>",
 * "package NAME: " in front of a line logged while a package's entry point
 * runs, and "<N>" written to stderr only when JOURNAL_STREAM names it.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/host-internal.h"
#include "test-util.h"

static void test_log_priority_prefix(void **state)
{
        (void)state;
        const char *line = HOST_LOG_ERR "bad";
        assert_int_equal(host_log_priority(&line), 3);
        assert_string_equal(line, "bad");
        line = HOST_LOG_DEBUG "x";
        assert_int_equal(host_log_priority(&line), 7);
        /* No prefix, or not one: informational, nothing taken off. */
        line = "plain";
        assert_int_equal(host_log_priority(&line), 6);
        assert_string_equal(line, "plain");
        line = "<8>not a priority";
        assert_int_equal(host_log_priority(&line), 6);
        line = "<3";
        assert_int_equal(host_log_priority(&line), 6);
        line = "";
        assert_int_equal(host_log_priority(&line), 6);
}

static char g_line[700];

static void sink(void *ctx, const char *line)
{
        (void)ctx;
        snprintf(g_line, sizeof(g_line), "%s", line);
}

/* While a package's entry point runs, lines are said on its behalf. */
static void test_log_names_the_running_package(void **state)
{
        (void)state;
        struct host h;
        memset(&h, 0, sizeof(h));
        h.cfg.log = sink;
        host_logf(&h, HOST_LOG_WARNING "outside %d", 1);
        assert_string_equal(g_line, "outside 1");
        struct host_package *p = calloc(1, sizeof(*p));
        assert_non_null(p);
        snprintf(p->name, sizeof(p->name), "Kerberos");
        host_active_package = p;
        host_active_entry = "CallPackage";
        host_logf(&h, HOST_LOG_WARNING "something odd");
        assert_string_equal(g_line, "package Kerberos: something odd");
        /* A line that names a package already is left alone. */
        host_logf(&h, "package Other: its own line");
        assert_string_equal(g_line, "package Other: its own line");
        host_active_package = NULL;
        host_active_entry = NULL;
        free(p);
}

struct journal_case {
        const char *path;
        int offset; /* added to the inode: 0 names stderr, 1 another file */
};

/* In a child: stderr to a file, JOURNAL_STREAM as asked, two lines. */
static void log_child(void *arg)
{
        const struct journal_case *jc = arg;
        int fd = open(jc->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        CHILD_CHECK(fd >= 0 && dup2(fd, STDERR_FILENO) == STDERR_FILENO);
        struct stat st;
        CHILD_CHECK(fstat(STDERR_FILENO, &st) == 0);
        char env[96];
        snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino + (unsigned long long)jc->offset);
        setenv("JOURNAL_STREAM", env, 1);
        CHILD_CHECK(host_log_stderr_is_journal() == (jc->offset == 0));
        host_logf(NULL, HOST_LOG_ERR "an error");
        host_log_write(5, "Pkg", "a notice");
        _exit(0);
}

static void test_log_journal_prefix_only_on_the_journal(void **state)
{
        (void)state;
        char path[] = "/tmp/lsashm-test-host-log-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        struct journal_case jc = { path, 0 };
        char why[128];
        assert_int_equal(tu_run_child(log_child, &jc, NULL, 30, why, sizeof(why)), 0);
        char *text = tu_slurp(path);
        assert_string_equal(text, "<3>lsashmd: an error\n<5>lsashmd: package Pkg: a notice\n");
        free(text);
        jc.offset = 1;
        assert_int_equal(tu_run_child(log_child, &jc, NULL, 30, why, sizeof(why)), 0);
        text = tu_slurp(path);
        assert_string_equal(text, "lsashmd: an error\nlsashmd: package Pkg: a notice\n");
        free(text);
        unlink(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_log_priority_prefix),
                cmocka_unit_test(test_log_names_the_running_package),
                cmocka_unit_test(test_log_journal_prefix_only_on_the_journal),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
