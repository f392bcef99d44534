/* SPDX-License-Identifier: MIT */
/*
 * The package host's protocol codec. This file is the only place where bytes
 * from the other side of the host's socket are parsed, in either direction:
 * each field is copied out of the packet exactly once, then checked.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "lsa/lsa-wire.h"
#include "util/le-cursor.h"

/* Names are bytes a package compares; we refuse only what cannot be a name
 * on either side: NUL (it would cut the C string a package sees). */
static int get_name(struct le_reader *r, uint8_t len, size_t min, char *out)
{
        if (len < min || len > LSA_WIRE_MAX_NAME || !le_get_bytes(r, out, len))
                return -EBADMSG;
        out[len] = '\0';
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
        case LSA_WIRE_LOGON:
        case LSA_WIRE_SESSIONS:
        case LSA_WIRE_SESSION_DATA:
                return (enum lsa_wire_type)(request + 1);
        default:
                return 0;
        }
}

int lsa_wire_carries_fd(const struct lsa_wire_message *m)
{
        return (m->type == LSA_WIRE_CALL && m->call.length > LSA_WIRE_MAX_SUBMIT) ||
               (m->type == LSA_WIRE_LOGON && m->logon.auth_len > LSA_WIRE_MAX_SUBMIT);
}

int lsa_wire_from_client(enum lsa_wire_type type)
{
        return type == LSA_WIRE_FREE || type == LSA_WIRE_UNMAP || type == LSA_WIRE_CLOSE_TOKEN ||
               lsa_wire_reply_type(type) != 0;
}

size_t lsa_wire_sid_length(const void *sid, size_t avail)
{
        const uint8_t *b = sid;
        if (!sid || avail < 8 || b[0] != 1 || b[1] > 15)
                return 0;
        size_t len = 8u + 4u * b[1];
        return len <= avail ? len : 0;
}

int lsa_wire_sid_unix_id(const uint8_t *sid, size_t len, uint32_t *id)
{
        static const uint8_t unix_authority[6] = { 0, 0, 0, 0, 0, 22 };
        if (len != 16 || sid[0] != 1 || sid[1] != 2 || memcmp(sid + 2, unix_authority, 6) != 0)
                return 0;
        struct le_reader r = le_reader_init(sid + 8, 8);
        uint32_t kind = le_get_u32(&r);
        *id = le_get_u32(&r);
        return kind == 1 || kind == 2 ? (int)kind : 0;
}

int lsa_wire_sid_put(uint8_t *buf, size_t cap, uint32_t *len, uint32_t attributes, const void *sid)
{
        size_t n = lsa_wire_sid_length(sid, LSA_WIRE_MAX_SID);
        if (!n || *len > cap || cap - *len < 5 + n)
                return 0;
        struct le_writer w = le_writer_init(buf + *len, 5 + n);
        le_put_u32(&w, attributes);
        le_put_u8(&w, (uint8_t)n);
        le_put_bytes(&w, sid, n);
        *len += (uint32_t)(5 + n);
        return 1;
}

void lsa_wire_sid_at(const uint8_t *sids, uint32_t *pos, struct lsa_wire_sid *ret)
{
        /* Checked by the decoder: whole entries, valid SIDs. */
        struct le_reader r = le_reader_init(sids + *pos, 5 + LSA_WIRE_MAX_SID);
        ret->attributes = le_get_u32(&r);
        ret->len = le_get_u8(&r);
        le_get_bytes(&r, ret->sid, ret->len);
        *pos += 5u + ret->len;
}

/* The SID entries of a LOGON_REPLY: exactly n of them filling len bytes. */
static int check_sids(const uint8_t *p, uint32_t len, uint16_t n)
{
        uint32_t pos = 0;
        for (uint16_t i = 0; i < n; i++) {
                if (len - pos < 5)
                        return -EBADMSG;
                uint8_t sl = p[pos + 4];
                if (len - pos - 5 < sl || lsa_wire_sid_length(p + pos + 5, sl) != sl)
                        return -EBADMSG;
                pos += 5u + sl;
        }
        return pos == len ? 0 : -EBADMSG;
}

/* The optional frees trailer: nothing when n is 0. False: n is too many. */
static bool put_frees(struct le_writer *w, const struct lsa_wire_frees *f)
{
        if (f->n > LSA_WIRE_MAX_FREES)
                return false;
        if (!f->n)
                return true;
        le_put_u32(w, f->n);
        for (uint32_t i = 0; i < f->n; i++)
                le_put_u64(w, f->offset[i]);
        return true;
}

/* The trailer, if the message has bytes left: exactly a count of 1 to
 * LSA_WIRE_MAX_FREES and that many offsets (le_done checks the end). The
 * offsets are the client's word only: the host frees nothing that is not
 * one of the connection's return buffers. */
static int get_frees(struct le_reader *r, struct lsa_wire_frees *f)
{
        f->n = 0;
        if (!le_left(r))
                return 0;
        uint32_t n = le_get_u32(r);
        if (!le_ok(r) || n == 0 || n > LSA_WIRE_MAX_FREES || le_left(r) != (size_t)n * 8u)
                return -EBADMSG;
        for (uint32_t i = 0; i < n; i++)
                f->offset[i] = le_get_u64(r);
        f->n = n;
        return 0;
}

size_t lsa_wire_encode(const struct lsa_wire_message *m, uint8_t *buf)
{
        struct le_writer w = le_writer_init(buf, LSA_WIRE_MAX_MESSAGE);
        le_put_zeros(&w, LSA_WIRE_HEADER_SIZE); /* written last, when the length is known */
        switch (m->type) {
        case LSA_WIRE_CONNECT:
                if (m->connect.name_len > LSA_WIRE_MAX_NAME)
                        return 0;
                le_put_u32(&w, m->connect.mode);
                le_put_zeros(&w, 4);
                le_put_u64(&w, m->connect.reply_base);
                le_put_u64(&w, m->connect.reply_size);
                le_put_u8(&w, m->connect.name_len);
                le_put_bytes(&w, m->connect.name, m->connect.name_len);
                break;
        case LSA_WIRE_CONNECT_REPLY:
                le_put_u32(&w, (uint32_t)m->connect_reply.status);
                le_put_u32(&w, m->connect_reply.security_mode);
                le_put_u64(&w, m->connect_reply.reply_size);
                break;
        case LSA_WIRE_LOOKUP:
                if (m->lookup.name_len > LSA_WIRE_MAX_NAME)
                        return 0;
                le_put_u8(&w, m->lookup.name_len);
                le_put_bytes(&w, m->lookup.name, m->lookup.name_len);
                break;
        case LSA_WIRE_LOOKUP_REPLY:
                le_put_u32(&w, (uint32_t)m->lookup_reply.status);
                le_put_u32(&w, m->lookup_reply.package);
                break;
        case LSA_WIRE_CALL:
                /* Past LSA_WIRE_MAX_SUBMIT the bytes go in a memfd, not here. */
                if (m->call.length > LSA_WIRE_MAX_SUBMIT_MEMFD ||
                    (m->call.length && m->call.length <= LSA_WIRE_MAX_SUBMIT && !m->call.data))
                        return 0;
                le_put_u32(&w, m->call.package);
                le_put_u32(&w, m->call.thread_id);
                le_put_u64(&w, m->call.submit_base);
                le_put_u32(&w, m->call.length);
                if (m->call.length <= LSA_WIRE_MAX_SUBMIT)
                        le_put_bytes(&w, m->call.data, m->call.length);
                if (!put_frees(&w, &m->call.frees))
                        return 0;
                break;
        case LSA_WIRE_CALL_REPLY:
        case LSA_WIRE_SESSIONS_REPLY:     /* a CALL_REPLY's layout */
        case LSA_WIRE_SESSION_DATA_REPLY: /* the same */
                le_put_u32(&w, (uint32_t)m->call_reply.status);
                le_put_u32(&w, (uint32_t)m->call_reply.protocol_status);
                le_put_u64(&w, m->call_reply.return_offset);
                le_put_u32(&w, m->call_reply.return_length);
                le_put_u32(&w, m->call_reply.flags);
                break;
        case LSA_WIRE_FREE:
                le_put_u64(&w, m->free.offset);
                if (!put_frees(&w, &m->free.more))
                        return 0;
                break;
        case LSA_WIRE_MAP:
                le_put_u64(&w, m->map.section_id);
                break;
        case LSA_WIRE_MAP_REPLY:
                le_put_u32(&w, (uint32_t)m->map_reply.status);
                le_put_u32(&w, m->map_reply.writable);
                le_put_u64(&w, m->map_reply.size);
                le_put_u32(&w, m->map_reply.seals);
                break;
        case LSA_WIRE_UNMAP:
                le_put_u64(&w, m->unmap.section_id);
                break;
        case LSA_WIRE_STATUS:
                le_put_u32(&w, m->status.format);
                break;
        case LSA_WIRE_STATUS_REPLY:
                le_put_u32(&w, (uint32_t)m->status_reply.status);
                le_put_zeros(&w, 4);
                le_put_u64(&w, m->status_reply.length);
                break;
        case LSA_WIRE_LOGON:
                /* Past LSA_WIRE_MAX_SUBMIT the bytes go in a memfd, not here. */
                if (m->logon.auth_len > LSA_WIRE_MAX_AUTH ||
                    (m->logon.auth_len && m->logon.auth_len <= LSA_WIRE_MAX_SUBMIT && !m->logon.auth) ||
                    m->logon.origin_len > LSA_WIRE_MAX_NAME || m->logon.nlocal > LSA_WIRE_MAX_LOCAL_GROUPS ||
                    m->logon.local_len > LSA_WIRE_MAX_LOCAL_GROUPS * (5u + LSA_WIRE_MAX_SID) ||
                    (m->logon.local_len && !m->logon.local))
                        return 0;
                le_put_u32(&w, m->logon.package);
                le_put_u32(&w, m->logon.logon_type);
                le_put_u32(&w, m->logon.thread_id);
                le_put_u32(&w, m->logon.auth_len);
                le_put_u64(&w, m->logon.auth_base);
                le_put_bytes(&w, m->logon.source_name, 8);
                le_put_u64(&w, m->logon.source_id);
                le_put_u8(&w, m->logon.origin_len);
                le_put_bytes(&w, m->logon.origin, m->logon.origin_len);
                le_put_u16(&w, m->logon.nlocal);
                le_put_u32(&w, m->logon.local_len);
                le_put_bytes(&w, m->logon.local, m->logon.local_len);
                if (m->logon.auth_len <= LSA_WIRE_MAX_SUBMIT)
                        le_put_bytes(&w, m->logon.auth, m->logon.auth_len);
                break;
        case LSA_WIRE_LOGON_REPLY:
                if (m->logon_reply.nsids > LSA_WIRE_MAX_TOKEN_SIDS ||
                    m->logon_reply.sids_len > LSA_WIRE_MAX_TOKEN_SIDS * (5u + LSA_WIRE_MAX_SID) ||
                    (m->logon_reply.sids_len && !m->logon_reply.sids))
                        return 0;
                le_put_u32(&w, (uint32_t)m->logon_reply.status);
                le_put_u32(&w, (uint32_t)m->logon_reply.sub_status);
                le_put_u32(&w, m->logon_reply.flags);
                le_put_u32(&w, m->logon_reply.profile_length);
                le_put_u64(&w, m->logon_reply.profile_offset);
                le_put_u64(&w, m->logon_reply.token_id);
                le_put_u64(&w, m->logon_reply.logon_id);
                le_put_u64(&w, (uint64_t)m->logon_reply.expiration);
                le_put_u16(&w, m->logon_reply.nsids);
                le_put_u32(&w, m->logon_reply.sids_len);
                le_put_bytes(&w, m->logon_reply.sids, m->logon_reply.sids_len);
                break;
        case LSA_WIRE_CLOSE_TOKEN:
                le_put_u64(&w, m->close_token.token_id);
                break;
        case LSA_WIRE_SESSIONS:
                break;
        case LSA_WIRE_SESSION_DATA:
                le_put_u64(&w, m->session_data.logon_id);
                break;
        default:
                return 0;
        }
        /* The limits checked above keep every message within the buffer. */
        assert(le_writer_ok(&w));
        size_t len = le_written(&w);
        struct le_writer h = le_writer_init(buf, LSA_WIRE_HEADER_SIZE);
        le_put_u16(&h, LSA_WIRE_VERSION);
        le_put_u16(&h, (uint16_t)m->type);
        le_put_u32(&h, (uint32_t)len);
        return len;
}

int lsa_wire_decode(const uint8_t *buf, size_t len, int to_host, struct lsa_wire_message *ret)
{
        if (!buf || !ret || len < LSA_WIRE_HEADER_SIZE || len > LSA_WIRE_MAX_MESSAGE)
                return -EBADMSG;
        struct le_reader c = le_reader_init(buf, len);
        uint16_t version = le_get_u16(&c);
        uint16_t type = le_get_u16(&c);
        uint32_t total = le_get_u32(&c);
        if (total != len)
                return -EBADMSG;
        if (version != LSA_WIRE_VERSION)
                return -EPROTONOSUPPORT;
        if (type < LSA_WIRE_CONNECT || type > LSA_WIRE_TYPE_LAST)
                return -EBADMSG;
        if (type == 8 || type == 12 || type == 18)
                return -EBADMSG; /* never used: FREE, UNMAP and CLOSE_TOKEN have no reply */
        if (!!to_host != !!lsa_wire_from_client((enum lsa_wire_type)type))
                return -EPROTONOSUPPORT;

        struct lsa_wire_message m;
        memset(&m, 0, sizeof(m));
        m.type = (enum lsa_wire_type)type;
        int r = 0;
        switch (m.type) {
        case LSA_WIRE_CONNECT: {
                uint64_t end;
                m.connect.mode = le_get_u32(&c);
                uint32_t reserved = le_get_u32(&c);
                m.connect.reply_base = le_get_u64(&c);
                m.connect.reply_size = le_get_u64(&c);
                m.connect.name_len = le_get_u8(&c);
                if (!le_ok(&c) || reserved != 0 || m.connect.mode > LSA_WIRE_MODE_ADMIN)
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
                           __builtin_add_overflow(m.connect.reply_base, m.connect.reply_size, &end)) {
                        return -EBADMSG;
                }
                break;
        }
        case LSA_WIRE_CONNECT_REPLY:
                m.connect_reply.status = (int32_t)le_get_u32(&c);
                m.connect_reply.security_mode = le_get_u32(&c);
                m.connect_reply.reply_size = le_get_u64(&c);
                break;
        case LSA_WIRE_LOOKUP:
                m.lookup.name_len = le_get_u8(&c);
                if (!le_ok(&c))
                        return -EBADMSG;
                /* The client library refuses names past 127 bytes with
                 * STATUS_NAME_TOO_LONG before sending; one on the wire is
                 * a protocol violation. */
                r = get_name(&c, m.lookup.name_len, 1, m.lookup.name);
                break;
        case LSA_WIRE_LOOKUP_REPLY:
                m.lookup_reply.status = (int32_t)le_get_u32(&c);
                m.lookup_reply.package = le_get_u32(&c);
                break;
        case LSA_WIRE_CALL: {
                m.call.package = le_get_u32(&c);
                m.call.thread_id = le_get_u32(&c);
                m.call.submit_base = le_get_u64(&c);
                m.call.length = le_get_u32(&c);
                bool in_memfd = m.call.length > LSA_WIRE_MAX_SUBMIT;
                if (!le_ok(&c) || m.call.length > LSA_WIRE_MAX_SUBMIT_MEMFD ||
                    le_left(&c) < (in_memfd ? 0 : m.call.length))
                        return -EBADMSG;
                uint64_t end;
                if (__builtin_add_overflow(m.call.submit_base, (uint64_t)m.call.length, &end))
                        return -EBADMSG;
                m.call.data = in_memfd ? NULL : le_take(&c, m.call.length);
                if (!m.call.length)
                        m.call.data = NULL;
                r = get_frees(&c, &m.call.frees);
                break;
        }
        case LSA_WIRE_CALL_REPLY:
        case LSA_WIRE_SESSIONS_REPLY:
        case LSA_WIRE_SESSION_DATA_REPLY:
                m.call_reply.status = (int32_t)le_get_u32(&c);
                m.call_reply.protocol_status = (int32_t)le_get_u32(&c);
                m.call_reply.return_offset = le_get_u64(&c);
                m.call_reply.return_length = le_get_u32(&c);
                m.call_reply.flags = le_get_u32(&c);
                if (m.call_reply.flags & ~(LSA_WIRE_REPLY_SECTION | LSA_WIRE_REPLY_HAS_BUFFER))
                        return -EBADMSG;
                break;
        case LSA_WIRE_FREE:
                m.free.offset = le_get_u64(&c);
                if (!le_ok(&c))
                        return -EBADMSG;
                r = get_frees(&c, &m.free.more);
                break;
        case LSA_WIRE_MAP:
                m.map.section_id = le_get_u64(&c);
                break;
        case LSA_WIRE_MAP_REPLY:
                m.map_reply.status = (int32_t)le_get_u32(&c);
                m.map_reply.writable = le_get_u32(&c);
                m.map_reply.size = le_get_u64(&c);
                m.map_reply.seals = le_get_u32(&c);
                if (m.map_reply.writable > 1)
                        return -EBADMSG;
                break;
        case LSA_WIRE_UNMAP:
                m.unmap.section_id = le_get_u64(&c);
                break;
        case LSA_WIRE_STATUS:
                m.status.format = le_get_u32(&c);
                if (m.status.format > LSA_WIRE_STATUS_SESSIONS_JSON)
                        return -EBADMSG;
                break;
        case LSA_WIRE_STATUS_REPLY: {
                m.status_reply.status = (int32_t)le_get_u32(&c);
                uint32_t reserved = le_get_u32(&c);
                m.status_reply.length = le_get_u64(&c);
                if (reserved)
                        return -EBADMSG;
                break;
        }
        case LSA_WIRE_LOGON: {
                m.logon.package = le_get_u32(&c);
                m.logon.logon_type = le_get_u32(&c);
                m.logon.thread_id = le_get_u32(&c);
                m.logon.auth_len = le_get_u32(&c);
                m.logon.auth_base = le_get_u64(&c);
                le_get_bytes(&c, m.logon.source_name, 8);
                m.logon.source_id = le_get_u64(&c);
                m.logon.origin_len = le_get_u8(&c);
                uint64_t end;
                if (!le_ok(&c) || m.logon.logon_type > LSA_WIRE_MAX_LOGON_TYPE ||
                    m.logon.auth_len > LSA_WIRE_MAX_AUTH ||
                    __builtin_add_overflow(m.logon.auth_base, (uint64_t)m.logon.auth_len, &end))
                        return -EBADMSG;
                if (m.logon.origin_len && get_name(&c, m.logon.origin_len, 1, m.logon.origin) < 0)
                        return -EBADMSG;
                m.logon.nlocal = le_get_u16(&c);
                m.logon.local_len = le_get_u32(&c);
                if (!le_ok(&c) || m.logon.nlocal > LSA_WIRE_MAX_LOCAL_GROUPS ||
                    m.logon.local_len > LSA_WIRE_MAX_LOCAL_GROUPS * (5u + LSA_WIRE_MAX_SID) ||
                    le_left(&c) < m.logon.local_len)
                        return -EBADMSG;
                m.logon.local = m.logon.local_len ? le_take(&c, m.logon.local_len) : NULL;
                if (check_sids(m.logon.local, m.logon.local_len, m.logon.nlocal) < 0)
                        return -EBADMSG;
                bool in_memfd = m.logon.auth_len > LSA_WIRE_MAX_SUBMIT;
                if (le_left(&c) != (in_memfd ? 0 : m.logon.auth_len))
                        return -EBADMSG;
                m.logon.auth = m.logon.auth_len && !in_memfd ? le_take(&c, m.logon.auth_len) : NULL;
                break;
        }
        case LSA_WIRE_LOGON_REPLY: {
                m.logon_reply.status = (int32_t)le_get_u32(&c);
                m.logon_reply.sub_status = (int32_t)le_get_u32(&c);
                m.logon_reply.flags = le_get_u32(&c);
                m.logon_reply.profile_length = le_get_u32(&c);
                m.logon_reply.profile_offset = le_get_u64(&c);
                m.logon_reply.token_id = le_get_u64(&c);
                m.logon_reply.logon_id = le_get_u64(&c);
                m.logon_reply.expiration = (int64_t)le_get_u64(&c);
                m.logon_reply.nsids = le_get_u16(&c);
                m.logon_reply.sids_len = le_get_u32(&c);
                if (!le_ok(&c) || m.logon_reply.flags & ~(LSA_WIRE_REPLY_SECTION | LSA_WIRE_REPLY_HAS_BUFFER) ||
                    m.logon_reply.nsids > LSA_WIRE_MAX_TOKEN_SIDS || le_left(&c) != m.logon_reply.sids_len)
                        return -EBADMSG;
                /* A token has a user: a successful logon names at least it. */
                if (m.logon_reply.status >= 0 && m.logon_reply.nsids == 0)
                        return -EBADMSG;
                m.logon_reply.sids = m.logon_reply.sids_len ? le_take(&c, m.logon_reply.sids_len) : NULL;
                if (check_sids(m.logon_reply.sids, m.logon_reply.sids_len, m.logon_reply.nsids) < 0)
                        return -EBADMSG;
                break;
        }
        case LSA_WIRE_CLOSE_TOKEN:
                m.close_token.token_id = le_get_u64(&c);
                break;
        case LSA_WIRE_SESSIONS:
                break;
        case LSA_WIRE_SESSION_DATA:
                m.session_data.logon_id = le_get_u64(&c);
                break;
        default:
                return -EBADMSG;
        }
        if (r < 0 || !le_done(&c))
                return -EBADMSG;
        *ret = m;
        return 0;
}
