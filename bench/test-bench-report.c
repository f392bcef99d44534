/* SPDX-License-Identifier: MIT */
/*
 * The final report of scripts/bench, fed a synthetic results directory
 * written through bench-results.h: verdicts, order, "not run" rows, the
 * summary, JSON that parses and escapes, and the plot variables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench-report.h"
#include "bench-results.h"

struct fixture {
        char dir[64];
        struct report report;
        char *out;
        size_t out_len;
};

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof(*fx));
        assert_non_null(fx);
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/lsashm-test-report-XXXXXX");
        assert_non_null(mkdtemp(fx->dir));
        assert_int_equal(setenv(BENCH_RESULTS_ENV, fx->dir, 1), 0);
        *state = fx;
        return 0;
}

static void remove_tree(const char *dir)
{
        char path[256];
        snprintf(path, sizeof(path), "rm -rf '%s'", dir);
        /* The directory is ours, from mkdtemp: a shell is the short way. */
        if (system(path) != 0)
                fprintf(stderr, "could not remove %s\n", dir);
}

static int teardown(void **state)
{
        struct fixture *fx = *state;
        report_free(&fx->report);
        free(fx->out);
        unsetenv(BENCH_RESULTS_ENV);
        remove_tree(fx->dir);
        free(fx);
        return 0;
}

/* What one of the report's printers wrote, as one string. */
enum output { TABLE, JSON };

static const char *render(struct fixture *fx, enum output what)
{
        report_free(&fx->report);
        assert_int_equal(report_load(fx->dir, &fx->report), 0);
        free(fx->out);
        FILE *f = open_memstream(&fx->out, &fx->out_len);
        assert_non_null(f);
        if (what == TABLE)
                report_print_table(f, &fx->report);
        else
                assert_int_equal(report_print_json(f, &fx->report), 0);
        assert_int_equal(fclose(f), 0);
        return fx->out;
}

/* The table line of one target id, copied into line. */
static const char *row_of(const char *table, const char *id, char *line, size_t len)
{
        char key[80];
        snprintf(key, sizeof(key), "| %s ", id);
        const char *p = strstr(table, key);
        if (!p)
                return NULL;
        size_t n = strcspn(p, "\n");
        snprintf(line, len, "%.*s", (int)n, p);
        return line;
}

static void record_sample_targets(void)
{
        /* ratio 20 / 19.3 = 1.04 > 1.0 */
        assert_int_equal(bench_target(&(struct bench_target){ .id = "pairs-calloc",
                                                              .what = "pairs vs calloc",
                                                              .figure = 20,
                                                              .unit = "ns/pair",
                                                              .ref_name = "glibc calloc",
                                                              .ref_figure = 19.3,
                                                              .op = BENCH_AT_MOST,
                                                              .limit = 1.0 }),
                         0);
        /* inverse: 675 / 180 = 3.75 >= 3.5, but < 4 for the stretch goal */
        assert_int_equal(bench_target(&(struct bench_target){ .id = "churn-wipe-boost",
                                                              .what = "churn speed-up over Boost",
                                                              .figure = 180,
                                                              .unit = "ns/step",
                                                              .ref_name = "Boost",
                                                              .ref_figure = 675,
                                                              .inverse = true,
                                                              .op = BENCH_AT_LEAST,
                                                              .limit = 3.5 }),
                         0);
        assert_int_equal(bench_target(&(struct bench_target){ .id = "churn-wipe-boost-stretch",
                                                              .what = "churn speed-up over Boost, stretch",
                                                              .figure = 180,
                                                              .unit = "ns/step",
                                                              .ref_name = "Boost",
                                                              .ref_figure = 675,
                                                              .inverse = true,
                                                              .op = BENCH_AT_LEAST,
                                                              .limit = 4.0,
                                                              .info = true }),
                         0);
        /* absolute: the figure itself against the limit */
        assert_int_equal(bench_target(&(struct bench_target){ .id = "alloc-p999",
                                                              .what = "allocate p99.9",
                                                              .figure = 361,
                                                              .unit = "ns",
                                                              .op = BENCH_AT_MOST,
                                                              .limit = 1000 }),
                         0);
        /* not measurable on this machine */
        assert_int_equal(bench_target(&(struct bench_target){ .id = "call-two-cpus",
                                                              .what = "call, two CPUs",
                                                              .figure = NAN,
                                                              .unit = "ns",
                                                              .ref_name = "bare SEQPACKET",
                                                              .ref_figure = NAN,
                                                              .op = BENCH_AT_MOST,
                                                              .limit = 1.3 }),
                         0);
        /* an id the table does not expect: shown after the expected ones */
        assert_int_equal(bench_target(&(struct bench_target){ .id = "extra-figure",
                                                              .what = "reported beside",
                                                              .figure = 5043,
                                                              .unit = "ns",
                                                              .op = BENCH_NO_LIMIT }),
                         0);
}

static void test_report_table_verdicts(void **state)
{
        struct fixture *fx = *state;
        char line[512];
        record_sample_targets();
        const char *t = render(fx, TABLE);

        assert_non_null(row_of(t, "pairs-calloc", line, sizeof(line)));
        assert_non_null(strstr(line, "| MISS"));
        assert_non_null(strstr(line, "1.04x"));
        assert_non_null(strstr(line, "<= 1.00x"));
        assert_non_null(strstr(line, "glibc calloc 19.3 ns/pair"));

        assert_non_null(row_of(t, "churn-wipe-boost", line, sizeof(line)));
        assert_non_null(strstr(line, "3.75x"));
        assert_non_null(strstr(line, "| PASS"));

        assert_non_null(row_of(t, "churn-wipe-boost-stretch", line, sizeof(line)));
        assert_non_null(strstr(line, "(MISS) stretch"));

        assert_non_null(row_of(t, "alloc-p999", line, sizeof(line)));
        assert_non_null(strstr(line, "<= 1,000 ns"));
        assert_non_null(strstr(line, "| PASS"));

        assert_non_null(row_of(t, "call-two-cpus", line, sizeof(line)));
        assert_non_null(strstr(line, "| n/a"));

        assert_non_null(row_of(t, "extra-figure", line, sizeof(line)));
        assert_non_null(strstr(line, "5,043 ns"));
        assert_non_null(strstr(line, "| info"));
}

static void test_report_table_not_run_and_order(void **state)
{
        struct fixture *fx = *state;
        char line[512];
        record_sample_targets();
        const char *t = render(fx, TABLE);

        /* Every expected id has a row; those nobody recorded say so. */
        for (size_t k = 0; report_expected_ids[k]; k++)
                assert_non_null(row_of(t, report_expected_ids[k], line, sizeof(line)));
        assert_non_null(row_of(t, "calls-16", line, sizeof(line)));
        assert_non_null(strstr(line, "not run"));
        assert_non_null(row_of(t, "read-memcpy", line, sizeof(line)));
        assert_non_null(strstr(line, "not run"));

        /* The order of bench-results.h, then the extras. */
        const char *a = strstr(t, "| churn-wipe-calloc "), *b = strstr(t, "| pairs-calloc "),
                   *c = strstr(t, "| committed-live "), *d = strstr(t, "| extra-figure ");
        assert_true(a && b && c && d);
        assert_true(a < b && b < c && c < d);

        /* 18 expected, 5 of them recorded; the stretch goal apart. */
        assert_non_null(strstr(t, "2 PASS, 1 MISS, 1 n/a, 13 not run; stretch goals (not counted): 0 PASS, 1 MISS"));
}

static void test_report_last_record_wins(void **state)
{
        struct fixture *fx = *state;
        char line[512];
        struct bench_target tg = { .id = "committed-live", .what = "committed/live", .figure = 1.4,
                                   .unit = "ratio", .op = BENCH_AT_MOST, .limit = 1.25 };
        assert_int_equal(bench_target(&tg), 0);
        tg.figure = 1.06;
        assert_int_equal(bench_target(&tg), 0);
        const char *t = render(fx, TABLE);
        assert_non_null(row_of(t, "committed-live", line, sizeof(line)));
        assert_non_null(strstr(line, "1.06 ratio"));
        assert_non_null(strstr(line, "| PASS"));
        /* One row only. */
        assert_null(strstr(strstr(t, "| committed-live ") + 1, "| committed-live "));
}

static void test_report_json_parses_and_escapes(void **state)
{
        struct fixture *fx = *state;
        record_sample_targets();
        assert_int_equal(bench_target(&(struct bench_target){ .id = "quoted",
                                                              .what = "a \"quoted\" C:\\path\tand tab",
                                                              .figure = 1,
                                                              .op = BENCH_NO_LIMIT }),
                         0);
        uint64_t ns[1000];
        for (size_t i = 0; i < 1000; i++)
                ns[i] = 1000 - i;
        assert_int_equal(bench_series_latencies("alloc-latency", "lsashm \"LSA\"", ns, 1000), 0);
        double x[] = { 1, 16, 64 }, y[] = { 11000, 40000, NAN };
        assert_int_equal(bench_series_xy("calls-by-clients", "lsashm", "clients", "calls/s", x, y, 3), 0);

        const char *j = render(fx, JSON);
        size_t at = 0;
        assert_int_equal(json_check(j, strlen(j), &at), 0);
        /* bench-results turned the tab into a space; the report escapes the
         * quotes and the backslash. */
        assert_non_null(strstr(j, "\"a \\\"quoted\\\" C:\\\\path and tab\""));
        assert_non_null(strstr(j, "\"label\": \"lsashm \\\"LSA\\\"\""));
        assert_non_null(strstr(j, "{\"id\": \"calls-16\", \"result\": \"not run\"}"));
        assert_non_null(strstr(j, "\"ratio\": null"));
        /* The quantiles, from the fastest sample to the slowest. */
        assert_non_null(strstr(j, "\"points\": [[0, 1], "));
        assert_non_null(strstr(j, "[1, 1000]]"));
        assert_non_null(strstr(j, "[16, 40000], [64, null]]"));
        assert_non_null(strstr(j, "\"summary\": {\"pass\": 2, \"miss\": 1, \"na\": 1, \"not_run\": 13"));
}

static void test_report_gnuplot_vars(void **state)
{
        struct fixture *fx = *state;
        uint64_t ns[] = { 5, 6, 7 };
        assert_int_equal(bench_series_latencies_note("read-latency", "it's \"read\"", "mean of 64", ns, 3), 0);
        assert_int_equal(bench_series_latencies("read-latency", "memcpy floor", ns, 3), 0);
        assert_int_equal(report_load(fx->dir, &fx->report), 0);
        FILE *f = open_memstream(&fx->out, &fx->out_len);
        assert_non_null(f);
        assert_int_equal(report_print_gnuplot_vars(f, &fx->report, "read-latency"), 2);
        assert_int_equal(report_print_gnuplot_vars(f, &fx->report, "no-such-series"), 0);
        assert_int_equal(fclose(f), 0);
        assert_non_null(strstr(fx->out, "titles = \"'its read (mean of 64)' 'memcpy floor'\"; n = 2\n"));
        assert_non_null(strstr(fx->out, "/series/read-latency--it_s__read_.dat' '"));
        assert_non_null(strstr(fx->out, "files = \"\"; titles = \"\"; n = 0\n"));
}

static void test_report_empty_dir(void **state)
{
        struct fixture *fx = *state;
        const char *t = render(fx, TABLE);
        assert_non_null(strstr(t, "0 PASS, 0 MISS, 0 n/a, 18 not run"));
        const char *j = render(fx, JSON);
        assert_int_equal(json_check(j, strlen(j), NULL), 0);
}

static void test_report_results_off_without_env(void **state)
{
        struct fixture *fx = *state;
        char path[128];
        unsetenv(BENCH_RESULTS_ENV);
        assert_null(bench_results_dir());
        assert_int_equal(bench_target(&(struct bench_target){ .id = "x", .what = "y", .op = BENCH_NO_LIMIT }), 0);
        snprintf(path, sizeof(path), "%s/targets.tsv", fx->dir);
        struct stat st;
        assert_int_equal(stat(path, &st), -1);
        assert_int_equal(errno, ENOENT);
}

static void test_json_check_rejects(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "",        "{",          "[1,]",        "{\"a\":1,}", "NaN",         "01",   "-",      "1.",
                "1e",      "\"a\tb\"",   "\"\\x\"",     "\"\\u12\"",  "[1] [2]",     "tru",  "{1:2}",  "\"abc",
                "[1 2]",   "{\"a\" 1}",  ".5",          "+1",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(json_check(bad[i], strlen(bad[i]), NULL), -EINVAL);
        char deep[200];
        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        assert_int_equal(json_check(deep, sizeof(deep), NULL), -EINVAL);
}

static void test_json_check_accepts(void **state)
{
        (void)state;
        static const char *const good[] = {
                "0", "-0.5e+3", " {\"a\": [1, 2.5, -3e-2, true, false, null, \"\\u00e9\\n\\\"\"]}\n",
                "[]", "{}", "\"µs\"", "[[[]]]",
        };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                assert_int_equal(json_check(good[i], strlen(good[i]), NULL), 0);
        /* Our own printers' output, control characters included. */
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        assert_non_null(f);
        fputc('[', f);
        json_print_string(f, "bell\a nl\n del\x7f q\" bs\\");
        fputc(',', f);
        json_print_number(f, NAN);
        fputc(',', f);
        json_print_number(f, 1e300 * 1e300);
        fputc(',', f);
        json_print_number(f, 12345678.0);
        fputc(']', f);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(out, "[\"bell\\u0007 nl\\n del\\u007f q\\\" bs\\\\\",null,null,12345678]");
        assert_int_equal(json_check(out, len, NULL), 0);
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_report_table_verdicts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_report_table_not_run_and_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_report_last_record_wins, setup, teardown),
                cmocka_unit_test_setup_teardown(test_report_json_parses_and_escapes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_report_gnuplot_vars, setup, teardown),
                cmocka_unit_test_setup_teardown(test_report_empty_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(test_report_results_off_without_env, setup, teardown),
                cmocka_unit_test(test_json_check_rejects),
                cmocka_unit_test(test_json_check_accepts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
