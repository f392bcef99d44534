/* SPDX-License-Identifier: MIT */
/*
 * JSON for the final report: strings escaped as RFC 8259 asks, numbers that
 * JSON can hold, and a checker that the report's own test (and
 * `bench-report --check-json`) runs on the output, so that a stray NaN or
 * control character is caught without a JSON library or python.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bench-report.h"

#define JSON_MAX_DEPTH 64

void json_print_string(FILE *f, const char *s)
{
        fputc('"', f);
        for (; s && *s; s++) {
                unsigned char ch = (unsigned char)*s;
                switch (ch) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                default:
                        /* Bytes >= 0x80 pass as they are: the benchmarks
                         * write UTF-8 (µs) and nothing else. */
                        if (ch < 0x20 || ch == 0x7f)
                                fprintf(f, "\\u%04x", ch);
                        else
                                fputc(ch, f);
                }
        }
        fputc('"', f);
}

/* NaN and infinities have no JSON spelling: null says "not measured".
 * Ten digits: more than the results files hold, so nothing is rounded. */
void json_print_number(FILE *f, double v)
{
        if (isnan(v) || isinf(v))
                fputs("null", f);
        else
                fprintf(f, "%.10g", v);
}

/* ---- the checker: recursive descent over a bounded depth ---- */

struct cursor {
        const char *p, *end;
        int depth;
};

static void skip_space(struct cursor *c)
{
        while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
                c->p++;
}

static bool is_digit(char ch)
{
        return ch >= '0' && ch <= '9';
}

static bool is_hex(char ch)
{
        return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static bool literal(struct cursor *c, const char *word)
{
        size_t n = strlen(word);
        if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
                return false;
        c->p += n;
        return true;
}

static bool digits(struct cursor *c)
{
        const char *start = c->p;
        while (c->p < c->end && is_digit(*c->p))
                c->p++;
        return c->p > start;
}

static bool number(struct cursor *c)
{
        if (c->p < c->end && *c->p == '-')
                c->p++;
        if (c->p < c->end && *c->p == '0')
                c->p++;
        else if (!digits(c))
                return false;
        if (c->p < c->end && *c->p == '.') {
                c->p++;
                if (!digits(c))
                        return false;
        }
        if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
                c->p++;
                if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
                        c->p++;
                if (!digits(c))
                        return false;
        }
        return true;
}

static bool string(struct cursor *c)
{
        if (c->p >= c->end || *c->p != '"')
                return false;
        c->p++;
        while (c->p < c->end) {
                unsigned char ch = (unsigned char)*c->p++;
                if (ch == '"')
                        return true;
                if (ch < 0x20)
                        return false;
                if (ch != '\\')
                        continue;
                if (c->p >= c->end)
                        return false;
                ch = (unsigned char)*c->p++;
                if (ch == 'u') {
                        for (int i = 0; i < 4; i++)
                                if (c->p >= c->end || !is_hex(*c->p++))
                                        return false;
                } else if (!strchr("\"\\/bfnrt", ch) || ch == '\0') {
                        return false;
                }
        }
        return false;
}

static bool value(struct cursor *c);

/* An object (close '}') or an array (close ']'), the opening bracket read. */
static bool members(struct cursor *c, char close)
{
        if (++c->depth > JSON_MAX_DEPTH)
                return false;
        skip_space(c);
        if (c->p < c->end && *c->p == close) {
                c->p++;
                c->depth--;
                return true;
        }
        for (;;) {
                skip_space(c);
                if (close == '}') {
                        if (!string(c))
                                return false;
                        skip_space(c);
                        if (c->p >= c->end || *c->p++ != ':')
                                return false;
                        skip_space(c);
                }
                if (!value(c))
                        return false;
                skip_space(c);
                if (c->p >= c->end)
                        return false;
                char ch = *c->p++;
                if (ch == close) {
                        c->depth--;
                        return true;
                }
                if (ch != ',')
                        return false;
        }
}

static bool value(struct cursor *c)
{
        if (c->p >= c->end)
                return false;
        switch (*c->p) {
        case '{':
                c->p++;
                return members(c, '}');
        case '[':
                c->p++;
                return members(c, ']');
        case '"':
                return string(c);
        case 't':
                return literal(c, "true");
        case 'f':
                return literal(c, "false");
        case 'n':
                return literal(c, "null");
        default:
                return number(c);
        }
}

int json_check(const char *text, size_t len, size_t *ret_offset)
{
        struct cursor c = { text, text + len, 0 };
        skip_space(&c);
        bool ok = value(&c);
        if (ok) {
                skip_space(&c);
                ok = c.p == c.end;
        }
        if (!ok && ret_offset)
                *ret_offset = (size_t)(c.p - text);
        return ok ? 0 : -EINVAL;
}
