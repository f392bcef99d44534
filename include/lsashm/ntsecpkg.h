/* SPDX-License-Identifier: MIT */
/*
 * The security-package side of the LSA interfaces, as a package written for
 * Windows' ntsecpkg.h expects them: Windows names, prototypes and widths.
 *
 * Every type and table a package uses is declared here. lsashmd, the
 * package host, loads a package built against this header and hands it the
 * whole LSA_SECPKG_FUNCTION_TABLE (README: which members are implemented).
 * The four shared-memory functions are also exported under their Lsa names
 * for programs that use sections without the host.
 *
 * Shared-memory semantics (lsashm, consistent with Microsoft's documentation):
 *   LsaCreateSharedMemory(MaxSize, InitialSize)
 *       Reserves MaxSize bytes (rounded up to pages) and commits at least
 *       InitialSize. Returns the section's base address in this process, or
 *       NULL when MaxSize is 0, InitialSize > MaxSize, or memory or file
 *       descriptors are short.
 *   LsaAllocateSharedMemory(SharedMem, Size)
 *       A zero-filled, 16-byte-aligned block of at least Size bytes, growing
 *       the committed part on demand up to MaxSize. NULL when SharedMem is
 *       NULL, unknown or deleted, Size is 0 or larger than MaxSize, or the
 *       section is full.
 *   LsaFreeSharedMemory(SharedMem, Memory)
 *       Wipes and returns the block. A NULL Memory does nothing; a pointer
 *       that is not a live block of SharedMem is refused without harm and
 *       counted in the section's refused_frees.
 *   LsaDeleteSharedMemory(SharedMem)
 *       Wipes and releases the section, live blocks included: TRUE. FALSE for
 *       NULL, a pointer LsaCreateSharedMemory did not return (interior ones
 *       included), or a section already deleted.
 * All four are thread-safe. Clients may write to a section: its contents are
 * never trusted by lsashm, and must not be by the package either.
 */
#ifndef LSASHM_NTSECPKG_H
#define LSASHM_NTSECPKG_H

#include "lsashm/wintypes.h"
#include "lsashm/ntstatus.h"
#include "lsashm/sspi.h"
#include "lsashm/ntsecapi.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define LSASHM_WINAPI_EXPORT __attribute__((visibility("default")))
#else
#define LSASHM_WINAPI_EXPORT
#endif

typedef PVOID (NTAPI LSA_CREATE_SHARED_MEMORY)(ULONG MaxSize, ULONG InitialSize);
typedef PVOID (NTAPI LSA_ALLOCATE_SHARED_MEMORY)(PVOID SharedMem, ULONG Size);
typedef VOID (NTAPI LSA_FREE_SHARED_MEMORY)(PVOID SharedMem, PVOID Memory);
typedef BOOLEAN (NTAPI LSA_DELETE_SHARED_MEMORY)(PVOID SharedMem);

typedef LSA_CREATE_SHARED_MEMORY *PLSA_CREATE_SHARED_MEMORY;
typedef LSA_ALLOCATE_SHARED_MEMORY *PLSA_ALLOCATE_SHARED_MEMORY;
typedef LSA_FREE_SHARED_MEMORY *PLSA_FREE_SHARED_MEMORY;
typedef LSA_DELETE_SHARED_MEMORY *PLSA_DELETE_SHARED_MEMORY;

LSASHM_WINAPI_EXPORT LSA_CREATE_SHARED_MEMORY LsaCreateSharedMemory;
LSASHM_WINAPI_EXPORT LSA_ALLOCATE_SHARED_MEMORY LsaAllocateSharedMemory;
LSASHM_WINAPI_EXPORT LSA_FREE_SHARED_MEMORY LsaFreeSharedMemory;
LSASHM_WINAPI_EXPORT LSA_DELETE_SHARED_MEMORY LsaDeleteSharedMemory;

/*
 * Everything below declares the interface between a security package and the
 * LSA with Windows' names, member order and x86-64 layout: the callbacks the
 * LSA offers a package (LSA_SECPKG_FUNCTION_TABLE), the entry points a package
 * offers the LSA (SECPKG_FUNCTION_TABLE) and the types they use. Windows
 * structures that lsashm only passes along are declared as incomplete types.
 * lsashmd, the package host, fills every member of the table; the README
 * lists the members that answer STATUS_NOT_IMPLEMENTED.
 */

/* ---- Package data types ---- */

/* Opaque to the package: identifies the client call in progress. */
typedef PVOID *PLSA_CLIENT_REQUEST;

typedef ULONG_PTR LSA_SEC_HANDLE;
typedef LSA_SEC_HANDLE *PLSA_SEC_HANDLE;

typedef enum _LSA_TOKEN_INFORMATION_TYPE {
        LsaTokenInformationNull,
        LsaTokenInformationV1,
        LsaTokenInformationV2,
        LsaTokenInformationV3
} LSA_TOKEN_INFORMATION_TYPE, *PLSA_TOKEN_INFORMATION_TYPE;

/* What LogonUser returns for the token, by LSA_TOKEN_INFORMATION_TYPE.
 * Null: an anonymous logon's groups. V1: each pointer its own LSA heap
 * block (the LSA frees each). V2: the same layout in one LSA heap block,
 * every pointer inside it (the LSA frees the one block). lsashmd refuses
 * token information with a pointer outside what the package allocated. */
typedef struct _LSA_TOKEN_INFORMATION_NULL {
        LARGE_INTEGER ExpirationTime;
        PTOKEN_GROUPS Groups;
} LSA_TOKEN_INFORMATION_NULL, *PLSA_TOKEN_INFORMATION_NULL;

typedef struct _LSA_TOKEN_INFORMATION_V1 {
        LARGE_INTEGER ExpirationTime;
        TOKEN_USER User;
        PTOKEN_GROUPS Groups;
        TOKEN_PRIMARY_GROUP PrimaryGroup;
        PTOKEN_PRIVILEGES Privileges;
        TOKEN_OWNER Owner;
        TOKEN_DEFAULT_DACL DefaultDacl;
} LSA_TOKEN_INFORMATION_V1, *PLSA_TOKEN_INFORMATION_V1;

typedef LSA_TOKEN_INFORMATION_V1 LSA_TOKEN_INFORMATION_V2, *PLSA_TOKEN_INFORMATION_V2;

#ifndef SECURITY_KERNEL
typedef LPTHREAD_START_ROUTINE SEC_THREAD_START;
typedef LPSECURITY_ATTRIBUTES SEC_ATTRS;
#else
typedef PVOID SEC_THREAD_START;
typedef PVOID SEC_ATTRS;
#endif

#define SecEqualLuid(L1, L2) \
        ((((PLUID)(L1))->LowPart == ((PLUID)(L2))->LowPart) && \
         (((PLUID)(L1))->HighPart == ((PLUID)(L2))->HighPart))
#define SecIsZeroLuid(L1) ((((L1)->LowPart) | ((ULONG)(L1)->HighPart)) == 0)

/* Who is calling: filled by GetClientInfo. */
typedef struct _SECPKG_CLIENT_INFO {
        LUID LogonId;
        ULONG ProcessID;
        ULONG ThreadID;
        BOOLEAN HasTcbPrivilege;
        BOOLEAN Impersonating;
        BOOLEAN Restricted;
        UCHAR ClientFlags;
        SECURITY_IMPERSONATION_LEVEL ImpersonationLevel;
        HANDLE ClientToken;
} SECPKG_CLIENT_INFO, *PSECPKG_CLIENT_INFO;

typedef struct _SECPKG_CLIENT_INFO_EX {
        LUID LogonId;
        ULONG ProcessID;
        ULONG ThreadID;
        BOOLEAN HasTcbPrivilege;
        BOOLEAN Impersonating;
        BOOLEAN Restricted;
        UCHAR ClientFlags;
        SECURITY_IMPERSONATION_LEVEL ImpersonationLevel;
        HANDLE ClientToken;
        LUID IdentificationLogonId;
        HANDLE IdentificationToken;
} SECPKG_CLIENT_INFO_EX, *PSECPKG_CLIENT_INFO_EX;

/* SECPKG_CLIENT_INFO.ClientFlags */
#define SECPKG_CLIENT_PROCESS_TERMINATED 0x01
#define SECPKG_CLIENT_THREAD_TERMINATED  0x02

/* The call in progress: filled by GetCallInfo. */
typedef struct _SECPKG_CALL_INFO {
        ULONG ProcessId;
        ULONG ThreadId;
        ULONG Attributes;
        ULONG CallCount;
        PVOID MechOid;
} SECPKG_CALL_INFO, *PSECPKG_CALL_INFO;

/* SECPKG_CALL_INFO.Attributes */
#define SECPKG_CALL_KERNEL_MODE     0x00000001
#define SECPKG_CALL_ANSI            0x00000002
#define SECPKG_CALL_URGENT          0x00000004
#define SECPKG_CALL_RECURSIVE       0x00000008
#define SECPKG_CALL_IN_PROC         0x00000010
#define SECPKG_CALL_CLEANUP         0x00000020
#define SECPKG_CALL_WOWCLIENT       0x00000040
#define SECPKG_CALL_THREAD_TERM     0x00000080
#define SECPKG_CALL_PROCESS_TERM    0x00000100
#define SECPKG_CALL_IS_TCB          0x00000200
#define SECPKG_CALL_NETWORK_ONLY    0x00000400
#define SECPKG_CALL_WINLOGON        0x00000800
#define SECPKG_CALL_ASYNC_UPDATE    0x00001000
#define SECPKG_CALL_SYSTEM_PROC     0x00002000
#define SECPKG_CALL_NEGO            0x00004000
#define SECPKG_CALL_NEGO_EXTENDER   0x00008000
#define SECPKG_CALL_BUFFER_MARSHAL  0x00010000
#define SECPKG_CALL_UNLOCK          0x00020000
#define SECPKG_CALL_CLOUDAP_CONNECT 0x00040000
#define SECPKG_CALL_WOWX86          0x00000040
#define SECPKG_CALL_WOWA32          0x00040000

typedef enum _SECPKG_FAILURE_SPECIAL_REASON {
        SecpkgFailureReason_Unknown = 0,
        SecpkgFailureReason_NoFailure,
        SecpkgFailureReason_LocalAccount,
        SecpkgFailureReason_DomainAccount,
        SecpkgFailureReason_CloudAccount,
        SecpkgFailureReason_NullTarget,
        SecpkgFailureReason_UnknownTarget,
        SecpkgFailureReason_IpAddress,
        SecpkgFailureReason_DupTarget,
        SecpkgFailureReason_NoLineOfSight,
        SecpkgFailureReason_Loopback,
        SecpkgFailureReason_NullSession
} SECPKG_FAILURE_SPECIAL_REASON, *PSECPKG_FAILURE_SPECIAL_REASON;

typedef struct _SECPKG_FAILURE_REASON {
        NTSTATUS Status;
        SECPKG_FAILURE_SPECIAL_REASON Reason;
} SECPKG_FAILURE_REASON, *PSECPKG_FAILURE_REASON;

typedef struct _SECPKG_SUPPLEMENTAL_CRED {
        UNICODE_STRING PackageName;
        ULONG CredentialSize;
        PUCHAR Credentials;
} SECPKG_SUPPLEMENTAL_CRED, *PSECPKG_SUPPLEMENTAL_CRED;

typedef struct _SECPKG_SUPPLEMENTAL_CRED_ARRAY {
        ULONG CredentialCount;
        SECPKG_SUPPLEMENTAL_CRED Credentials[1];
} SECPKG_SUPPLEMENTAL_CRED_ARRAY, *PSECPKG_SUPPLEMENTAL_CRED_ARRAY;

typedef struct _SECPKG_SURROGATE_LOGON_ENTRY {
        GUID Type;
        PVOID Data;
} SECPKG_SURROGATE_LOGON_ENTRY, *PSECPKG_SURROGATE_LOGON_ENTRY;

typedef struct _SECPKG_SURROGATE_LOGON {
        ULONG Version;
        LUID SurrogateLogonID;
        ULONG EntryCount;
        PSECPKG_SURROGATE_LOGON_ENTRY Entries;
} SECPKG_SURROGATE_LOGON, *PSECPKG_SURROGATE_LOGON;

#define SECPKG_SURROGATE_LOGON_VERSION_1 1

/* SecBuffer.BufferType flags used inside the LSA */
#define SECBUFFER_UNMAPPED   0x40000000
#define SECBUFFER_KERNEL_MAP 0x20000000

typedef NTSTATUS (NTAPI LSA_CALLBACK_FUNCTION)(ULONG_PTR Argument1, ULONG_PTR Argument2,
                                               PSecBuffer InputBuffer, PSecBuffer OutputBuffer);
typedef LSA_CALLBACK_FUNCTION *PLSA_CALLBACK_FUNCTION;

/* Logon credentials handed to packages (SECPKG_PRIMARY_CRED.Flags) */
#define PRIMARY_CRED_CLEAR_PASSWORD 0x00000001
#define PRIMARY_CRED_OWF_PASSWORD   0x00000002
#define PRIMARY_CRED_UPDATE         0x00000004
#define PRIMARY_CRED_CACHED_LOGON   0x00000008
#define PRIMARY_CRED_LOGON_NO_TCB   0x00000010

typedef struct _SECPKG_PRIMARY_CRED {
        LUID LogonId;
        UNICODE_STRING DownlevelName;
        UNICODE_STRING DomainName;
        UNICODE_STRING Password;
        UNICODE_STRING OldPassword;
        PSID UserSid;
        ULONG Flags;
        UNICODE_STRING DnsDomainName;
        UNICODE_STRING Upn;
        UNICODE_STRING LogonServer;
        UNICODE_STRING Spare1;
        UNICODE_STRING Spare2;
        UNICODE_STRING Spare3;
        UNICODE_STRING Spare4;
} SECPKG_PRIMARY_CRED, *PSECPKG_PRIMARY_CRED;

/* SECPKG_PARAMETERS.MachineState */
#define SECPKG_STATE_ENCRYPTION_PERMITTED        0x01
#define SECPKG_STATE_STRONG_ENCRYPTION_PERMITTED 0x02
#define SECPKG_STATE_DOMAIN_CONTROLLER           0x04
#define SECPKG_STATE_WORKSTATION                 0x08
#define SECPKG_STATE_STANDALONE                  0x10
#define SECPKG_STATE_CRED_ISOLATION_ENABLED      0x20
#define SECPKG_STATE_RESERVED_1                  0x80000000

/* What SpInitialize learns about the machine. */
typedef struct _SECPKG_PARAMETERS {
        ULONG Version;
        ULONG MachineState;
        ULONG SetupMode;
        PSID DomainSid;
        UNICODE_STRING DomainName;
        UNICODE_STRING DnsDomainName;
        GUID DomainGuid;
} SECPKG_PARAMETERS, *PSECPKG_PARAMETERS;

typedef enum _SECPKG_EXTENDED_INFORMATION_CLASS {
        SecpkgGssInfo = 1,
        SecpkgContextThunks,
        SecpkgMutualAuthLevel,
        SecpkgWowClientDll,
        SecpkgExtraOids,
        SecpkgMaxInfo,
        SecpkgNego2Info
} SECPKG_EXTENDED_INFORMATION_CLASS;

/* Not looked into by lsashm. */
typedef struct _SECPKG_EXTENDED_INFORMATION SECPKG_EXTENDED_INFORMATION, *PSECPKG_EXTENDED_INFORMATION;

typedef struct _SECPKG_TARGETINFO {
        PSID DomainSid;
        PCWSTR ComputerName;
} SECPKG_TARGETINFO, *PSECPKG_TARGETINFO;

typedef struct _SECURITY_USER_DATA {
        SECURITY_STRING UserName;
        SECURITY_STRING LogonDomainName;
        SECURITY_STRING LogonServer;
        PSID pSid;
} SECURITY_USER_DATA, *PSECURITY_USER_DATA;
typedef SECURITY_USER_DATA SecurityUserData, *PSecurityUserData;

/* Messages every package may receive through CallPackage */
#define SECPKG_ALL_PACKAGES ((ULONG)-2)

typedef enum _SECPKG_CALL_PACKAGE_MESSAGE_TYPE {
        SecPkgCallPackageMinMessage = 1024,
        SecPkgCallPackagePinDcMessage = SecPkgCallPackageMinMessage,
        SecPkgCallPackageUnpinAllDcsMessage,
        SecPkgCallPackageTransferCredMessage,
        SecPkgCallPackageMaxMessage = SecPkgCallPackageTransferCredMessage
} SECPKG_CALL_PACKAGE_MESSAGE_TYPE, *PSECPKG_CALL_PACKAGE_MESSAGE_TYPE;

typedef struct _SECPKG_POST_LOGON_USER_INFO {
        ULONG Flags;
        LUID LogonId;
        LUID LinkedLogonId;
} SECPKG_POST_LOGON_USER_INFO, *PSECPKG_POST_LOGON_USER_INFO;

typedef enum _SECPKG_SESSIONINFO_TYPE {
        SecSessionPrimaryCred
} SECPKG_SESSIONINFO_TYPE;

typedef enum _SECPKG_NAME_TYPE {
        SecNameSamCompatible,
        SecNameAlternateId,
        SecNameFlat,
        SecNameDN,
        SecNameSPN
} SECPKG_NAME_TYPE;

typedef enum _CRED_FETCH {
        CredFetchDefault = 0,
        CredFetchDPAPI,
        CredFetchForced
} CRED_FETCH, *PCRED_FETCH;

/* ---- Callbacks the LSA gives a package ---- */

/* The eleven of an authentication package's dispatch table. */
typedef NTSTATUS (NTAPI LSA_CREATE_LOGON_SESSION)(PLUID LogonId);
typedef NTSTATUS (NTAPI LSA_DELETE_LOGON_SESSION)(PLUID LogonId);
typedef NTSTATUS (NTAPI LSA_ADD_CREDENTIAL)(PLUID LogonId, ULONG AuthenticationPackage,
                                            PLSA_STRING PrimaryKeyValue, PLSA_STRING Credentials);
typedef NTSTATUS (NTAPI LSA_GET_CREDENTIALS)(PLUID LogonId, ULONG AuthenticationPackage,
                                             PULONG QueryContext, BOOLEAN RetrieveAllCredentials,
                                             PLSA_STRING PrimaryKeyValue, PULONG PrimaryKeyLength,
                                             PLSA_STRING Credentials);
typedef NTSTATUS (NTAPI LSA_DELETE_CREDENTIAL)(PLUID LogonId, ULONG AuthenticationPackage,
                                               PLSA_STRING PrimaryKeyValue);
typedef PVOID (NTAPI LSA_ALLOCATE_LSA_HEAP)(ULONG Length);
typedef VOID (NTAPI LSA_FREE_LSA_HEAP)(PVOID Base);
typedef PVOID (NTAPI LSA_ALLOCATE_PRIVATE_HEAP)(SIZE_T Length);
typedef VOID (NTAPI LSA_FREE_PRIVATE_HEAP)(PVOID Base);
/* ClientBaseAddress is an address in the client process. */
typedef NTSTATUS (NTAPI LSA_ALLOCATE_CLIENT_BUFFER)(PLSA_CLIENT_REQUEST ClientRequest, ULONG LengthRequired,
                                                    PVOID *ClientBaseAddress);
typedef NTSTATUS (NTAPI LSA_FREE_CLIENT_BUFFER)(PLSA_CLIENT_REQUEST ClientRequest, PVOID ClientBaseAddress);
/* Note the order: to the client (client destination, local source)... */
typedef NTSTATUS (NTAPI LSA_COPY_TO_CLIENT_BUFFER)(PLSA_CLIENT_REQUEST ClientRequest, ULONG Length,
                                                   PVOID ClientBaseAddress, PVOID BufferToCopy);
/* ...and from the client (local destination, client source). */
typedef NTSTATUS (NTAPI LSA_COPY_FROM_CLIENT_BUFFER)(PLSA_CLIENT_REQUEST ClientRequest, ULONG Length,
                                                     PVOID BufferToCopy, PVOID ClientBaseAddress);

typedef LSA_CREATE_LOGON_SESSION *PLSA_CREATE_LOGON_SESSION;
typedef LSA_DELETE_LOGON_SESSION *PLSA_DELETE_LOGON_SESSION;
typedef LSA_ADD_CREDENTIAL *PLSA_ADD_CREDENTIAL;
typedef LSA_GET_CREDENTIALS *PLSA_GET_CREDENTIALS;
typedef LSA_DELETE_CREDENTIAL *PLSA_DELETE_CREDENTIAL;
typedef LSA_ALLOCATE_LSA_HEAP *PLSA_ALLOCATE_LSA_HEAP;
typedef LSA_FREE_LSA_HEAP *PLSA_FREE_LSA_HEAP;
typedef LSA_ALLOCATE_PRIVATE_HEAP *PLSA_ALLOCATE_PRIVATE_HEAP;
typedef LSA_FREE_PRIVATE_HEAP *PLSA_FREE_PRIVATE_HEAP;
typedef LSA_ALLOCATE_CLIENT_BUFFER *PLSA_ALLOCATE_CLIENT_BUFFER;
typedef LSA_FREE_CLIENT_BUFFER *PLSA_FREE_CLIENT_BUFFER;
typedef LSA_COPY_TO_CLIENT_BUFFER *PLSA_COPY_TO_CLIENT_BUFFER;
typedef LSA_COPY_FROM_CLIENT_BUFFER *PLSA_COPY_FROM_CLIENT_BUFFER;

/* What old-style authentication packages (LsaAp*) receive: the first eleven
 * members of LSA_SECPKG_FUNCTION_TABLE, in the same order. */
typedef struct _LSA_DISPATCH_TABLE {
        PLSA_CREATE_LOGON_SESSION CreateLogonSession;
        PLSA_DELETE_LOGON_SESSION DeleteLogonSession;
        PLSA_ADD_CREDENTIAL AddCredential;
        PLSA_GET_CREDENTIALS GetCredentials;
        PLSA_DELETE_CREDENTIAL DeleteCredential;
        PLSA_ALLOCATE_LSA_HEAP AllocateLsaHeap;
        PLSA_FREE_LSA_HEAP FreeLsaHeap;
        PLSA_ALLOCATE_CLIENT_BUFFER AllocateClientBuffer;
        PLSA_FREE_CLIENT_BUFFER FreeClientBuffer;
        PLSA_COPY_TO_CLIENT_BUFFER CopyToClientBuffer;
        PLSA_COPY_FROM_CLIENT_BUFFER CopyFromClientBuffer;
} LSA_DISPATCH_TABLE, *PLSA_DISPATCH_TABLE;

typedef NTSTATUS (NTAPI LSA_IMPERSONATE_CLIENT)(VOID);
typedef NTSTATUS (NTAPI LSA_UNLOAD_PACKAGE)(VOID);
typedef NTSTATUS (NTAPI LSA_DUPLICATE_HANDLE)(HANDLE SourceHandle, PHANDLE DestionationHandle);
typedef NTSTATUS (NTAPI LSA_SAVE_SUPPLEMENTAL_CREDENTIALS)(PLUID LogonId, ULONG SupplementalCredSize,
                                                           PVOID SupplementalCreds, BOOLEAN Synchronous);
typedef HANDLE (NTAPI LSA_CREATE_THREAD)(SEC_ATTRS SecurityAttributes, ULONG StackSize,
                                         SEC_THREAD_START StartFunction, PVOID ThreadParameter,
                                         ULONG CreationFlags, PULONG ThreadId);
typedef NTSTATUS (NTAPI LSA_GET_CLIENT_INFO)(PSECPKG_CLIENT_INFO ClientInfo);
typedef NTSTATUS (NTAPI LSA_GET_CLIENT_INFO_EX)(PSECPKG_CLIENT_INFO_EX ClientInfo, ULONG StructSize);
typedef HANDLE (NTAPI LSA_REGISTER_NOTIFICATION)(SEC_THREAD_START StartFunction, PVOID Parameter,
                                                 ULONG NotificationType, ULONG NotificationClass,
                                                 ULONG NotificationFlags, ULONG IntervalMinutes,
                                                 HANDLE WaitEvent);
typedef NTSTATUS (NTAPI LSA_CANCEL_NOTIFICATION)(HANDLE NotifyHandle);
typedef NTSTATUS (NTAPI LSA_MAP_BUFFER)(PSecBuffer InputBuffer, PSecBuffer OutputBuffer);
typedef NTSTATUS (NTAPI LSA_CREATE_TOKEN)(PLUID LogonId, PTOKEN_SOURCE TokenSource,
                                          SECURITY_LOGON_TYPE LogonType,
                                          SECURITY_IMPERSONATION_LEVEL ImpersonationLevel,
                                          LSA_TOKEN_INFORMATION_TYPE TokenInformationType,
                                          PVOID TokenInformation, PTOKEN_GROUPS TokenGroups,
                                          PUNICODE_STRING AccountName, PUNICODE_STRING AuthorityName,
                                          PUNICODE_STRING Workstation, PUNICODE_STRING ProfilePath,
                                          PHANDLE Token, PNTSTATUS SubStatus);
typedef NTSTATUS (NTAPI LSA_CREATE_TOKEN_EX)(PLUID LogonId, PTOKEN_SOURCE TokenSource,
                                             SECURITY_LOGON_TYPE LogonType,
                                             SECURITY_IMPERSONATION_LEVEL ImpersonationLevel,
                                             LSA_TOKEN_INFORMATION_TYPE TokenInformationType,
                                             PVOID TokenInformation, PTOKEN_GROUPS TokenGroups,
                                             PUNICODE_STRING Workstation, PUNICODE_STRING ProfilePath,
                                             PVOID SessionInformation,
                                             SECPKG_SESSIONINFO_TYPE SessionInformationType,
                                             PHANDLE Token, PNTSTATUS SubStatus);
typedef VOID (NTAPI LSA_AUDIT_LOGON)(NTSTATUS Status, NTSTATUS SubStatus, PUNICODE_STRING AccountName,
                                     PUNICODE_STRING AuthenticatingAuthority,
                                     PUNICODE_STRING WorkstationName, PSID UserSid,
                                     SECURITY_LOGON_TYPE LogonType, PTOKEN_SOURCE TokenSource,
                                     PLUID LogonId);
/* Package to package: the returned buffer is LSA heap, freed with
 * FreeReturnBuffer. */
typedef NTSTATUS (NTAPI LSA_CALL_PACKAGE)(PUNICODE_STRING AuthenticationPackage, PVOID ProtocolSubmitBuffer,
                                          ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer,
                                          PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus);
typedef NTSTATUS (NTAPI LSA_CALL_PACKAGEEX)(PUNICODE_STRING AuthenticationPackage, PVOID ClientBufferBase,
                                            PVOID ProtocolSubmitBuffer, ULONG SubmitBufferLength,
                                            PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                            PNTSTATUS ProtocolStatus);
typedef NTSTATUS (NTAPI LSA_CALL_PACKAGE_PASSTHROUGH)(PUNICODE_STRING AuthenticationPackage,
                                                      PVOID ClientBufferBase, PVOID ProtocolSubmitBuffer,
                                                      ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer,
                                                      PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus);
typedef BOOLEAN (NTAPI LSA_GET_CALL_INFO)(PSECPKG_CALL_INFO Info);
typedef NTSTATUS (NTAPI LSA_GET_APP_MODE_INFO)(PULONG UserFunction, PULONG_PTR Argument1,
                                               PULONG_PTR Argument2, PSecBuffer UserData,
                                               PBOOLEAN ReturnToLsa);
typedef NTSTATUS (NTAPI LSA_SET_APP_MODE_INFO)(ULONG UserFunction, ULONG_PTR Argument1, ULONG_PTR Argument2,
                                               PSecBuffer UserData, BOOLEAN ReturnToLsa);
typedef NTSTATUS (NTAPI LSA_GET_SECPKG_FAILURE_REASON)(const ULONG_PTR PackageID,
                                                       SECPKG_FAILURE_REASON *Reason);
typedef NTSTATUS (NTAPI LSA_SET_SECPKG_FAILURE_REASON)(const SECPKG_FAILURE_REASON Reason);
typedef NTSTATUS (NTAPI LSA_OPEN_SAM_USER)(PSECURITY_STRING Name, SECPKG_NAME_TYPE NameType,
                                           PSECURITY_STRING Prefix, BOOLEAN AllowGuest, ULONG Reserved,
                                           PVOID *UserHandle);
typedef NTSTATUS (NTAPI LSA_GET_USER_CREDENTIALS)(PVOID UserHandle, PVOID *PrimaryCreds,
                                                  PULONG PrimaryCredsSize, PVOID *SupplementalCreds,
                                                  PULONG SupplementalCredsSize);
typedef NTSTATUS (NTAPI LSA_GET_USER_AUTH_DATA)(PVOID UserHandle, PUCHAR *UserAuthData,
                                                PULONG UserAuthDataSize);
typedef NTSTATUS (NTAPI LSA_CLOSE_SAM_USER)(PVOID UserHandle);
typedef NTSTATUS (NTAPI LSA_GET_AUTH_DATA_FOR_USER)(PSECURITY_STRING Name, SECPKG_NAME_TYPE NameType,
                                                    PSECURITY_STRING Prefix, PUCHAR *UserAuthData,
                                                    PULONG UserAuthDataSize, PUNICODE_STRING UserFlatName);
typedef NTSTATUS (NTAPI LSA_CONVERT_AUTH_DATA_TO_TOKEN)(PVOID UserAuthData, ULONG UserAuthDataSize,
                                                        SECURITY_IMPERSONATION_LEVEL ImpersonationLevel,
                                                        PTOKEN_SOURCE TokenSource,
                                                        SECURITY_LOGON_TYPE LogonType,
                                                        PUNICODE_STRING AuthorityName, PHANDLE Token,
                                                        PLUID LogonId, PUNICODE_STRING AccountName,
                                                        PNTSTATUS SubStatus);
typedef NTSTATUS (NTAPI LSA_CRACK_SINGLE_NAME)(ULONG FormatOffered, BOOLEAN PerformAtGC,
                                               PUNICODE_STRING NameInput, PUNICODE_STRING Prefix,
                                               ULONG RequestedFormat, PUNICODE_STRING CrackedName,
                                               PUNICODE_STRING DnsDomainName, PULONG SubStatus);
typedef NTSTATUS (NTAPI LSA_AUDIT_ACCOUNT_LOGON)(ULONG AuditId, BOOLEAN Success, PUNICODE_STRING Source,
                                                 PUNICODE_STRING ClientName, PUNICODE_STRING MappedName,
                                                 NTSTATUS Status);
typedef NTSTATUS (NTAPI LSA_CLIENT_CALLBACK)(PCHAR Callback, ULONG_PTR Argument1, ULONG_PTR Argument2,
                                             PSecBuffer Input, PSecBuffer Output);
typedef NTSTATUS (NTAPI LSA_REGISTER_CALLBACK)(ULONG CallbackId, PLSA_CALLBACK_FUNCTION Callback);
typedef NTSTATUS (NTAPI LSA_GET_EXTENDED_CALL_FLAGS)(PULONG Flags);
typedef NTSTATUS (NTAPI LSA_UPDATE_PRIMARY_CREDENTIALS)(PSECPKG_PRIMARY_CRED PrimaryCredentials,
                                                        PSECPKG_SUPPLEMENTAL_CRED_ARRAY Credentials);
/* Also the type of the unused DummyFunction slots. */
typedef VOID (NTAPI LSA_PROTECT_MEMORY)(PVOID Buffer, ULONG BufferSize);
typedef NTSTATUS (NTAPI LSA_OPEN_TOKEN_BY_LOGON_ID)(PLUID LogonId, HANDLE *RetTokenHandle);
typedef NTSTATUS (NTAPI LSA_EXPAND_AUTH_DATA_FOR_DOMAIN)(PUCHAR UserAuthData, ULONG UserAuthDataSize,
                                                         PVOID Reserved, PUCHAR *ExpandedAuthData,
                                                         PULONG ExpandedAuthDataSize);
typedef NTSTATUS (NTAPI LSA_GET_SERVICE_ACCOUNT_PASSWORD)(PUNICODE_STRING AccountName,
                                                          PUNICODE_STRING DomainName, CRED_FETCH CredFetch,
                                                          FILETIME *FileTimeExpiry,
                                                          PUNICODE_STRING CurrentPassword,
                                                          PUNICODE_STRING PreviousPassword,
                                                          FILETIME *FileTimeCurrPwdValidForOutbound);
typedef VOID (NTAPI LSA_AUDIT_LOGON_EX)(NTSTATUS Status, NTSTATUS SubStatus, PUNICODE_STRING AccountName,
                                        PUNICODE_STRING AuthenticatingAuthority,
                                        PUNICODE_STRING WorkstationName, PSID UserSid,
                                        SECURITY_LOGON_TYPE LogonType,
                                        SECURITY_IMPERSONATION_LEVEL ImpersonationLevel,
                                        PTOKEN_SOURCE TokenSource, PLUID LogonId);
typedef NTSTATUS (NTAPI LSA_CHECK_PROTECTED_USER_BY_TOKEN)(HANDLE UserToken, PBOOLEAN ProtectedUser);
typedef NTSTATUS (NTAPI LSA_QUERY_CLIENT_REQUEST)(PLSA_CLIENT_REQUEST ClientRequest, ULONG QueryType,
                                                  PVOID *ReplyBuffer);

#define LSA_QUERY_CLIENT_PRELOGON_SESSION_ID 1

typedef LSA_IMPERSONATE_CLIENT *PLSA_IMPERSONATE_CLIENT;
typedef LSA_UNLOAD_PACKAGE *PLSA_UNLOAD_PACKAGE;
typedef LSA_DUPLICATE_HANDLE *PLSA_DUPLICATE_HANDLE;
typedef LSA_SAVE_SUPPLEMENTAL_CREDENTIALS *PLSA_SAVE_SUPPLEMENTAL_CREDENTIALS;
typedef LSA_CREATE_THREAD *PLSA_CREATE_THREAD;
typedef LSA_GET_CLIENT_INFO *PLSA_GET_CLIENT_INFO;
typedef LSA_GET_CLIENT_INFO_EX *PLSA_GET_CLIENT_INFO_EX;
typedef LSA_REGISTER_NOTIFICATION *PLSA_REGISTER_NOTIFICATION;
typedef LSA_CANCEL_NOTIFICATION *PLSA_CANCEL_NOTIFICATION;
typedef LSA_MAP_BUFFER *PLSA_MAP_BUFFER;
typedef LSA_CREATE_TOKEN *PLSA_CREATE_TOKEN;
typedef LSA_AUDIT_LOGON *PLSA_AUDIT_LOGON;
typedef LSA_CALL_PACKAGE *PLSA_CALL_PACKAGE;
typedef LSA_CALL_PACKAGEEX *PLSA_CALL_PACKAGEEX;
typedef LSA_GET_CALL_INFO *PLSA_GET_CALL_INFO;
typedef LSA_OPEN_SAM_USER *PLSA_OPEN_SAM_USER;
typedef LSA_GET_USER_CREDENTIALS *PLSA_GET_USER_CREDENTIALS;
typedef LSA_GET_USER_AUTH_DATA *PLSA_GET_USER_AUTH_DATA;
typedef LSA_CLOSE_SAM_USER *PLSA_CLOSE_SAM_USER;
typedef LSA_CONVERT_AUTH_DATA_TO_TOKEN *PLSA_CONVERT_AUTH_DATA_TO_TOKEN;
typedef LSA_CLIENT_CALLBACK *PLSA_CLIENT_CALLBACK;
typedef LSA_REGISTER_CALLBACK *PLSA_REGISTER_CALLBACK;
typedef LSA_UPDATE_PRIMARY_CREDENTIALS *PLSA_UPDATE_PRIMARY_CREDENTIALS;
typedef LSA_GET_AUTH_DATA_FOR_USER *PLSA_GET_AUTH_DATA_FOR_USER;
typedef LSA_CRACK_SINGLE_NAME *PLSA_CRACK_SINGLE_NAME;
typedef LSA_AUDIT_ACCOUNT_LOGON *PLSA_AUDIT_ACCOUNT_LOGON;
typedef LSA_CALL_PACKAGE_PASSTHROUGH *PLSA_CALL_PACKAGE_PASSTHROUGH;
typedef LSA_PROTECT_MEMORY *PLSA_PROTECT_MEMORY;
typedef LSA_OPEN_TOKEN_BY_LOGON_ID *PLSA_OPEN_TOKEN_BY_LOGON_ID;
typedef LSA_EXPAND_AUTH_DATA_FOR_DOMAIN *PLSA_EXPAND_AUTH_DATA_FOR_DOMAIN;
typedef LSA_CREATE_TOKEN_EX *PLSA_CREATE_TOKEN_EX;
typedef LSA_GET_EXTENDED_CALL_FLAGS *PLSA_GET_EXTENDED_CALL_FLAGS;
typedef LSA_GET_SERVICE_ACCOUNT_PASSWORD *PLSA_GET_SERVICE_ACCOUNT_PASSWORD;
typedef LSA_AUDIT_LOGON_EX *PLSA_AUDIT_LOGON_EX;
typedef LSA_CHECK_PROTECTED_USER_BY_TOKEN *PLSA_CHECK_PROTECTED_USER_BY_TOKEN;
typedef LSA_QUERY_CLIENT_REQUEST *PLSA_QUERY_CLIENT_REQUEST;
typedef LSA_GET_APP_MODE_INFO *PLSA_GET_APP_MODE_INFO;
typedef LSA_SET_APP_MODE_INFO *PLSA_SET_APP_MODE_INFO;
typedef LSA_GET_SECPKG_FAILURE_REASON *PLSA_GET_SECPKG_FAILURE_REASON;
typedef LSA_SET_SECPKG_FAILURE_REASON *PLSA_SET_SECPKG_FAILURE_REASON;

/* Remote credential-guard channel, named by two package entry points. */
typedef NTSTATUS (NTAPI LSA_REDIRECTED_LOGON_CALLBACK)(HANDLE RedirectedLogonHandle, PVOID Buffer,
                                                       ULONG BufferLength, PVOID *ReturnBuffer,
                                                       ULONG *ReturnBufferLength);
typedef VOID (NTAPI LSA_REDIRECTED_LOGON_CLEANUP_CALLBACK)(HANDLE RedirectedLogonHandle);
typedef LSA_REDIRECTED_LOGON_CALLBACK *PLSA_REDIRECTED_LOGON_CALLBACK;
typedef LSA_REDIRECTED_LOGON_CLEANUP_CALLBACK *PLSA_REDIRECTED_LOGON_CLEANUP_CALLBACK;

/* The functions the LSA offers a security package, passed to SpInitialize
 * (and, in its place, wherever a PLSA_DISPATCH_TABLE is expected). A package
 * built against a shorter version of this table simply ignores the tail.
 * Slots 42-44 and 52-53 carry credential-manager functions when the package
 * includes Windows' wincred.h; lsashm has no credential manager, so they are
 * the DummyFunction slots that Windows declares otherwise. */
typedef struct _LSA_SECPKG_FUNCTION_TABLE {
        PLSA_CREATE_LOGON_SESSION CreateLogonSession;
        PLSA_DELETE_LOGON_SESSION DeleteLogonSession;
        PLSA_ADD_CREDENTIAL AddCredential;
        PLSA_GET_CREDENTIALS GetCredentials;
        PLSA_DELETE_CREDENTIAL DeleteCredential;
        PLSA_ALLOCATE_LSA_HEAP AllocateLsaHeap;
        PLSA_FREE_LSA_HEAP FreeLsaHeap;
        PLSA_ALLOCATE_CLIENT_BUFFER AllocateClientBuffer;
        PLSA_FREE_CLIENT_BUFFER FreeClientBuffer;
        PLSA_COPY_TO_CLIENT_BUFFER CopyToClientBuffer;
        PLSA_COPY_FROM_CLIENT_BUFFER CopyFromClientBuffer;
        PLSA_IMPERSONATE_CLIENT ImpersonateClient;
        PLSA_UNLOAD_PACKAGE UnloadPackage;
        PLSA_DUPLICATE_HANDLE DuplicateHandle;
        PLSA_SAVE_SUPPLEMENTAL_CREDENTIALS SaveSupplementalCredentials;
        PLSA_CREATE_THREAD CreateThread;
        PLSA_GET_CLIENT_INFO GetClientInfo;
        PLSA_REGISTER_NOTIFICATION RegisterNotification;
        PLSA_CANCEL_NOTIFICATION CancelNotification;
        PLSA_MAP_BUFFER MapBuffer;
        PLSA_CREATE_TOKEN CreateToken;
        PLSA_AUDIT_LOGON AuditLogon;
        PLSA_CALL_PACKAGE CallPackage;
        PLSA_FREE_LSA_HEAP FreeReturnBuffer;
        PLSA_GET_CALL_INFO GetCallInfo;
        PLSA_CALL_PACKAGEEX CallPackageEx;
        PLSA_CREATE_SHARED_MEMORY CreateSharedMemory;
        PLSA_ALLOCATE_SHARED_MEMORY AllocateSharedMemory;
        PLSA_FREE_SHARED_MEMORY FreeSharedMemory;
        PLSA_DELETE_SHARED_MEMORY DeleteSharedMemory;
        PLSA_OPEN_SAM_USER OpenSamUser;
        PLSA_GET_USER_CREDENTIALS GetUserCredentials;
        PLSA_GET_USER_AUTH_DATA GetUserAuthData;
        PLSA_CLOSE_SAM_USER CloseSamUser;
        PLSA_CONVERT_AUTH_DATA_TO_TOKEN ConvertAuthDataToToken;
        PLSA_CLIENT_CALLBACK ClientCallback;
        PLSA_UPDATE_PRIMARY_CREDENTIALS UpdateCredentials;
        PLSA_GET_AUTH_DATA_FOR_USER GetAuthDataForUser;
        PLSA_CRACK_SINGLE_NAME CrackSingleName;
        PLSA_AUDIT_ACCOUNT_LOGON AuditAccountLogon;
        PLSA_CALL_PACKAGE_PASSTHROUGH CallPackagePassthrough;
        PLSA_PROTECT_MEMORY DummyFunction1;
        PLSA_PROTECT_MEMORY DummyFunction2;
        PLSA_PROTECT_MEMORY DummyFunction3;
        PLSA_PROTECT_MEMORY LsaProtectMemory;
        PLSA_PROTECT_MEMORY LsaUnprotectMemory;
        PLSA_OPEN_TOKEN_BY_LOGON_ID OpenTokenByLogonId;
        PLSA_EXPAND_AUTH_DATA_FOR_DOMAIN ExpandAuthDataForDomain;
        PLSA_ALLOCATE_PRIVATE_HEAP AllocatePrivateHeap;
        PLSA_FREE_PRIVATE_HEAP FreePrivateHeap;
        PLSA_CREATE_TOKEN_EX CreateTokenEx;
        PLSA_PROTECT_MEMORY DummyFunction4;
        PLSA_PROTECT_MEMORY DummyFunction5;
        PLSA_PROTECT_MEMORY DummyFunction6;
        PLSA_GET_EXTENDED_CALL_FLAGS GetExtendedCallFlags;
        PLSA_DUPLICATE_HANDLE DuplicateTokenHandle;
        PLSA_GET_SERVICE_ACCOUNT_PASSWORD GetServiceAccountPassword;
        PLSA_PROTECT_MEMORY DummyFunction7;
        PLSA_AUDIT_LOGON_EX AuditLogonEx;
        PLSA_CHECK_PROTECTED_USER_BY_TOKEN CheckProtectedUserByToken;
        PLSA_QUERY_CLIENT_REQUEST QueryClientRequest;
        PLSA_GET_APP_MODE_INFO GetAppModeInfo;
        PLSA_SET_APP_MODE_INFO SetAppModeInfo;
        PLSA_GET_CLIENT_INFO_EX GetClientInfoEx;
        PLSA_GET_SECPKG_FAILURE_REASON GetSecpkgFailureReason;
        PLSA_SET_SECPKG_FAILURE_REASON SetSecpkgFailureReason;
} LSA_SECPKG_FUNCTION_TABLE, *PLSA_SECPKG_FUNCTION_TABLE;

/* ---- Entry points a package gives the LSA ---- */

/* Exported names of old-style authentication packages */
#define LSA_AP_NAME_INITIALIZE_PACKAGE       "LsaApInitializePackage\0"
#define LSA_AP_NAME_LOGON_USER               "LsaApLogonUser\0"
#define LSA_AP_NAME_LOGON_USER_EX            "LsaApLogonUserEx\0"
#define LSA_AP_NAME_LOGON_USER_EX2           "LsaApLogonUserEx2\0"
#define LSA_AP_NAME_CALL_PACKAGE             "LsaApCallPackage\0"
#define LSA_AP_NAME_LOGON_TERMINATED         "LsaApLogonTerminated\0"
#define LSA_AP_NAME_CALL_PACKAGE_UNTRUSTED   "LsaApCallPackageUntrusted\0"
#define LSA_AP_NAME_CALL_PACKAGE_PASSTHROUGH "LsaApCallPackagePassthrough\0"

typedef NTSTATUS (NTAPI LSA_AP_INITIALIZE_PACKAGE)(ULONG AuthenticationPackageId,
                                                   PLSA_DISPATCH_TABLE LsaDispatchTable,
                                                   PLSA_STRING Database, PLSA_STRING Confidentiality,
                                                   PLSA_STRING *AuthenticationPackageName);
typedef NTSTATUS (NTAPI LSA_AP_LOGON_USER)(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType,
                                           PVOID AuthenticationInformation, PVOID ClientAuthenticationBase,
                                           ULONG AuthenticationInformationLength, PVOID *ProfileBuffer,
                                           PULONG ProfileBufferLength, PLUID LogonId, PNTSTATUS SubStatus,
                                           PLSA_TOKEN_INFORMATION_TYPE TokenInformationType,
                                           PVOID *TokenInformation, PLSA_UNICODE_STRING *AccountName,
                                           PLSA_UNICODE_STRING *AuthenticatingAuthority);
typedef NTSTATUS (NTAPI LSA_AP_LOGON_USER_EX)(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType,
                                              PVOID AuthenticationInformation, PVOID ClientAuthenticationBase,
                                              ULONG AuthenticationInformationLength, PVOID *ProfileBuffer,
                                              PULONG ProfileBufferLength, PLUID LogonId, PNTSTATUS SubStatus,
                                              PLSA_TOKEN_INFORMATION_TYPE TokenInformationType,
                                              PVOID *TokenInformation, PUNICODE_STRING *AccountName,
                                              PUNICODE_STRING *AuthenticatingAuthority,
                                              PUNICODE_STRING *MachineName);
/* ClientBufferBase is the submit buffer's address in the client, for
 * rebasing pointers embedded in it; ProtocolSubmitBuffer is the local copy. */
typedef NTSTATUS (NTAPI LSA_AP_CALL_PACKAGE)(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                             PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                             PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                             PNTSTATUS ProtocolStatus);
typedef NTSTATUS (NTAPI LSA_AP_CALL_PACKAGE_PASSTHROUGH)(PLSA_CLIENT_REQUEST ClientRequest,
                                                         PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase,
                                                         ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer,
                                                         PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus);
typedef VOID (NTAPI LSA_AP_LOGON_TERMINATED)(PLUID LogonId);
typedef LSA_AP_CALL_PACKAGE LSA_AP_CALL_PACKAGE_UNTRUSTED;
typedef NTSTATUS (NTAPI LSA_AP_LOGON_USER_EX2)(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType,
                                               PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase,
                                               ULONG SubmitBufferSize, PVOID *ProfileBuffer,
                                               PULONG ProfileBufferSize, PLUID LogonId, PNTSTATUS SubStatus,
                                               PLSA_TOKEN_INFORMATION_TYPE TokenInformationType,
                                               PVOID *TokenInformation, PUNICODE_STRING *AccountName,
                                               PUNICODE_STRING *AuthenticatingAuthority,
                                               PUNICODE_STRING *MachineName,
                                               PSECPKG_PRIMARY_CRED PrimaryCredentials,
                                               PSECPKG_SUPPLEMENTAL_CRED_ARRAY *SupplementalCredentials);
typedef NTSTATUS (NTAPI LSA_AP_LOGON_USER_EX3)(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType,
                                               PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase,
                                               ULONG SubmitBufferSize, PSECPKG_SURROGATE_LOGON SurrogateLogon,
                                               PVOID *ProfileBuffer, PULONG ProfileBufferSize, PLUID LogonId,
                                               PNTSTATUS SubStatus,
                                               PLSA_TOKEN_INFORMATION_TYPE TokenInformationType,
                                               PVOID *TokenInformation, PUNICODE_STRING *AccountName,
                                               PUNICODE_STRING *AuthenticatingAuthority,
                                               PUNICODE_STRING *MachineName,
                                               PSECPKG_PRIMARY_CRED PrimaryCredentials,
                                               PSECPKG_SUPPLEMENTAL_CRED_ARRAY *SupplementalCredentials);
typedef NTSTATUS (NTAPI LSA_AP_PRE_LOGON_USER_SURROGATE)(PLSA_CLIENT_REQUEST ClientRequest,
                                                         SECURITY_LOGON_TYPE LogonType,
                                                         PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase,
                                                         ULONG SubmitBufferSize,
                                                         PSECPKG_SURROGATE_LOGON SurrogateLogon,
                                                         PNTSTATUS SubStatus);
typedef NTSTATUS (NTAPI LSA_AP_POST_LOGON_USER_SURROGATE)(PLSA_CLIENT_REQUEST ClientRequest,
                                                          SECURITY_LOGON_TYPE LogonType,
                                                          PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase,
                                                          ULONG SubmitBufferSize,
                                                          PSECPKG_SURROGATE_LOGON SurrogateLogon,
                                                          PVOID ProfileBuffer, ULONG ProfileBufferSize,
                                                          PLUID LogonId, NTSTATUS Status, NTSTATUS SubStatus,
                                                          LSA_TOKEN_INFORMATION_TYPE TokenInformationType,
                                                          PVOID TokenInformation, PUNICODE_STRING AccountName,
                                                          PUNICODE_STRING AuthenticatingAuthority,
                                                          PUNICODE_STRING MachineName,
                                                          PSECPKG_PRIMARY_CRED PrimaryCredentials,
                                                          PSECPKG_SUPPLEMENTAL_CRED_ARRAY SupplementalCredentials);
typedef NTSTATUS (NTAPI LSA_AP_POST_LOGON_USER)(PSECPKG_POST_LOGON_USER_INFO PostLogonUserInfo);

typedef LSA_AP_INITIALIZE_PACKAGE *PLSA_AP_INITIALIZE_PACKAGE;
typedef LSA_AP_LOGON_USER *PLSA_AP_LOGON_USER;
typedef LSA_AP_LOGON_USER_EX *PLSA_AP_LOGON_USER_EX;
typedef LSA_AP_CALL_PACKAGE *PLSA_AP_CALL_PACKAGE;
typedef LSA_AP_CALL_PACKAGE_PASSTHROUGH *PLSA_AP_CALL_PACKAGE_PASSTHROUGH;
typedef LSA_AP_LOGON_TERMINATED *PLSA_AP_LOGON_TERMINATED;
typedef LSA_AP_CALL_PACKAGE_UNTRUSTED *PLSA_AP_CALL_PACKAGE_UNTRUSTED;
typedef LSA_AP_LOGON_USER_EX2 *PLSA_AP_LOGON_USER_EX2;
typedef LSA_AP_LOGON_USER_EX3 *PLSA_AP_LOGON_USER_EX3;
typedef LSA_AP_PRE_LOGON_USER_SURROGATE *PLSA_AP_PRE_LOGON_USER_SURROGATE;
typedef LSA_AP_POST_LOGON_USER_SURROGATE *PLSA_AP_POST_LOGON_USER_SURROGATE;
typedef LSA_AP_POST_LOGON_USER *PLSA_AP_POST_LOGON_USER;

typedef NTSTATUS (NTAPI SpInitializeFn)(ULONG_PTR PackageId, PSECPKG_PARAMETERS Parameters,
                                        PLSA_SECPKG_FUNCTION_TABLE FunctionTable);
typedef NTSTATUS (NTAPI SpShutdownFn)(VOID);
typedef NTSTATUS (NTAPI SpGetInfoFn)(PSecPkgInfo PackageInfo);
typedef NTSTATUS (NTAPI SpGetExtendedInformationFn)(SECPKG_EXTENDED_INFORMATION_CLASS Class,
                                                    PSECPKG_EXTENDED_INFORMATION *ppInformation);
typedef NTSTATUS (NTAPI SpSetExtendedInformationFn)(SECPKG_EXTENDED_INFORMATION_CLASS Class,
                                                    PSECPKG_EXTENDED_INFORMATION Info);
typedef NTSTATUS (NTAPI SpAcceptCredentialsFn)(SECURITY_LOGON_TYPE LogonType, PUNICODE_STRING AccountName,
                                               PSECPKG_PRIMARY_CRED PrimaryCredentials,
                                               PSECPKG_SUPPLEMENTAL_CRED SupplementalCredentials);
#define SP_ACCEPT_CREDENTIALS_NAME "SpAcceptCredentials\0"
typedef NTSTATUS (NTAPI SpAcquireCredentialsHandleFn)(PUNICODE_STRING PrincipalName, ULONG CredentialUseFlags,
                                                      PLUID LogonId, PVOID AuthorizationData,
                                                      PVOID GetKeyFunciton, PVOID GetKeyArgument,
                                                      PLSA_SEC_HANDLE CredentialHandle,
                                                      PTimeStamp ExpirationTime);
typedef NTSTATUS (NTAPI SpFreeCredentialsHandleFn)(LSA_SEC_HANDLE CredentialHandle);
typedef NTSTATUS (NTAPI SpQueryCredentialsAttributesFn)(LSA_SEC_HANDLE CredentialHandle,
                                                        ULONG CredentialAttribute, PVOID Buffer);
typedef NTSTATUS (NTAPI SpSetCredentialsAttributesFn)(LSA_SEC_HANDLE CredentialHandle,
                                                      ULONG CredentialAttribute, PVOID Buffer,
                                                      ULONG BufferSize);
typedef NTSTATUS (NTAPI SpAddCredentialsFn)(LSA_SEC_HANDLE CredentialHandle, PUNICODE_STRING PrincipalName,
                                            PUNICODE_STRING Package, ULONG CredentialUseFlags,
                                            PVOID AuthorizationData, PVOID GetKeyFunciton,
                                            PVOID GetKeyArgument, PTimeStamp ExpirationTime);
typedef NTSTATUS (NTAPI SpSaveCredentialsFn)(LSA_SEC_HANDLE CredentialHandle, PSecBuffer Credentials);
typedef NTSTATUS (NTAPI SpGetCredentialsFn)(LSA_SEC_HANDLE CredentialHandle, PSecBuffer Credentials);
typedef NTSTATUS (NTAPI SpDeleteCredentialsFn)(LSA_SEC_HANDLE CredentialHandle, PSecBuffer Key);
typedef NTSTATUS (NTAPI SpInitLsaModeContextFn)(LSA_SEC_HANDLE CredentialHandle, LSA_SEC_HANDLE ContextHandle,
                                                PUNICODE_STRING TargetName, ULONG ContextRequirements,
                                                ULONG TargetDataRep, PSecBufferDesc InputBuffers,
                                                PLSA_SEC_HANDLE NewContextHandle,
                                                PSecBufferDesc OutputBuffers, PULONG ContextAttributes,
                                                PTimeStamp ExpirationTime, PBOOLEAN MappedContext,
                                                PSecBuffer ContextData);
typedef NTSTATUS (NTAPI SpDeleteContextFn)(LSA_SEC_HANDLE ContextHandle);
typedef NTSTATUS (NTAPI SpApplyControlTokenFn)(LSA_SEC_HANDLE ContextHandle, PSecBufferDesc ControlToken);
typedef NTSTATUS (NTAPI SpAcceptLsaModeContextFn)(LSA_SEC_HANDLE CredentialHandle,
                                                  LSA_SEC_HANDLE ContextHandle, PSecBufferDesc InputBuffer,
                                                  ULONG ContextRequirements, ULONG TargetDataRep,
                                                  PLSA_SEC_HANDLE NewContextHandle,
                                                  PSecBufferDesc OutputBuffer, PULONG ContextAttributes,
                                                  PTimeStamp ExpirationTime, PBOOLEAN MappedContext,
                                                  PSecBuffer ContextData);
typedef NTSTATUS (NTAPI SpGetUserInfoFn)(PLUID LogonId, ULONG Flags, PSecurityUserData *UserData);
typedef NTSTATUS (NTAPI SpQueryContextAttributesFn)(LSA_SEC_HANDLE ContextHandle, ULONG ContextAttribute,
                                                    PVOID Buffer);
typedef NTSTATUS (NTAPI SpSetContextAttributesFn)(LSA_SEC_HANDLE ContextHandle, ULONG ContextAttribute,
                                                  PVOID Buffer, ULONG BufferSize);
typedef NTSTATUS (NTAPI SpChangeAccountPasswordFn)(PUNICODE_STRING pDomainName, PUNICODE_STRING pAccountName,
                                                   PUNICODE_STRING pOldPassword, PUNICODE_STRING pNewPassword,
                                                   BOOLEAN Impersonating, PSecBufferDesc pOutput);
typedef NTSTATUS (NTAPI SpQueryMetaDataFn)(LSA_SEC_HANDLE CredentialHandle, PUNICODE_STRING TargetName,
                                           ULONG ContextRequirements, PULONG MetaDataLength,
                                           PUCHAR *MetaData, PLSA_SEC_HANDLE ContextHandle);
typedef NTSTATUS (NTAPI SpExchangeMetaDataFn)(LSA_SEC_HANDLE CredentialHandle, PUNICODE_STRING TargetName,
                                              ULONG ContextRequirements, ULONG MetaDataLength,
                                              PUCHAR MetaData, PLSA_SEC_HANDLE ContextHandle);
typedef NTSTATUS (NTAPI SpGetCredUIContextFn)(LSA_SEC_HANDLE ContextHandle, GUID *CredType,
                                              PULONG FlatCredUIContextLength, PUCHAR *FlatCredUIContext);
typedef NTSTATUS (NTAPI SpUpdateCredentialsFn)(LSA_SEC_HANDLE ContextHandle, GUID *CredType,
                                               ULONG FlatCredUIContextLength, PUCHAR FlatCredUIContext);
typedef NTSTATUS (NTAPI SpValidateTargetInfoFn)(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                                PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                                PSECPKG_TARGETINFO TargetInfo);
typedef NTSTATUS (NTAPI SpExtractTargetInfoFn)(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                               PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                               PVOID *ppvTargetInfo, ULONG *pcbTargetInfo);
typedef NTSTATUS (NTAPI SpGetRemoteCredGuardLogonBufferFn)(LSA_SEC_HANDLE CredHandle,
                                                           LSA_SEC_HANDLE ContextHandle,
                                                           const UNICODE_STRING *TargetName,
                                                           PHANDLE RedirectedLogonHandle,
                                                           PLSA_REDIRECTED_LOGON_CALLBACK *Callback,
                                                           PLSA_REDIRECTED_LOGON_CLEANUP_CALLBACK *CleanupCallback,
                                                           PULONG LogonBufferSize, PVOID *LogonBuffer);
typedef NTSTATUS (NTAPI SpGetRemoteCredGuardSupplementalCredsFn)(LSA_SEC_HANDLE CredHandle,
                                                                 const UNICODE_STRING *TargetName,
                                                                 PHANDLE RedirectedLogonHandle,
                                                                 PLSA_REDIRECTED_LOGON_CALLBACK *Callback,
                                                                 PLSA_REDIRECTED_LOGON_CLEANUP_CALLBACK *CleanupCallback,
                                                                 PULONG SupplementalCredsSize,
                                                                 PVOID *SupplementalCreds);
typedef NTSTATUS (NTAPI SpGetTbalSupplementalCredsFn)(LUID LogonId, PULONG SupplementalCredsSize,
                                                      PVOID *SupplementalCreds);

/* The entry points of one package, returned by SpLsaModeInitialize. Members
 * past the version the package returns are not read, and any member may be
 * NULL. The comment after each group is the version that introduced it. */
typedef struct _SECPKG_FUNCTION_TABLE {
        PLSA_AP_INITIALIZE_PACKAGE InitializePackage;
        PLSA_AP_LOGON_USER LogonUser;
        PLSA_AP_CALL_PACKAGE CallPackage;
        PLSA_AP_LOGON_TERMINATED LogonTerminated;
        PLSA_AP_CALL_PACKAGE_UNTRUSTED CallPackageUntrusted;
        PLSA_AP_CALL_PACKAGE_PASSTHROUGH CallPackagePassthrough;
        PLSA_AP_LOGON_USER_EX LogonUserEx;
        PLSA_AP_LOGON_USER_EX2 LogonUserEx2;
        SpInitializeFn *Initialize;
        SpShutdownFn *Shutdown;
        SpGetInfoFn *GetInfo;
        SpAcceptCredentialsFn *AcceptCredentials;
        SpAcquireCredentialsHandleFn *AcquireCredentialsHandle;
        SpQueryCredentialsAttributesFn *QueryCredentialsAttributes;
        SpFreeCredentialsHandleFn *FreeCredentialsHandle;
        SpSaveCredentialsFn *SaveCredentials;
        SpGetCredentialsFn *GetCredentials;
        SpDeleteCredentialsFn *DeleteCredentials;
        SpInitLsaModeContextFn *InitLsaModeContext;
        SpAcceptLsaModeContextFn *AcceptLsaModeContext;
        SpDeleteContextFn *DeleteContext;
        SpApplyControlTokenFn *ApplyControlToken;
        SpGetUserInfoFn *GetUserInfo;
        SpGetExtendedInformationFn *GetExtendedInformation;
        SpQueryContextAttributesFn *QueryContextAttributes;
        SpAddCredentialsFn *AddCredentials;
        SpSetExtendedInformationFn *SetExtendedInformation;           /* SECPKG_INTERFACE_VERSION */
        SpSetContextAttributesFn *SetContextAttributes;               /* _2 */
        SpSetCredentialsAttributesFn *SetCredentialsAttributes;       /* _3 */
        SpChangeAccountPasswordFn *ChangeAccountPassword;             /* _4 */
        SpQueryMetaDataFn *QueryMetaData;
        SpExchangeMetaDataFn *ExchangeMetaData;
        SpGetCredUIContextFn *GetCredUIContext;
        SpUpdateCredentialsFn *UpdateCredentials;                     /* _5 */
        SpValidateTargetInfoFn *ValidateTargetInfo;                   /* _6 */
        LSA_AP_POST_LOGON_USER *PostLogonUser;                        /* _7 */
        SpGetRemoteCredGuardLogonBufferFn *GetRemoteCredGuardLogonBuffer;
        SpGetRemoteCredGuardSupplementalCredsFn *GetRemoteCredGuardSupplementalCreds; /* _8 */
        SpGetTbalSupplementalCredsFn *GetTbalSupplementalCreds;       /* _9 */
        PLSA_AP_LOGON_USER_EX3 LogonUserEx3;
        PLSA_AP_PRE_LOGON_USER_SURROGATE PreLogonUserSurrogate;
        PLSA_AP_POST_LOGON_USER_SURROGATE PostLogonUserSurrogate;     /* _10 */
        SpExtractTargetInfoFn *ExtractTargetInfo;                     /* _11 */
} SECPKG_FUNCTION_TABLE, *PSECPKG_FUNCTION_TABLE;

/* The one symbol a package exports, under the name SECPKG_LSAMODEINIT_NAME:
 * given the LSA's version (SECPKG_INTERFACE_VERSION), it returns the version
 * of its tables in *PackageVersion and *pcTables tables in *ppTables. */
typedef NTSTATUS (SEC_ENTRY *SpLsaModeInitializeFn)(ULONG LsaVersion, PULONG PackageVersion,
                                                    PSECPKG_FUNCTION_TABLE *ppTables, PULONG pcTables);

#define SECPKG_LSAMODEINIT_NAME  "SpLsaModeInitialize"
#define SECPKG_USERMODEINIT_NAME "SpUserModeInitialize"

/* Interface versions: what the LSA passes, and what a package returns to say
 * which members of SECPKG_FUNCTION_TABLE it defines (see above). */
#define SECPKG_INTERFACE_VERSION    0x00010000
#define SECPKG_INTERFACE_VERSION_2  0x00020000
#define SECPKG_INTERFACE_VERSION_3  0x00040000
#define SECPKG_INTERFACE_VERSION_4  0x00080000
#define SECPKG_INTERFACE_VERSION_5  0x00100000
#define SECPKG_INTERFACE_VERSION_6  0x00200000
#define SECPKG_INTERFACE_VERSION_7  0x00400000
#define SECPKG_INTERFACE_VERSION_8  0x00800000
#define SECPKG_INTERFACE_VERSION_9  0x01000000
#define SECPKG_INTERFACE_VERSION_10 0x02000000
#define SECPKG_INTERFACE_VERSION_11 0x04000000

/* ---- Layout: what a package built for Windows x64 expects ---- */
LSASHM_STATIC_ASSERT(sizeof(LSA_DISPATCH_TABLE) == 11 * sizeof(void *), "LSA_DISPATCH_TABLE has 11 members");
LSASHM_STATIC_ASSERT(offsetof(LSA_SECPKG_FUNCTION_TABLE, CopyFromClientBuffer) ==
                             offsetof(LSA_DISPATCH_TABLE, CopyFromClientBuffer),
                     "LSA_DISPATCH_TABLE is a prefix of LSA_SECPKG_FUNCTION_TABLE");
LSASHM_STATIC_ASSERT(sizeof(LSA_SECPKG_FUNCTION_TABLE) == 66 * sizeof(void *),
                     "LSA_SECPKG_FUNCTION_TABLE has 66 members");
LSASHM_STATIC_ASSERT(sizeof(SECPKG_FUNCTION_TABLE) == 43 * sizeof(void *), "SECPKG_FUNCTION_TABLE has 43 members");
LSASHM_STATIC_ASSERT(offsetof(LSA_SECPKG_FUNCTION_TABLE, CreateSharedMemory) == 26 * sizeof(void *),
                     "CreateSharedMemory is member 27");
LSASHM_STATIC_ASSERT(offsetof(LSA_SECPKG_FUNCTION_TABLE, CallPackagePassthrough) == 40 * sizeof(void *),
                     "CallPackagePassthrough is member 41");
#if UINTPTR_MAX == UINT64_MAX
LSASHM_STATIC_ASSERT(sizeof(LSA_SECPKG_FUNCTION_TABLE) == 528, "LSA_SECPKG_FUNCTION_TABLE is 528 bytes");
LSASHM_STATIC_ASSERT(offsetof(LSA_SECPKG_FUNCTION_TABLE, CallPackageEx) == 200, "CallPackageEx at 200");
LSASHM_STATIC_ASSERT(offsetof(LSA_SECPKG_FUNCTION_TABLE, CreateSharedMemory) == 208, "CreateSharedMemory at 208");
LSASHM_STATIC_ASSERT(offsetof(LSA_SECPKG_FUNCTION_TABLE, DummyFunction6) == 424, "DummyFunction6 at 424");
LSASHM_STATIC_ASSERT(offsetof(LSA_SECPKG_FUNCTION_TABLE, GetExtendedCallFlags) == 432,
                     "GetExtendedCallFlags at 432");
LSASHM_STATIC_ASSERT(offsetof(LSA_SECPKG_FUNCTION_TABLE, SetSecpkgFailureReason) == 520,
                     "SetSecpkgFailureReason at 520");
LSASHM_STATIC_ASSERT(sizeof(SECPKG_FUNCTION_TABLE) == 344, "SECPKG_FUNCTION_TABLE is 344 bytes");
LSASHM_STATIC_ASSERT(offsetof(SECPKG_FUNCTION_TABLE, ExtractTargetInfo) == 336, "ExtractTargetInfo at 336");
LSASHM_STATIC_ASSERT(sizeof(SECPKG_CLIENT_INFO) == 32, "SECPKG_CLIENT_INFO is 32 bytes");
LSASHM_STATIC_ASSERT(offsetof(SECPKG_CLIENT_INFO, ImpersonationLevel) == 20, "ImpersonationLevel at 20");
LSASHM_STATIC_ASSERT(offsetof(SECPKG_CLIENT_INFO, ClientToken) == 24, "ClientToken at 24");
LSASHM_STATIC_ASSERT(sizeof(SECPKG_CALL_INFO) == 24, "SECPKG_CALL_INFO is 24 bytes");
LSASHM_STATIC_ASSERT(offsetof(SECPKG_CALL_INFO, MechOid) == 16, "MechOid at 16");
LSASHM_STATIC_ASSERT(sizeof(SECPKG_PARAMETERS) == 72, "SECPKG_PARAMETERS is 72 bytes");
LSASHM_STATIC_ASSERT(offsetof(SECPKG_PARAMETERS, DomainSid) == 16, "DomainSid at 16");
LSASHM_STATIC_ASSERT(offsetof(SECPKG_PARAMETERS, DomainGuid) == 56, "DomainGuid at 56");
LSASHM_STATIC_ASSERT(sizeof(SecPkgInfoW) == 32, "SecPkgInfoW is 32 bytes");
LSASHM_STATIC_ASSERT(sizeof(SecBuffer) == 16, "SecBuffer is 16 bytes");
LSASHM_STATIC_ASSERT(sizeof(SecBufferDesc) == 16, "SecBufferDesc is 16 bytes");
LSASHM_STATIC_ASSERT(sizeof(SecHandle) == 16, "SecHandle is 16 bytes");
#endif

/* ---- lsashm extensions: not part of Windows ----
 *
 * Windows gives a client no documented way to reach a section made with
 * CreateSharedMemory. lsashm adds one: the package tells its client a
 * section's id (in an ordinary reply), and the client maps it with
 * LsashmMapSection (ntsecapi.h). These are resolved from the host process
 * (lsashmd) when the package is loaded. */

/* The id of a live section made through the function table's
 * CreateSharedMemory, or 0 for anything else (NULL, a block, a deleted
 * section). Ids are unguessable and never reused during the host's life. */
LSASHM_WINAPI_EXPORT ULONGLONG NTAPI LsashmSectionId(PVOID SharedMem);

/* Who may map a section besides the client during whose call it was made
 * (that client may always map it read-write). */
#define LSASHM_SHARE_NONE       0u /* nobody else (the default) */
#define LSASHM_SHARE_READ       1u /* every connected client, read-only */
#define LSASHM_SHARE_READ_WRITE 2u /* every connected client, read-write */

/* Set who may map SharedMem (a section this package made). Read-only
 * clients get a descriptor that cannot be made writable. Call it from one
 * of the package's entry points (SpInitialize, a call): on a thread of the
 * package's own, lsashm cannot tell which package asks. STATUS_SUCCESS,
 * STATUS_INVALID_PARAMETER (unknown Access), STATUS_NOT_FOUND (not a live
 * section), STATUS_ACCESS_DENIED (another package's section, or asked
 * outside the owner's entry points). */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsashmShareSection(PVOID SharedMem, ULONG Access);

/* Freeze SharedMem (a section this package made) for good: nobody, this
 * package and root included, can change its bytes again, so clients may
 * check what they map once and trust it after (lsashm_section_freeze in
 * section.h says how). The package keeps reading it at the same address.
 * Afterwards AllocateSharedMemory returns NULL, FreeSharedMemory does
 * nothing (the refusal is counted), every client's view is read-only, and
 * DeleteSharedMemory cannot wipe it: freeze public data only. Call it from
 * one of the package's entry points, as LsashmShareSection, and with no
 * thread writing to the section.
 * STATUS_SUCCESS (also when already frozen); STATUS_NOT_FOUND (NULL, not a
 * live section made through the function table, a deleted one);
 * STATUS_ACCESS_DENIED (another package's, or asked outside the owner's
 * entry points); STATUS_SHARING_VIOLATION (a client maps it writable, or
 * was ever given a writable view of it); STATUS_NO_MEMORY (committing the
 * rest of the section failed). */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsashmFreezeSection(PVOID SharedMem);

#ifndef STATUS_NO_MORE_ENTRIES
#define STATUS_NO_MORE_ENTRIES ((NTSTATUS)0x8000001AL)
#endif

/*
 * The package's own settings, where a Windows package reads its registry
 * key: lines "STEM.KEY VALUE" of lsashmd.conf or of lsashmd.conf.d/ *.conf,
 * STEM being the package's library file name without ".so" (nsscache.so:
 * "nsscache.passwd /var/lib/nsscache/passwd.cache"). A key given on several
 * lines has several values, in file order; Index picks one (0, 1, ...).
 *
 * Call it from one of the package's entry points, SpLsaModeInitialize
 * included: on a thread of the package's own, lsashm cannot tell which
 * package asks. On success Value holds the value and a NUL, and
 * *ValueLength its length without the NUL. lsashmd re-reads the settings on
 * SIGHUP: later calls see the new values; what a package read at start it
 * keeps until it asks again (or lsashmd restarts).
 *
 * STATUS_SUCCESS; STATUS_BUFFER_TOO_SMALL (*ValueLength is the size needed,
 * NUL included; Value untouched); STATUS_OBJECT_NAME_NOT_FOUND (no such
 * key); STATUS_NO_MORE_ENTRIES (Index past the key's last value);
 * STATUS_INVALID_PARAMETER (Key NULL or empty, ValueLength NULL, Value NULL
 * with a ValueSize); STATUS_ACCESS_DENIED (not inside an entry point).
 */
LSASHM_WINAPI_EXPORT NTSTATUS NTAPI LsashmGetPackageSetting(PCSTR Key, ULONG Index, PSTR Value, ULONG ValueSize,
                                                            PULONG ValueLength);

/* Priorities for LsashmLogMessage: syslog's. */
#define LSASHM_LOG_ERROR   3u
#define LSASHM_LOG_WARNING 4u
#define LSASHM_LOG_NOTICE  5u
#define LSASHM_LOG_INFO    6u
#define LSASHM_LOG_DEBUG   7u

/*
 * One line in lsashmd's log, "lsashmd: package NAME: Message", filed in the
 * journal under Priority (0..7; more is LSASHM_LOG_DEBUG), so that
 * `journalctl -p err` shows a package's errors. What a package writes to
 * stderr itself reaches the log too, but with no priority and no name.
 * Control characters in Message (a newline among them: one call is one
 * line) are shown as '?'; at most about 500 bytes are kept. From a
 * package's own thread the line says "package thread" instead of NAME.
 */
LSASHM_WINAPI_EXPORT VOID NTAPI LsashmLogMessage(ULONG Priority, PCSTR Message);

#ifdef __cplusplus
}
#endif

#endif
