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
 * Map a section a package made with CreateSharedMemory, by the id the
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

/* Unmap a view from LsashmMapSection: STATUS_SUCCESS, or
 * STATUS_NOT_MAPPED_VIEW for any other address. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsashmUnmapSection(PVOID BaseAddress);

#ifdef __cplusplus
}
#endif

#endif
