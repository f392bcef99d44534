/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "share/wire.h"

/* Body sizes, fixed per type. OPEN is followed by name_len name bytes. */
#define HELLO_SIZE (WIRE_HEADER_SIZE + 8u)
#define HELLO_REPLY_SIZE (WIRE_HEADER_SIZE + 16u)
#define OPEN_SIZE (WIRE_HEADER_SIZE + 12u)
#define OPEN_REPLY_SIZE (WIRE_HEADER_SIZE + 40u)
#define CLOSE_SIZE (WIRE_HEADER_SIZE + 8u)
#define REVOKED_SIZE (WIRE_HEADER_SIZE + 8u)

_Static_assert(OPEN_SIZE + LSASHM_NAME_MAX <= WIRE_MAX_MESSAGE, "every message fits the buffer");

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
        return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
        return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static size_t put_header(uint8_t *buf, enum wire_type type, size_t len)
{
        put16(buf, (uint16_t)type);
        put16(buf + 2, 0);
        put32(buf + 4, (uint32_t)len);
        return len;
}

size_t wire_encode(const struct wire_message *m, uint8_t *buf)
{
        memset(buf, 0, WIRE_MAX_MESSAGE);
        uint8_t *b = buf + WIRE_HEADER_SIZE;
        switch (m->type) {
        case WIRE_HELLO:
                put16(b, m->hello.version);
                put32(b + 4, m->hello.features);
                return put_header(buf, m->type, HELLO_SIZE);
        case WIRE_HELLO_REPLY:
                put16(b, m->hello_reply.version);
                put32(b + 4, m->hello_reply.features);
                put32(b + 8, m->hello_reply.max_views);
                return put_header(buf, m->type, HELLO_REPLY_SIZE);
        case WIRE_OPEN:
                put32(b, m->open.request);
                put32(b + 4, m->open.flags);
                b[8] = m->open.name_len;
                memcpy(b + 12, m->open.name, m->open.name_len);
                return put_header(buf, m->type, OPEN_SIZE + m->open.name_len);
        case WIRE_OPEN_REPLY:
                put32(b, m->open_reply.request);
                put32(b + 4, (uint32_t)m->open_reply.status);
                put32(b + 8, m->open_reply.view);
                put32(b + 12, m->open_reply.access);
                put64(b + 16, m->open_reply.size);
                put64(b + 24, m->open_reply.root);
                put32(b + 32, m->open_reply.seals);
                return put_header(buf, m->type, OPEN_REPLY_SIZE);
        case WIRE_CLOSE:
                put32(b, m->close.view);
                return put_header(buf, m->type, CLOSE_SIZE);
        case WIRE_REVOKED:
                put32(b, m->revoked.view);
                return put_header(buf, m->type, REVOKED_SIZE);
        }
        return 0;
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

static bool zero(const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

int wire_decode(const uint8_t *buf, size_t len, int to_server, struct wire_message *ret)
{
        if (len < WIRE_HEADER_SIZE || len > WIRE_MAX_MESSAGE)
                return -EBADMSG;
        uint16_t type = get16(buf);
        if (get16(buf + 2) != 0 || get32(buf + 4) != len)
                return -EBADMSG;
        const uint8_t *b = buf + WIRE_HEADER_SIZE;
        struct wire_message m;
        memset(&m, 0, sizeof(m));
        m.type = (enum wire_type)type;

        bool from_client = type == WIRE_HELLO || type == WIRE_OPEN || type == WIRE_CLOSE;
        switch (type) {
        case WIRE_HELLO:
                if (len != HELLO_SIZE || !zero(b + 2, 2))
                        return -EBADMSG;
                m.hello.version = get16(b);
                m.hello.features = get32(b + 4);
                break;
        case WIRE_HELLO_REPLY:
                if (len != HELLO_REPLY_SIZE || !zero(b + 2, 2) || !zero(b + 12, 4))
                        return -EBADMSG;
                m.hello_reply.version = get16(b);
                m.hello_reply.features = get32(b + 4);
                m.hello_reply.max_views = get32(b + 8);
                break;
        case WIRE_OPEN:
                if (len < OPEN_SIZE || !zero(b + 9, 3))
                        return -EBADMSG;
                m.open.request = get32(b);
                m.open.flags = get32(b + 4);
                m.open.name_len = b[8];
                if (len != OPEN_SIZE + m.open.name_len || (m.open.flags & ~(uint32_t)WIRE_OPEN_READONLY))
                        return -EBADMSG;
                memcpy(m.open.name, b + 12, m.open.name_len);
                m.open.name[m.open.name_len] = '\0';
                if (wire_check_name(m.open.name, m.open.name_len) < 0)
                        return -EBADMSG;
                break;
        case WIRE_OPEN_REPLY:
                if (len != OPEN_REPLY_SIZE || !zero(b + 36, 4))
                        return -EBADMSG;
                m.open_reply.request = get32(b);
                m.open_reply.status = (int32_t)get32(b + 4);
                m.open_reply.view = get32(b + 8);
                m.open_reply.access = get32(b + 12);
                m.open_reply.size = get64(b + 16);
                m.open_reply.root = get64(b + 24);
                m.open_reply.seals = get32(b + 32);
                if (m.open_reply.status > 0 || m.open_reply.status < -4095)
                        return -EBADMSG;
                if (m.open_reply.status == 0 && m.open_reply.access != LSASHM_ACCESS_READ &&
                    m.open_reply.access != LSASHM_ACCESS_READ_WRITE)
                        return -EBADMSG;
                break;
        case WIRE_CLOSE:
                if (len != CLOSE_SIZE || !zero(b + 4, 4))
                        return -EBADMSG;
                m.close.view = get32(b);
                break;
        case WIRE_REVOKED:
                if (len != REVOKED_SIZE || !zero(b + 4, 4))
                        return -EBADMSG;
                m.revoked.view = get32(b);
                break;
        default:
                return -EBADMSG;
        }
        if (from_client != (to_server != 0))
                return -EPROTONOSUPPORT;
        *ret = m;
        return 0;
}
