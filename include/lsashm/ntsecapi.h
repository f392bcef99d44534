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
 * This release declares the functions with their Windows prototypes and links
 * them, but the host daemon that serves them is not part of it: after
 * checking their arguments they return STATUS_NOT_IMPLEMENTED (except
 * LsaFreeReturnBuffer(NULL), which succeeds). lsashm's real implementation
 * comes with the package host.
 */
#ifndef LSASHM_NTSECAPI_H
#define LSASHM_NTSECAPI_H

#include "lsashm/wintypes.h"

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
 * CallPackageUntrusted. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaConnectUntrusted(PHANDLE LsaHandle);

/* A trusted connection as a logon process: its messages reach the package's
 * CallPackage. LogonProcessName is an ANSI counted string. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaRegisterLogonProcess(PLSA_STRING LogonProcessName,
                                                            PHANDLE LsaHandle,
                                                            PLSA_OPERATIONAL_MODE SecurityMode);

/* The identifier of the package called PackageName (at most 127 bytes). */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaLookupAuthenticationPackage(HANDLE LsaHandle,
                                                                   PLSA_STRING PackageName,
                                                                   PULONG AuthenticationPackage);

/* Sends ProtocolSubmitBuffer to the package. On success *ProtocolReturnBuffer
 * (may be NULL) is released with LsaFreeReturnBuffer and *ProtocolStatus is
 * the package's own status. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaCallAuthenticationPackage(HANDLE LsaHandle,
                                                                 ULONG AuthenticationPackage,
                                                                 PVOID ProtocolSubmitBuffer,
                                                                 ULONG SubmitBufferLength,
                                                                 PVOID *ProtocolReturnBuffer,
                                                                 PULONG ReturnBufferLength,
                                                                 PNTSTATUS ProtocolStatus);

/* Releases a buffer returned by LsaCallAuthenticationPackage; NULL is
 * accepted and does nothing. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaFreeReturnBuffer(PVOID Buffer);

/* Closes a handle from LsaConnectUntrusted or LsaRegisterLogonProcess. */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsaDeregisterLogonProcess(HANDLE LsaHandle);

#ifdef __cplusplus
}
#endif

#endif
