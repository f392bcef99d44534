/* SPDX-License-Identifier: MIT */
/*
 * Reading back what the benchmark programs recorded (bench-results.h):
 * targets.tsv and series.tsv, one tab-separated line each.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-report.h"

#define TARGET_FIELDS 12
#define SERIES_FIELDS 8

const char *const report_expected_ids[] = {
        "churn-wipe-calloc",   "churn-wipe-boost", "churn-wipe-boost-stretch",
        "churn-nowipe-calloc", "pairs-calloc",     "threads-boost",
        "threads-boost-stretch", "create-delete-boost", "create-delete-memfd",
        "read-memcpy",         "open-floor",       "open-connect",
        "call-same-cpu",       "call-two-cpus",    "calls-16",
        "calls-64",            "alloc-p999",       "committed-live",
        NULL,
};

/* Splits line (tabs, the newline dropped) into at most max fields; returns
 * how many there were, which may be more than max. */
static size_t split(char *line, char **fields, size_t max)
{
        size_t n = 0;
        line[strcspn(line, "\n")] = '\0';
        for (char *p = line;; n++) {
                char *tab = strchr(p, '\t');
                if (n < max)
                        fields[n] = p;
                if (!tab)
                        return n + 1;
                *tab = '\0';
                p = tab + 1;
        }
}

/* "-" is how bench-results writes a missing number or string. */
static double parse_number(const char *s)
{
        if (!strcmp(s, "-"))
                return NAN;
        char *end;
        double v = strtod(s, &end);
        return end != s && *end == '\0' ? v : NAN;
}

static char *dup_field(const char *s)
{
        return strdup(strcmp(s, "-") ? s : "");
}

static int grow(void **array, size_t *cap, size_t n, size_t elem)
{
        if (n < *cap)
                return 0;
        size_t want = *cap ? *cap * 2 : 16;
        void *p = realloc(*array, want * elem);
        if (!p)
                return -ENOMEM;
        *array = p;
        *cap = want;
        return 0;
}

static int add_target(struct report *r, size_t *cap, char **f)
{
        if (grow((void **)&r->targets, cap, r->ntargets, sizeof(*r->targets)) < 0)
                return -ENOMEM;
        struct report_target *t = &r->targets[r->ntargets];
        *t = (struct report_target){
                .program = dup_field(f[0]), .id = dup_field(f[1]),    .what = dup_field(f[2]),
                .unit = dup_field(f[4]),    .ref_name = dup_field(f[5]), .op = dup_field(f[8]),
                .verdict = dup_field(f[10]), .kind = dup_field(f[11]),
                .figure = parse_number(f[3]), .ref_figure = parse_number(f[6]),
                .ratio = parse_number(f[7]),  .limit = parse_number(f[9]),
        };
        r->ntargets++;
        if (!t->program || !t->id || !t->what || !t->unit || !t->ref_name || !t->op || !t->verdict || !t->kind)
                return -ENOMEM;
        return 0;
}

static int add_series(struct report *r, size_t *cap, char **f)
{
        if (grow((void **)&r->series, cap, r->nseries, sizeof(*r->series)) < 0)
                return -ENOMEM;
        struct report_series *s = &r->series[r->nseries];
        *s = (struct report_series){
                .program = dup_field(f[0]), .series = dup_field(f[1]), .label = dup_field(f[2]),
                .kind = dup_field(f[3]),    .x_unit = dup_field(f[4]), .y_unit = dup_field(f[5]),
                .file = dup_field(f[6]),    .note = dup_field(f[7]),
        };
        r->nseries++;
        if (!s->program || !s->series || !s->label || !s->kind || !s->x_unit || !s->y_unit || !s->file || !s->note)
                return -ENOMEM;
        return 0;
}

/* Reads one of the two index files; nfields tells which. */
static int load_file(struct report *r, const char *name, size_t nfields)
{
        char path[4096], line[4096];
        char *f[TARGET_FIELDS];
        size_t cap = 0;
        if (snprintf(path, sizeof(path), "%s/%s", r->dir, name) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        FILE *in = fopen(path, "re");
        if (!in)
                return errno == ENOENT ? 0 : -errno;
        int ret = 0;
        while (ret == 0 && fgets(line, sizeof(line), in)) {
                if (split(line, f, TARGET_FIELDS) != nfields) {
                        r->bad_lines++;
                        continue;
                }
                ret = nfields == TARGET_FIELDS ? add_target(r, &cap, f) : add_series(r, &cap, f);
        }
        if (ret == 0 && ferror(in))
                ret = -EIO;
        fclose(in);
        return ret;
}

int report_load(const char *dir, struct report *ret)
{
        struct report r = { .dir = strdup(dir) };
        if (!r.dir)
                return -ENOMEM;
        int err = load_file(&r, "targets.tsv", TARGET_FIELDS);
        if (err == 0)
                err = load_file(&r, "series.tsv", SERIES_FIELDS);
        if (err < 0) {
                report_free(&r);
                return err;
        }
        *ret = r;
        return 0;
}

void report_free(struct report *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->ntargets; i++) {
                struct report_target *t = &r->targets[i];
                free(t->program), free(t->id), free(t->what), free(t->unit);
                free(t->ref_name), free(t->op), free(t->verdict), free(t->kind);
        }
        for (size_t i = 0; i < r->nseries; i++) {
                struct report_series *s = &r->series[i];
                free(s->program), free(s->series), free(s->label), free(s->kind);
                free(s->x_unit), free(s->y_unit), free(s->file), free(s->note);
        }
        free(r->targets);
        free(r->series);
        free(r->dir);
        *r = (struct report){ 0 };
}
