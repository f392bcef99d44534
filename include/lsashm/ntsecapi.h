/* SPDX-License-Identifier: MIT */
/*
 * The client side of the LSA authentication interfaces, as a program written
 * for Windows' ntsecapi.h expects them: Windows names, prototypes and widths.
 *
 * A client connects to the LSA (untrusted, or as a registered logon process),
 * looks a package up by name and sends it messages whose first ULONG is the
 * message type. Two status levels come back, as on Windows: the function's
 * result says whether the message was delivered, *ProtocolStatus how the
 * package handled it.
 *
 * The LSA is lsashmd, the package host. Its socket is $LSASHM_SOCKET, else
 * /run/lsashm/lsashm.sock. Return buffers live in a per-connection reply
 * section that the client maps read-only; pointers a package embeds in them
 * are valid in the client. Status codes beyond Windows' own (the host cannot
 * be reached, went away) are listed in the README.
 *
 * Timeouts. A host that accepts connections but never answers does not hang
 * its clients: LsaConnectUntrusted and LsaRegisterLogonProcess (including
 * the wait for room in a full listen backlog), LsaLookupAuthenticationPackage,
 * LsashmMapSection and LsaFreeReturnBuffer (which waits only for room to
 * send its notice) give up with STATUS_IO_TIMEOUT after
 * $LSASHM_TIMEOUT_MS milliseconds (read with secure_getenv at connect, so
 * not in set-user-ID programs; a whole number from 1 to INT_MAX, anything
 * else is ignored), else 5 seconds (LSASHM_DEFAULT_TIMEOUT_MS in
 * lsashm/share.h), measured on the monotonic clock. After a timeout the
 * handle is broken: later calls on it return STATUS_PORT_DISCONNECTED.
 * LsaCallAuthenticationPackage has no timeout: it waits as long as the
 * package takes, and returns STATUS_PORT_DISCONNECTED as soon as lsashmd
 * goes away. lsashmd serves one request at a time, so a connect or lookup
 * also waits for another client's call in progress.
 */
#ifndef LSASHM_NTSECAPI_H
#define LSASHM_NTSECAPI_H

#include "lsashm/wintypes.h"
#include "lsashm/ntstatus.h"
#include "lsashm/ntsecapi-msv1_0-kerb.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LSASHM_WINAPI_EXPORT
#if defined(__GNUC__)
#define LSASHM_WINAPI_EXPORT __attribute__((visibility("default")))
#else
#define LSASHM_WINAPI_EXPORT
#endif
#endif

/* Returned by LsaRegisterLogonProcess; Windows defines no bits for it. */
typedef ULONG LSA_OPERATIONAL_MODE, *PLSA_OPERATIONAL_MODE;

/* The kind of logon a package is asked to perform. */
typedef enum _SECURITY_LOGON_TYPE {
        UndefinedLogonType = 0,
        Interactive = 2,
        Network,
        Batch,
        Service,
        Proxy,
        Unlock,
        NetworkCleartext,
        NewCredentials,
        RemoteInteractive,
        CachedInteractive,
        CachedRemoteInteractive,
        CachedUnlock
} SECURITY_LOGON_TYPE, *PSECURITY_LOGON_TYPE;

/* Package names longer than this many bytes are refused with
 * STATUS_NAME_TOO_LONG by LsaLookupAuthenticationPackage. */
#define LSASHM_MAX_PACKAGE_NAME 127

/* An untrusted connection: its messages reach the package's
 * CallPackageUntrusted. STATUS_IO_TIMEOUT: no answer in time (see above). */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaConnectUntrusted(PHANDLE LsaHandle);

/* A trusted connection as a logon process: its messages reach the package's
 * CallPackage. LogonProcessName is an ANSI counted string (at most 127
 * bytes: STATUS_NAME_TOO_LONG). Only root and lsashmd's logon-group may:
 * others get STATUS_PORT_CONNECTION_REFUSED. *SecurityMode is 0.
 * STATUS_IO_TIMEOUT: no answer in time (see above). */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaRegisterLogonProcess(PLSA_STRING LogonProcessName,
                                                            PHANDLE LsaHandle,
                                                            PLSA_OPERATIONAL_MODE SecurityMode);

/* The identifier of the package called PackageName (at most 127 bytes). */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaLookupAuthenticationPackage(HANDLE LsaHandle,
                                                                   PLSA_STRING PackageName,
                                                                   PULONG AuthenticationPackage);

/* Sends ProtocolSubmitBuffer (at most 64 KiB: STATUS_INVALID_BUFFER_SIZE) to
 * the package. The result is the package's own (STATUS_NO_SUCH_PACKAGE for
 * an unknown id, STATUS_NOT_SUPPORTED when it has no entry point for this
 * kind of connection, STATUS_PORT_DISCONNECTED when lsashmd is gone);
 * *ProtocolStatus is the package's status for the message. On success
 * *ProtocolReturnBuffer (may be NULL) is valid here, pointers inside it
 * too, until LsaFreeReturnBuffer. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaCallAuthenticationPackage(HANDLE LsaHandle,
                                                                 ULONG AuthenticationPackage,
                                                                 PVOID ProtocolSubmitBuffer,
                                                                 ULONG SubmitBufferLength,
                                                                 PVOID *ProtocolReturnBuffer,
                                                                 PULONG ReturnBufferLength,
                                                                 PNTSTATUS ProtocolStatus);

/* Releases a buffer returned by LsaCallAuthenticationPackage (and every
 * client buffer of the same call); NULL is accepted and does nothing.
 * STATUS_INVALID_PARAMETER for anything else. A buffer still held when its
 * handle was deregistered stays mapped but reads zeros (it was wiped). */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaFreeReturnBuffer(PVOID Buffer);

/* Closes a handle from LsaConnectUntrusted or LsaRegisterLogonProcess. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaDeregisterLogonProcess(HANDLE LsaHandle);

/* ---- Logons: LsaLogonUser, logon sessions, tokens ---- */

/* Authentication information of the MSV1_0 kind (the first ULONG of the
 * buffer LsaLogonUser carries): the strings' Buffers point into the same
 * buffer, as the client addresses it; the package rebases them with
 * ClientAuthenticationBase. */
typedef enum _MSV1_0_LOGON_SUBMIT_TYPE {
        MsV1_0InteractiveLogon = 2,
        MsV1_0Lm20Logon,
        MsV1_0NetworkLogon,
        MsV1_0SubAuthLogon,
        MsV1_0WorkstationUnlockLogon = 7,
        MsV1_0S4ULogon = 12,
        MsV1_0VirtualLogon = 82,
        MsV1_0NoElevationLogon = 83,
        MsV1_0LuidLogon = 84,
} MSV1_0_LOGON_SUBMIT_TYPE, *PMSV1_0_LOGON_SUBMIT_TYPE;

typedef struct _MSV1_0_INTERACTIVE_LOGON {
        MSV1_0_LOGON_SUBMIT_TYPE MessageType;
        UNICODE_STRING LogonDomainName;
        UNICODE_STRING UserName;
        UNICODE_STRING Password;
} MSV1_0_INTERACTIVE_LOGON, *PMSV1_0_INTERACTIVE_LOGON;

typedef enum _KERB_LOGON_SUBMIT_TYPE {
        KerbInteractiveLogon = 2,
        KerbSmartCardLogon = 6,
        KerbWorkstationUnlockLogon = 7,
        KerbSmartCardUnlockLogon = 8,
        KerbProxyLogon = 9,
        KerbTicketLogon = 10,
        KerbTicketUnlockLogon = 11,
        KerbS4ULogon = 12,
        KerbCertificateLogon = 13,
        KerbCertificateS4ULogon = 14,
        KerbCertificateUnlockLogon = 15,
        KerbNoElevationLogon = 83,
        KerbLuidLogon = 84,
} KERB_LOGON_SUBMIT_TYPE, *PKERB_LOGON_SUBMIT_TYPE;

typedef struct _KERB_INTERACTIVE_LOGON {
        KERB_LOGON_SUBMIT_TYPE MessageType;
        UNICODE_STRING LogonDomainName;
        UNICODE_STRING UserName;
        UNICODE_STRING Password;
} KERB_INTERACTIVE_LOGON, *PKERB_INTERACTIVE_LOGON;

typedef struct _LSA_LAST_INTER_LOGON_INFO {
        LARGE_INTEGER LastSuccessfulLogon;
        LARGE_INTEGER LastFailedLogon;
        ULONG FailedAttemptCountSinceLastSuccessfulLogon;
} LSA_LAST_INTER_LOGON_INFO, *PLSA_LAST_INTER_LOGON_INFO;

/* What LsaGetLogonSessionData returns. lsashmd fills LogonId, UserName and
 * LogonDomain (the package's AccountName and AuthenticatingAuthority),
 * AuthenticationPackage, LogonType, Sid (the token's user; NULL for a
 * Null-token logon), LogonTime (FILETIME units since 1601, UTC), and from
 * the package's primary credentials LogonServer, DnsDomainName and Upn;
 * the rest is zero. */
typedef struct _SECURITY_LOGON_SESSION_DATA {
        ULONG Size;
        LUID LogonId;
        LSA_UNICODE_STRING UserName;
        LSA_UNICODE_STRING LogonDomain;
        LSA_UNICODE_STRING AuthenticationPackage;
        ULONG LogonType;
        ULONG Session;
        PSID Sid;
        LARGE_INTEGER LogonTime;
        LSA_UNICODE_STRING LogonServer;
        LSA_UNICODE_STRING DnsDomainName;
        LSA_UNICODE_STRING Upn;
        ULONG UserFlags;
        LSA_LAST_INTER_LOGON_INFO LastLogonInfo;
        LSA_UNICODE_STRING LogonScript;
        LSA_UNICODE_STRING ProfilePath;
        LSA_UNICODE_STRING HomeDirectory;
        LSA_UNICODE_STRING HomeDirectoryDrive;
        LARGE_INTEGER LogoffTime;
        LARGE_INTEGER KickOffTime;
        LARGE_INTEGER PasswordLastSet;
        LARGE_INTEGER PasswordCanChange;
        LARGE_INTEGER PasswordMustChange;
} SECURITY_LOGON_SESSION_DATA, *PSECURITY_LOGON_SESSION_DATA;

/* Logs a user on through the package: its LogonUserEx2, else LogonUserEx,
 * else LogonUser, with AuthenticationInformation (at most 64 KiB:
 * STATUS_INVALID_BUFFER_SIZE) as ProtocolSubmitBuffer and its address here as
 * ClientBufferBase. Only a logon process (LsaRegisterLogonProcess) may:
 * an untrusted handle gets STATUS_NOT_LOGON_PROCESS (a password check open
 * to every local user against every account is not what Linux offers). A
 * LogonType past CachedUnlock is STATUS_INVALID_LOGON_TYPE. OriginName is at most 127
 * bytes. LocalGroups (NULL: none) are added to the token's groups after
 * the package's: at most 64 (STATUS_TOO_MANY_CONTEXT_IDS), each a valid SID
 * (STATUS_INVALID_SID); STATUS_TOO_MANY_CONTEXT_IDS also when the token
 * would have more than 512 SIDs. On success:
 *   *ProfileBuffer        the package's profile buffer (may be NULL), valid
 *                         until LsaFreeReturnBuffer
 *   *LogonId              the new logon session
 *   *Token                a handle naming the logon (NtQueryInformationToken,
 *                         LsashmGetTokenUnixIds); LsashmCloseToken closes it,
 *                         and with the last handle of the logon the session
 *                         ends and every package's LogonTerminated runs. It
 *                         also ends when this process exits. A token outlives
 *                         LsaDeregisterLogonProcess of the handle it came from.
 *   *Quotas               zero: Linux has none of these
 * On failure the result is the package's (STATUS_LOGON_FAILURE, ...) with
 * *SubStatus its detail, or STATUS_NO_SUCH_LOGON_SESSION when the package
 * created no logon session, or STATUS_INTERNAL_ERROR when what it returned
 * was malformed; nothing is left behind. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaLogonUser(HANDLE LsaHandle, PLSA_STRING OriginName,
                                                 SECURITY_LOGON_TYPE LogonType, ULONG AuthenticationPackage,
                                                 PVOID AuthenticationInformation,
                                                 ULONG AuthenticationInformationLength,
                                                 PTOKEN_GROUPS LocalGroups, PTOKEN_SOURCE SourceContext,
                                                 PVOID *ProfileBuffer, PULONG ProfileBufferLength,
                                                 PLUID LogonId, PHANDLE Token, PQUOTA_LIMITS Quotas,
                                                 PNTSTATUS SubStatus);

/* The logon sessions this caller may see: root and lsashmd's admin group
 * every one, anyone else those whose token maps to its own uid. The list is
 * freed with LsaFreeReturnBuffer; an empty one is a NULL list and a count
 * of 0. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaEnumerateLogonSessions(PULONG LogonSessionCount,
                                                              PLUID *LogonSessionList);

/* One session's data (see SECURITY_LOGON_SESSION_DATA), freed with
 * LsaFreeReturnBuffer. STATUS_NO_SUCH_LOGON_SESSION for a session that does
 * not exist or that the caller may not see (as above). */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaGetLogonSessionData(PLUID LogonId,
                                                           PSECURITY_LOGON_SESSION_DATA *ppLogonSessionData);

/* What a token from LsaLogonUser says, in Windows' layouts. The classes:
 * TokenUser, TokenGroups (SIDs in the package's order), TokenStatistics
 * (AuthenticationId is the logon session, TokenId the token),
 * TokenSource (LsaLogonUser's SourceContext), TokenType (TokenPrimary);
 * others
 * STATUS_INVALID_INFO_CLASS. The user of a Null-token logon is ANONYMOUS
 * LOGON (S-1-5-7), as on Windows. A buffer too small:
 * STATUS_BUFFER_TOO_SMALL with *ReturnLength the size needed. Pointers
 * inside the answer point into TokenInformation. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI NtQueryInformationToken(HANDLE TokenHandle,
                                                            TOKEN_INFORMATION_CLASS TokenInformationClass,
                                                            PVOID TokenInformation,
                                                            ULONG TokenInformationLength,
                                                            PULONG ReturnLength);
/* ---- Policy handles and status translation ---- */

typedef PVOID LSA_HANDLE, *PLSA_HANDLE;

/* The Win32 error Windows maps Status to (ERROR_* in lsashm/winerror.h);
 * ERROR_MR_MID_NOT_FOUND for a status it has no error for. */
LSASHM_WINAPI_EXPORT ULONG NTAPI LsaNtStatusToWinError(NTSTATUS Status);

/* Windows closes policy handles with LsaClose; lsashm has no policy
 * objects, and closes the one kind of handle it gives out, a connection
 * from LsaConnectUntrusted or LsaRegisterLogonProcess, as
 * LsaDeregisterLogonProcess does. STATUS_INVALID_HANDLE for anything else
 * (NULL included). */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaClose(LSA_HANDLE ObjectHandle);

/* ---- lsashm extensions: not part of Windows ----
 * Close a token from LsaLogonUser: STATUS_SUCCESS, or STATUS_INVALID_HANDLE
 * for anything else (a token closed already). The last token of a logon
 * ends its session. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsashmCloseToken(HANDLE Token);

/* The Linux identities a token maps to: its user SID if it is a Unix user
 * SID (S-1-22-1-<uid>), and its group SIDs that are Unix group SIDs
 * (S-1-22-2-<gid>), in the token's order. Other SIDs map to nothing.
 * Gids receives up to GidCount of them, *ReturnGidCount how many there are.
 *   STATUS_INVALID_HANDLE    not a token
 *   STATUS_NONE_MAPPED       the user SID maps to no uid (the gids are still
 *                            given)
 *   STATUS_BUFFER_TOO_SMALL  more gids than GidCount (those that fit are given) */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsashmGetTokenUnixIds(HANDLE Token, PULONG Uid, PULONG Gids,
                                                          ULONG GidCount, PULONG ReturnGidCount);

/* Map a section a package made with CreateSharedMemory, by the id the
 * package told this client (LsashmSectionId on its side). A client may map
 * the sections made during its own calls (read-write) and those the package
 * shared with LsashmShareSection. *ViewSize is the section's committed size
 * when mapped; offsets the package gives are relative to *BaseAddress.
 *   STATUS_INVALID_HANDLE   LsaHandle is not a live handle
 *   STATUS_INVALID_PARAMETER  SectionId 0, NULL out pointers
 *   STATUS_NOT_FOUND        no live section has that id
 *   STATUS_ACCESS_DENIED    the section exists but is not this client's to map
 *   STATUS_INSUFFICIENT_RESOURCES  this connection maps 64 sections already
 *   STATUS_IO_TIMEOUT       no answer in time (see above); the handle is broken
 *   STATUS_PORT_DISCONNECTED  lsashmd is gone
 * The mapping outlives a delete of the section (it then reads zeros) and the
 * handle; it ends with LsashmUnmapSection. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsashmMapSection(HANDLE LsaHandle, ULONGLONG SectionId,
                                                     PVOID *BaseAddress, PULONG ViewSize);

/* The same, only for a frozen section (LsashmFreezeSection): the view is
 * read-only and the kernel refuses every write to the section, by anyone,
 * so what the caller checks once stays true. A section that is not frozen
 * is not mapped: STATUS_OBJECT_TYPE_MISMATCH; otherwise as above. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsashmMapFrozenSection(HANDLE LsaHandle, ULONGLONG SectionId,
                                                           PVOID *BaseAddress, PULONG ViewSize);

/* Unmap a view from LsashmMapSection or LsashmMapFrozenSection: STATUS_SUCCESS, or
 * STATUS_NOT_MAPPED_VIEW for any other address. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsashmUnmapSection(PVOID BaseAddress);

#ifdef __cplusplus
}
#endif

#endif
