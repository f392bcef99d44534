/* SPDX-License-Identifier: MIT */
/* lsashmd.conf: every directive, every error, comments and whitespace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lsashmd/config.h"

static int parse(const char *text, struct config *cfg, char *err)
{
        memset(cfg, 0, sizeof(*cfg));
        err[0] = '\0';
        return config_parse_string(text, cfg, err, 256);
}

static void test_every_directive(void **state)
{
        (void)state;
        struct config c;
        char err[256];
        assert_int_equal(parse("# a comment\n"
                               "\n"
                               "socket /run/x/y.sock   # trailing comment\n"
                               "  socket-mode\t0660\n"
                               "package /a.so\n"
                               "package /b.so\n"
                               "logon-group wheel\n"
                               "admin-group adm\n"
                               "reply-max 4M\n"
                               "max-connections 10\n"
                               "max-connections-per-uid 3\n",
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
        config_free(&c);

        assert_int_equal(parse("reply-max 64K\n", &c, err), 0);
        assert_int_equal(c.reply_max, 65536);
        config_free(&c);
        assert_int_equal(parse("reply-max 262144\n", &c, err), 0);
        assert_int_equal(c.reply_max, 262144);
        config_free(&c);
        /* The last socket wins, as with any repeated setting. */
        assert_int_equal(parse("socket /a\nsocket /b\n", &c, err), 0);
        assert_string_equal(c.socket_path, "/b");
        config_free(&c);
        /* An empty file sets nothing. */
        assert_int_equal(parse("", &c, err), 0);
        assert_null(c.socket_path);
        assert_int_equal(c.npackages, 0);
        config_free(&c);
}

static void expect_error(const char *text, const char *fragment)
{
        struct config c;
        char err[256];
        assert_true(parse(text, &c, err) < 0);
        if (!strstr(err, fragment))
                fail_msg("error '%s' does not mention '%s'", err, fragment);
        config_free(&c);
}

static void test_errors(void **state)
{
        (void)state;
        expect_error("frobnicate yes\n", ":1: unknown directive 'frobnicate'");
        expect_error("\n\npackage\n", ":3: 'package' needs a value");
        expect_error("socket /a /b\n", "takes one value");
        expect_error("socket relative.sock\n", "absolute path");
        expect_error("socket-mode 999\n", "octal");
        expect_error("socket-mode 01777\n", "octal");
        expect_error("socket-mode 0\n", "octal");
        expect_error("reply-max 1K\n", "reply-max");
        expect_error("reply-max 512M\n", "reply-max");
        expect_error("reply-max 65537\n", "reply-max");
        expect_error("reply-max 1G\n", "reply-max");
        expect_error("reply-max -4M\n", "reply-max");
        expect_error("reply-max 99999999999999999999999\n", "reply-max");
        expect_error("max-connections 0\n", "max-connections");
        expect_error("max-connections 2000000\n", "max-connections");
        expect_error("max-connections 5K\n", "max-connections");
        expect_error("max-connections-per-uid ten\n", "max-connections-per-uid");

        char *many = malloc(CONFIG_MAX_PACKAGES * 16 + 32);
        assert_non_null(many);
        many[0] = '\0';
        for (int i = 0; i <= CONFIG_MAX_PACKAGES; i++)
                strcat(many, "package /p.so\n");
        expect_error(many, "more than");
        free(many);

        char *longline = malloc(CONFIG_MAX_LINE + 64);
        assert_non_null(longline);
        strcpy(longline, "package /");
        memset(longline + 9, 'x', CONFIG_MAX_LINE);
        strcpy(longline + 9 + CONFIG_MAX_LINE, "\n");
        expect_error(longline, "longer than");
        free(longline);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_directive),
                cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
