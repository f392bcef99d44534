/* SPDX-License-Identifier: MIT */
/*
 * The user and group cache: the messages of the package lsashm-nsscache.so
 * (found by clients as NSSCACHE_PACKAGE_NAME) and the layout of its epoch
 * section. The tables themselves are described in docs/nsscache-format.md.
 *
 * Glossary:
 *   generation     one snapshot of the sources, numbered from 1 upwards; each
 *                  lives in its own frozen section (the table)
 *   epoch section  a small section, shared read-only with every client, that
 *                  names the current generation and its table's section id
 *
 * Every message starts with its ULONG MessageType. Requests and responses
 * are little-endian, fixed-size structures; the response comes back as the
 * return buffer of LsaCallAuthenticationPackage, its outcome in
 * *ProtocolStatus:
 *   NssCacheQueryMessage   anyone: where the epoch and the current table are
 *   NssCacheReloadMessage  trusted callers only (LsaRegisterLogonProcess: root
 *                          or the logon group): read the sources now and
 *                          publish a generation; untrusted callers get
 *                          STATUS_ACCESS_DENIED
 *   NssCacheStatsMessage   anyone: what `lsashm status` shows
 * A message type the package does not know: STATUS_NOT_SUPPORTED; a request
 * shorter than its structure or with a nonzero Reserved field:
 * STATUS_INVALID_PARAMETER. STATUS_DEVICE_NOT_READY: no generation yet.
 */
#ifndef LSASHM_NSSCACHE_H
#define LSASHM_NSSCACHE_H

#include "lsashm/wintypes.h"

#define NSSCACHE_PACKAGE_NAME "LsashmNssCache"

/* Windows' value (ntstatus.h): the package has no generation to offer yet. */
#ifndef STATUS_DEVICE_NOT_READY
#define STATUS_DEVICE_NOT_READY ((NTSTATUS)0xC00000A3L)
#endif

typedef enum _NSSCACHE_MESSAGE_TYPE {
        NssCacheQueryMessage = 1,
        NssCacheReloadMessage = 2,
        NssCacheStatsMessage = 3,
} NSSCACHE_MESSAGE_TYPE;

/* The request of every message: nothing but its type. */
typedef struct _NSSCACHE_REQUEST {
        ULONG MessageType;
        ULONG Reserved; /* 0 */
} NSSCACHE_REQUEST, *PNSSCACHE_REQUEST;

/* NssCacheQueryMessage and NssCacheReloadMessage. */
typedef struct _NSSCACHE_QUERY_RESPONSE {
        ULONG MessageType;
        ULONG EpochOffset;        /* of the NSSCACHE_EPOCH in the epoch section */
        ULONGLONG EpochSectionId; /* for LsashmMapSection */
        ULONGLONG TableSectionId; /* the current table */
        ULONGLONG Generation;     /* the current table's */
} NSSCACHE_QUERY_RESPONSE, *PNSSCACHE_QUERY_RESPONSE;

/* NssCacheStatsMessage. */
typedef struct _NSSCACHE_STATS_RESPONSE {
        ULONG MessageType;
        ULONG Sources; /* source files configured (passwd and group) */
        ULONGLONG Generation;
        ULONGLONG Users; /* in the current table, after duplicates */
        ULONGLONG Groups;
        ULONGLONG TableBytes;     /* the current table's section size */
        ULONGLONG SkippedLines;   /* malformed lines in the current generation's sources */
        ULONGLONG LastReloadTime; /* seconds since the epoch (UTC) of the last publication */
        ULONGLONG Reloads;        /* generations published */
        ULONGLONG FailedReloads;  /* reloads that kept the previous generation */
} NSSCACHE_STATS_RESPONSE, *PNSSCACHE_STATS_RESPONSE;

#define NSSCACHE_EPOCH_MAGIC   0x4843454Eu /* "NECH" */
#define NSSCACHE_EPOCH_VERSION 1u

/* In the epoch section at EpochOffset, 64-byte aligned. The package writes
 * TableSectionId, then Generation with a release store; a reader loads
 * Generation with an acquire load, then TableSectionId, and maps that
 * table, whose own header carries its generation (it may be newer than the
 * one read). Generation 0 means "none": the epoch was wiped (the package
 * stopped) or nothing was published yet.
 *
 * Lease: a process-shared, robust pthread mutex that a thread of the
 * package holds while it serves. Its first 32-bit word is the kernel's
 * robust futex word (futex(2), set_robust_list(2)): when the holder dies
 * without letting go, SIGKILL included, the kernel sets
 * NSSCACHE_LEASE_OWNER_DIED in it, in every mapping. A reader that sees
 * that bit treats the generation as gone, as it does generation 0. */
typedef struct _NSSCACHE_EPOCH {
        ULONG Magic;
        ULONG Version;
        ULONGLONG Generation;
        ULONGLONG TableSectionId;
        ULONGLONG Lease[5];
} NSSCACHE_EPOCH, *PNSSCACHE_EPOCH;

#define NSSCACHE_LEASE_OWNER_DIED 0x40000000u /* the kernel's FUTEX_OWNER_DIED */

LSASHM_STATIC_ASSERT(sizeof(NSSCACHE_REQUEST) == 8, "NSSCACHE_REQUEST is 8 bytes");
LSASHM_STATIC_ASSERT(sizeof(NSSCACHE_QUERY_RESPONSE) == 32, "NSSCACHE_QUERY_RESPONSE is 32 bytes");
LSASHM_STATIC_ASSERT(sizeof(NSSCACHE_STATS_RESPONSE) == 72, "NSSCACHE_STATS_RESPONSE is 72 bytes");
LSASHM_STATIC_ASSERT(sizeof(NSSCACHE_EPOCH) == 64, "NSSCACHE_EPOCH is 64 bytes");
LSASHM_STATIC_ASSERT(offsetof(NSSCACHE_EPOCH, Generation) == 8, "Generation is 8-byte aligned");

#endif
