/* SPDX-License-Identifier: MIT */
/* lsashmd.conf: every directive, every error, comments and whitespace. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "lsashmd/config.h"

#define NO_SUCH_GROUP "lsashm-test-no-such-group"

static int parse(const char *text, struct config *cfg, char *err)
{
        memset(cfg, 0, sizeof(*cfg));
        err[0] = '\0';
        return config_parse_string(text, cfg, err, 256);
}

/* text must fail to parse with -EINVAL and a message holding fragment. */
static void expect_error(const char *text, const char *fragment)
{
        struct config c;
        char err[256];
        int r = parse(text, &c, err);
        if (r != -EINVAL)
                fail_msg("'%s' parsed to %d, expected -EINVAL", text, r);
        if (!strstr(err, fragment))
                fail_msg("error '%s' does not mention '%s'", err, fragment);
        config_free(&c);
}

static void test_config_every_directive(void **state)
{
        (void)state;
        struct config c;
        char err[256];
        assert_int_equal(parse("socket /run/x/y.sock\n"
                               "socket-mode 0660\n"
                               "package /a.so\n"
                               "package /b.so\n"
                               "logon-group wheel\n"
                               "admin-group adm\n"
                               "reply-max 4M\n"
                               "max-connections 10\n"
                               "max-connections-per-uid 3\n"
                               "reserved-connections 8\n",
                               &c, err),
                         0);
        assert_string_equal(c.socket_path, "/run/x/y.sock");
        assert_int_equal(c.socket_mode, 0660);
        assert_int_equal(c.npackages, 2);
        assert_string_equal(c.packages[0], "/a.so");
        assert_string_equal(c.packages[1], "/b.so");
        assert_string_equal(c.logon_group, "wheel");
        assert_string_equal(c.admin_group, "adm");
        assert_int_equal(c.reply_max, 4u << 20);
        assert_int_equal(c.max_connections, 10);
        assert_int_equal(c.max_connections_per_uid, 3);
        assert_int_equal(c.reserved_connections, 8);
        assert_int_equal(c.logon_group_line, 5);
        assert_int_equal(c.admin_group_line, 6);
        assert_string_equal(c.source, "(string)");
        config_free(&c);
        assert_null(c.socket_path);
        assert_int_equal(c.npackages, 0);
}

static void test_config_empty_sets_nothing(void **state)
{
        (void)state;
        struct config c;
        char err[256];
        const char *texts[] = { "", "\n", "# only a comment\n", "   \t \n\n#\n", "\r\n" };
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
                assert_int_equal(parse(texts[i], &c, err), 0);
                assert_null(c.socket_path);
                assert_int_equal(c.socket_mode, 0);
                assert_int_equal(c.npackages, 0);
                assert_null(c.logon_group);
                assert_null(c.admin_group);
                assert_int_equal(c.reply_max, 0);
                assert_int_equal(c.max_connections, 0);
                assert_int_equal(c.max_connections_per_uid, 0);
                config_free(&c);
        }
}

static void test_config_comments_and_whitespace(void **state)
{
        (void)state;
        struct config c;
        char err[256];
        assert_int_equal(parse("# a comment\n"
                               "\n"
                               "   # an indented comment\n"
                               "socket /run/x/y.sock   # trailing comment\n"
                               "  socket-mode\t0660\t\n"
                               "\tpackage   /a.so#right after the value\n"
                               "package /b.so\r\n"        /* CRLF */
                               "max-connections 7",       /* no final newline */
                               &c, err),
                         0);
        assert_string_equal(c.socket_path, "/run/x/y.sock");
        assert_int_equal(c.socket_mode, 0660);
        assert_int_equal(c.npackages, 2);
        assert_string_equal(c.packages[0], "/a.so");
        assert_string_equal(c.packages[1], "/b.so");
        assert_int_equal(c.max_connections, 7);
        assert_int_equal(c.socket_line, 4);
        config_free(&c);
}

static void test_config_sizes_and_counts(void **state)
{
        (void)state;
        static const struct {
                const char *text;
                uint64_t reply_max;
        } sizes[] = {
                { "reply-max 64K\n", 65536 },         { "reply-max 64k\n", 65536 },
                { "reply-max 262144\n", 262144 },     { "reply-max 1M\n", 1u << 20 },
                { "reply-max 256M\n", 256u << 20 },   { "reply-max 268435456\n", 256u << 20 },
                { "reply-max 0064K\n", 65536 },
        };
        struct config c;
        char err[256];
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                assert_int_equal(parse(sizes[i].text, &c, err), 0);
                assert_int_equal(c.reply_max, sizes[i].reply_max);
                config_free(&c);
        }
        assert_int_equal(parse("max-connections 1\nmax-connections-per-uid 1000000\n", &c, err), 0);
        assert_int_equal(c.max_connections, 1);
        assert_int_equal(c.max_connections_per_uid, 1000000);
        config_free(&c);
        assert_int_equal(parse("socket-mode 1\n", &c, err), 0);
        assert_int_equal(c.socket_mode, 01);
        config_free(&c);
        assert_int_equal(parse("socket-mode 777\n", &c, err), 0);
        assert_int_equal(c.socket_mode, 0777);
        config_free(&c);
}

static void test_config_packages_in_order(void **state)
{
        (void)state;
        struct config c;
        char err[256];
        char text[CONFIG_MAX_PACKAGES * 24];
        size_t off = 0;
        for (int i = 0; i < CONFIG_MAX_PACKAGES; i++)
                off += (size_t)snprintf(text + off, sizeof(text) - off, "package /p%d.so\n", i);
        assert_int_equal(parse(text, &c, err), 0);
        assert_int_equal(c.npackages, CONFIG_MAX_PACKAGES);
        for (int i = 0; i < CONFIG_MAX_PACKAGES; i++) {
                char want[32];
                snprintf(want, sizeof(want), "/p%d.so", i);
                assert_string_equal(c.packages[i], want);
        }
        config_free(&c);
        /* One more is too many. */
        snprintf(text + off, sizeof(text) - off, "package /one-more.so\n");
        expect_error(text, ":65: more than 64 packages");
}

static void test_config_unknown_directive(void **state)
{
        (void)state;
        expect_error("frobnicate yes\n", "(string):1: unknown directive 'frobnicate'");
        expect_error("\n\nSocket /a\n", ":3: unknown directive 'Socket'");
        expect_error("socket_mode 0600\n", "unknown directive 'socket_mode'");
        expect_error("package\n", ":1: 'package' needs a value"); /* known, no value */
        expect_error("frobnicate\n", "unknown directive 'frobnicate'");
}

/* worker-threads and max-submit-size: their ranges, one each. */
static void test_config_workers_and_submit_size(void **state)
{
        (void)state;
        struct config c;
        char err[256];
        assert_int_equal(parse("worker-threads 8\nmax-submit-size 2M\n", &c, err), 0);
        assert_int_equal(c.worker_threads, 8);
        assert_int_equal(c.max_submit, 2u << 20);
        config_free(&c);
        assert_int_equal(parse("worker-threads 1\nmax-submit-size 64K\n", &c, err), 0);
        assert_int_equal(c.worker_threads, 1);
        assert_int_equal(c.max_submit, 65536);
        config_free(&c);
        assert_int_equal(parse("worker-threads 256\nmax-submit-size 256M\n", &c, err), 0);
        assert_int_equal(c.worker_threads, 256);
        assert_int_equal(c.max_submit, 256u << 20);
        config_free(&c);
        static const char *const bad_workers[] = { "0", "257", "-1", "4x", "1K" };
        for (size_t i = 0; i < sizeof(bad_workers) / sizeof(bad_workers[0]); i++) {
                char text[64], want[96];
                snprintf(text, sizeof(text), "worker-threads %s\n", bad_workers[i]);
                snprintf(want, sizeof(want), ":1: worker-threads must be 1..256, not '%s'", bad_workers[i]);
                expect_error(text, want);
        }
        static const char *const bad_sizes[] = { "0", "65535", "63K", "257M", "1G", "x" };
        for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
                char text[64], want[96];
                snprintf(text, sizeof(text), "max-submit-size %s\n", bad_sizes[i]);
                snprintf(want, sizeof(want), ":1: max-submit-size must be 64K..256M, not '%s'", bad_sizes[i]);
                expect_error(text, want);
        }
        expect_error("worker-threads 2\nworker-threads 3\n", ":2: 'worker-threads' already set on line 1");
        expect_error("max-submit-size 1M\nmax-submit-size 1M\n", ":2: 'max-submit-size' already set on line 1");
}

static void test_config_missing_or_extra_value(void **state)
{
        (void)state;
        const char *keys[] = { "socket",      "socket-mode", "package",         "logon-group",
                               "admin-group", "reply-max",   "max-connections", "max-connections-per-uid",
                               "reserved-connections", "worker-threads", "max-submit-size" };
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                char text[128], want[128];
                snprintf(text, sizeof(text), "\n%s   # the value is only a comment\n", keys[i]);
                snprintf(want, sizeof(want), ":2: '%s' needs a value", keys[i]);
                expect_error(text, want);
                snprintf(text, sizeof(text), "%s 1 2\n", keys[i]);
                snprintf(want, sizeof(want), ":1: '%s' takes one value", keys[i]);
                expect_error(text, want);
        }
        expect_error("socket /a path/with blank\n", "takes one value");
}

static void test_config_bad_paths(void **state)
{
        (void)state;
        expect_error("socket relative.sock\n", ":1: socket must be an absolute path");
        expect_error("package lib.so\n", ":1: package must be an absolute path");
        expect_error("package ./lib.so\n", "absolute path");
        char text[256];
        snprintf(text, sizeof(text), "socket /%0108d\n", 0); /* 109 bytes: past sun_path */
        expect_error(text, "socket path longer than 107 bytes");
        snprintf(text, sizeof(text), "socket /%0106d\n", 0); /* 107 bytes: fits */
        struct config c;
        char err[256];
        assert_int_equal(parse(text, &c, err), 0);
        assert_int_equal(strlen(c.socket_path), 107);
        config_free(&c);
}

static void test_config_bad_octal(void **state)
{
        (void)state;
        const char *bad[] = { "999", "0800", "01777", "1000", "0", "000", "-1", "+0666", "0x1ff",
                              "0666x", "o666", "0666K", "99999999999999999999999999" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char text[128], want[128];
                snprintf(text, sizeof(text), "socket-mode %s\n", bad[i]);
                snprintf(want, sizeof(want), ":1: socket-mode must be octal, 1..0777, not '%s'", bad[i]);
                expect_error(text, want);
        }
}

static void test_config_bad_numbers(void **state)
{
        (void)state;
        const char *bad_sizes[] = { "1K",  "65535", "65537", "512M",     "257M",
                                    "1G",  "-4M",   "+4M",   "4MB",      "0x100000",
                                    "K",   "4M2",   "99999999999999999999999",
                                    "18446744073709551615",  "18014398509481984K" };
        for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
                char text[128], want[128];
                snprintf(text, sizeof(text), "reply-max %s\n", bad_sizes[i]);
                snprintf(want, sizeof(want), ":1: reply-max must be 64K..256M, a multiple of 4K, not '%s'",
                         bad_sizes[i]);
                expect_error(text, want);
        }
        expect_error("reply-max 4M \n reply-max 8M\n", ":2: 'reply-max' already set on line 1");

        const char *keys[] = { "max-connections", "max-connections-per-uid", "reserved-connections" };
        const char *bad_counts[] = { "0", "1000001", "2000000", "5K", "1M", "-1", "+5", "ten", "1e3",
                                     "99999999999999999999999" };
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
                for (size_t i = 0; i < sizeof(bad_counts) / sizeof(bad_counts[0]); i++) {
                        char text[128], want[128];
                        snprintf(text, sizeof(text), "%s %s\n", keys[k], bad_counts[i]);
                        snprintf(want, sizeof(want), ":1: %s must be 1..1000000, not '%s'", keys[k],
                                 bad_counts[i]);
                        expect_error(text, want);
                }
        }
}

static void test_config_duplicates(void **state)
{
        (void)state;
        expect_error("socket /a\nsocket /b\n", ":2: 'socket' already set on line 1");
        expect_error("socket /a\n\n# x\nsocket /a\n", ":4: 'socket' already set on line 1");
        expect_error("socket-mode 0600\nsocket-mode 0600\n", ":2: 'socket-mode' already set on line 1");
        expect_error("logon-group a\nlogon-group b\n", ":2: 'logon-group' already set on line 1");
        expect_error("admin-group a\nadmin-group b\n", ":2: 'admin-group' already set on line 1");
        expect_error("max-connections 1\nmax-connections 2\n", ":2: 'max-connections' already set");
        expect_error("max-connections-per-uid 1\nmax-connections-per-uid 2\n",
                     ":2: 'max-connections-per-uid' already set");
        expect_error("reserved-connections 1\nreserved-connections 2\n", ":2: 'reserved-connections' already set");
        expect_error("package /a.so\npackage /b.so\npackage /a.so\n", ":3: package /a.so listed twice");
        /* A line that failed sets nothing, so it is not a first occurrence. */
        struct config c;
        char err[256];
        assert_true(parse("socket relative\n", &c, err) < 0);
        assert_int_equal(c.socket_line, 0);
        config_free(&c);
}

static void test_config_overlong_line(void **state)
{
        (void)state;
        struct config c;
        char err[256];
        char *text = malloc(CONFIG_MAX_LINE + 64);
        assert_non_null(text);
        /* Exactly CONFIG_MAX_LINE bytes before the newline: accepted. */
        strcpy(text, "package /");
        memset(text + 9, 'x', CONFIG_MAX_LINE - 9);
        strcpy(text + CONFIG_MAX_LINE, "\n");
        assert_int_equal(parse(text, &c, err), 0);
        assert_int_equal(strlen(c.packages[0]), CONFIG_MAX_LINE - 8);
        config_free(&c);
        /* One more, with or without the newline: refused, on its line. */
        memset(text + 9, 'x', CONFIG_MAX_LINE - 8);
        strcpy(text + CONFIG_MAX_LINE + 1, "\n");
        expect_error(text, ":1: line longer than 4096 bytes");
        text[CONFIG_MAX_LINE + 1] = '\0';
        expect_error(text, ":1: line longer than 4096 bytes");
        /* A long comment counts too: the limit is on the line. */
        char *second = malloc(CONFIG_MAX_LINE + 64);
        assert_non_null(second);
        strcpy(second, "socket /a\n#");
        memset(second + 11, '#', CONFIG_MAX_LINE);
        strcpy(second + 11 + CONFIG_MAX_LINE, "\n");
        expect_error(second, ":2: line longer than 4096 bytes");
        free(second);
        free(text);
}

static void test_config_nul_byte(void **state)
{
        (void)state;
        static const char text[] = "socket /a\npackage /b.so\0package /evil.so\n";
        FILE *f = fmemopen((void *)(uintptr_t)text, sizeof(text) - 1, "r");
        assert_non_null(f);
        struct config c = { 0 };
        char err[256] = "";
        assert_int_equal(config_parse(f, "nul.conf", &c, err, sizeof(err)), -EINVAL);
        fclose(f);
        assert_non_null(strstr(err, "nul.conf:2: NUL byte"));
        config_free(&c);
}

static void test_config_file_name_in_errors(void **state)
{
        (void)state;
        static const char text[] = "# lsashmd.conf\nsocket-mode 0999\n";
        FILE *f = fmemopen((void *)(uintptr_t)text, sizeof(text) - 1, "r");
        assert_non_null(f);
        struct config c = { 0 };
        char err[256] = "";
        assert_int_equal(config_parse(f, "/etc/lsashm/lsashmd.conf", &c, err, sizeof(err)), -EINVAL);
        fclose(f);
        assert_string_equal(err, "/etc/lsashm/lsashmd.conf:2: socket-mode must be octal, 1..0777, not '0999'");
        config_free(&c);
        /* A tiny or absent error buffer truncates, never overflows. */
        char small[8];
        memset(small, 'Z', sizeof(small));
        memset(&c, 0, sizeof(c));
        assert_int_equal(config_parse_string("bogus\n", &c, small, 5), -EINVAL);
        assert_int_equal(small[4], '\0');
        assert_int_equal(small[5], 'Z');
        config_free(&c);
        memset(&c, 0, sizeof(c));
        assert_int_equal(config_parse_string("bogus\n", &c, NULL, 0), -EINVAL);
        config_free(&c);
}

static void test_config_groups_resolve(void **state)
{
        (void)state;
        struct config c;
        char err[256];
        /* No group directives: no groups, and no lookup. */
        assert_int_equal(parse("socket /a\n", &c, err), 0);
        gid_t logon = 42, admin = 42;
        assert_int_equal(config_resolve_groups(&c, &logon, &admin, err, sizeof(err)), 0);
        assert_int_equal(logon, (gid_t)-1);
        assert_int_equal(admin, (gid_t)-1);
        config_free(&c);
        /* "root" is group 0 on every Linux system. */
        assert_int_equal(parse("admin-group root\n", &c, err), 0);
        logon = admin = 42;
        assert_int_equal(config_resolve_groups(&c, &logon, &admin, err, sizeof(err)), 0);
        assert_int_equal(logon, (gid_t)-1);
        assert_int_equal(admin, 0);
        config_free(&c);
        assert_int_equal(parse("logon-group root\n", &c, err), 0);
        assert_int_equal(config_resolve_groups(&c, &logon, &admin, err, sizeof(err)), 0);
        assert_int_equal(logon, 0);
        assert_int_equal(admin, (gid_t)-1);
        config_free(&c);
}

static void test_config_unknown_group(void **state)
{
        (void)state;
        struct config c;
        char err[256];
        assert_int_equal(parse("# groups\nlogon-group root\nadmin-group " NO_SUCH_GROUP "\n", &c, err), 0);
        gid_t logon = 42, admin = 42;
        assert_int_equal(config_resolve_groups(&c, &logon, &admin, err, sizeof(err)), -ENOENT);
        assert_string_equal(err, "(string):3: admin-group: unknown group '" NO_SUCH_GROUP "'");
        /* Outputs untouched on failure. */
        assert_int_equal(logon, 42);
        assert_int_equal(admin, 42);
        config_free(&c);
        assert_int_equal(parse("logon-group " NO_SUCH_GROUP "\n", &c, err), 0);
        assert_int_equal(config_resolve_groups(&c, &logon, &admin, err, sizeof(err)), -ENOENT);
        assert_string_equal(err, "(string):1: logon-group: unknown group '" NO_SUCH_GROUP "'");
        config_free(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config_every_directive),
                cmocka_unit_test(test_config_empty_sets_nothing),
                cmocka_unit_test(test_config_comments_and_whitespace),
                cmocka_unit_test(test_config_sizes_and_counts),
                cmocka_unit_test(test_config_packages_in_order),
                cmocka_unit_test(test_config_unknown_directive),
                cmocka_unit_test(test_config_missing_or_extra_value),
                cmocka_unit_test(test_config_bad_paths),
                cmocka_unit_test(test_config_bad_octal),
                cmocka_unit_test(test_config_bad_numbers),
                cmocka_unit_test(test_config_duplicates),
                cmocka_unit_test(test_config_overlong_line),
                cmocka_unit_test(test_config_nul_byte),
                cmocka_unit_test(test_config_file_name_in_errors),
                cmocka_unit_test(test_config_workers_and_submit_size),
                cmocka_unit_test(test_config_groups_resolve),
                cmocka_unit_test(test_config_unknown_group),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
