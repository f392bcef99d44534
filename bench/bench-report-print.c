/* SPDX-License-Identifier: MIT */
/*
 * The final report's outputs: the table of every target, the same as JSON,
 * and the variables the gnuplot scripts in bench/plot/ take.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-report.h"

#define COLUMNS 7
#define CELL    160

/* The target of that id to show: the last recorded, for a rerun wins. */
static const struct report_target *find_target(const struct report *r, const char *id)
{
        for (size_t i = r->ntargets; i-- > 0;)
                if (!strcmp(r->targets[i].id, id))
                        return &r->targets[i];
        return NULL;
}

static bool is_expected(const char *id)
{
        for (size_t k = 0; report_expected_ids[k]; k++)
                if (!strcmp(report_expected_ids[k], id))
                        return true;
        return false;
}

/* The extra (unexpected) target at index i, when it is the one shown for its
 * id: neither expected nor shadowed by a later line of the same id. */
static bool is_shown_extra(const struct report *r, size_t i)
{
        const struct report_target *t = &r->targets[i];
        return !is_expected(t->id) && find_target(r, t->id) == t;
}

/* Figures as a reader takes them in: thousands grouped, a few significant
 * digits below that. */
static void format_figure(char *out, size_t len, double v)
{
        if (isnan(v) || isinf(v)) {
                snprintf(out, len, "-");
                return;
        }
        double a = fabs(v);
        if (a < 10)
                snprintf(out, len, "%.2f", v);
        else if (a < 100)
                snprintf(out, len, "%.1f", v);
        else if (a < 1e15) {
                char digits[32];
                int n = snprintf(digits, sizeof(digits), "%.0f", a);
                size_t o = 0;
                if (v < 0 && o + 1 < len)
                        out[o++] = '-';
                for (int i = 0; i < n && o + 2 < len; i++) {
                        if (i && (n - i) % 3 == 0)
                                out[o++] = ',';
                        out[o++] = digits[i];
                }
                out[o] = '\0';
        } else
                snprintf(out, len, "%.3g", v);
}

static void figure_with_unit(char *out, size_t len, double v, const char *unit)
{
        char num[48];
        format_figure(num, sizeof(num), v);
        if (isnan(v) || !unit[0])
                snprintf(out, len, "%s", num);
        else
                snprintf(out, len, "%s %s", num, unit);
}

static bool has_ref(const struct report_target *t)
{
        return t->ref_name[0] != '\0';
}

/* The cells of one row; a NULL target is an expected id that did not run. */
static void target_cells(char cell[COLUMNS][CELL], const char *id, const struct report_target *t)
{
        snprintf(cell[0], CELL, "%s", id);
        if (!t) {
                snprintf(cell[1], CELL, "-");
                snprintf(cell[2], CELL, "-");
                snprintf(cell[3], CELL, "-");
                snprintf(cell[4], CELL, "-");
                snprintf(cell[5], CELL, "-");
                snprintf(cell[6], CELL, "not run");
                return;
        }
        char a[64];
        snprintf(cell[1], CELL, "%s", t->what);
        figure_with_unit(cell[2], CELL, t->figure, t->unit);
        if (has_ref(t)) {
                figure_with_unit(a, sizeof(a), t->ref_figure, t->unit);
                snprintf(cell[3], CELL, "%s %s", t->ref_name, a);
                if (isnan(t->ratio))
                        snprintf(cell[4], CELL, "-");
                else
                        snprintf(cell[4], CELL, "%.2fx", t->ratio);
        } else {
                snprintf(cell[3], CELL, "- (absolute)");
                snprintf(cell[4], CELL, "-");
        }
        if (isnan(t->limit))
                snprintf(cell[5], CELL, "-");
        else if (has_ref(t))
                snprintf(cell[5], CELL, "%s %.2fx", t->op, t->limit);
        else {
                format_figure(a, sizeof(a), t->limit);
                snprintf(cell[5], CELL, "%s %s%s%s", t->op, a, t->unit[0] ? " " : "", t->unit);
        }
        /* A stretch goal's verdict is shown but counted apart. */
        if (!strcmp(t->kind, "info") && strcmp(t->verdict, "info"))
                snprintf(cell[6], CELL, "(%s) stretch", t->verdict);
        else
                snprintf(cell[6], CELL, "%s", t->verdict);
}

struct tally {
        unsigned pass, miss, na, not_run, info, stretch_pass, stretch_miss;
};

static void count(struct tally *c, const struct report_target *t)
{
        if (!t)
                c->not_run++;
        else if (!strcmp(t->kind, "info")) {
                if (!strcmp(t->verdict, "PASS"))
                        c->stretch_pass++;
                else if (!strcmp(t->verdict, "MISS"))
                        c->stretch_miss++;
        } else if (!strcmp(t->verdict, "PASS"))
                c->pass++;
        else if (!strcmp(t->verdict, "MISS"))
                c->miss++;
        else if (!strcmp(t->verdict, "info"))
                c->info++;
        else
                c->na++;
}

/* Every row, expected ids first, through one callback (the table is laid
 * out in two passes: widths, then lines). */
typedef void row_fn(void *ctx, const char *id, const struct report_target *t);

static void for_each_row(const struct report *r, row_fn *fn, void *ctx)
{
        for (size_t k = 0; report_expected_ids[k]; k++)
                fn(ctx, report_expected_ids[k], find_target(r, report_expected_ids[k]));
        for (size_t i = 0; i < r->ntargets; i++)
                if (is_shown_extra(r, i))
                        fn(ctx, r->targets[i].id, &r->targets[i]);
}

static const char *const header[COLUMNS] = { "target", "what", "figure", "peer or floor", "ratio", "limit", "result" };

struct layout {
        size_t width[COLUMNS];
        FILE *f;
        struct tally tally;
};

/* Display width: UTF-8 continuation bytes take no column. */
static size_t text_width(const char *s)
{
        size_t w = 0;
        for (; *s; s++)
                w += ((unsigned char)*s & 0xc0) != 0x80;
        return w;
}

static void measure_row(void *ctx, const char *id, const struct report_target *t)
{
        struct layout *l = ctx;
        char cell[COLUMNS][CELL];
        target_cells(cell, id, t);
        for (int c = 0; c < COLUMNS; c++)
                if (text_width(cell[c]) > l->width[c])
                        l->width[c] = text_width(cell[c]);
}

static void print_cells(struct layout *l, char cell[COLUMNS][CELL])
{
        for (int c = 0; c < COLUMNS; c++) {
                /* Figures are right-aligned, words left. */
                bool right = c == 2 || c == 4;
                size_t pad = l->width[c] - text_width(cell[c]);
                fprintf(l->f, "| %*s%s%*s ", right ? (int)pad : 0, "", cell[c], right ? 0 : (int)pad, "");
        }
        fputs("|\n", l->f);
}

static void print_row(void *ctx, const char *id, const struct report_target *t)
{
        struct layout *l = ctx;
        char cell[COLUMNS][CELL];
        target_cells(cell, id, t);
        print_cells(l, cell);
        count(&l->tally, t);
}

void report_print_table(FILE *f, const struct report *r)
{
        struct layout l = { .f = f };
        char cell[COLUMNS][CELL];
        for (int c = 0; c < COLUMNS; c++) {
                snprintf(cell[c], CELL, "%s", header[c]);
                l.width[c] = strlen(header[c]);
        }
        for_each_row(r, measure_row, &l);
        print_cells(&l, cell);
        for (int c = 0; c < COLUMNS; c++) {
                fputc('|', f);
                for (size_t k = 0; k < l.width[c] + 2; k++)
                        fputc(c == 2 || c == 4 ? (k == l.width[c] + 1 ? ':' : '-') : '-', f);
        }
        fputs("|\n", f);
        for_each_row(r, print_row, &l);
        fprintf(f, "\n%u PASS, %u MISS, %u n/a, %u not run; stretch goals (not counted): %u PASS, %u MISS\n",
                l.tally.pass, l.tally.miss, l.tally.na, l.tally.not_run, l.tally.stretch_pass, l.tally.stretch_miss);
        if (r->bad_lines)
                fprintf(f, "(%zu malformed lines in the results were skipped)\n", r->bad_lines);
}

/* ---- JSON ---- */

static void json_field(FILE *f, const char *key, const char *value, bool empty_is_null)
{
        fprintf(f, "\"%s\": ", key);
        if (empty_is_null && (!value || !value[0]))
                fputs("null", f);
        else
                json_print_string(f, value);
}

static void json_num_field(FILE *f, const char *key, double v)
{
        fprintf(f, "\"%s\": ", key);
        json_print_number(f, v);
}

struct json_rows {
        FILE *f;
        bool first;
        struct tally tally;
};

static void json_row(void *ctx, const char *id, const struct report_target *t)
{
        struct json_rows *j = ctx;
        FILE *f = j->f;
        fputs(j->first ? "\n    {" : ",\n    {", f);
        j->first = false;
        count(&j->tally, t);
        json_field(f, "id", id, false);
        if (!t) {
                fputs(", \"result\": \"not run\"}", f);
                return;
        }
        fputs(", ", f), json_field(f, "what", t->what, false);
        fputs(", ", f), json_field(f, "program", t->program, true);
        fputs(", ", f), json_num_field(f, "figure", t->figure);
        fputs(", ", f), json_field(f, "unit", t->unit, true);
        fputs(", ", f), json_field(f, "ref_name", t->ref_name, true);
        fputs(", ", f), json_num_field(f, "ref_figure", t->ref_figure);
        fputs(", ", f), json_num_field(f, "ratio", t->ratio);
        fputs(", ", f), json_field(f, "op", strcmp(t->op, "-") ? t->op : "", true);
        fputs(", ", f), json_num_field(f, "limit", t->limit);
        fputs(", ", f), json_field(f, "result", t->verdict, false);
        fprintf(f, ", \"stretch\": %s}", strcmp(t->kind, "info") ? "false" : "true");
}

/* The points of one series file, "x y" per line, '#' lines skipped. */
static int json_points(FILE *f, const char *dir, const char *file)
{
        char path[4096], line[256];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        fputs("[", f);
        FILE *in = file[0] ? fopen(path, "re") : NULL;
        if (!in) {
                fputs("]", f);
                return -ENOENT;
        }
        bool first = true;
        while (fgets(line, sizeof(line), in)) {
                char *end;
                if (line[0] == '#')
                        continue;
                double x = strtod(line, &end);
                if (end == line)
                        continue;
                /* "-" is a point bench-results could not measure. */
                char *rest = end + strspn(end, " \t");
                double y = strtod(rest, &end);
                if (end == rest && rest[0] == '-')
                        y = NAN;
                else if (end == rest)
                        continue;
                fputs(first ? "[" : ", [", f);
                json_print_number(f, x);
                fputs(", ", f);
                json_print_number(f, y);
                fputs("]", f);
                first = false;
        }
        fclose(in);
        fputs("]", f);
        return 0;
}

int report_print_json(FILE *f, const struct report *r)
{
        struct json_rows j = { .f = f, .first = true };
        int ret = 0;
        fputs("{\n  \"targets\": [", f);
        for_each_row(r, json_row, &j);
        fprintf(f,
                "\n  ],\n  \"summary\": {\"pass\": %u, \"miss\": %u, \"na\": %u, \"not_run\": %u, "
                "\"stretch_pass\": %u, \"stretch_miss\": %u},\n  \"series\": [",
                j.tally.pass, j.tally.miss, j.tally.na, j.tally.not_run, j.tally.stretch_pass, j.tally.stretch_miss);
        for (size_t i = 0; i < r->nseries; i++) {
                const struct report_series *s = &r->series[i];
                fputs(i ? ",\n    {" : "\n    {", f);
                json_field(f, "series", s->series, false);
                fputs(", ", f), json_field(f, "label", s->label, false);
                fputs(", ", f), json_field(f, "program", s->program, true);
                fputs(", ", f), json_field(f, "kind", s->kind, false);
                fputs(", ", f), json_field(f, "x_unit", s->x_unit, true);
                fputs(", ", f), json_field(f, "y_unit", s->y_unit, true);
                fputs(", ", f), json_field(f, "note", s->note, true);
                fputs(", ", f), json_field(f, "file", s->file, true);
                fputs(", \"points\": ", f);
                if (json_points(f, r->dir, s->file) < 0)
                        ret = -ENOENT;
                fputs("}", f);
        }
        fprintf(f, "\n  ],\n  \"malformed_lines\": %zu\n}\n", r->bad_lines);
        return ret;
}

/* ---- gnuplot ---- */

/* s inside a gnuplot word list: quotes would end the word early. */
static void gnuplot_word(FILE *f, const char *s)
{
        fputc('\'', f);
        for (; *s; s++)
                if (*s != '\'' && *s != '"' && *s != '\\')
                        fputc(*s, f);
        fputc('\'', f);
}

size_t report_print_gnuplot_vars(FILE *f, const struct report *r, const char *series)
{
        char path[4096];
        size_t n = 0;
        fputs("files = \"", f);
        for (size_t i = 0; i < r->nseries; i++) {
                if (strcmp(r->series[i].series, series))
                        continue;
                snprintf(path, sizeof(path), "%s/%s", r->dir, r->series[i].file);
                fputs(n++ ? " " : "", f);
                gnuplot_word(f, path);
        }
        fputs("\"; titles = \"", f);
        n = 0;
        for (size_t i = 0; i < r->nseries; i++) {
                const struct report_series *s = &r->series[i];
                if (strcmp(s->series, series))
                        continue;
                char title[512];
                if (s->note[0])
                        snprintf(title, sizeof(title), "%s (%s)", s->label, s->note);
                else
                        snprintf(title, sizeof(title), "%s", s->label);
                fputs(n++ ? " " : "", f);
                gnuplot_word(f, title);
        }
        fprintf(f, "\"; n = %zu\n", n);
        return n;
}
