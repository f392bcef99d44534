/* SPDX-License-Identifier: MIT */
/* The little-endian cursor both wire codecs read and write through: byte
 * order, and that a cursor once past its end stays failed and never touches
 * a byte outside its buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/le-cursor.h"

static void test_le_cursor_reads_little_endian(void **state)
{
        (void)state;
        static const uint8_t b[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
                                     0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
        struct le_reader r = le_reader_init(b, sizeof(b));
        assert_int_equal(le_get_u8(&r), 0x01);
        assert_int_equal(le_get_u16(&r), 0x0302);
        assert_int_equal(le_get_u32(&r), 0x07060504);
        assert_true(le_get_u64(&r) == 0x0f0e0d0c0b0a0908ull);
        assert_true(le_done(&r));
}

static void test_le_cursor_read_past_end_stays_failed(void **state)
{
        (void)state;
        static const uint8_t b[] = { 0xff, 0xff, 0xff };
        struct le_reader r = le_reader_init(b, sizeof(b));
        assert_int_equal(le_get_u32(&r), 0);
        assert_false(le_ok(&r));
        /* The three bytes are still there, but a failed cursor reads none. */
        assert_int_equal(le_get_u8(&r), 0);
        assert_int_equal(le_left(&r), 0);
        assert_false(le_done(&r));
}

static void test_le_cursor_huge_length_does_not_wrap(void **state)
{
        (void)state;
        static const uint8_t b[8] = { 0 };
        struct le_reader r = le_reader_init(b, sizeof(b));
        (void)le_get_u8(&r);
        /* pos + SIZE_MAX wraps to pos - 1, inside the buffer, without the
         * overflow check. */
        assert_null(le_take(&r, SIZE_MAX));
        assert_false(le_ok(&r));
}

static void test_le_cursor_bytes_and_zeros(void **state)
{
        (void)state;
        static const uint8_t b[] = { 'a', 'b', 0, 0, 1, 0 };
        char out[4] = "xyz";
        struct le_reader r = le_reader_init(b, sizeof(b));
        assert_true(le_get_bytes(&r, out, 2));
        assert_memory_equal(out, "abz", 3);
        assert_true(le_get_zeros(&r, 2));
        /* A nonzero reserved byte is the caller's error, not a short buffer. */
        assert_false(le_get_zeros(&r, 1));
        assert_true(le_ok(&r));
        memcpy(out, "xyz", 4);
        assert_false(le_get_bytes(&r, out, 2));
        assert_string_equal(out, "xyz");
        assert_false(le_ok(&r));
}

static void test_le_cursor_writes_little_endian(void **state)
{
        (void)state;
        uint8_t b[16];
        memset(b, 0xee, sizeof(b));
        struct le_writer w = le_writer_init(b, 15);
        le_put_u8(&w, 0x01);
        le_put_u16(&w, 0x0302);
        le_put_u32(&w, 0x07060504);
        le_put_bytes(&w, "\x08\x09", 2);
        le_put_zeros(&w, 2);
        assert_true(le_writer_ok(&w));
        assert_int_equal(le_written(&w), 11);
        static const uint8_t want[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0xee };
        assert_memory_equal(b, want, sizeof(want));
}

static void test_le_cursor_write_past_end_stays_failed(void **state)
{
        (void)state;
        uint8_t b[8];
        memset(b, 0xee, sizeof(b));
        struct le_writer w = le_writer_init(b, 6);
        le_put_u32(&w, 0x04030201);
        le_put_u64(&w, 0);  /* does not fit: nothing written */
        le_put_u8(&w, 0x55); /* would fit, but the cursor has failed */
        assert_false(le_writer_ok(&w));
        assert_int_equal(le_written(&w), 4);
        static const uint8_t want[] = { 1, 2, 3, 4, 0xee, 0xee, 0xee, 0xee };
        assert_memory_equal(b, want, sizeof(want));
}

static void test_le_cursor_null_buffer_is_failed(void **state)
{
        (void)state;
        struct le_reader r = le_reader_init(NULL, 100);
        assert_false(le_ok(&r));
        assert_int_equal(le_get_u8(&r), 0);
        struct le_writer w = le_writer_init(NULL, 100);
        le_put_u8(&w, 1);
        assert_false(le_writer_ok(&w));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_le_cursor_reads_little_endian),
                cmocka_unit_test(test_le_cursor_read_past_end_stays_failed),
                cmocka_unit_test(test_le_cursor_huge_length_does_not_wrap),
                cmocka_unit_test(test_le_cursor_bytes_and_zeros),
                cmocka_unit_test(test_le_cursor_writes_little_endian),
                cmocka_unit_test(test_le_cursor_write_past_end_stays_failed),
                cmocka_unit_test(test_le_cursor_null_buffer_is_failed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
