/* SPDX-License-Identifier: MIT */
/*
 * The final report of scripts/bench, read back from the files the benchmark
 * programs wrote through bench-results.h: one table of every target, the
 * same as JSON, and the lists of curves the plots draw.
 *
 * Split from the program (bench-report.c) so that a test can feed it a
 * results directory and read what it prints. libc only.
 */
#ifndef LSASHM_BENCH_REPORT_H
#define LSASHM_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* One line of targets.tsv; numbers are NAN where the file says "-". */
struct report_target {
        char *program, *id, *what, *unit, *ref_name, *op, *verdict, *kind;
        double figure, ref_figure, ratio, limit;
};

/* One line of series.tsv; file is relative to the results directory. */
struct report_series {
        char *program, *series, *label, *kind, *x_unit, *y_unit, *file, *note;
};

struct report {
        char *dir;
        struct report_target *targets;
        size_t ntargets;
        struct report_series *series;
        size_t nseries;
        size_t bad_lines; /* lines with the wrong number of fields, skipped */
};

/* The target ids the table expects, in its order (bench-results.h lists
 * them); NULL-terminated. */
extern const char *const report_expected_ids[];

/* Reads DIR/targets.tsv and DIR/series.tsv; a missing file is an empty
 * list (nothing ran). 0 or a negative errno; *ret is left alone on error. */
int report_load(const char *dir, struct report *ret);
void report_free(struct report *r);

/* The one final table: expected ids first ("not run" when missing; the last
 * line of an id wins when it was recorded twice), then any other id, then a
 * summary line. A markdown pipe table, aligned for the terminal. */
void report_print_table(FILE *f, const struct report *r);

/* Every target (expected ones not run included, as "not run") and every
 * series with its points, as one JSON object. 0, or a negative errno when a
 * series file cannot be read (its points are then an empty list). */
int report_print_json(FILE *f, const struct report *r);

/* For gnuplot's -e: files = "'F1' 'F2'"; titles = "'L1' 'L2'"; n = 2
 * with the series' files (absolute paths) and labels, quotes dropped from
 * the labels. Returns how many curves the series has. */
size_t report_print_gnuplot_vars(FILE *f, const struct report *r, const char *series);

/* JSON helpers (bench-json.c). */
void json_print_string(FILE *f, const char *s);
void json_print_number(FILE *f, double v);
/* 0 when text[0..len) is exactly one valid JSON value (RFC 8259, nesting at
 * most 64 deep, surrounding whitespace allowed); -EINVAL otherwise, with
 * *ret_offset (when not NULL) set to where parsing stopped. */
int json_check(const char *text, size_t len, size_t *ret_offset);

#endif
