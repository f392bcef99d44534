/* SPDX-License-Identifier: MIT */
/*
 * The messages of the crashing test package (test-package-crash.c), for
 * test-lsashmd.c: a package with a bug that kills lsashmd while clients hold
 * its secrets. Every submit buffer starts with TC_REQUEST.
 */
#ifndef LSASHM_TEST_PACKAGE_CRASH_H
#define LSASHM_TEST_PACKAGE_CRASH_H

#include <lsashm/wintypes.h>

#define TC_NAME "TestCrash"
/* What its section holds from SpInitialize on, TC_SECRET_LENGTH bytes. */
#define TC_SECRET_BYTE 0xA5u
#define TC_SECRET_LENGTH 4096u

typedef enum _TC_MESSAGE_TYPE {
        TcSecret = 1, /* reply: a client buffer holding the data after the request */
        TcSection,    /* reply: TC_SECTION_REPLY; the section is shared read-only */
        TcCrash,      /* Arg TC_CRASH_*: dies in this call, never replies */
} TC_MESSAGE_TYPE;

#define TC_CRASH_FAULT      1u /* SIGSEGV from a real fault: a store to a PROT_NONE page */
#define TC_CRASH_ABORT      2u /* abort(): SIGABRT */

typedef struct _TC_REQUEST {
        ULONG MessageType;
        ULONG Arg;
} TC_REQUEST;

typedef struct _TC_SECTION_REPLY {
        ULONG MessageType;
        ULONG SecretOffset; /* from the section's base */
        ULONGLONG SectionId;
} TC_SECTION_REPLY;

#endif
