/* SPDX-License-Identifier: MIT */
/*
 * The messages of the lsashm-passwd authentication package ("LsashmPasswd")
 * for LsaCallAuthenticationPackage, written against ntsecapi.h only. Every
 * message starts with its PASSWD_MESSAGE_TYPE; strings are UNICODE_STRINGs
 * whose Buffer points into the same submit buffer (client addresses, as on
 * Windows: the package rebases them with ClientBufferBase).
 *
 * Logons go through LsaLogonUser with an MSV1_0_INTERACTIVE_LOGON (or a
 * KERB_INTERACTIVE_LOGON, the same layout); the profile buffer that comes
 * back is a PASSWD_PROFILE.
 */
#ifndef LSASHM_PASSWD_PROTOCOL_H
#define LSASHM_PASSWD_PROTOCOL_H

#include <lsashm/ntsecapi.h>

#define PASSWD_PACKAGE_NAME "LsashmPasswd"

typedef enum _PASSWD_MESSAGE_TYPE {
        /* PASSWD_CHANGE_PASSWORD_REQUEST; logon processes only. No reply
         * buffer; the protocol status says how it went: STATUS_SUCCESS,
         * STATUS_LOGON_FAILURE (no such user or a wrong old password),
         * STATUS_ACCOUNT_LOCKED_OUT, STATUS_PASSWORD_RESTRICTION (an empty
         * new password), STATUS_INTERNAL_DB_ERROR (the database could not be
         * read or written). */
        PasswdChangePassword = 1,
        /* PASSWD_REQUEST; anyone. Reply: PASSWD_STATS. */
        PasswdQueryStats = 2,
        /* PASSWD_QUERY_SESSION_REQUEST; logon processes only. Reply: a
         * PASSWD_SESSION with the user name the package keeps as the
         * session's credential (GetCredentials); STATUS_NO_SUCH_LOGON_SESSION
         * for a session that is not (or no longer) there. */
        PasswdQuerySession = 3,
} PASSWD_MESSAGE_TYPE;

typedef struct _PASSWD_REQUEST {
        PASSWD_MESSAGE_TYPE MessageType;
} PASSWD_REQUEST;

typedef struct _PASSWD_CHANGE_PASSWORD_REQUEST {
        PASSWD_MESSAGE_TYPE MessageType;
        UNICODE_STRING UserName;
        UNICODE_STRING OldPassword;
        UNICODE_STRING NewPassword;
} PASSWD_CHANGE_PASSWORD_REQUEST;

typedef struct _PASSWD_QUERY_SESSION_REQUEST {
        PASSWD_MESSAGE_TYPE MessageType;
        LUID LogonId;
} PASSWD_QUERY_SESSION_REQUEST;

typedef struct _PASSWD_STATS {
        ULONG Logons; /* successful, since the package was loaded */
        ULONG FailedLogons;
        ULONG LogonsTerminated; /* LsaApLogonTerminated for one of its sessions */
        ULONG LiveSessions;
} PASSWD_STATS;

typedef struct _PASSWD_SESSION {
        ULONG Uid;
        CHAR UserName[65]; /* NUL-terminated */
} PASSWD_SESSION;

/* LsaLogonUser's profile buffer. */
typedef struct _PASSWD_PROFILE {
        ULONG Uid;
        ULONG Gid;
        ULONG GroupCount;
        ULONG Groups[32];
} PASSWD_PROFILE;

#endif
