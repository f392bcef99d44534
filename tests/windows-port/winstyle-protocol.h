/* SPDX-License-Identifier: MIT */
/*
 * The messages of the "WinStyle" test package, written as a Windows package
 * and its client share a header: Windows types only, pointers embedded in
 * the requests (the package rebases them) and in the replies (the package
 * writes them as client addresses).
 */
#ifndef WINSTYLE_PROTOCOL_H
#define WINSTYLE_PROTOCOL_H

#include <lsashm/windows.h>

#define WINSTYLE_PACKAGE_NAME "WinStyle"

typedef enum _WINSTYLE_MESSAGE_TYPE {
        WinStyleVerifyPassword = 1,
        WinStyleQueryInfo,
} WINSTYLE_MESSAGE_TYPE;

/* Verify: the strings follow the structure in the same buffer, and the
 * Buffer pointers are the client's addresses of them. */
typedef struct _WINSTYLE_VERIFY_REQUEST {
        WINSTYLE_MESSAGE_TYPE MessageType;
        UNICODE_STRING UserName;
        UNICODE_STRING Password;
} WINSTYLE_VERIFY_REQUEST, *PWINSTYLE_VERIFY_REQUEST;

/* Info: what the package knows of its caller, and whether a logon session
 * could take the caller's LogonId (never: it is the client's) or a LUID the
 * package allocated (yes); PackageName points into the same return buffer. */
typedef struct _WINSTYLE_INFO_RESPONSE {
        WINSTYLE_MESSAGE_TYPE MessageType;
        LUID CallerLogonId;
        LUID FreshLuid;
        LARGE_INTEGER SystemTime;
        ULONG VerifyCount;
        NTSTATUS CallerSessionStatus; /* CreateLogonSession of CallerLogonId */
        NTSTATUS FreshSessionStatus;  /* CreateLogonSession of FreshLuid (then deleted) */
        UNICODE_STRING PackageName;
} WINSTYLE_INFO_RESPONSE, *PWINSTYLE_INFO_RESPONSE;

#endif
