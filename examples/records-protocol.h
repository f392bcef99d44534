/* SPDX-License-Identifier: MIT */
/*
 * The public protocol of the example security package "LsashmRecords"
 * (records-package.c), in the manner of Windows' KERB_* and MSV1_0_*
 * structures: what a client puts in LsaCallAuthenticationPackage's submit
 * buffer, what comes back, and the layout of the table the package publishes
 * in a shared section.
 *
 * Every submit buffer and every return buffer starts with a ULONG
 * MessageType. Counted strings are LSA_STRINGs (bytes, not NUL-terminated
 * unless said so) whose Buffer is an address in the CLIENT:
 *   - in a request it points into the same submit buffer (the package
 *     rebases it with ClientBufferBase and checks it lies inside);
 *   - in a reply it points into the same return buffer.
 *
 * The table (RecordsGetTable, then LsashmMapSection):
 *
 *     section base
 *     + TableOffset    RECORDS_TABLE_HEADER
 *     + RecordsOffset  RECORDS_RECORD[Capacity]
 *
 * Records are appended, never changed or removed. The package writes a
 * record completely, then stores Count with release ordering; a reader that
 * loads Count with acquire ordering sees records [0, Count) complete.
 * The section is shared read-only, but a reader must still bound everything
 * it reads from it (Count against Capacity, lengths against the arrays).
 */
#ifndef LSASHM_EXAMPLE_RECORDS_PROTOCOL_H
#define LSASHM_EXAMPLE_RECORDS_PROTOCOL_H

#include <lsashm/wintypes.h>

/* What clients pass to LsaLookupAuthenticationPackage: GetInfo's Name,
 * u"LsashmRecords", in ASCII. */
#define RECORDS_PACKAGE_NAME "LsashmRecords"

typedef enum _RECORDS_PROTOCOL_MESSAGE_TYPE {
        RecordsAddMessage = 1,  /* trusted connections only */
        RecordsLookupMessage,
        RecordsGetTableMessage,
} RECORDS_PROTOCOL_MESSAGE_TYPE;

/* ProtocolStatus for RecordsAdd when the key is already present: Windows'
 * STATUS_OBJECT_NAME_COLLISION (reusing STATUS_INVALID_PARAMETER would hide
 * the one failure a caller can act on: pick another key). */
#define RECORDS_STATUS_KEY_EXISTS STATUS_OBJECT_NAME_COLLISION

#define RECORDS_MAX_KEY   32u /* bytes; at least 1 */
#define RECORDS_MAX_VALUE 96u /* bytes; may be 0 */
#define RECORDS_CAPACITY  256u

#define RECORDS_TABLE_MAGIC   0x53435252u /* "RRCS" in memory */
#define RECORDS_TABLE_VERSION 1u

/* ---- Requests ---- */

typedef struct _RECORDS_ADD_REQUEST {
        ULONG MessageType;  /* RecordsAddMessage */
        ULONG Flags;        /* stored with the record, returned by lookups */
        LSA_STRING Key;     /* 1..RECORDS_MAX_KEY bytes */
        LSA_STRING Value;   /* 0..RECORDS_MAX_VALUE bytes */
} RECORDS_ADD_REQUEST, *PRECORDS_ADD_REQUEST;

typedef struct _RECORDS_LOOKUP_REQUEST {
        ULONG MessageType;  /* RecordsLookupMessage */
        ULONG Reserved;     /* 0 */
        LSA_STRING Key;
} RECORDS_LOOKUP_REQUEST, *PRECORDS_LOOKUP_REQUEST;

typedef struct _RECORDS_GET_TABLE_REQUEST {
        ULONG MessageType;  /* RecordsGetTableMessage */
} RECORDS_GET_TABLE_REQUEST, *PRECORDS_GET_TABLE_REQUEST;

/* ---- Replies (return buffers) ---- */

/* Followed by the key and the value, each NUL-terminated (the NUL is not in
 * Length, and is in MaximumLength). */
typedef struct _RECORDS_LOOKUP_RESPONSE {
        ULONG MessageType;  /* RecordsLookupMessage */
        ULONG Flags;
        ULONG Index;        /* the record's slot in the shared table */
        ULONG Reserved;
        LSA_STRING Key;
        LSA_STRING Value;
} RECORDS_LOOKUP_RESPONSE, *PRECORDS_LOOKUP_RESPONSE;

/* Everything a client needs to read the table without another call.
 * Offsets are from the base LsashmMapSection returns. */
typedef struct _RECORDS_GET_TABLE_RESPONSE {
        ULONG MessageType;  /* RecordsGetTableMessage */
        ULONG Version;      /* RECORDS_TABLE_VERSION */
        ULONGLONG SectionId;
        ULONG TableOffset;  /* of RECORDS_TABLE_HEADER */
        ULONG RecordsOffset;/* of RECORDS_RECORD[0] */
        ULONG Capacity;
        ULONG RecordSize;   /* sizeof(RECORDS_RECORD) */
} RECORDS_GET_TABLE_RESPONSE, *PRECORDS_GET_TABLE_RESPONSE;

/* ---- The shared table ---- */

typedef struct _RECORDS_TABLE_HEADER {
        ULONG Magic;         /* RECORDS_TABLE_MAGIC */
        ULONG Version;       /* RECORDS_TABLE_VERSION */
        ULONG Capacity;
        ULONG RecordSize;
        ULONG RecordsOffset; /* from the section base */
        ULONG Count;         /* release-stored after the record it counts */
} RECORDS_TABLE_HEADER, *PRECORDS_TABLE_HEADER;

/* Key and Value are zero-padded and not NUL-terminated when full. */
typedef struct _RECORDS_RECORD {
        ULONG Flags;
        ULONG KeyLength;
        ULONG ValueLength;
        ULONG Reserved;
        CHAR Key[RECORDS_MAX_KEY];
        CHAR Value[RECORDS_MAX_VALUE];
} RECORDS_RECORD, *PRECORDS_RECORD;

/* The wire layout both sides compile against: fixed, whatever the compiler. */
LSASHM_STATIC_ASSERT(sizeof(RECORDS_RECORD) == 144, "RECORDS_RECORD is 144 bytes");
LSASHM_STATIC_ASSERT(sizeof(RECORDS_TABLE_HEADER) == 24, "RECORDS_TABLE_HEADER is 24 bytes");
LSASHM_STATIC_ASSERT(sizeof(RECORDS_GET_TABLE_RESPONSE) == 32, "RECORDS_GET_TABLE_RESPONSE is 32 bytes");
#if UINTPTR_MAX == UINT64_MAX
LSASHM_STATIC_ASSERT(sizeof(RECORDS_ADD_REQUEST) == 40, "RECORDS_ADD_REQUEST is 40 bytes");
LSASHM_STATIC_ASSERT(sizeof(RECORDS_LOOKUP_REQUEST) == 24, "RECORDS_LOOKUP_REQUEST is 24 bytes");
LSASHM_STATIC_ASSERT(sizeof(RECORDS_LOOKUP_RESPONSE) == 48, "RECORDS_LOOKUP_RESPONSE is 48 bytes");
#endif

#endif
