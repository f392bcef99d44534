/* SPDX-License-Identifier: MIT */
/*
 * The test authentication packages (test-ap-package.c): AP-only libraries,
 * LsaAp* exports and no SpLsaModeInitialize, as written for Windows.
 *
 *   ap-ex2    "TestApEx2"   LsaApLogonUserEx2 (and LogonUser, which must
 *                           not be called), primary credentials, every
 *                           LsaAp* entry point
 *   ap-ex     "TestApEx"    LsaApLogonUserEx (and LogonUser, not to be called)
 *   ap-plain  "TestApPlain" LsaApLogonUser only; its
 *                           AuthenticationPackageName is one block (the
 *                           LSA_STRING, then its characters)
 *
 * LsaLogonUser's authentication information is an MSV1_0_INTERACTIVE_LOGON
 * whose strings point into the buffer as the client addresses it. The user
 * name chooses the scenario (TAP_USER_*); any password but TAP_PASSWORD
 * fails the logon (STATUS_LOGON_FAILURE, SubStatus TAP_SUB_WRONG_PASSWORD).
 */
#ifndef LSASHM_TEST_AP_PACKAGE_H
#define LSASHM_TEST_AP_PACKAGE_H

#include <lsashm/wintypes.h>

#define TAP_NAME_EX2   "TestApEx2"
#define TAP_NAME_EX    "TestApEx"
#define TAP_NAME_PLAIN "TestApPlain"

#define TAP_PASSWORD "secret"
#define TAP_UID      1000u
#define TAP_GID      1000u
#define TAP_GID2     27u

/* SubStatus of a wrong password. */
#define TAP_SUB_WRONG_PASSWORD STATUS_WRONG_PASSWORD

/* Scenarios, by user name. */
#define TAP_USER_OK             "alice"  /* V2 token: S-1-22-1-1000, groups S-1-22-2-1000, S-1-22-2-27, S-1-5-32-545 */
#define TAP_USER_V1             "v1user" /* the same as V1, every part its own block */
#define TAP_USER_NULL           "anonymous" /* LsaTokenInformationNull, one group S-1-22-2-1000 */
#define TAP_USER_NOUNIX         "winuser"   /* V2, user S-1-5-21-1-2-3-1001: no uid */
#define TAP_USER_NOSESSION      "nosession" /* success without CreateLogonSession */
#define TAP_USER_FAILCREATED    "failmade"  /* CreateLogonSession, then STATUS_LOGON_FAILURE */
#define TAP_USER_SLOW           "slow"      /* sleeps TAP_SLOW_MS, then as TAP_USER_OK; the sleep
                                               starts with a line TAP_SLOW_LINE in $TAP_LOG_ENV's file */
#define TAP_USER_BADPROFILE     "badprof"   /* a ProfileBuffer that is no client buffer */
#define TAP_USER_REUSE          "reuse"     /* the LogonId of the last successful logon, no new session */
#define TAP_USER_RECREATE       "recreate"  /* CreateLogonSession of the last successful logon's LogonId */
/* Malformed token information ("bad-..."): each must be refused. */
#define TAP_USER_BAD_V2_OUTSIDE "bad-v2-outside" /* V2 with Groups in a second block */
#define TAP_USER_BAD_COUNT      "bad-count"      /* GroupCount 0x7fffffff */
#define TAP_USER_BAD_COUNT_FIT  "bad-count-fit"  /* GroupCount 40, room for 2 */
#define TAP_USER_BAD_NOUSER     "bad-nouser"     /* V1, User.Sid NULL */
#define TAP_USER_BAD_NOPRIMARY  "bad-noprimary"  /* V1, PrimaryGroup NULL */
#define TAP_USER_BAD_SID        "bad-sid"        /* V1, a user SID of revision 2 */
#define TAP_USER_BAD_STATIC     "bad-static"     /* TokenInformation in the package's static memory */
#define TAP_USER_BAD_TYPE       "bad-type"       /* TokenInformationType 7 */
#define TAP_USER_BAD_SID_STACK  "bad-sid-stack"  /* V1, a group SID on the package's stack */
#define TAP_USER_BAD_DACL       "bad-dacl"       /* V2, DefaultDacl's AclSize past the block */
#define TAP_USER_BAD_NOINFO     "bad-noinfo"     /* V1 and TokenInformation NULL */

#define TAP_SLOW_MS 2000u
#define TAP_LOG_ENV   "TP_LOG"
#define TAP_SLOW_LINE "ap sleeping\n"

/* The profile buffer of a successful logon. */
typedef struct _TAP_PROFILE {
        ULONG MessageType;   /* TAP_PROFILE_TYPE */
        ULONG LogonCount;    /* logons so far, this one included */
        ULONG ClientPid;     /* GetClientInfo's ProcessID inside this LogonUser */
        UNICODE_STRING User; /* points into this buffer, as the client sees it */
} TAP_PROFILE;
#define TAP_PROFILE_TYPE 0x7A50u

/* LsaCallAuthenticationPackage: ULONG TAP_STATS in, TAP_STATS_REPLY out;
 * TAP_SESSION_REQUEST with TAP_DELETE_SESSION or TAP_CREATE_SESSION: the
 * table's DeleteLogonSession or CreateLogonSession of that LUID, its
 * status as the protocol status. */
#define TAP_STATS          1u
#define TAP_DELETE_SESSION 2u
#define TAP_CREATE_SESSION 3u
typedef struct _TAP_SESSION_REQUEST {
        ULONG MessageType;
        LUID LogonId;
} TAP_SESSION_REQUEST;
typedef struct _TAP_STATS_REPLY {
        ULONG MessageType;
        ULONG InitializeCalls; /* LsaApInitializePackage */
        ULONG LogonUserCalls;  /* LsaApLogonUser */
        ULONG LogonUserExCalls;
        ULONG LogonUserEx2Calls;
        ULONG Terminated; /* LsaApLogonTerminated */
        LUID LastTerminated;
        LUID LastLogon;
        ULONG CallsUntrusted;
        BOOLEAN GotFullTable; /* members past LSA_DISPATCH_TABLE are there */
        BOOLEAN ClientInfoOk; /* GetClientInfo inside LogonUser succeeded */
        ULONG ClientPid;      /* its ProcessID */
} TAP_STATS_REPLY;

#endif
