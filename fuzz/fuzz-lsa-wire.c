/* SPDX-License-Identifier: MIT */
/*
 * The package host's protocol decoder (src/lsa/lsa-wire.c) on any bytes, in
 * both directions: the host decodes what clients send, the client library
 * and `lsashm status` what the host sends. Properties of every packet it
 * accepts:
 *   - re-encoding gives back the very same bytes: one encoding per message
 *     (fixed fields, reserved ones zero, names and submit data sized by a
 *     length field that must match the packet), so nothing may be lost;
 *   - decoding those bytes again gives an equal message (a CALL's data
 *     compared by content: it points into each packet);
 *   - the same packet in the other direction is refused as -EPROTONOSUPPORT;
 *   - what the handlers rely on holds (names NUL-terminated without an inner
 *     NUL, a CALL's data and a LOGON's authentication information inside
 *     the packet, or none past 64 KiB, when they must come with a memfd, the reply region in range).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "lsa/lsa-wire.h"

static bool name_equal(uint8_t la, const char *a, uint8_t lb, const char *b)
{
        return la == lb && memcmp(a, b, la + 1u) == 0;
}

static bool bytes_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
        return (a == NULL) == (b == NULL) && (!a || memcmp(a, b, len) == 0);
}

static bool frees_equal(const struct lsa_wire_frees *a, const struct lsa_wire_frees *b)
{
        return a->n == b->n && memcmp(a->offset, b->offset, a->n * sizeof(a->offset[0])) == 0;
}

static bool call_reply_equal(const struct lsa_wire_call_reply *a, const struct lsa_wire_call_reply *b)
{
        return a->status == b->status && a->protocol_status == b->protocol_status &&
               a->return_offset == b->return_offset && a->return_length == b->return_length && a->flags == b->flags;
}

static bool logon_equal(const struct lsa_wire_logon *a, const struct lsa_wire_logon *b)
{
        return a->package == b->package && a->logon_type == b->logon_type && a->thread_id == b->thread_id &&
               a->auth_base == b->auth_base && a->auth_len == b->auth_len &&
               memcmp(a->source_name, b->source_name, sizeof(a->source_name)) == 0 && a->source_id == b->source_id &&
               name_equal(a->origin_len, a->origin, b->origin_len, b->origin) && a->nlocal == b->nlocal &&
               a->local_len == b->local_len && bytes_equal(a->local, b->local, a->local_len) &&
               bytes_equal(a->auth, b->auth, a->auth_len);
}

static bool logon_reply_equal(const struct lsa_wire_logon_reply *a, const struct lsa_wire_logon_reply *b)
{
        return a->status == b->status && a->sub_status == b->sub_status && a->flags == b->flags &&
               a->profile_offset == b->profile_offset && a->profile_length == b->profile_length &&
               a->token_id == b->token_id && a->logon_id == b->logon_id && a->expiration == b->expiration &&
               a->nsids == b->nsids && a->sids_len == b->sids_len && bytes_equal(a->sids, b->sids, a->sids_len);
}

static bool message_equal(const struct lsa_wire_message *a, const struct lsa_wire_message *b)
{
        if (a->type != b->type)
                return false;
        switch (a->type) {
        case LSA_WIRE_CONNECT:
                return a->connect.mode == b->connect.mode && a->connect.reply_base == b->connect.reply_base &&
                       a->connect.reply_size == b->connect.reply_size &&
                       name_equal(a->connect.name_len, a->connect.name, b->connect.name_len, b->connect.name);
        case LSA_WIRE_CONNECT_REPLY:
                return a->connect_reply.status == b->connect_reply.status &&
                       a->connect_reply.security_mode == b->connect_reply.security_mode &&
                       a->connect_reply.reply_size == b->connect_reply.reply_size;
        case LSA_WIRE_LOOKUP:
                return name_equal(a->lookup.name_len, a->lookup.name, b->lookup.name_len, b->lookup.name);
        case LSA_WIRE_LOOKUP_REPLY:
                return a->lookup_reply.status == b->lookup_reply.status &&
                       a->lookup_reply.package == b->lookup_reply.package;
        case LSA_WIRE_CALL:
                return a->call.package == b->call.package && a->call.thread_id == b->call.thread_id &&
                       a->call.submit_base == b->call.submit_base && a->call.length == b->call.length &&
                       (a->call.data == NULL) == (b->call.data == NULL) &&
                       (!a->call.data || memcmp(a->call.data, b->call.data, a->call.length) == 0) &&
                       frees_equal(&a->call.frees, &b->call.frees);
        case LSA_WIRE_CALL_REPLY:
                return call_reply_equal(&a->call_reply, &b->call_reply);
        case LSA_WIRE_FREE:
                return a->free.offset == b->free.offset && frees_equal(&a->free.more, &b->free.more);
        case LSA_WIRE_MAP:
                return a->map.section_id == b->map.section_id;
        case LSA_WIRE_MAP_REPLY:
                return a->map_reply.status == b->map_reply.status && a->map_reply.writable == b->map_reply.writable &&
                       a->map_reply.size == b->map_reply.size && a->map_reply.seals == b->map_reply.seals;
        case LSA_WIRE_UNMAP:
                return a->unmap.section_id == b->unmap.section_id;
        case LSA_WIRE_STATUS:
                return a->status.format == b->status.format;
        case LSA_WIRE_STATUS_REPLY:
                return a->status_reply.status == b->status_reply.status &&
                       a->status_reply.length == b->status_reply.length;
        case LSA_WIRE_LOGON:
                return logon_equal(&a->logon, &b->logon);
        case LSA_WIRE_LOGON_REPLY:
                return logon_reply_equal(&a->logon_reply, &b->logon_reply);
        case LSA_WIRE_CLOSE_TOKEN:
                return a->close_token.token_id == b->close_token.token_id;
        case LSA_WIRE_SESSIONS:
                return true; /* no fields */
        case LSA_WIRE_SESSIONS_REPLY:
                return call_reply_equal(&a->sessions_reply, &b->sessions_reply);
        case LSA_WIRE_SESSION_DATA:
                return a->session_data.logon_id == b->session_data.logon_id;
        case LSA_WIRE_SESSION_DATA_REPLY:
                return call_reply_equal(&a->session_data_reply, &b->session_data_reply);
        }
        return false;
}

/* What the host's handlers take for granted once a message decoded. */
static void check_invariants(const struct lsa_wire_message *m, const uint8_t *data, size_t size)
{
        switch (m->type) {
        case LSA_WIRE_CONNECT:
                FUZZ_CHECK(m->connect.mode <= LSA_WIRE_MODE_ADMIN);
                FUZZ_CHECK(m->connect.name_len <= LSA_WIRE_MAX_NAME);
                FUZZ_CHECK(strlen(m->connect.name) == m->connect.name_len);
                FUZZ_CHECK(m->connect.name_len == 0 || m->connect.mode == LSA_WIRE_MODE_LOGON);
                if (m->connect.mode != LSA_WIRE_MODE_ADMIN) {
                        uint64_t end;
                        FUZZ_CHECK(m->connect.reply_base && m->connect.reply_base % LSA_WIRE_REPLY_ALIGN == 0);
                        FUZZ_CHECK(m->connect.reply_size >= LSA_WIRE_REPLY_MIN &&
                                   m->connect.reply_size <= LSA_WIRE_REPLY_MAX);
                        FUZZ_CHECK(!__builtin_add_overflow(m->connect.reply_base, m->connect.reply_size, &end));
                }
                break;
        case LSA_WIRE_LOOKUP:
                FUZZ_CHECK(m->lookup.name_len >= 1 && m->lookup.name_len <= LSA_WIRE_MAX_NAME);
                FUZZ_CHECK(strlen(m->lookup.name) == m->lookup.name_len);
                break;
        case LSA_WIRE_CALL: {
                FUZZ_CHECK(m->call.length <= LSA_WIRE_MAX_SUBMIT_MEMFD);
                /* Past LSA_WIRE_MAX_SUBMIT the bytes are in a memfd, none inline. */
                FUZZ_CHECK((m->call.length == 0 || m->call.length > LSA_WIRE_MAX_SUBMIT) == (m->call.data == NULL));
                FUZZ_CHECK(lsa_wire_carries_fd(m) == (m->call.length > LSA_WIRE_MAX_SUBMIT));
                /* The frees trailer, if any, ends the packet: 1 to 16 offsets. */
                FUZZ_CHECK(m->call.frees.n <= LSA_WIRE_MAX_FREES);
                size_t trailer = m->call.frees.n ? 4u + 8u * m->call.frees.n : 0;
                if (m->call.data)
                        FUZZ_CHECK(m->call.data >= data && m->call.data + m->call.length + trailer == data + size);
                else
                        FUZZ_CHECK(size == LSA_WIRE_HEADER_SIZE + 20 + trailer);
                break;
        }
        case LSA_WIRE_FREE:
                FUZZ_CHECK(m->free.more.n <= LSA_WIRE_MAX_FREES);
                FUZZ_CHECK(size == LSA_WIRE_HEADER_SIZE + 8 + (m->free.more.n ? 4u + 8u * m->free.more.n : 0));
                break;
        case LSA_WIRE_LOGON:
                FUZZ_CHECK(m->logon.auth_len <= LSA_WIRE_MAX_AUTH);
                /* Past LSA_WIRE_MAX_SUBMIT the bytes are in a memfd, none inline. */
                FUZZ_CHECK((m->logon.auth_len == 0 || m->logon.auth_len > LSA_WIRE_MAX_SUBMIT) ==
                           (m->logon.auth == NULL));
                FUZZ_CHECK(lsa_wire_carries_fd(m) == (m->logon.auth_len > LSA_WIRE_MAX_SUBMIT));
                if (m->logon.auth)
                        FUZZ_CHECK(m->logon.auth >= data && m->logon.auth + m->logon.auth_len == data + size);
                break;
        case LSA_WIRE_CALL_REPLY:
                FUZZ_CHECK(!(m->call_reply.flags & ~(LSA_WIRE_REPLY_SECTION | LSA_WIRE_REPLY_HAS_BUFFER)));
                break;
        case LSA_WIRE_MAP_REPLY:
                FUZZ_CHECK(m->map_reply.writable <= 1);
                break;
        case LSA_WIRE_STATUS:
                FUZZ_CHECK(m->status.format <= LSA_WIRE_STATUS_SESSIONS_JSON);
                break;
        default:
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static uint8_t buf[LSA_WIRE_MAX_MESSAGE];

        for (int to_host = 0; to_host <= 1; to_host++) {
                struct lsa_wire_message m, again, other;
                int r = lsa_wire_decode(data, size, to_host, &m);
                FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT);
                if (r < 0)
                        continue;
                FUZZ_CHECK(!!lsa_wire_from_client(m.type) == !!to_host);
                FUZZ_CHECK(lsa_wire_decode(data, size, !to_host, &other) == -EPROTONOSUPPORT);
                check_invariants(&m, data, size);
                size_t len = lsa_wire_encode(&m, buf);
                FUZZ_CHECK(len == size && memcmp(buf, data, size) == 0);
                FUZZ_CHECK(lsa_wire_decode(buf, len, to_host, &again) == 0);
                FUZZ_CHECK(message_equal(&m, &again));
        }
        return 0;
}
