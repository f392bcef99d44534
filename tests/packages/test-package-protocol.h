/* SPDX-License-Identifier: MIT */
/*
 * The messages of the test security package (test-package.c), shared by the
 * package and the tests that call it (test-host-*.c, test-lsashmd.c).
 *
 * Every submit buffer starts with TP_REQUEST; data follows it. Every return
 * buffer starts with a ULONG message type. Addresses in requests (Addr) are
 * client addresses unless said otherwise; addresses in replies that end in
 * "Base" are the host's own (for the in-process tests, which can look at
 * the host's memory), never to be used by a client.
 *
 * Variants (one MODULE each, see CMakeLists.txt) and their names:
 *   ok             "TestPkg"          everything below
 *   peer           "TestPeer"         the same code: target of CALL_PEER
 *   dupname        "TestPkg"          refused: the name is taken
 *   no-untrusted   "TestNoUntrusted"  CallPackageUntrusted NULL
 *   v1             "TestV1"           SECPKG_INTERFACE_VERSION, a 27-member
 *                                     table that ends at a guard page
 *   onename        "TestOneName"      its AuthenticationPackageName is one
 *                                     block: the LSA_STRING, then its Buffer
 *   foreign-name   "TestForeignName"  its AuthenticationPackageName is no
 *                                     heap block at all (static memory)
 *   noinit-symbol, init-fails, lsamode-fails, bad-version: never load
 */
#ifndef LSASHM_TEST_PACKAGE_PROTOCOL_H
#define LSASHM_TEST_PACKAGE_PROTOCOL_H

#include <lsashm/wintypes.h>

#define TP_NAME_OK           "TestPkg"
#define TP_NAME_PEER         "TestPeer"
#define TP_NAME_NO_UNTRUSTED "TestNoUntrusted"
#define TP_NAME_V1           "TestV1"
#define TP_NAME_ONENAME      "TestOneName"
#define TP_NAME_FOREIGN_NAME "TestForeignName"

/* Sections the package makes: 64 KiB, all committed from the start. */
#define TP_SECTION_SIZE   (64u * 1024u)
#define TP_PATTERN_LENGTH 256u
/* Byte i of a section's pattern block. */
#define TP_PATTERN(seed, i) ((UCHAR)(((i) * 7u + (seed)) ^ 0x5Au))
#define TP_SHARED_SEED  0x11u
#define TP_PRIVATE_SEED 0x22u
#define TP_MADE_SEED    0x33u

/* Which of the package's entry points ran (TP_CLIENT_INFO_REPLY.Entry). */
#define TP_ENTRY_CALL        1u
#define TP_ENTRY_UNTRUSTED   2u
#define TP_ENTRY_PASSTHROUGH 3u

/* Environment: a file the package appends one line to per event that a
 * test cannot otherwise see: "shutdown NAME" (Shutdown ran),
 * "initfail-section NAME 0xBASE" (init-fails made a section, then failed),
 * "sleeping NAME" (a TpSleep call is under way). */
#define TP_LOG_ENV "TP_LOG"

typedef enum _TP_MESSAGE_TYPE {
        TpEcho = 1,          /* reply: a copy of the whole submit buffer */
        TpEmbed,             /* reply: TP_EMBED_REPLY, pointers into itself */
        TpMulti,             /* two client buffers; the reply points at the other */
        TpReturnAddress,     /* returns (PVOID)Addr, Length bytes; allocates one buffer first */
        TpReturnHuge,        /* a 64-byte buffer returned with ReturnBufferLength = Length */
        TpCopyToOutside,     /* CopyToClientBuffer(Length bytes, Addr or (own 16-byte buffer + 8)) */
        TpCopyFromSubmit,    /* CopyFromClientBuffer(Length bytes, Addr or ClientBufferBase + Arg) */
        TpClientInfo,        /* reply: TP_CLIENT_INFO_REPLY */
        TpMakeSection,       /* reply: TP_SECTION_REPLY of a section made now */
        TpShareSection,      /* reply: TP_SECTION_REPLY of the one made in SpInitialize, shared read-only */
        TpPrivateSection,    /* reply: TP_SECTION_REPLY of the one made in SpInitialize, not shared */
        TpDeleteSection,     /* DeleteSharedMemory of the section with id Addr */
        TpReadSection,       /* reply: Length bytes at offset Arg of section id Addr */
        TpCallPeer,          /* data: name (Arg bytes) then an inner message (Length bytes) */
        TpProtect,           /* LsaProtectMemory round trip over Length bytes */
        TpLogonSessions,     /* reply: TP_LOGON_REPLY for LUID Addr */
        TpSleep,             /* allocates a buffer, sleeps Arg ms, returns it */
        TpFailureStatus,     /* allocates and returns a buffer; the call returns Arg (see flags) */
        TpStaleRequest,      /* Arg 0: keep ClientRequest; Arg 1: use the kept one (reply TP_STALE_REPLY) */
        TpAllocUntilFull,    /* reply: TP_ALLOC_REPLY; chunks of Length bytes */
        TpInfo,              /* reply: TP_INFO_REPLY */
        TpShareBase,         /* LsashmShareSection((PVOID)Addr host address, Arg) */
        TpHeapMisuse,        /* Arg TP_HEAP_*: a wrong free of the LSA or private heap; reply TP_HEAP_REPLY */
        TpKeepLogonSession,  /* CreateLogonSession(LUID Addr), left for a later TpEndLogonSession; reply TP_LOGON_REPLY */
        TpEndLogonSession,   /* DeleteLogonSession(LUID Addr); reply TP_LOGON_REPLY (Delete) */
        TpProbeLogonSessions, /* which of LUIDs Addr .. Addr+Length-1 exist; reply TP_PROBE_REPLY (see flags) */
        TpDigest,            /* reply: TP_DIGEST_REPLY of the whole submit buffer, which it then writes to */
} TP_MESSAGE_TYPE;

/* TP_REQUEST.Flags */
#define TP_FLAG_PASSTHROUGH   0x1u /* TpCallPeer: CallPackagePassthrough instead of CallPackage */
#define TP_FLAG_PROTOCOL_ONLY 0x1u /* TpFailureStatus: the call succeeds, ProtocolStatus = Arg */
#define TP_FLAG_FREE_CHUNKS   0x1u /* TpAllocUntilFull: FreeClientBuffer every chunk before returning */
#define TP_FLAG_DIRECT        0x1u /* TpDeleteSection: LsaDeleteSharedMemory, not the table's member */
#define TP_FLAG_END_FOUND     0x1u /* TpProbeLogonSessions: delete every session found */

typedef struct _TP_REQUEST {
        ULONG MessageType;
        ULONG Arg;
        ULONG Length;
        ULONG Flags;
        ULONGLONG Addr;
} TP_REQUEST, *PTP_REQUEST;

typedef struct _TP_EMBED_REPLY {
        ULONG MessageType;
        ULONG Count;
        PVOID Self;         /* the reply's own client address */
        LSA_STRING Text;    /* points behind this struct, in the same buffer */
        PULONG Numbers;     /* Count ULONGs, behind the text */
} TP_EMBED_REPLY, *PTP_EMBED_REPLY;
#define TP_EMBED_TEXT "pointers that work in the client"

typedef struct _TP_MULTI_REPLY {
        ULONG MessageType;
        ULONG OtherLength;
        PUCHAR Other;       /* the call's other client buffer */
} TP_MULTI_REPLY, *PTP_MULTI_REPLY;
#define TP_MULTI_TEXT "the other buffer of the group"

typedef struct _TP_CLIENT_INFO_REPLY {
        ULONG MessageType;
        ULONG Entry;          /* TP_ENTRY_* */
        NTSTATUS ClientInfoStatus;
        ULONG ProcessID;
        ULONG ThreadID;
        ULONG LogonIdLow;
        BOOLEAN HasTcbPrivilege;
        BOOLEAN Restricted;
        BOOLEAN CallInfoOk;   /* GetCallInfo's BOOLEAN */
        BOOLEAN Reserved;
        ULONG CallProcessId;
        ULONG CallThreadId;
        ULONG CallAttributes;
        ULONG CallCount;
} TP_CLIENT_INFO_REPLY, *PTP_CLIENT_INFO_REPLY;

typedef struct _TP_SECTION_REPLY {
        ULONG MessageType;
        ULONG PatternOffset;  /* of TP_PATTERN_LENGTH bytes of pattern, from the section base */
        ULONGLONG SectionId;  /* LsashmSectionId */
        ULONGLONG HostBase;   /* the host's address of the section */
        NTSTATUS ShareStatus; /* LsashmShareSection's, when the message shares */
        ULONG Seed;
} TP_SECTION_REPLY, *PTP_SECTION_REPLY;

typedef struct _TP_PEER_REPLY {
        ULONG MessageType;
        NTSTATUS CallStatus;  /* of CallPackage / CallPackagePassthrough */
        NTSTATUS ProtocolStatus;
        ULONG ReturnLength;   /* what the callee returned (its bytes follow, up to 1024) */
} TP_PEER_REPLY, *PTP_PEER_REPLY;
#define TP_PEER_MAX_RETURN 1024u

typedef struct _TP_LOGON_REPLY {
        ULONG MessageType;
        NTSTATUS Create;
        NTSTATUS CreateAgain;
        NTSTATUS Delete;
        NTSTATUS DeleteAgain;
        ULONG Terminated;       /* LogonTerminated calls this package got meanwhile */
        LUID TerminatedLuid;    /* the last one's session */
} TP_LOGON_REPLY, *PTP_LOGON_REPLY;

/* TpDigest: FNV-1a (64 bits) of the submit buffer as the package got it;
 * then it overwrites the buffer's last byte and reads it back, as packages
 * that rebase pointers in place write to theirs. */
typedef struct _TP_DIGEST_REPLY {
        ULONG MessageType;
        ULONG Length;           /* SubmitBufferLength */
        ULONGLONG Digest;
        BOOLEAN Writable;       /* the write took */
        UCHAR Reserved[7];
} TP_DIGEST_REPLY, *PTP_DIGEST_REPLY;

static inline ULONGLONG tp_digest(const void *buf, ULONG len)
{
        const UCHAR *p = (const UCHAR *)buf;
        ULONGLONG h = 0xcbf29ce484222325ull;
        for (ULONG i = 0; i < len; i++) {
                h ^= p[i];
                h *= 0x100000001b3ull;
        }
        return h;
}

/* TpProtect's ProtocolStatus when something is wrong. */
#define TP_STATUS_UNCHANGED ((NTSTATUS)0xE0000001L) /* protecting left the bytes as they were */
#define TP_STATUS_MISMATCH  ((NTSTATUS)0xE0000002L) /* unprotecting did not give them back */

typedef struct _TP_STALE_REPLY {
        ULONG MessageType;
        NTSTATUS StaleAllocate;  /* AllocateClientBuffer with the kept request */
        NTSTATUS StaleCopyTo;    /* CopyToClientBuffer with it, into this reply */
        NTSTATUS ForgedAllocate; /* AllocateClientBuffer with a made-up one */
        BOOLEAN StaleGotBuffer;
        BOOLEAN SameAsCurrent;   /* the kept pointer equals this call's ClientRequest */
        UCHAR Reserved[2];
} TP_STALE_REPLY, *PTP_STALE_REPLY;

typedef struct _TP_ALLOC_REPLY {
        ULONG MessageType;
        ULONG Count;          /* chunks allocated before the first failure */
        NTSTATUS Final;       /* that failure */
        ULONG FreeFailures;   /* FreeClientBuffer calls that did not succeed */
} TP_ALLOC_REPLY, *PTP_ALLOC_REPLY;

typedef struct _TP_INFO_REPLY {
        ULONG MessageType;
        ULONG LsaModeInitCalls;
        ULONG InitializePackageCalls;
        ULONG SpInitializeCalls;
        ULONG GetInfoCalls;
        ULONG LsaVersion;          /* what SpLsaModeInitialize was given */
        ULONGLONG PackageId;       /* SpInitialize's */
        ULONGLONG InitPackageId;   /* InitializePackage's */
        BOOLEAN ParametersNonNull;
        BOOLEAN TableNonNull;
        BOOLEAN InitPackageTableIsFull; /* InitializePackage got the same table as SpInitialize */
        BOOLEAN DomainNameOk;      /* Parameters->DomainName has a Buffer and an even Length */
        ULONG NullMembers;         /* of the 66 LSA_SECPKG_FUNCTION_TABLE members */
        ULONG FirstNullMember;     /* 1-based, 0 if none */
        ULONG Reserved;
        ULONGLONG SharedHostBase;
        ULONGLONG PrivateHostBase;
        ULONGLONG SharedId;
        ULONGLONG PrivateId;
} TP_INFO_REPLY, *PTP_INFO_REPLY;

/* TpHeapMisuse: what the package frees wrongly (each with FreeLsaHeap and
 * then FreePrivateHeap, unless said otherwise). */
#define TP_HEAP_INTERIOR      1u /* 16 and 1 bytes into a live 64-byte block; then the block, rightly */
#define TP_HEAP_STACK         2u /* a buffer on its stack */
#define TP_HEAP_CLIENT_BUFFER 3u /* a client buffer of this call; then FreeClientBuffer, rightly */
#define TP_HEAP_DOUBLE        4u /* a 48-byte block twice (FreeLsaHeap only); then allocates two more */
#define TP_HEAP_NULL          5u /* NULL: no misuse at all */
#define TP_HEAP_CROSS         6u /* an LsaHeap block by FreePrivateHeap, then by FreeLsaHeap (once
                                  * freed already); a PrivateHeap block by FreeLsaHeap */
#define TP_HEAP_STATIC        7u /* its own static memory */
#define TP_HEAP_THREAD        8u /* TP_HEAP_INTERIOR on a thread of its own, outside any call */
#define TP_HEAP_RETURN_BUFFER 9u /* FreeReturnBuffer of its stack, then of a live block's interior */

typedef struct _TP_HEAP_REPLY {
        ULONG MessageType;
        ULONG Misuse;
        BOOLEAN Intact;         /* the memory given to the wrong free is as it was */
        BOOLEAN Distinct;       /* TP_HEAP_DOUBLE: the two blocks allocated after it differ */
        UCHAR Reserved[2];
        NTSTATUS FreeClientBuffer; /* TP_HEAP_CLIENT_BUFFER: the buffer was still the host's */
} TP_HEAP_REPLY, *PTP_HEAP_REPLY;
/* TpProbeLogonSessions: a session exists when creating it again collides;
 * one that did not exist is deleted again at once. */
#define TP_PROBE_MAX 65536u
typedef struct _TP_PROBE_REPLY {
        ULONG MessageType;
        ULONG Found;          /* sessions that existed */
        ULONG Ended;          /* of those, deleted (TP_FLAG_END_FOUND) */
        NTSTATUS Unexpected;  /* the first status that was neither success nor collision, else 0 */
} TP_PROBE_REPLY, *PTP_PROBE_REPLY;

#endif
