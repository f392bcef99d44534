/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "share/wire.h"
#include "util/le-cursor.h"

/* Body sizes, fixed per type. OPEN is followed by name_len name bytes, then
 * n_closed view ids; CLOSE by n_more view ids. */
#define HELLO_SIZE (WIRE_HEADER_SIZE + 8u)
#define HELLO_REPLY_SIZE (WIRE_HEADER_SIZE + 16u)
#define OPEN_SIZE (WIRE_HEADER_SIZE + 12u)
#define OPEN_REPLY_SIZE (WIRE_HEADER_SIZE + 40u)
#define CLOSE_SIZE (WIRE_HEADER_SIZE + 8u)
#define REVOKED_SIZE (WIRE_HEADER_SIZE + 8u)

_Static_assert(OPEN_SIZE + LSASHM_NAME_MAX + 4 * WIRE_MAX_CLOSED <= WIRE_MAX_MESSAGE, "every message fits the buffer");
_Static_assert(CLOSE_SIZE + 4 * WIRE_MAX_CLOSED <= WIRE_MAX_MESSAGE, "every message fits the buffer");
_Static_assert(WIRE_MAX_CLOSED <= 255, "counts are one byte");

static void put_header(struct le_writer *w, enum wire_type type, size_t len)
{
        le_put_u16(w, (uint16_t)type);
        le_put_zeros(w, 2);
        le_put_u32(w, (uint32_t)len);
}

size_t wire_encode(const struct wire_message *m, uint8_t *buf)
{
        struct le_writer w = le_writer_init(buf, WIRE_MAX_MESSAGE);
        switch (m->type) {
        case WIRE_HELLO:
                put_header(&w, m->type, HELLO_SIZE);
                le_put_u16(&w, m->hello.version);
                le_put_zeros(&w, 2);
                le_put_u32(&w, m->hello.features);
                break;
        case WIRE_HELLO_REPLY:
                put_header(&w, m->type, HELLO_REPLY_SIZE);
                le_put_u16(&w, m->hello_reply.version);
                le_put_zeros(&w, 2);
                le_put_u32(&w, m->hello_reply.features);
                le_put_u32(&w, m->hello_reply.max_views);
                le_put_zeros(&w, 4);
                break;
        case WIRE_OPEN:
                assert(m->open.n_closed <= WIRE_MAX_CLOSED);
                put_header(&w, m->type, OPEN_SIZE + m->open.name_len + 4u * m->open.n_closed);
                le_put_u32(&w, m->open.request);
                le_put_u32(&w, m->open.flags);
                le_put_u8(&w, m->open.name_len);
                le_put_u8(&w, m->open.n_closed);
                le_put_zeros(&w, 2);
                le_put_bytes(&w, m->open.name, m->open.name_len);
                for (unsigned i = 0; i < m->open.n_closed; i++)
                        le_put_u32(&w, m->open.closed[i]);
                break;
        case WIRE_OPEN_REPLY:
                put_header(&w, m->type, OPEN_REPLY_SIZE);
                le_put_u32(&w, m->open_reply.request);
                le_put_u32(&w, (uint32_t)m->open_reply.status);
                le_put_u32(&w, m->open_reply.view);
                le_put_u32(&w, m->open_reply.access);
                le_put_u64(&w, m->open_reply.size);
                le_put_u64(&w, m->open_reply.root);
                le_put_u32(&w, m->open_reply.seals);
                le_put_zeros(&w, 4);
                break;
        case WIRE_CLOSE:
                assert(m->close.n_more <= WIRE_MAX_CLOSED);
                put_header(&w, m->type, CLOSE_SIZE + 4u * m->close.n_more);
                le_put_u32(&w, m->close.view);
                le_put_u8(&w, m->close.n_more);
                le_put_zeros(&w, 3);
                for (unsigned i = 0; i < m->close.n_more; i++)
                        le_put_u32(&w, m->close.more[i]);
                break;
        case WIRE_REVOKED:
                put_header(&w, m->type, REVOKED_SIZE);
                le_put_u32(&w, m->revoked.view);
                le_put_zeros(&w, 4);
                break;
        default:
                return 0;
        }
        /* Every message fits WIRE_MAX_MESSAGE (asserted above). */
        assert(le_writer_ok(&w));
        return le_written(&w);
}

int wire_check_name(const char *name, size_t len)
{
        if (len == 0 || len > LSASHM_NAME_MAX)
                return -EINVAL;
        for (size_t i = 0; i < len; i++)
                if (name[i] <= ' ' || name[i] > '~' || name[i] == '/')
                        return -EINVAL;
        return 0;
}

int wire_decode(const uint8_t *buf, size_t len, int to_server, struct wire_message *ret)
{
        if (!buf || len < WIRE_HEADER_SIZE || len > WIRE_MAX_MESSAGE)
                return -EBADMSG;
        struct le_reader r = le_reader_init(buf, len);
        uint16_t type = le_get_u16(&r);
        if (!le_get_zeros(&r, 2) || le_get_u32(&r) != len)
                return -EBADMSG;
        struct wire_message m;
        memset(&m, 0, sizeof(m));
        m.type = (enum wire_type)type;

        /* Each body is read whole; a short packet fails the cursor and a
         * long one leaves bytes over: le_done() below refuses both. */
        bool ok = true;
        bool from_client = type == WIRE_HELLO || type == WIRE_OPEN || type == WIRE_CLOSE;
        switch (type) {
        case WIRE_HELLO:
                m.hello.version = le_get_u16(&r);
                ok = le_get_zeros(&r, 2);
                m.hello.features = le_get_u32(&r);
                break;
        case WIRE_HELLO_REPLY:
                m.hello_reply.version = le_get_u16(&r);
                ok = le_get_zeros(&r, 2);
                m.hello_reply.features = le_get_u32(&r);
                m.hello_reply.max_views = le_get_u32(&r);
                ok = le_get_zeros(&r, 4) && ok;
                break;
        case WIRE_OPEN:
                m.open.request = le_get_u32(&r);
                m.open.flags = le_get_u32(&r);
                m.open.name_len = le_get_u8(&r);
                m.open.n_closed = le_get_u8(&r);
                ok = le_get_zeros(&r, 2) && !(m.open.flags & ~(uint32_t)WIRE_OPEN_READONLY) &&
                     m.open.n_closed <= WIRE_MAX_CLOSED && le_get_bytes(&r, m.open.name, m.open.name_len);
                /* name holds LSASHM_NAME_MAX + 1 bytes and name_len is a u8. */
                m.open.name[m.open.name_len] = '\0';
                ok = ok && wire_check_name(m.open.name, m.open.name_len) == 0;
                for (unsigned i = 0; ok && i < m.open.n_closed; i++)
                        m.open.closed[i] = le_get_u32(&r);
                break;
        case WIRE_OPEN_REPLY:
                m.open_reply.request = le_get_u32(&r);
                m.open_reply.status = (int32_t)le_get_u32(&r);
                m.open_reply.view = le_get_u32(&r);
                m.open_reply.access = le_get_u32(&r);
                m.open_reply.size = le_get_u64(&r);
                m.open_reply.root = le_get_u64(&r);
                m.open_reply.seals = le_get_u32(&r);
                ok = le_get_zeros(&r, 4);
                if (m.open_reply.status > 0 || m.open_reply.status < -4095)
                        ok = false;
                if (m.open_reply.status == 0 && m.open_reply.access != LSASHM_ACCESS_READ &&
                    m.open_reply.access != LSASHM_ACCESS_READ_WRITE)
                        ok = false;
                break;
        case WIRE_CLOSE:
                m.close.view = le_get_u32(&r);
                m.close.n_more = le_get_u8(&r);
                ok = le_get_zeros(&r, 3) && m.close.n_more <= WIRE_MAX_CLOSED;
                for (unsigned i = 0; ok && i < m.close.n_more; i++)
                        m.close.more[i] = le_get_u32(&r);
                break;
        case WIRE_REVOKED:
                m.revoked.view = le_get_u32(&r);
                ok = le_get_zeros(&r, 4);
                break;
        default:
                return -EBADMSG;
        }
        if (!ok || !le_done(&r))
                return -EBADMSG;
        if (from_client != (to_server != 0))
                return -EPROTONOSUPPORT;
        *ret = m;
        return 0;
}
