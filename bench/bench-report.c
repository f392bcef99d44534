/* SPDX-License-Identifier: MIT */
/*
 * bench-report: the last step of scripts/bench. Reads what the benchmark
 * programs recorded in the results directory (bench-results.h) and prints
 * one table of every target, or the same as JSON, or the variables a
 * gnuplot script in bench/plot/ needs to draw one series.
 *
 *   bench-report [--dir DIR]                  the table
 *   bench-report [--dir DIR] --json           JSON on stdout
 *   bench-report [--dir DIR] --gnuplot SERIES gnuplot -e assignments
 *   bench-report --check-json FILE            is FILE ("-": stdin) one valid
 *                                             JSON value? exit 0 or 1
 *
 * DIR defaults to $LSASHM_BENCH_RESULTS. A MISS is not an error: the exit
 * status is 0 once the report is printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-report.h"
#include "bench-results.h"

#define JSON_MAX_BYTES (64u << 20)

static void usage(FILE *f)
{
        fprintf(f, "usage: bench-report [--dir DIR] [--json | --gnuplot SERIES]\n"
                   "       bench-report --check-json FILE\n"
                   "DIR defaults to $%s.\n",
                   BENCH_RESULTS_ENV);
}

static int check_json(const char *path)
{
        FILE *in = strcmp(path, "-") ? fopen(path, "re") : stdin;
        if (!in) {
                fprintf(stderr, "bench-report: %s: %s\n", path, strerror(errno));
                return 1;
        }
        char *buf = malloc(JSON_MAX_BYTES);
        size_t len = buf ? fread(buf, 1, JSON_MAX_BYTES, in) : 0;
        bool too_big = buf && len == JSON_MAX_BYTES;
        if (in != stdin)
                fclose(in);
        size_t at = 0;
        int ret = !buf || too_big ? -E2BIG : json_check(buf, len, &at);
        free(buf);
        if (ret == -E2BIG) {
                fprintf(stderr, "bench-report: %s: too large or out of memory\n", path);
                return 1;
        }
        if (ret < 0) {
                fprintf(stderr, "bench-report: %s: not valid JSON at byte %zu\n", path, at);
                return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        const char *dir = bench_results_dir(), *series = NULL;
        bool json = false;
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--json")) {
                        json = true;
                } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
                        dir = argv[++i];
                } else if (!strcmp(argv[i], "--gnuplot") && i + 1 < argc) {
                        series = argv[++i];
                } else if (!strcmp(argv[i], "--check-json") && i + 1 < argc) {
                        return check_json(argv[i + 1]);
                } else if (!strcmp(argv[i], "--help")) {
                        usage(stdout);
                        return 0;
                } else {
                        usage(stderr);
                        return 2;
                }
        }
        if (!dir) {
                fprintf(stderr, "bench-report: no results directory: --dir DIR or $%s\n", BENCH_RESULTS_ENV);
                return 2;
        }
        struct report r;
        int ret = report_load(dir, &r);
        if (ret < 0) {
                fprintf(stderr, "bench-report: %s: %s\n", dir, strerror(-ret));
                return 1;
        }
        if (series) {
                /* No curve: exit 3, so that the caller skips the plot. */
                ret = report_print_gnuplot_vars(stdout, &r, series) ? 0 : 3;
        } else if (json) {
                if (report_print_json(stdout, &r) < 0)
                        fprintf(stderr, "bench-report: a series file could not be read; its points are empty\n");
        } else {
                report_print_table(stdout, &r);
        }
        report_free(&r);
        if (fflush(stdout) != 0)
                return 1;
        return ret;
}
