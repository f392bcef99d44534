/* SPDX-License-Identifier: MIT */
/*
 * wire: the sharing protocol's messages, encoded and decoded, no I/O.
 *
 * Each message is one SOCK_SEQPACKET packet: an 8-byte header (type, zero,
 * total length) and a fixed body, little-endian. Decoding copies the packet's
 * fields once into a private struct and checks every one of them (length
 * against the packet, known type, zero reserved fields, known flags, name
 * bytes); handlers only ever see a checked struct. docs/protocol.md has one
 * table per message.
 */
#ifndef LSASHM_WIRE_H
#define LSASHM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "lsashm/share.h"

#define WIRE_VERSION 1u
/* OPEN carries the ids of views closed since the last request, and CLOSE
 * may carry several: a close costs the server nothing until the next open. */
#define WIRE_FEATURE_DEFERRED_CLOSE (1u << 0)
#define WIRE_FEATURES WIRE_FEATURE_DEFERRED_CLOSE /* every feature we know; unknown bits are refused */
/* Closed view ids an OPEN may carry; a CLOSE carries up to one more. */
#define WIRE_MAX_CLOSED 16u
#define WIRE_HEADER_SIZE 8u
#define WIRE_MAX_MESSAGE 512u /* larger than any valid message */
#define WIRE_MAX_FDS 1u       /* per message, and only in OPEN_REPLY */

enum wire_type {
        WIRE_HELLO = 1,      /* client -> server */
        WIRE_HELLO_REPLY = 2,
        WIRE_OPEN = 3,       /* client -> server */
        WIRE_OPEN_REPLY = 4, /* carries the section's fd on success */
        WIRE_CLOSE = 5,      /* client -> server */
        WIRE_REVOKED = 6,    /* server -> client, unsolicited */
};

enum wire_open_flags {
        WIRE_OPEN_READONLY = 1u << 0,
};

struct wire_hello {
        uint16_t version;
        uint32_t features;
};

struct wire_hello_reply {
        uint16_t version;
        uint32_t features;
        uint32_t max_views;
};

struct wire_open {
        uint32_t request;
        uint32_t flags;
        uint8_t name_len;
        uint8_t n_closed; /* nonzero only with WIRE_FEATURE_DEFERRED_CLOSE */
        char name[LSASHM_NAME_MAX + 1]; /* NUL-terminated after decoding */
        uint32_t closed[WIRE_MAX_CLOSED]; /* views to close before this open */
};

struct wire_open_reply {
        uint32_t request;
        int32_t status; /* 0 or -errno */
        uint32_t view;
        uint32_t access; /* enum lsashm_access */
        uint64_t size;   /* bytes the client may map and read */
        uint64_t root;
        uint32_t seals;  /* the memfd's seals, as F_GET_SEALS will show them */
};

struct wire_close {
        uint32_t view;
        uint8_t n_more; /* nonzero only with WIRE_FEATURE_DEFERRED_CLOSE */
        uint32_t more[WIRE_MAX_CLOSED];
};

struct wire_revoked {
        uint32_t view;
};

struct wire_message {
        enum wire_type type;
        union {
                struct wire_hello hello;
                struct wire_hello_reply hello_reply;
                struct wire_open open;
                struct wire_open_reply open_reply;
                struct wire_close close;
                struct wire_revoked revoked;
        };
};

/* Encode m into buf (at least WIRE_MAX_MESSAGE bytes); returns the length. */
size_t wire_encode(const struct wire_message *m, uint8_t *buf);

/* Decode one packet that arrived from a client (to_server) or from the
 * server. -EBADMSG for anything malformed, -EPROTONOSUPPORT for a message
 * that is well-formed but not allowed in that direction. */
int wire_decode(const uint8_t *buf, size_t len, int to_server, struct wire_message *ret);

/* Names: 1..LSASHM_NAME_MAX bytes, printable ASCII without '/'. */
int wire_check_name(const char *name, size_t len);

#endif
