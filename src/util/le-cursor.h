/* SPDX-License-Identifier: MIT */
/*
 * le-cursor: little-endian fields read from and written to a bounded byte
 * buffer, for both wire codecs (src/share/wire.c, src/lsa/lsa-wire.c).
 *
 * A cursor is a buffer, its size and a position. Every get and put first
 * checks position + n against the size with __builtin_add_overflow; one that
 * does not fit moves nothing, marks the cursor failed, and every later call
 * on it fails too (a get returns 0, a put writes nothing). A codec can thus
 * read a whole fixed body and test le_ok() once at the end: nothing past the
 * buffer is ever touched, whatever the lengths it was handed.
 *
 * Pure and header-only: no I/O, no allocation, usable from any layer.
 */
#ifndef LSASHM_LE_CURSOR_H
#define LSASHM_LE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct le_reader {
        const uint8_t *buf;
        size_t size;
        size_t pos;
        bool failed;
};

struct le_writer {
        uint8_t *buf;
        size_t size;
        size_t pos;
        bool failed;
};

static inline struct le_reader le_reader_init(const uint8_t *buf, size_t size)
{
        return (struct le_reader){ .buf = buf, .size = buf ? size : 0, .failed = !buf };
}

static inline struct le_writer le_writer_init(uint8_t *buf, size_t size)
{
        return (struct le_writer){ .buf = buf, .size = buf ? size : 0, .failed = !buf };
}

/* The n bytes at the position, and the position moved past them; NULL (and
 * the cursor failed from now on) when they are not all inside the buffer. */
static inline const uint8_t *le_take(struct le_reader *r, size_t n)
{
        size_t end;
        if (r->failed || __builtin_add_overflow(r->pos, n, &end) || end > r->size) {
                r->failed = true;
                return NULL;
        }
        const uint8_t *p = r->buf + r->pos;
        r->pos = end;
        return p;
}

static inline uint8_t *le_reserve(struct le_writer *w, size_t n)
{
        size_t end;
        if (w->failed || __builtin_add_overflow(w->pos, n, &end) || end > w->size) {
                w->failed = true;
                return NULL;
        }
        uint8_t *p = w->buf + w->pos;
        w->pos = end;
        return p;
}

static inline uint64_t le_get_n(struct le_reader *r, unsigned n)
{
        const uint8_t *p = le_take(r, n);
        uint64_t v = 0;
        for (unsigned i = 0; p && i < n; i++)
                v |= (uint64_t)p[i] << (8 * i);
        return v;
}

static inline uint8_t le_get_u8(struct le_reader *r) { return (uint8_t)le_get_n(r, 1); }
static inline uint16_t le_get_u16(struct le_reader *r) { return (uint16_t)le_get_n(r, 2); }
static inline uint32_t le_get_u32(struct le_reader *r) { return (uint32_t)le_get_n(r, 4); }
static inline uint64_t le_get_u64(struct le_reader *r) { return le_get_n(r, 8); }

/* n bytes copied into out; out is left untouched when they are not there. */
static inline bool le_get_bytes(struct le_reader *r, void *out, size_t n)
{
        const uint8_t *p = le_take(r, n);
        if (p && n)
                memcpy(out, p, n);
        return p != NULL;
}

/* Reserved bytes: true when all n are there and zero. A nonzero byte is the
 * caller's error to report; only a short buffer fails the cursor. */
static inline bool le_get_zeros(struct le_reader *r, size_t n)
{
        const uint8_t *p = le_take(r, n);
        if (!p)
                return false;
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

static inline size_t le_left(const struct le_reader *r)
{
        return r->failed ? 0 : r->size - r->pos;
}

static inline bool le_ok(const struct le_reader *r)
{
        return !r->failed;
}

/* Every byte read, none past the end: what a fixed-layout message must be. */
static inline bool le_done(const struct le_reader *r)
{
        return !r->failed && r->pos == r->size;
}

static inline void le_put_n(struct le_writer *w, uint64_t v, unsigned n)
{
        uint8_t *p = le_reserve(w, n);
        for (unsigned i = 0; p && i < n; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static inline void le_put_u8(struct le_writer *w, uint8_t v) { le_put_n(w, v, 1); }
static inline void le_put_u16(struct le_writer *w, uint16_t v) { le_put_n(w, v, 2); }
static inline void le_put_u32(struct le_writer *w, uint32_t v) { le_put_n(w, v, 4); }
static inline void le_put_u64(struct le_writer *w, uint64_t v) { le_put_n(w, v, 8); }

static inline void le_put_bytes(struct le_writer *w, const void *src, size_t n)
{
        uint8_t *p = le_reserve(w, n);
        if (p && n)
                memcpy(p, src, n);
}

static inline void le_put_zeros(struct le_writer *w, size_t n)
{
        uint8_t *p = le_reserve(w, n);
        if (p && n)
                memset(p, 0, n);
}

static inline bool le_writer_ok(const struct le_writer *w)
{
        return !w->failed;
}

/* Bytes written so far (all of them valid only while le_writer_ok). */
static inline size_t le_written(const struct le_writer *w)
{
        return w->pos;
}

#endif
