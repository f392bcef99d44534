/* SPDX-License-Identifier: MIT */
/*
 * The LSA_SECPKG_FUNCTION_TABLE every package gets, and the small members:
 * the LSA and private heaps, the extended call flags, GetClientInfoEx and
 * the ones not implemented. Logon sessions, credentials, LsaProtectMemory and
 * the failure-reason ledger have a file each; client buffers, package-to-package
 * calls and client info are calls.c's; the shared-memory members sections.c's.
 *
 * No slot is NULL: packages call members without checking them. Members
 * that need Windows tokens, SAM, the credential manager or LSA internals
 * answer STATUS_NOT_IMPLEMENTED and clear every out-parameter they have, so
 * that a package which ignores the status still reads zeros, not garbage:
 *   ImpersonateClient UnloadPackage DuplicateHandle SaveSupplementalCredentials
 *   CancelNotification MapBuffer CreateToken OpenSamUser GetUserCredentials
 *   GetUserAuthData CloseSamUser ConvertAuthDataToToken ClientCallback
 *   UpdateCredentials GetAuthDataForUser CrackSingleName AuditAccountLogon
 *   OpenTokenByLogonId ExpandAuthDataForDomain CreateTokenEx
 *   DuplicateTokenHandle GetServiceAccountPassword CheckProtectedUserByToken
 *   QueryClientRequest GetAppModeInfo SetAppModeInfo
 * RegisterNotification returns NULL (no notification); CreateThread makes
 * a real thread (package-threads.c); AuditLogon, AuditLogonEx and DummyFunction1-7 (the
 * credential-manager slots, of LsaProtectMemory's type) do nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host-internal.h"

/* ---- LSA heap and private heap (lsa-heap.c) ----
 *
 * One heap under two names: packages mix them up, and the client buffers of
 * package-to-package calls are the same heap, released by FreeReturnBuffer.
 * Every free is checked against the record of live blocks, then wipes. */

static LSA_ALLOCATE_LSA_HEAP table_AllocateLsaHeap;
static LSA_FREE_LSA_HEAP table_FreeLsaHeap;
static LSA_ALLOCATE_PRIVATE_HEAP table_AllocatePrivateHeap;
static LSA_FREE_PRIVATE_HEAP table_FreePrivateHeap;

static PVOID NTAPI table_AllocateLsaHeap(ULONG Length) { return host_heap_alloc(Length); }
static VOID NTAPI table_FreeLsaHeap(PVOID Base) { host_heap_free_checked(Base, "FreeLsaHeap"); }
static PVOID NTAPI table_AllocatePrivateHeap(SIZE_T Length) { return host_heap_alloc(Length); }
static VOID NTAPI table_FreePrivateHeap(PVOID Base) { host_heap_free_checked(Base, "FreePrivateHeap"); }

/* ---- the call in progress ---- */

/* Kerberos calls this unconditionally: outside any call the answer is 0. */
NTSTATUS NTAPI host_GetExtendedCallFlags(PULONG Flags)
{
        if (!Flags)
                return STATUS_INVALID_PARAMETER;
        struct host_call *c = host_call_current();
        *Flags = c ? c->attributes : 0;
        return STATUS_SUCCESS;
}

/* GetClientInfo's answer in the larger structure. lsashm has no
 * identification tokens: IdentificationLogonId and IdentificationToken are
 * zero. A StructSize smaller than the structure is a caller built against
 * some other layout: refused rather than guessed at. */
static LSA_GET_CLIENT_INFO_EX table_GetClientInfoEx;

static NTSTATUS NTAPI table_GetClientInfoEx(PSECPKG_CLIENT_INFO_EX ClientInfo, ULONG StructSize)
{
        if (!ClientInfo || StructSize < sizeof(*ClientInfo))
                return STATUS_INVALID_PARAMETER;
        SECPKG_CLIENT_INFO info;
        NTSTATUS st = host_GetClientInfo(&info);
        memset(ClientInfo, 0, sizeof(*ClientInfo));
        if (!NT_SUCCESS(st))
                return st;
        ClientInfo->LogonId = info.LogonId;
        ClientInfo->ProcessID = info.ProcessID;
        ClientInfo->ThreadID = info.ThreadID;
        ClientInfo->HasTcbPrivilege = info.HasTcbPrivilege;
        ClientInfo->Impersonating = info.Impersonating;
        ClientInfo->Restricted = info.Restricted;
        ClientInfo->ClientFlags = info.ClientFlags;
        ClientInfo->ImpersonationLevel = info.ImpersonationLevel;
        ClientInfo->ClientToken = info.ClientToken;
        return STATUS_SUCCESS;
}

/* ---- not implemented (see the list at the top) ----
 * Each is declared with its table typedef first, so the compiler checks the
 * prototype. Out-parameters are cleared; in/out ones are left alone. */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define NI STATUS_NOT_IMPLEMENTED
#define CLEAR(p) do { if (p) memset((p), 0, sizeof(*(p))); } while (0)

static LSA_IMPERSONATE_CLIENT table_ImpersonateClient;
static LSA_UNLOAD_PACKAGE table_UnloadPackage;
static LSA_DUPLICATE_HANDLE table_DuplicateHandle;
static LSA_SAVE_SUPPLEMENTAL_CREDENTIALS table_SaveSupplementalCredentials;
static LSA_REGISTER_NOTIFICATION table_RegisterNotification;
static LSA_CANCEL_NOTIFICATION table_CancelNotification;
static LSA_MAP_BUFFER table_MapBuffer;
static LSA_CREATE_TOKEN table_CreateToken;
static LSA_AUDIT_LOGON table_AuditLogon;
static LSA_OPEN_SAM_USER table_OpenSamUser;
static LSA_GET_USER_CREDENTIALS table_GetUserCredentials;
static LSA_GET_USER_AUTH_DATA table_GetUserAuthData;
static LSA_CLOSE_SAM_USER table_CloseSamUser;
static LSA_CONVERT_AUTH_DATA_TO_TOKEN table_ConvertAuthDataToToken;
static LSA_CLIENT_CALLBACK table_ClientCallback;
static LSA_UPDATE_PRIMARY_CREDENTIALS table_UpdateCredentials;
static LSA_GET_AUTH_DATA_FOR_USER table_GetAuthDataForUser;
static LSA_CRACK_SINGLE_NAME table_CrackSingleName;
static LSA_AUDIT_ACCOUNT_LOGON table_AuditAccountLogon;
static LSA_PROTECT_MEMORY table_DummyFunction;
static LSA_OPEN_TOKEN_BY_LOGON_ID table_OpenTokenByLogonId;
static LSA_EXPAND_AUTH_DATA_FOR_DOMAIN table_ExpandAuthDataForDomain;
static LSA_CREATE_TOKEN_EX table_CreateTokenEx;
static LSA_GET_SERVICE_ACCOUNT_PASSWORD table_GetServiceAccountPassword;
static LSA_AUDIT_LOGON_EX table_AuditLogonEx;
static LSA_CHECK_PROTECTED_USER_BY_TOKEN table_CheckProtectedUserByToken;
static LSA_QUERY_CLIENT_REQUEST table_QueryClientRequest;
static LSA_GET_APP_MODE_INFO table_GetAppModeInfo;
static LSA_SET_APP_MODE_INFO table_SetAppModeInfo;

static NTSTATUS NTAPI table_ImpersonateClient(VOID) { return NI; }
static NTSTATUS NTAPI table_UnloadPackage(VOID) { return NI; }

static NTSTATUS NTAPI table_DuplicateHandle(HANDLE SourceHandle, PHANDLE DestionationHandle)
{ CLEAR(DestionationHandle); return NI; }

static NTSTATUS NTAPI table_SaveSupplementalCredentials(PLUID LogonId, ULONG SupplementalCredSize,
                                                        PVOID SupplementalCreds, BOOLEAN Synchronous)
{ return NI; }

static HANDLE NTAPI table_RegisterNotification(SEC_THREAD_START StartFunction, PVOID Parameter,
                                               ULONG NotificationType, ULONG NotificationClass,
                                               ULONG NotificationFlags, ULONG IntervalMinutes, HANDLE WaitEvent)
{ return NULL; }

static NTSTATUS NTAPI table_CancelNotification(HANDLE NotifyHandle) { return NI; }

static NTSTATUS NTAPI table_MapBuffer(PSecBuffer InputBuffer, PSecBuffer OutputBuffer)
{ CLEAR(OutputBuffer); return NI; }

static NTSTATUS NTAPI table_CreateToken(PLUID LogonId, PTOKEN_SOURCE Source, SECURITY_LOGON_TYPE LogonType,
                                        SECURITY_IMPERSONATION_LEVEL ImpersonationLevel,
                                        LSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID TokenInformation,
                                        PTOKEN_GROUPS Groups, PUNICODE_STRING AccountName,
                                        PUNICODE_STRING AuthorityName, PUNICODE_STRING Workstation,
                                        PUNICODE_STRING ProfilePath, PHANDLE Token, PNTSTATUS SubStatus)
{ CLEAR(Token); CLEAR(SubStatus); return NI; }

static VOID NTAPI table_AuditLogon(NTSTATUS Status, NTSTATUS SubStatus, PUNICODE_STRING AccountName,
                                   PUNICODE_STRING AuthenticatingAuthority, PUNICODE_STRING WorkstationName,
                                   PSID UserSid, SECURITY_LOGON_TYPE LogonType, PTOKEN_SOURCE Source,
                                   PLUID LogonId)
{ }

static NTSTATUS NTAPI table_OpenSamUser(PSECURITY_STRING Name, SECPKG_NAME_TYPE NameType, PSECURITY_STRING Prefix,
                                        BOOLEAN AllowGuest, ULONG Reserved, PVOID *UserHandle)
{ CLEAR(UserHandle); return NI; }

static NTSTATUS NTAPI table_GetUserCredentials(PVOID UserHandle, PVOID *PrimaryCreds, PULONG PrimaryCredsSize,
                                               PVOID *SupplementalCreds, PULONG SupplementalCredsSize)
{
        CLEAR(PrimaryCreds);
        CLEAR(PrimaryCredsSize);
        CLEAR(SupplementalCreds);
        CLEAR(SupplementalCredsSize);
        return NI;
}

static NTSTATUS NTAPI table_GetUserAuthData(PVOID UserHandle, PUCHAR *UserAuthData, PULONG UserAuthDataSize)
{ CLEAR(UserAuthData); CLEAR(UserAuthDataSize); return NI; }

static NTSTATUS NTAPI table_CloseSamUser(PVOID UserHandle) { return NI; }

static NTSTATUS NTAPI table_ConvertAuthDataToToken(PVOID UserAuthData, ULONG UserAuthDataSize,
                                                   SECURITY_IMPERSONATION_LEVEL ImpersonationLevel,
                                                   PTOKEN_SOURCE Source, SECURITY_LOGON_TYPE LogonType,
                                                   PUNICODE_STRING AuthorityName, PHANDLE Token, PLUID LogonId,
                                                   PUNICODE_STRING AccountName, PNTSTATUS SubStatus)
{
        CLEAR(Token);
        CLEAR(LogonId);
        CLEAR(AccountName);
        CLEAR(SubStatus);
        return NI;
}

static NTSTATUS NTAPI table_ClientCallback(PCHAR Callback, ULONG_PTR Argument1, ULONG_PTR Argument2,
                                           PSecBuffer Input, PSecBuffer Output)
{ CLEAR(Output); return NI; }

static NTSTATUS NTAPI table_UpdateCredentials(PSECPKG_PRIMARY_CRED PrimaryCredentials,
                                              PSECPKG_SUPPLEMENTAL_CRED_ARRAY Credentials)
{ return NI; }

static NTSTATUS NTAPI table_GetAuthDataForUser(PSECURITY_STRING Name, SECPKG_NAME_TYPE NameType,
                                               PSECURITY_STRING Prefix, PUCHAR *UserAuthData,
                                               PULONG UserAuthDataSize, PUNICODE_STRING UserFlatName)
{ CLEAR(UserAuthData); CLEAR(UserAuthDataSize); CLEAR(UserFlatName); return NI; }

static NTSTATUS NTAPI table_CrackSingleName(ULONG FormatOffered, BOOLEAN PerformAtGC, PUNICODE_STRING NameInput,
                                            PUNICODE_STRING Prefix, ULONG RequestedFormat,
                                            PUNICODE_STRING CrackedName, PUNICODE_STRING DnsDomainName,
                                            PULONG SubStatus)
{ CLEAR(CrackedName); CLEAR(DnsDomainName); CLEAR(SubStatus); return NI; }

static NTSTATUS NTAPI table_AuditAccountLogon(ULONG AuditId, BOOLEAN Success, PUNICODE_STRING Source,
                                              PUNICODE_STRING ClientName, PUNICODE_STRING MappedName,
                                              NTSTATUS Status)
{ return NI; }

/* DummyFunction1-7: the credential-manager slots (CrediRead...) that a
 * package sees only when it includes wincred.h. */
static VOID NTAPI table_DummyFunction(PVOID Buffer, ULONG BufferSize) { }

static NTSTATUS NTAPI table_OpenTokenByLogonId(PLUID LogonId, HANDLE *RetTokenHandle)
{ CLEAR(RetTokenHandle); return NI; }

static NTSTATUS NTAPI table_ExpandAuthDataForDomain(PUCHAR UserAuthData, ULONG UserAuthDataSize, PVOID Reserved,
                                                    PUCHAR *ExpandedAuthData, PULONG ExpandedAuthDataSize)
{ CLEAR(ExpandedAuthData); CLEAR(ExpandedAuthDataSize); return NI; }

static NTSTATUS NTAPI table_CreateTokenEx(PLUID LogonId, PTOKEN_SOURCE Source, SECURITY_LOGON_TYPE LogonType,
                                          SECURITY_IMPERSONATION_LEVEL ImpersonationLevel,
                                          LSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID TokenInformation,
                                          PTOKEN_GROUPS Groups, PUNICODE_STRING Workstation,
                                          PUNICODE_STRING ProfilePath, PVOID SessionInformation,
                                          SECPKG_SESSIONINFO_TYPE SessionInformationType, PHANDLE Token,
                                          PNTSTATUS SubStatus)
{ CLEAR(Token); CLEAR(SubStatus); return NI; }

static NTSTATUS NTAPI table_GetServiceAccountPassword(PUNICODE_STRING AccountName, PUNICODE_STRING DomainName,
                                                      CRED_FETCH CredFetch, FILETIME *FileTimeExpiry,
                                                      PUNICODE_STRING CurrentPassword,
                                                      PUNICODE_STRING PreviousPassword,
                                                      FILETIME *FileTimeCurrPwdValidForOutbound)
{
        CLEAR(FileTimeExpiry);
        CLEAR(CurrentPassword);
        CLEAR(PreviousPassword);
        CLEAR(FileTimeCurrPwdValidForOutbound);
        return NI;
}

static VOID NTAPI table_AuditLogonEx(NTSTATUS Status, NTSTATUS SubStatus, PUNICODE_STRING AccountName,
                                     PUNICODE_STRING AuthenticatingAuthority, PUNICODE_STRING WorkstationName,
                                     PSID UserSid, SECURITY_LOGON_TYPE LogonType,
                                     SECURITY_IMPERSONATION_LEVEL ImpersonationLevel, PTOKEN_SOURCE Source,
                                     PLUID LogonId)
{ }

static NTSTATUS NTAPI table_CheckProtectedUserByToken(HANDLE UserToken, PBOOLEAN ProtectedUser)
{ CLEAR(ProtectedUser); return NI; }

static NTSTATUS NTAPI table_QueryClientRequest(PLSA_CLIENT_REQUEST ClientRequest, ULONG QueryType,
                                               PVOID *ReplyBuffer)
{ CLEAR(ReplyBuffer); return NI; }

static NTSTATUS NTAPI table_GetAppModeInfo(PULONG UserFunction, PULONG_PTR Argument1, PULONG_PTR Argument2,
                                           PSecBuffer UserData, PBOOLEAN ReturnToLsa)
{
        CLEAR(UserFunction);
        CLEAR(Argument1);
        CLEAR(Argument2);
        CLEAR(UserData);
        CLEAR(ReturnToLsa);
        return NI;
}

static NTSTATUS NTAPI table_SetAppModeInfo(ULONG UserFunction, ULONG_PTR Argument1, ULONG_PTR Argument2,
                                           PSecBuffer UserData, BOOLEAN ReturnToLsa)
{ return NI; }

#undef CLEAR
#undef NI
#pragma GCC diagnostic pop

/* ---- the table ---- */

void host_table_fill(LSA_SECPKG_FUNCTION_TABLE *t)
{
        /* A compound literal: a member added to the struct but forgotten
         * here would be NULL, which the test catches. */
        *t = (LSA_SECPKG_FUNCTION_TABLE){
                .CreateLogonSession = host_CreateLogonSession,
                .DeleteLogonSession = host_DeleteLogonSession,
                .AddCredential = host_AddCredential,
                .GetCredentials = host_GetCredentials,
                .DeleteCredential = host_DeleteCredential,
                .AllocateLsaHeap = table_AllocateLsaHeap,
                .FreeLsaHeap = table_FreeLsaHeap,
                .AllocateClientBuffer = host_AllocateClientBuffer,
                .FreeClientBuffer = host_FreeClientBuffer,
                .CopyToClientBuffer = host_CopyToClientBuffer,
                .CopyFromClientBuffer = host_CopyFromClientBuffer,
                .ImpersonateClient = table_ImpersonateClient,
                .UnloadPackage = table_UnloadPackage,
                .DuplicateHandle = table_DuplicateHandle,
                .SaveSupplementalCredentials = table_SaveSupplementalCredentials,
                .CreateThread = host_CreateThread,
                .GetClientInfo = host_GetClientInfo,
                .RegisterNotification = table_RegisterNotification,
                .CancelNotification = table_CancelNotification,
                .MapBuffer = table_MapBuffer,
                .CreateToken = table_CreateToken,
                .AuditLogon = table_AuditLogon,
                .CallPackage = host_CallPackage,
                .FreeReturnBuffer = host_FreeReturnBuffer,
                .GetCallInfo = host_GetCallInfo,
                .CallPackageEx = host_CallPackageEx,
                .CreateSharedMemory = host_CreateSharedMemory,
                .AllocateSharedMemory = host_AllocateSharedMemory,
                .FreeSharedMemory = host_FreeSharedMemory,
                .DeleteSharedMemory = host_DeleteSharedMemory,
                .OpenSamUser = table_OpenSamUser,
                .GetUserCredentials = table_GetUserCredentials,
                .GetUserAuthData = table_GetUserAuthData,
                .CloseSamUser = table_CloseSamUser,
                .ConvertAuthDataToToken = table_ConvertAuthDataToToken,
                .ClientCallback = table_ClientCallback,
                .UpdateCredentials = table_UpdateCredentials,
                .GetAuthDataForUser = table_GetAuthDataForUser,
                .CrackSingleName = table_CrackSingleName,
                .AuditAccountLogon = table_AuditAccountLogon,
                .CallPackagePassthrough = host_CallPackagePassthrough,
                .DummyFunction1 = table_DummyFunction,
                .DummyFunction2 = table_DummyFunction,
                .DummyFunction3 = table_DummyFunction,
                .LsaProtectMemory = host_LsaProtectMemory,
                .LsaUnprotectMemory = host_LsaUnprotectMemory,
                .OpenTokenByLogonId = table_OpenTokenByLogonId,
                .ExpandAuthDataForDomain = table_ExpandAuthDataForDomain,
                .AllocatePrivateHeap = table_AllocatePrivateHeap,
                .FreePrivateHeap = table_FreePrivateHeap,
                .CreateTokenEx = table_CreateTokenEx,
                .DummyFunction4 = table_DummyFunction,
                .DummyFunction5 = table_DummyFunction,
                .DummyFunction6 = table_DummyFunction,
                .GetExtendedCallFlags = host_GetExtendedCallFlags,
                .DuplicateTokenHandle = table_DuplicateHandle,
                .GetServiceAccountPassword = table_GetServiceAccountPassword,
                .DummyFunction7 = table_DummyFunction,
                .AuditLogonEx = table_AuditLogonEx,
                .CheckProtectedUserByToken = table_CheckProtectedUserByToken,
                .QueryClientRequest = table_QueryClientRequest,
                .GetAppModeInfo = table_GetAppModeInfo,
                .SetAppModeInfo = table_SetAppModeInfo,
                .GetClientInfoEx = table_GetClientInfoEx,
                .GetSecpkgFailureReason = host_GetSecpkgFailureReason,
                .SetSecpkgFailureReason = host_SetSecpkgFailureReason,
        };
}

/* The lower layers' hooks (host-base.h): what only this layer knows,
 * pointed to once, at build time. */
void (*const host_packages_table_fill)(LSA_SECPKG_FUNCTION_TABLE *t) = host_table_fill;
void (*const host_packages_release_owned)(struct host *h, struct host_package *p) = host_sections_release;
uint64_t (*const host_sections_client_serial)(void) = host_call_client_serial;
