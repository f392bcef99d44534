/* SPDX-License-Identifier: MIT */
/*
 * lsa-wire: the package host's protocol (client API <-> lsashmd), encoded and
 * decoded, no I/O.
 *
 * Every message is one SOCK_SEQPACKET packet: an 8-byte header (version u16,
 * type u16, total length u32) and a body of fixed-width little-endian fields,
 * some followed by a variable part (a name, the submit buffer). Requests go
 * from the client, each answered by exactly one reply of the matching type,
 * in order, except FREE and UNMAP: notices that need no answer (the client
 * library checks them before sending, and a round trip per
 * LsaFreeReturnBuffer would double the cost of every call); the library
 * even holds its frees back to send them with its next CALL (struct
 * lsa_wire_frees). Decoding copies the packet's fields once into a private struct
 * and checks every one of them: the packet's length against the body,
 * the direction, known modes and flags, zero reserved fields, name and data
 * lengths. Handlers see only checked structs; docs/host-protocol.md has a
 * table per message.
 */
#ifndef LSASHM_LSA_WIRE_H
#define LSASHM_LSA_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define LSA_WIRE_VERSION 1u
#define LSA_WIRE_HEADER_SIZE 8u
/* Submit buffers up to this many bytes travel inside the CALL packet;
 * larger ones, up to LSA_WIRE_MAX_SUBMIT_MEMFD (the host may allow fewer),
 * in a sealed memfd passed with it. */
#define LSA_WIRE_MAX_SUBMIT (64u * 1024u)
#define LSA_WIRE_MAX_SUBMIT_MEMFD (256u * 1024u * 1024u)
#define LSA_WIRE_MAX_NAME 127u /* LSA_STRING names, as Windows limits them */
/* Authentication information travels as a submit buffer does: inside the
 * LOGON packet up to LSA_WIRE_MAX_SUBMIT bytes, past that in a sealed memfd
 * passed with it, up to LSA_WIRE_MAX_AUTH (the host may allow fewer). */
#define LSA_WIRE_MAX_AUTH LSA_WIRE_MAX_SUBMIT_MEMFD
/* A token's SIDs (its user's first) in a LOGON_REPLY: at most this many. */
#define LSA_WIRE_MAX_TOKEN_SIDS 512u
/* LsaLogonUser's LocalGroups: at most this many. */
#define LSA_WIRE_MAX_LOCAL_GROUPS 64u
#define LSA_WIRE_MAX_SID 68u /* 8 + 4 * 15 sub-authorities */
/* Larger than any valid message: receive buffers are this big. */
#define LSA_WIRE_MAX_MESSAGE (LSA_WIRE_HEADER_SIZE + 256u + LSA_WIRE_MAX_LOCAL_GROUPS * (5u + LSA_WIRE_MAX_SID) + LSA_WIRE_MAX_SUBMIT)
/* The reply region a client reserves, and its alignment. */
#define LSA_WIRE_REPLY_ALIGN 4096u
#define LSA_WIRE_REPLY_MIN (64u * 1024u)
#define LSA_WIRE_REPLY_MAX (256u * 1024u * 1024u)

enum lsa_wire_type {
        LSA_WIRE_CONNECT = 1, /* client -> host, first and only once */
        LSA_WIRE_CONNECT_REPLY = 2,
        LSA_WIRE_LOOKUP = 3,
        LSA_WIRE_LOOKUP_REPLY = 4,
        LSA_WIRE_CALL = 5,
        LSA_WIRE_CALL_REPLY = 6,  /* may carry the reply section's fd */
        LSA_WIRE_FREE = 7,        /* no reply; 8 is not used */
        LSA_WIRE_MAP = 9,
        LSA_WIRE_MAP_REPLY = 10,  /* carries the section's fd on success */
        LSA_WIRE_UNMAP = 11,      /* no reply; 12 is not used */
        LSA_WIRE_STATUS = 13,
        LSA_WIRE_STATUS_REPLY = 14, /* carries a sealed memfd with the report */
        LSA_WIRE_LOGON = 15,      /* LsaLogonUser: logon connections only */
        LSA_WIRE_LOGON_REPLY = 16, /* may carry the reply section's fd */
        LSA_WIRE_CLOSE_TOKEN = 17, /* no reply; 18 is not used */
        LSA_WIRE_SESSIONS = 19,   /* LsaEnumerateLogonSessions */
        LSA_WIRE_SESSIONS_REPLY = 20, /* a CALL_REPLY's layout; may carry the section's fd */
        LSA_WIRE_SESSION_DATA = 21, /* LsaGetLogonSessionData */
        LSA_WIRE_SESSION_DATA_REPLY = 22, /* a CALL_REPLY's layout; may carry the section's fd */
};
#define LSA_WIRE_TYPE_LAST LSA_WIRE_SESSION_DATA_REPLY

/* What a connection is, chosen at CONNECT. */
enum lsa_wire_mode {
        LSA_WIRE_MODE_UNTRUSTED = 0, /* LsaConnectUntrusted */
        LSA_WIRE_MODE_LOGON = 1,     /* LsaRegisterLogonProcess: root or the logon group */
        LSA_WIRE_MODE_ADMIN = 2,     /* the lsashm command: root or the admin group */
};

enum lsa_wire_status_format {
        LSA_WIRE_STATUS_TEXT = 0,
        LSA_WIRE_STATUS_JSON = 1,
        LSA_WIRE_STATUS_SESSIONS_TEXT = 2, /* the logon sessions (lsashm sessions) */
        LSA_WIRE_STATUS_SESSIONS_JSON = 3,
};

/* CALL_REPLY flags */
#define LSA_WIRE_REPLY_SECTION 1u    /* the reply section's fd is attached: map it now */
#define LSA_WIRE_REPLY_HAS_BUFFER 2u /* return_offset and return_length name a return buffer */

struct lsa_wire_connect {
        uint32_t mode;        /* enum lsa_wire_mode */
        uint64_t reply_base;  /* where the client reserved its reply region (page aligned, or 0 for admin) */
        uint64_t reply_size;  /* its size: LSA_WIRE_REPLY_MIN..MAX, page multiple (0 for admin) */
        uint8_t name_len;     /* logon process name, 0..LSA_WIRE_MAX_NAME bytes */
        char name[LSA_WIRE_MAX_NAME + 1]; /* NUL-terminated after decoding */
};

struct lsa_wire_connect_reply {
        int32_t status;       /* NTSTATUS */
        uint32_t security_mode;
        uint64_t reply_size;  /* bytes of the reply region the host will use (<= asked) */
};

struct lsa_wire_lookup {
        uint8_t name_len;     /* 1..LSA_WIRE_MAX_NAME */
        char name[LSA_WIRE_MAX_NAME + 1];
};

struct lsa_wire_lookup_reply {
        int32_t status;
        uint32_t package;
};

/* Return buffers the client freed since its last request, carried by its
 * next CALL (or, when there are more, a FREE) instead of one FREE each: an
 * optional trailer, a u32 count (1..LSA_WIRE_MAX_FREES) and that many u64
 * offsets, after everything else in the message. Absent: n == 0. */
#define LSA_WIRE_MAX_FREES 16u
struct lsa_wire_frees {
        uint32_t n;
        uint64_t offset[LSA_WIRE_MAX_FREES];
};

struct lsa_wire_call {
        uint32_t package;
        uint32_t thread_id;   /* the calling thread, as the client says: informative only */
        uint64_t submit_base; /* the submit buffer's address in the client (ClientBufferBase) */
        uint32_t length;      /* 0..LSA_WIRE_MAX_SUBMIT inline; more: in the memfd sent with it */
        const uint8_t *data;  /* points into the decoded packet buffer; NULL for a memfd */
        struct lsa_wire_frees frees; /* to release before the call runs */
};

struct lsa_wire_call_reply {
        int32_t status;           /* the call's NTSTATUS */
        int32_t protocol_status;  /* the package's *ProtocolStatus */
        uint64_t return_offset;   /* in the reply region; meaningful when return_length or has_buffer */
        uint32_t return_length;
        uint32_t flags;           /* LSA_WIRE_REPLY_* */
};

struct lsa_wire_free {
        uint64_t offset;          /* of a return buffer in the reply region */
        struct lsa_wire_frees more; /* more of them (the trailer), or none */
};

struct lsa_wire_map {
        uint64_t section_id;
};

struct lsa_wire_map_reply {
        int32_t status;
        uint32_t writable;        /* 0 or 1 */
        uint64_t size;            /* bytes to map */
        uint32_t seals;           /* as F_GET_SEALS will show them */
};

struct lsa_wire_unmap {
        uint64_t section_id;
};

struct lsa_wire_status {
        uint32_t format;          /* enum lsa_wire_status_format */
};

struct lsa_wire_status_reply {
        int32_t status;
        uint64_t length;          /* bytes of report in the attached memfd */
};

/* LsaLogonUser's request. The authentication information is sent whole,
 * with its address in the client for rebasing pointers inside it. */
struct lsa_wire_logon {
        uint32_t package;
        uint32_t logon_type;  /* SECURITY_LOGON_TYPE, 0..LSA_WIRE_MAX_LOGON_TYPE */
        uint32_t thread_id;
        uint64_t auth_base;   /* AuthenticationInformation's address in the client */
        uint32_t auth_len;    /* 0..LSA_WIRE_MAX_SUBMIT inline; more: in the memfd sent with it */
        char source_name[8];  /* TOKEN_SOURCE */
        uint64_t source_id;
        uint8_t origin_len;   /* OriginName, 0..LSA_WIRE_MAX_NAME bytes */
        char origin[LSA_WIRE_MAX_NAME + 1];
        uint16_t nlocal;      /* LocalGroups: 0..LSA_WIRE_MAX_LOCAL_GROUPS SID entries (checked) */
        uint32_t local_len;
        const uint8_t *local; /* points into the decoded packet buffer; lsa_wire_sid_at */
        const uint8_t *auth;  /* points into the decoded packet buffer; NULL for a memfd */
};
#define LSA_WIRE_MAX_LOGON_TYPE 13u

/* One SID of a token: attributes, then the SID's bytes (checked: revision
 * 1, at most 15 sub-authorities, its exact length). */
struct lsa_wire_sid {
        uint32_t attributes;
        uint8_t len;
        uint8_t sid[LSA_WIRE_MAX_SID];
};

struct lsa_wire_logon_reply {
        int32_t status;
        int32_t sub_status;
        uint32_t flags;           /* LSA_WIRE_REPLY_* (the profile buffer is the return buffer) */
        uint64_t profile_offset;
        uint32_t profile_length;
        uint64_t token_id;        /* the host's name for the token: CLOSE_TOKEN */
        uint64_t logon_id;        /* LUID, HighPart in the upper half */
        int64_t expiration;       /* the token's ExpirationTime */
        uint16_t nsids;           /* 1..LSA_WIRE_MAX_TOKEN_SIDS on success: the user's, then groups */
        const uint8_t *sids;      /* nsids entries, checked; read with lsa_wire_sid_at */
        uint32_t sids_len;
};

struct lsa_wire_close_token {
        uint64_t token_id;
};

struct lsa_wire_session_data {
        uint64_t logon_id;
};

struct lsa_wire_message {
        enum lsa_wire_type type;
        union {
                struct lsa_wire_connect connect;
                struct lsa_wire_connect_reply connect_reply;
                struct lsa_wire_lookup lookup;
                struct lsa_wire_lookup_reply lookup_reply;
                struct lsa_wire_call call;
                struct lsa_wire_call_reply call_reply;
                struct lsa_wire_free free;
                struct lsa_wire_map map;
                struct lsa_wire_map_reply map_reply;
                struct lsa_wire_unmap unmap;
                struct lsa_wire_status status;
                struct lsa_wire_status_reply status_reply;
                struct lsa_wire_logon logon;
                struct lsa_wire_logon_reply logon_reply;
                struct lsa_wire_close_token close_token;
                struct lsa_wire_call_reply sessions_reply;     /* SESSIONS_REPLY */
                struct lsa_wire_session_data session_data;
                struct lsa_wire_call_reply session_data_reply; /* SESSION_DATA_REPLY */
        };
};

/* Encode m into buf (at least LSA_WIRE_MAX_MESSAGE bytes); returns the
 * length, or 0 if m cannot be encoded (a length past its limit). */
size_t lsa_wire_encode(const struct lsa_wire_message *m, uint8_t *buf);

/* Decode one packet from a client (to_host) or from the host. -EBADMSG for
 * anything malformed, -EPROTONOSUPPORT for a well-formed message that is not
 * allowed in that direction or a version we do not speak. A CALL's data
 * points into buf, which must outlive the decoded message. */
int lsa_wire_decode(const uint8_t *buf, size_t len, int to_host, struct lsa_wire_message *ret);

/* The reply type that answers a request type; 0 for a reply type and for
 * the notices (FREE, UNMAP), which get none. */
enum lsa_wire_type lsa_wire_reply_type(enum lsa_wire_type request);
/* Must this message come with a descriptor (SCM_RIGHTS)? A request that
 * does not must come without one. (A reply may carry one: see each.) */
int lsa_wire_carries_fd(const struct lsa_wire_message *m);
/* Is this a message clients send? */
int lsa_wire_from_client(enum lsa_wire_type type);

/* The token SIDs of a LOGON_REPLY: append one to a blob being built (buf
 * of cap bytes, *len used; false when it does not fit or is no SID), and
 * read entry at *pos of a decoded (so checked) blob, advancing *pos. */
int lsa_wire_sid_put(uint8_t *buf, size_t cap, uint32_t *len, uint32_t attributes, const void *sid);
void lsa_wire_sid_at(const uint8_t *sids, uint32_t *pos, struct lsa_wire_sid *ret);
/* A SID's length from its first bytes (avail of them readable), 0 if they
 * are no SID: revision 1, at most 15 sub-authorities. */
size_t lsa_wire_sid_length(const void *sid, size_t avail);
/* Unix SIDs, Samba's convention: S-1-22-1-<uid> names a user and
 * S-1-22-2-<gid> a group. 1 (user) or 2 (group) with *id set; 0 for any
 * other SID. sid has len valid bytes (a checked SID). */
int lsa_wire_sid_unix_id(const uint8_t *sid, size_t len, uint32_t *id);

#endif
