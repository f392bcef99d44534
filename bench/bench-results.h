/* SPDX-License-Identifier: MIT */
/*
 * What every benchmark program hands to the final report of scripts/bench.
 *
 * scripts/bench runs several programs (bench-section, bench-share,
 * bench-host, bench-calls) and ends with ONE table of every target, then
 * optionally JSON and plots. The programs do not know about each other: each
 * one records its targets and its sample series here, and bench-report reads
 * them all back when the run is over.
 *
 * Where: the directory named by the environment variable
 * LSASHM_BENCH_RESULTS (scripts/bench sets it to a fresh temporary
 * directory). When it is unset or empty every function below does nothing and
 * returns 0, so a program run by hand prints its own report as before.
 *
 * Files, all text, appended with one write() per line (O_APPEND), so that
 * several programs may write at the same time:
 *   targets.tsv              one line per target, tab-separated:
 *                            program id what figure unit ref_name ref_figure
 *                            ratio op limit verdict kind
 *   series.tsv               one line per sample series:
 *                            program series label kind x_unit y_unit file note
 *   series/SERIES--LABEL.dat the samples, two columns (see below)
 * Missing numbers are written as "-"; tabs and newlines inside strings
 * become spaces.
 *
 * Example, a target against a peer and a latency distribution:
 *
 *   bench_target(&(struct bench_target){
 *           .id = "pairs-calloc",
 *           .what = "pairs (allocate + free 16-256 B), LSA API",
 *           .figure = lsashm_ns, .unit = "ns/pair",
 *           .ref_name = "glibc calloc", .ref_figure = calloc_ns,
 *           .op = BENCH_AT_MOST, .limit = 1.0,
 *   });
 *   // ratio = lsashm_ns / calloc_ns, PASS when <= 1.0
 *
 *   bench_target(&(struct bench_target){
 *           .id = "churn-wipe-boost",
 *           .what = "churn, wipe on: speed-up over Boost",
 *           .figure = lsashm_ns, .unit = "ns/step",
 *           .ref_name = "Boost.Interprocess", .ref_figure = boost_ns,
 *           .inverse = true,     // ratio = boost_ns / lsashm_ns ("x faster")
 *           .op = BENCH_AT_LEAST, .limit = 3.5,
 *   });
 *
 *   bench_target(&(struct bench_target){
 *           .id = "alloc-p999", .what = "allocation p99.9, LSA API",
 *           .figure = p999_ns, .unit = "ns",   // no ref: the figure itself
 *           .op = BENCH_AT_MOST, .limit = 1000, // is compared to the limit
 *   });
 *
 *   bench_series_latencies("alloc-latency", "glibc calloc", ns, n);
 *   double clients[] = { 1, 4, 16, 64 }, cps[] = { ... };
 *   bench_series_xy("calls-by-clients", "lsashm", "clients", "calls/s",
 *                   clients, cps, 4);
 *
 * Target ids the final table expects, in its order (a missing one shows as
 * "not run"; any other id is shown after them; the list the report uses is
 * report_expected_ids in bench-report-load.c):
 *   churn-wipe-calloc churn-wipe-boost churn-wipe-boost-stretch
 *   churn-nowipe-calloc pairs-calloc threads-boost threads-boost-stretch
 *   create-delete-boost create-delete-memfd read-memcpy open-floor
 *   open-connect call-same-cpu call-two-cpus calls-16 calls-64
 *   alloc-p999 committed-live
 * Series the plots draw (labels are free; each becomes one curve):
 *   alloc-latency                     lsashm vs calloc, malloc, Boost
 *   call-latency-same-cpu, call-latency-two-cpus
 *                                     lsashm round trip vs bare socket floor
 *   read-latency                      view vs memcpy floor
 *   calls-by-clients (xy)             lsashm vs echo floor
 */
#ifndef LSASHM_BENCH_RESULTS_H
#define LSASHM_BENCH_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_RESULTS_ENV "LSASHM_BENCH_RESULTS"

enum bench_op {
        BENCH_AT_MOST,  /* "<=": PASS when the compared value <= limit */
        BENCH_AT_LEAST, /* ">=" */
        BENCH_BELOW,    /* "<": strictly */
        BENCH_ABOVE,    /* ">" */
        BENCH_NO_LIMIT, /* a figure reported beside the targets, no verdict */
};

struct bench_target {
        /* Short and stable, [a-z0-9-]: the JSON key and the table's order. */
        const char *id;
        /* One line for the table: the workload and the implementation. */
        const char *what;
        /* lsashm's figure; NAN when it could not be measured (verdict n/a). */
        double figure;
        const char *unit; /* of figure and ref_figure: "ns/step", "calls/s" */
        /* The peer or floor; NULL when the limit is absolute (p99.9 <= 1 us):
         * then the figure itself is compared to the limit. */
        const char *ref_name;
        double ref_figure;
        /* false: ratio = figure / ref_figure ("1.3x the floor's round trip",
         *        "0.8x the echo floor's calls/s");
         * true:  ratio = ref_figure / figure ("3.5x faster than Boost" for a
         *        figure in ns, where less is better). */
        bool inverse;
        enum bench_op op;
        double limit;
        /* A stretch goal: shown with its verdict, not counted. */
        bool info;
};

/* Records one target; computes ratio and verdict. 0, or a negative errno when
 * the results directory cannot be written (the program's own report still
 * stands: callers may ignore it). -EINVAL for a NULL id or what. */
int bench_target(const struct bench_target *t);

/* A latency distribution: the n samples (ns) are sorted (on a copy) and
 * written as quantiles, "fraction ns" per line, dense up to p99.99 and the
 * max, a few hundred lines whatever n is. Samples that are batch averages
 * (an operation too short to time on its own) say so in note. */
int bench_series_latencies(const char *series, const char *label, const uint64_t *ns, size_t n);
int bench_series_latencies32(const char *series, const char *label, const uint32_t *ns, size_t n);
/* The same with a note for the plot's legend ("mean of 64 reads"). */
int bench_series_latencies_note(const char *series, const char *label, const char *note, const uint64_t *ns, size_t n);

/* A curve: n points "x y", e.g. calls/s (y) by clients (x). */
int bench_series_xy(const char *series, const char *label, const char *x_unit, const char *y_unit, const double *x,
                    const double *y, size_t n);

/* The results directory, or NULL when results are not being collected. */
const char *bench_results_dir(void);

/* The ratio bench_target() records: figure / ref_figure, or the inverse;
 * NAN when there is no ref_name (an absolute limit). */
double bench_ratio(const struct bench_target *t);

/* The verdict bench_target() gives: "PASS", "MISS", "n/a" or "info". */
const char *bench_verdict(const struct bench_target *t, double ratio);

#ifdef __cplusplus
}
#endif

#endif
