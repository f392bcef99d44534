/* SPDX-License-Identifier: MIT */
/* config_parse_buffer: the parser from memory, as the fuzzer drives it. A
 * buffer need not be a C string: its length decides, and a NUL byte in it is
 * refused as in a file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lsashmd/config.h"

static void test_config_buffer_parses_its_length(void **state)
{
        (void)state;
        /* Only the first line is inside the length given. */
        static const char text[] = "max-connections 12\nbogus\n";
        struct config c = { 0 };
        char err[128] = "";
        assert_int_equal(config_parse_buffer(text, 19, "mem.conf", &c, err, sizeof(err)), 0);
        assert_int_equal(c.max_connections, 12);
        assert_string_equal(c.source, "mem.conf");
        config_free(&c);
}

static void test_config_buffer_refuses_nul_byte(void **state)
{
        (void)state;
        static const char text[] = "socket /a\0b\n";
        struct config c = { 0 };
        char err[128] = "";
        assert_int_equal(config_parse_buffer(text, sizeof(text) - 1, "mem.conf", &c, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "mem.conf:1: NUL byte in line");
        assert_null(c.socket_path);
        config_free(&c);
}

static void test_config_buffer_empty_sets_nothing(void **state)
{
        (void)state;
        struct config c = { 0 };
        char err[128] = "";
        assert_int_equal(config_parse_buffer("", 0, "mem.conf", &c, err, sizeof(err)), 0);
        assert_string_equal(c.source, "mem.conf");
        assert_null(c.socket_path);
        assert_int_equal(c.npackages, 0);
        config_free(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config_buffer_parses_its_length),
                cmocka_unit_test(test_config_buffer_refuses_nul_byte),
                cmocka_unit_test(test_config_buffer_empty_sets_nothing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
