/* SPDX-License-Identifier: MIT */
/*
 * The benchmark programs' side of the final report (bench-results.h): rows
 * appended to files in LSASHM_BENCH_RESULTS, read back by bench-report.
 */
#include "bench-results.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A line longer than this is cut: the fields are short names and numbers. */
#define LINE_MAX_BYTES         2048
/* Quantile points in a latency file: fine enough for a smooth curve, small
 * enough that a 5-million-sample run writes a few kilobytes. */
#define QUANTILE_LINEAR_POINTS 100 /* 0 .. 0.99 in steps of 0.01 */
#define QUANTILE_TAIL_DECADES  5   /* then 0.99 .. 0.9999999, 20 points each */
#define QUANTILE_TAIL_POINTS   20

const char *bench_results_dir(void)
{
        const char *dir = getenv(BENCH_RESULTS_ENV);
        return dir && dir[0] ? dir : NULL;
}

/* The short name of the running program, for the "program" column
 * (glibc declares it in <errno.h> under _GNU_SOURCE). */
static const char *program_name(void)
{
        return program_invocation_short_name ? program_invocation_short_name : "?";
}

/* A string made safe for one tab-separated field. */
static void field(char *out, size_t len, const char *s)
{
        size_t i = 0;
        if (!s || !s[0])
                s = "-";
        for (; *s && i + 1 < len; s++)
                out[i++] = (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s;
        out[i] = '\0';
}

static void number(char *out, size_t len, double v)
{
        if (isnan(v) || isinf(v))
                snprintf(out, len, "-");
        else
                snprintf(out, len, "%.6g", v);
}

/* One line appended with one write(): O_APPEND makes concurrent writers'
 * lines land whole, one after another. */
__attribute__((format(printf, 2, 3))) static int append_line(const char *path, const char *fmt, ...)
{
        char line[LINE_MAX_BYTES];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        if ((size_t)n >= sizeof(line) - 1)
                n = (int)sizeof(line) - 2;
        line[n++] = '\n';
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        ssize_t w = write(fd, line, (size_t)n);
        int err = w < 0 ? -errno : w != n ? -EIO : 0;
        if (close(fd) < 0 && err == 0)
                err = -errno;
        return err;
}

static int results_path(char *out, size_t len, const char *name)
{
        const char *dir = bench_results_dir();
        if (!dir)
                return -ENOENT;
        int n = snprintf(out, len, "%s/%s", dir, name);
        return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static const char *const op_text[] = {
        [BENCH_AT_MOST] = "<=", [BENCH_AT_LEAST] = ">=", [BENCH_BELOW] = "<",
        [BENCH_ABOVE] = ">",    [BENCH_NO_LIMIT] = "-",
};

double bench_ratio(const struct bench_target *t)
{
        if (!t->ref_name)
                return NAN;
        return t->inverse ? t->ref_figure / t->figure : t->figure / t->ref_figure;
}

const char *bench_verdict(const struct bench_target *t, double ratio)
{
        if (t->op == BENCH_NO_LIMIT)
                return "info";
        double v = t->ref_name ? ratio : t->figure;
        if (isnan(v) || isinf(v))
                return "n/a";
        bool pass;
        switch (t->op) {
        case BENCH_AT_MOST:
                pass = v <= t->limit;
                break;
        case BENCH_AT_LEAST:
                pass = v >= t->limit;
                break;
        case BENCH_BELOW:
                pass = v < t->limit;
                break;
        case BENCH_ABOVE:
                pass = v > t->limit;
                break;
        default:
                return "n/a";
        }
        return pass ? "PASS" : "MISS";
}

int bench_target(const struct bench_target *t)
{
        char path[4096], id[64], what[256], unit[32], ref[128], fig[32], reff[32], rat[32], lim[32];
        if (!t || !t->id || !t->what || (unsigned)t->op > BENCH_NO_LIMIT)
                return -EINVAL;
        int ret = results_path(path, sizeof(path), "targets.tsv");
        if (ret < 0)
                return ret == -ENOENT ? 0 : ret;
        double ratio = bench_ratio(t);
        field(id, sizeof(id), t->id);
        field(what, sizeof(what), t->what);
        field(unit, sizeof(unit), t->unit);
        field(ref, sizeof(ref), t->ref_name);
        number(fig, sizeof(fig), t->figure);
        number(reff, sizeof(reff), t->ref_name ? t->ref_figure : NAN);
        number(rat, sizeof(rat), ratio);
        number(lim, sizeof(lim), t->op == BENCH_NO_LIMIT ? NAN : t->limit);
        return append_line(path, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", program_name(), id, what, fig, unit,
                           ref, reff, rat, op_text[t->op], lim, bench_verdict(t, ratio), t->info ? "info" : "target");
}

/* series/SERIES--LABEL.dat, the label reduced to [A-Za-z0-9.-]. */
static int series_file(char *name, size_t len, const char *series, const char *label)
{
        int n = snprintf(name, len, "series/%s--%s.dat", series, label);
        if (n < 0 || (size_t)n >= len)
                return -ENAMETOOLONG;
        for (char *p = name + strlen("series/"); *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                      *p == '-'))
                        *p = '_';
        return 0;
}

/* Creates the data file (replacing one of the same name) and returns it
 * open; the index line is added by series_index() once the data is written. */
static FILE *series_open(const char *series, const char *label, char *name, size_t name_len, int *ret_err)
{
        char path[4096];
        const char *dir = bench_results_dir();
        *ret_err = series_file(name, name_len, series, label);
        if (*ret_err < 0)
                return NULL;
        snprintf(path, sizeof(path), "%s/series", dir);
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                *ret_err = -errno;
                return NULL;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        if (!f)
                *ret_err = -errno;
        return f;
}

static int series_close(FILE *f)
{
        int err = ferror(f) ? -EIO : 0;
        if (fclose(f) != 0 && err == 0)
                err = -errno;
        return err;
}

static int series_index(const char *series, const char *label, const char *kind, const char *x_unit, const char *y_unit,
                        const char *file, const char *note)
{
        char path[4096], s[64], l[128], xu[32], yu[32], n[256];
        int ret = results_path(path, sizeof(path), "series.tsv");
        if (ret < 0)
                return ret;
        field(s, sizeof(s), series);
        field(l, sizeof(l), label);
        field(xu, sizeof(xu), x_unit);
        field(yu, sizeof(yu), y_unit);
        field(n, sizeof(n), note);
        return append_line(path, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", program_name(), s, l, kind, xu, yu, file, n);
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return (x > y) - (x < y);
}

/* The sample at quantile q of sorted v: the smallest with at least ceil(q n)
 * samples at or below it, as bench-section's percentiles. */
static uint64_t quantile(const uint64_t *v, size_t n, double q)
{
        double rank = ceil(q * (double)n);
        size_t i = rank < 1 ? 0 : (size_t)rank - 1;
        return v[i < n ? i : n - 1];
}

static int write_quantiles(FILE *f, const uint64_t *v, size_t n)
{
        fprintf(f, "# quantile ns (%zu samples)\n", n);
        for (int i = 0; i < QUANTILE_LINEAR_POINTS; i++) {
                double q = (double)i / QUANTILE_LINEAR_POINTS;
                fprintf(f, "%.7f %llu\n", q, (unsigned long long)quantile(v, n, q));
        }
        /* The tail, evenly spread on a log scale of 1 - q, while there are
         * samples to tell the quantiles apart. */
        for (int d = 0; d < QUANTILE_TAIL_DECADES; d++)
                for (int k = 0; k < QUANTILE_TAIL_POINTS; k++) {
                        double tail = pow(10.0, -2.0 - d - (double)k / QUANTILE_TAIL_POINTS);
                        if (tail * (double)n < 1.0)
                                goto done;
                        fprintf(f, "%.7f %llu\n", 1.0 - tail, (unsigned long long)quantile(v, n, 1.0 - tail));
                }
done:
        fprintf(f, "1 %llu\n", (unsigned long long)v[n - 1]);
        return 0;
}

static int latencies_sorted(const char *series, const char *label, const char *note, uint64_t *v, size_t n)
{
        char name[512];
        int err;
        qsort(v, n, sizeof(*v), cmp_u64);
        FILE *f = series_open(series, label, name, sizeof(name), &err);
        if (!f)
                return err;
        write_quantiles(f, v, n);
        if ((err = series_close(f)) < 0)
                return err;
        return series_index(series, label, "latency", "quantile", "ns", name, note);
}

int bench_series_latencies_note(const char *series, const char *label, const char *note, const uint64_t *ns, size_t n)
{
        if (!series || !label || (!ns && n))
                return -EINVAL;
        if (!bench_results_dir() || n == 0)
                return 0;
        uint64_t *v = malloc(n * sizeof(*v));
        if (!v)
                return -ENOMEM;
        memcpy(v, ns, n * sizeof(*v));
        int ret = latencies_sorted(series, label, note, v, n);
        free(v);
        return ret;
}

int bench_series_latencies(const char *series, const char *label, const uint64_t *ns, size_t n)
{
        return bench_series_latencies_note(series, label, NULL, ns, n);
}

int bench_series_latencies32(const char *series, const char *label, const uint32_t *ns, size_t n)
{
        if (!series || !label || (!ns && n))
                return -EINVAL;
        if (!bench_results_dir() || n == 0)
                return 0;
        uint64_t *v = malloc(n * sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = ns[i];
        int ret = latencies_sorted(series, label, NULL, v, n);
        free(v);
        return ret;
}

int bench_series_xy(const char *series, const char *label, const char *x_unit, const char *y_unit, const double *x,
                    const double *y, size_t n)
{
        char name[512], a[32], b[32];
        int err;
        if (!series || !label || ((!x || !y) && n))
                return -EINVAL;
        if (!bench_results_dir() || n == 0)
                return 0;
        FILE *f = series_open(series, label, name, sizeof(name), &err);
        if (!f)
                return err;
        fprintf(f, "# %s %s\n", x_unit ? x_unit : "x", y_unit ? y_unit : "y");
        for (size_t i = 0; i < n; i++) {
                number(a, sizeof(a), x[i]);
                number(b, sizeof(b), y[i]);
                fprintf(f, "%s %s\n", a, b);
        }
        if ((err = series_close(f)) < 0)
                return err;
        return series_index(series, label, "xy", x_unit, y_unit, name, NULL);
}
