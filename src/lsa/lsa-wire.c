/* SPDX-License-Identifier: MIT */
/*
 * The package host's protocol codec. This file is the only place where bytes
 * from the other side of the host's socket are parsed, in either direction:
 * each field is copied out of the packet exactly once, then checked.
 */
#include <errno.h>
#include <string.h>

#include "lsa/lsa-wire.h"

/* ---- little-endian field access on a bounded cursor ---- */

struct cursor {
        const uint8_t *p;
        size_t left;
        int bad;
};

static uint64_t get_n(struct cursor *c, unsigned n)
{
        if (c->left < n) {
                c->bad = 1;
                c->left = 0;
                return 0;
        }
        uint64_t v = 0;
        for (unsigned i = 0; i < n; i++)
                v |= (uint64_t)c->p[i] << (8 * i);
        c->p += n;
        c->left -= n;
        return v;
}

static uint8_t get8(struct cursor *c) { return (uint8_t)get_n(c, 1); }
static uint16_t get16(struct cursor *c) { return (uint16_t)get_n(c, 2); }
static uint32_t get32(struct cursor *c) { return (uint32_t)get_n(c, 4); }
static uint64_t get64(struct cursor *c) { return get_n(c, 8); }

static uint8_t *put_n(uint8_t *p, uint64_t v, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                p[i] = (uint8_t)(v >> (8 * i));
        return p + n;
}

#define put8(p, v) put_n((p), (v), 1)
#define put32(p, v) put_n((p), (uint32_t)(v), 4)
#define put64(p, v) put_n((p), (v), 8)

/* Names are bytes a package compares; we refuse only what cannot be a name
 * on either side: NUL (it would cut the C string a package sees). */
static int get_name(struct cursor *c, uint8_t len, size_t min, char *out)
{
        if (len < min || len > LSA_WIRE_MAX_NAME || c->left < len)
                return -EBADMSG;
        memcpy(out, c->p, len);
        out[len] = '\0';
        c->p += len;
        c->left -= len;
        if (memchr(out, '\0', len))
                return -EBADMSG;
        return 0;
}

enum lsa_wire_type lsa_wire_reply_type(enum lsa_wire_type request)
{
        switch (request) {
        case LSA_WIRE_CONNECT:
        case LSA_WIRE_LOOKUP:
        case LSA_WIRE_CALL:
        case LSA_WIRE_MAP:
        case LSA_WIRE_STATUS:
                return (enum lsa_wire_type)(request + 1);
        default:
                return 0;
        }
}

int lsa_wire_from_client(enum lsa_wire_type type)
{
        return type == LSA_WIRE_FREE || type == LSA_WIRE_UNMAP || lsa_wire_reply_type(type) != 0;
}

size_t lsa_wire_encode(const struct lsa_wire_message *m, uint8_t *buf)
{
        uint8_t *p = buf + LSA_WIRE_HEADER_SIZE;
        switch (m->type) {
        case LSA_WIRE_CONNECT:
                if (m->connect.name_len > LSA_WIRE_MAX_NAME)
                        return 0;
                p = put32(p, m->connect.mode);
                p = put32(p, 0);
                p = put64(p, m->connect.reply_base);
                p = put64(p, m->connect.reply_size);
                p = put8(p, m->connect.name_len);
                memcpy(p, m->connect.name, m->connect.name_len);
                p += m->connect.name_len;
                break;
        case LSA_WIRE_CONNECT_REPLY:
                p = put32(p, (uint32_t)m->connect_reply.status);
                p = put32(p, m->connect_reply.security_mode);
                p = put64(p, m->connect_reply.reply_size);
                break;
        case LSA_WIRE_LOOKUP:
                if (m->lookup.name_len > LSA_WIRE_MAX_NAME)
                        return 0;
                p = put8(p, m->lookup.name_len);
                memcpy(p, m->lookup.name, m->lookup.name_len);
                p += m->lookup.name_len;
                break;
        case LSA_WIRE_LOOKUP_REPLY:
                p = put32(p, (uint32_t)m->lookup_reply.status);
                p = put32(p, m->lookup_reply.package);
                break;
        case LSA_WIRE_CALL:
                if (m->call.length > LSA_WIRE_MAX_SUBMIT || (m->call.length && !m->call.data))
                        return 0;
                p = put32(p, m->call.package);
                p = put32(p, m->call.thread_id);
                p = put64(p, m->call.submit_base);
                p = put32(p, m->call.length);
                if (m->call.length)
                        memcpy(p, m->call.data, m->call.length);
                p += m->call.length;
                break;
        case LSA_WIRE_CALL_REPLY:
                p = put32(p, (uint32_t)m->call_reply.status);
                p = put32(p, (uint32_t)m->call_reply.protocol_status);
                p = put64(p, m->call_reply.return_offset);
                p = put32(p, m->call_reply.return_length);
                p = put32(p, m->call_reply.flags);
                break;
        case LSA_WIRE_FREE:
                p = put64(p, m->free.offset);
                break;
        case LSA_WIRE_MAP:
                p = put64(p, m->map.section_id);
                break;
        case LSA_WIRE_MAP_REPLY:
                p = put32(p, (uint32_t)m->map_reply.status);
                p = put32(p, m->map_reply.writable);
                p = put64(p, m->map_reply.size);
                p = put32(p, m->map_reply.seals);
                break;
        case LSA_WIRE_UNMAP:
                p = put64(p, m->unmap.section_id);
                break;
        case LSA_WIRE_STATUS:
                p = put32(p, m->status.format);
                break;
        case LSA_WIRE_STATUS_REPLY:
                p = put32(p, (uint32_t)m->status_reply.status);
                p = put32(p, 0);
                p = put64(p, m->status_reply.length);
                break;
        default:
                return 0;
        }
        size_t len = (size_t)(p - buf);
        uint8_t *h = buf;
        h = put_n(h, LSA_WIRE_VERSION, 2);
        h = put_n(h, (uint64_t)m->type, 2);
        put32(h, len);
        return len;
}

int lsa_wire_decode(const uint8_t *buf, size_t len, int to_host, struct lsa_wire_message *ret)
{
        if (!buf || !ret || len < LSA_WIRE_HEADER_SIZE || len > LSA_WIRE_MAX_MESSAGE)
                return -EBADMSG;
        struct cursor c = { .p = buf, .left = len };
        uint16_t version = get16(&c);
        uint16_t type = get16(&c);
        uint32_t total = get32(&c);
        if (total != len)
                return -EBADMSG;
        if (version != LSA_WIRE_VERSION)
                return -EPROTONOSUPPORT;
        if (type < LSA_WIRE_CONNECT || type > LSA_WIRE_STATUS_REPLY)
                return -EBADMSG;
        if (type == 8 || type == 12)
                return -EBADMSG; /* never used: FREE and UNMAP have no reply */
        if (!!to_host != !!lsa_wire_from_client((enum lsa_wire_type)type))
                return -EPROTONOSUPPORT;

        struct lsa_wire_message m;
        memset(&m, 0, sizeof(m));
        m.type = (enum lsa_wire_type)type;
        int r = 0;
        switch (m.type) {
        case LSA_WIRE_CONNECT: {
                m.connect.mode = get32(&c);
                uint32_t reserved = get32(&c);
                m.connect.reply_base = get64(&c);
                m.connect.reply_size = get64(&c);
                m.connect.name_len = get8(&c);
                if (c.bad || reserved != 0 || m.connect.mode > LSA_WIRE_MODE_ADMIN)
                        return -EBADMSG;
                /* Only a logon process has a name (and only its own
                 * connection shows it, in the admin report). */
                if (m.connect.name_len && (m.connect.mode != LSA_WIRE_MODE_LOGON ||
                                           get_name(&c, m.connect.name_len, 1, m.connect.name) < 0))
                        return -EBADMSG;
                if (m.connect.mode == LSA_WIRE_MODE_ADMIN) {
                        if (m.connect.reply_base || m.connect.reply_size)
                                return -EBADMSG;
                } else if (m.connect.reply_base == 0 || m.connect.reply_base % LSA_WIRE_REPLY_ALIGN ||
                           m.connect.reply_size % LSA_WIRE_REPLY_ALIGN ||
                           m.connect.reply_size < LSA_WIRE_REPLY_MIN ||
                           m.connect.reply_size > LSA_WIRE_REPLY_MAX ||
                           m.connect.reply_base + m.connect.reply_size < m.connect.reply_base) {
                        return -EBADMSG;
                }
                break;
        }
        case LSA_WIRE_CONNECT_REPLY:
                m.connect_reply.status = (int32_t)get32(&c);
                m.connect_reply.security_mode = get32(&c);
                m.connect_reply.reply_size = get64(&c);
                break;
        case LSA_WIRE_LOOKUP:
                m.lookup.name_len = get8(&c);
                if (c.bad)
                        return -EBADMSG;
                /* The client library refuses names past 127 bytes with
                 * STATUS_NAME_TOO_LONG before sending; one on the wire is
                 * a protocol violation. */
                r = get_name(&c, m.lookup.name_len, 1, m.lookup.name);
                break;
        case LSA_WIRE_LOOKUP_REPLY:
                m.lookup_reply.status = (int32_t)get32(&c);
                m.lookup_reply.package = get32(&c);
                break;
        case LSA_WIRE_CALL:
                m.call.package = get32(&c);
                m.call.thread_id = get32(&c);
                m.call.submit_base = get64(&c);
                m.call.length = get32(&c);
                if (c.bad || m.call.length > LSA_WIRE_MAX_SUBMIT || c.left != m.call.length)
                        return -EBADMSG;
                if (m.call.submit_base + m.call.length < m.call.submit_base)
                        return -EBADMSG;
                m.call.data = m.call.length ? c.p : NULL;
                c.p += c.left;
                c.left = 0;
                break;
        case LSA_WIRE_CALL_REPLY:
                m.call_reply.status = (int32_t)get32(&c);
                m.call_reply.protocol_status = (int32_t)get32(&c);
                m.call_reply.return_offset = get64(&c);
                m.call_reply.return_length = get32(&c);
                m.call_reply.flags = get32(&c);
                if (m.call_reply.flags & ~(LSA_WIRE_REPLY_SECTION | LSA_WIRE_REPLY_HAS_BUFFER))
                        return -EBADMSG;
                break;
        case LSA_WIRE_FREE:
                m.free.offset = get64(&c);
                break;
        case LSA_WIRE_MAP:
                m.map.section_id = get64(&c);
                break;
        case LSA_WIRE_MAP_REPLY:
                m.map_reply.status = (int32_t)get32(&c);
                m.map_reply.writable = get32(&c);
                m.map_reply.size = get64(&c);
                m.map_reply.seals = get32(&c);
                if (m.map_reply.writable > 1)
                        return -EBADMSG;
                break;
        case LSA_WIRE_UNMAP:
                m.unmap.section_id = get64(&c);
                break;
        case LSA_WIRE_STATUS:
                m.status.format = get32(&c);
                if (m.status.format > LSA_WIRE_STATUS_JSON)
                        return -EBADMSG;
                break;
        case LSA_WIRE_STATUS_REPLY: {
                m.status_reply.status = (int32_t)get32(&c);
                uint32_t reserved = get32(&c);
                m.status_reply.length = get64(&c);
                if (reserved)
                        return -EBADMSG;
                break;
        }
        default:
                return -EBADMSG;
        }
        if (r < 0 || c.bad || c.left != 0)
                return -EBADMSG;
        *ret = m;
        return 0;
}
