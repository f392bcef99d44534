/* SPDX-License-Identifier: MIT */
/*
 * The Windows-compatible declarations (lsashm/ntsecpkg.h, lsashm/ntsecapi.h):
 * a mock package filling both function tables with designated initialisers
 * under Windows' member names, so every prototype is checked by the
 * compiler; the tables' layout checked again at run time against the member
 * order of the Windows SDK; the NTSTATUS values; and the client stubs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lsashm/ntsecapi.h"
#include "lsashm/ntsecpkg.h"

/* The mocks take Windows' full parameter lists and use none of them. */
#pragma GCC diagnostic ignored "-Wunused-parameter"
/* Windows' parameter names TokenSource and TokenGroups are also
 * TOKEN_INFORMATION_CLASS values, in Windows' headers as in ours. */
#pragma GCC diagnostic ignored "-Wshadow"

static int mock_calls;
static PLSA_SECPKG_FUNCTION_TABLE initialized_with;

static NTSTATUS NTAPI mock_LSA_CREATE_LOGON_SESSION(PLUID LogonId)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_DELETE_LOGON_SESSION(PLUID LogonId)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_ADD_CREDENTIAL(PLUID LogonId, ULONG AuthenticationPackage, PLSA_STRING PrimaryKeyValue, PLSA_STRING Credentials)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_GET_CREDENTIALS(PLUID LogonId, ULONG AuthenticationPackage, PULONG QueryContext, BOOLEAN RetrieveAllCredentials, PLSA_STRING PrimaryKeyValue, PULONG PrimaryKeyLength, PLSA_STRING Credentials)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_DELETE_CREDENTIAL(PLUID LogonId, ULONG AuthenticationPackage, PLSA_STRING PrimaryKeyValue)
{
        return STATUS_NOT_IMPLEMENTED;
}

static PVOID NTAPI mock_LSA_ALLOCATE_LSA_HEAP(ULONG Length)
{
        return NULL;
}

static VOID NTAPI mock_LSA_FREE_LSA_HEAP(PVOID Base)
{
        mock_calls++;
}

static NTSTATUS NTAPI mock_LSA_ALLOCATE_CLIENT_BUFFER(PLSA_CLIENT_REQUEST ClientRequest, ULONG LengthRequired, PVOID *ClientBaseAddress)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_FREE_CLIENT_BUFFER(PLSA_CLIENT_REQUEST ClientRequest, PVOID ClientBaseAddress)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_COPY_TO_CLIENT_BUFFER(PLSA_CLIENT_REQUEST ClientRequest, ULONG Length, PVOID ClientBaseAddress, PVOID BufferToCopy)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_COPY_FROM_CLIENT_BUFFER(PLSA_CLIENT_REQUEST ClientRequest, ULONG Length, PVOID BufferToCopy, PVOID ClientBaseAddress)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_IMPERSONATE_CLIENT(VOID)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_UNLOAD_PACKAGE(VOID)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_DUPLICATE_HANDLE(HANDLE SourceHandle, PHANDLE DestionationHandle)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_SAVE_SUPPLEMENTAL_CREDENTIALS(PLUID LogonId, ULONG SupplementalCredSize, PVOID SupplementalCreds, BOOLEAN Synchronous)
{
        return STATUS_NOT_IMPLEMENTED;
}

static HANDLE NTAPI mock_LSA_CREATE_THREAD(SEC_ATTRS SecurityAttributes, ULONG StackSize, SEC_THREAD_START StartFunction, PVOID ThreadParameter, ULONG CreationFlags, PULONG ThreadId)
{
        return NULL;
}

static NTSTATUS NTAPI mock_LSA_GET_CLIENT_INFO(PSECPKG_CLIENT_INFO ClientInfo)
{
        return STATUS_NOT_IMPLEMENTED;
}

static HANDLE NTAPI mock_LSA_REGISTER_NOTIFICATION(SEC_THREAD_START StartFunction, PVOID Parameter, ULONG NotificationType, ULONG NotificationClass, ULONG NotificationFlags, ULONG IntervalMinutes, HANDLE WaitEvent)
{
        return NULL;
}

static NTSTATUS NTAPI mock_LSA_CANCEL_NOTIFICATION(HANDLE NotifyHandle)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_MAP_BUFFER(PSecBuffer InputBuffer, PSecBuffer OutputBuffer)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_CREATE_TOKEN(PLUID LogonId, PTOKEN_SOURCE TokenSource, SECURITY_LOGON_TYPE LogonType, SECURITY_IMPERSONATION_LEVEL ImpersonationLevel, LSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID TokenInformation, PTOKEN_GROUPS TokenGroups, PUNICODE_STRING AccountName, PUNICODE_STRING AuthorityName, PUNICODE_STRING Workstation, PUNICODE_STRING ProfilePath, PHANDLE Token, PNTSTATUS SubStatus)
{
        return STATUS_NOT_IMPLEMENTED;
}

static VOID NTAPI mock_LSA_AUDIT_LOGON(NTSTATUS Status, NTSTATUS SubStatus, PUNICODE_STRING AccountName, PUNICODE_STRING AuthenticatingAuthority, PUNICODE_STRING WorkstationName, PSID UserSid, SECURITY_LOGON_TYPE LogonType, PTOKEN_SOURCE TokenSource, PLUID LogonId)
{
        mock_calls++;
}

static NTSTATUS NTAPI mock_LSA_CALL_PACKAGE(PUNICODE_STRING AuthenticationPackage, PVOID ProtocolSubmitBuffer, ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus)
{
        return STATUS_NOT_IMPLEMENTED;
}

static BOOLEAN NTAPI mock_LSA_GET_CALL_INFO(PSECPKG_CALL_INFO Info)
{
        return FALSE;
}

static NTSTATUS NTAPI mock_LSA_CALL_PACKAGEEX(PUNICODE_STRING AuthenticationPackage, PVOID ClientBufferBase, PVOID ProtocolSubmitBuffer, ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_OPEN_SAM_USER(PSECURITY_STRING Name, SECPKG_NAME_TYPE NameType, PSECURITY_STRING Prefix, BOOLEAN AllowGuest, ULONG Reserved, PVOID *UserHandle)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_GET_USER_CREDENTIALS(PVOID UserHandle, PVOID *PrimaryCreds, PULONG PrimaryCredsSize, PVOID *SupplementalCreds, PULONG SupplementalCredsSize)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_GET_USER_AUTH_DATA(PVOID UserHandle, PUCHAR *UserAuthData, PULONG UserAuthDataSize)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_CLOSE_SAM_USER(PVOID UserHandle)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_CONVERT_AUTH_DATA_TO_TOKEN(PVOID UserAuthData, ULONG UserAuthDataSize, SECURITY_IMPERSONATION_LEVEL ImpersonationLevel, PTOKEN_SOURCE TokenSource, SECURITY_LOGON_TYPE LogonType, PUNICODE_STRING AuthorityName, PHANDLE Token, PLUID LogonId, PUNICODE_STRING AccountName, PNTSTATUS SubStatus)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_CLIENT_CALLBACK(PCHAR Callback, ULONG_PTR Argument1, ULONG_PTR Argument2, PSecBuffer Input, PSecBuffer Output)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_UPDATE_PRIMARY_CREDENTIALS(PSECPKG_PRIMARY_CRED PrimaryCredentials, PSECPKG_SUPPLEMENTAL_CRED_ARRAY Credentials)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_GET_AUTH_DATA_FOR_USER(PSECURITY_STRING Name, SECPKG_NAME_TYPE NameType, PSECURITY_STRING Prefix, PUCHAR *UserAuthData, PULONG UserAuthDataSize, PUNICODE_STRING UserFlatName)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_CRACK_SINGLE_NAME(ULONG FormatOffered, BOOLEAN PerformAtGC, PUNICODE_STRING NameInput, PUNICODE_STRING Prefix, ULONG RequestedFormat, PUNICODE_STRING CrackedName, PUNICODE_STRING DnsDomainName, PULONG SubStatus)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_AUDIT_ACCOUNT_LOGON(ULONG AuditId, BOOLEAN Success, PUNICODE_STRING Source, PUNICODE_STRING ClientName, PUNICODE_STRING MappedName, NTSTATUS Status)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_CALL_PACKAGE_PASSTHROUGH(PUNICODE_STRING AuthenticationPackage, PVOID ClientBufferBase, PVOID ProtocolSubmitBuffer, ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus)
{
        return STATUS_NOT_IMPLEMENTED;
}

static VOID NTAPI mock_LSA_PROTECT_MEMORY(PVOID Buffer, ULONG BufferSize)
{
        mock_calls++;
}

static NTSTATUS NTAPI mock_LSA_OPEN_TOKEN_BY_LOGON_ID(PLUID LogonId, HANDLE *RetTokenHandle)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_EXPAND_AUTH_DATA_FOR_DOMAIN(PUCHAR UserAuthData, ULONG UserAuthDataSize, PVOID Reserved, PUCHAR *ExpandedAuthData, PULONG ExpandedAuthDataSize)
{
        return STATUS_NOT_IMPLEMENTED;
}

static PVOID NTAPI mock_LSA_ALLOCATE_PRIVATE_HEAP(SIZE_T Length)
{
        return NULL;
}

static VOID NTAPI mock_LSA_FREE_PRIVATE_HEAP(PVOID Base)
{
        mock_calls++;
}

static NTSTATUS NTAPI mock_LSA_CREATE_TOKEN_EX(PLUID LogonId, PTOKEN_SOURCE TokenSource, SECURITY_LOGON_TYPE LogonType, SECURITY_IMPERSONATION_LEVEL ImpersonationLevel, LSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID TokenInformation, PTOKEN_GROUPS TokenGroups, PUNICODE_STRING Workstation, PUNICODE_STRING ProfilePath, PVOID SessionInformation, SECPKG_SESSIONINFO_TYPE SessionInformationType, PHANDLE Token, PNTSTATUS SubStatus)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_GET_EXTENDED_CALL_FLAGS(PULONG Flags)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_GET_SERVICE_ACCOUNT_PASSWORD(PUNICODE_STRING AccountName, PUNICODE_STRING DomainName, CRED_FETCH CredFetch, FILETIME *FileTimeExpiry, PUNICODE_STRING CurrentPassword, PUNICODE_STRING PreviousPassword, FILETIME *FileTimeCurrPwdValidForOutbound)
{
        return STATUS_NOT_IMPLEMENTED;
}

static VOID NTAPI mock_LSA_AUDIT_LOGON_EX(NTSTATUS Status, NTSTATUS SubStatus, PUNICODE_STRING AccountName, PUNICODE_STRING AuthenticatingAuthority, PUNICODE_STRING WorkstationName, PSID UserSid, SECURITY_LOGON_TYPE LogonType, SECURITY_IMPERSONATION_LEVEL ImpersonationLevel, PTOKEN_SOURCE TokenSource, PLUID LogonId)
{
        mock_calls++;
}

static NTSTATUS NTAPI mock_LSA_CHECK_PROTECTED_USER_BY_TOKEN(HANDLE UserToken, PBOOLEAN ProtectedUser)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_QUERY_CLIENT_REQUEST(PLSA_CLIENT_REQUEST ClientRequest, ULONG QueryType, PVOID *ReplyBuffer)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_GET_APP_MODE_INFO(PULONG UserFunction, PULONG_PTR Argument1, PULONG_PTR Argument2, PSecBuffer UserData, PBOOLEAN ReturnToLsa)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_SET_APP_MODE_INFO(ULONG UserFunction, ULONG_PTR Argument1, ULONG_PTR Argument2, PSecBuffer UserData, BOOLEAN ReturnToLsa)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_GET_CLIENT_INFO_EX(PSECPKG_CLIENT_INFO_EX ClientInfo, ULONG StructSize)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_GET_SECPKG_FAILURE_REASON(const ULONG_PTR PackageID, SECPKG_FAILURE_REASON *Reason)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_SET_SECPKG_FAILURE_REASON(const SECPKG_FAILURE_REASON Reason)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_AP_INITIALIZE_PACKAGE(ULONG AuthenticationPackageId, PLSA_DISPATCH_TABLE LsaDispatchTable, PLSA_STRING Database, PLSA_STRING Confidentiality, PLSA_STRING *AuthenticationPackageName)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_AP_LOGON_USER(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType, PVOID AuthenticationInformation, PVOID ClientAuthenticationBase, ULONG AuthenticationInformationLength, PVOID *ProfileBuffer, PULONG ProfileBufferLength, PLUID LogonId, PNTSTATUS SubStatus, PLSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID *TokenInformation, PLSA_UNICODE_STRING *AccountName, PLSA_UNICODE_STRING *AuthenticatingAuthority)
{
        return STATUS_NOT_IMPLEMENTED;
}

static VOID NTAPI mock_LSA_AP_LOGON_TERMINATED(PLUID LogonId)
{
        mock_calls++;
}

static NTSTATUS NTAPI mock_LSA_AP_CALL_PACKAGE_PASSTHROUGH(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase, ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_AP_LOGON_USER_EX(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType, PVOID AuthenticationInformation, PVOID ClientAuthenticationBase, ULONG AuthenticationInformationLength, PVOID *ProfileBuffer, PULONG ProfileBufferLength, PLUID LogonId, PNTSTATUS SubStatus, PLSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID *TokenInformation, PUNICODE_STRING *AccountName, PUNICODE_STRING *AuthenticatingAuthority, PUNICODE_STRING *MachineName)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_AP_LOGON_USER_EX2(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType, PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase, ULONG SubmitBufferSize, PVOID *ProfileBuffer, PULONG ProfileBufferSize, PLUID LogonId, PNTSTATUS SubStatus, PLSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID *TokenInformation, PUNICODE_STRING *AccountName, PUNICODE_STRING *AuthenticatingAuthority, PUNICODE_STRING *MachineName, PSECPKG_PRIMARY_CRED PrimaryCredentials, PSECPKG_SUPPLEMENTAL_CRED_ARRAY *SupplementalCredentials)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpAcceptCredentialsFn(SECURITY_LOGON_TYPE LogonType, PUNICODE_STRING AccountName, PSECPKG_PRIMARY_CRED PrimaryCredentials, PSECPKG_SUPPLEMENTAL_CRED SupplementalCredentials)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpAcquireCredentialsHandleFn(PUNICODE_STRING PrincipalName, ULONG CredentialUseFlags, PLUID LogonId, PVOID AuthorizationData, PVOID GetKeyFunciton, PVOID GetKeyArgument, PLSA_SEC_HANDLE CredentialHandle, PTimeStamp ExpirationTime)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpQueryCredentialsAttributesFn(LSA_SEC_HANDLE CredentialHandle, ULONG CredentialAttribute, PVOID Buffer)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpFreeCredentialsHandleFn(LSA_SEC_HANDLE CredentialHandle)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpSaveCredentialsFn(LSA_SEC_HANDLE CredentialHandle, PSecBuffer Credentials)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpGetCredentialsFn(LSA_SEC_HANDLE CredentialHandle, PSecBuffer Credentials)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpDeleteCredentialsFn(LSA_SEC_HANDLE CredentialHandle, PSecBuffer Key)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpInitLsaModeContextFn(LSA_SEC_HANDLE CredentialHandle, LSA_SEC_HANDLE ContextHandle, PUNICODE_STRING TargetName, ULONG ContextRequirements, ULONG TargetDataRep, PSecBufferDesc InputBuffers, PLSA_SEC_HANDLE NewContextHandle, PSecBufferDesc OutputBuffers, PULONG ContextAttributes, PTimeStamp ExpirationTime, PBOOLEAN MappedContext, PSecBuffer ContextData)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpAcceptLsaModeContextFn(LSA_SEC_HANDLE CredentialHandle, LSA_SEC_HANDLE ContextHandle, PSecBufferDesc InputBuffer, ULONG ContextRequirements, ULONG TargetDataRep, PLSA_SEC_HANDLE NewContextHandle, PSecBufferDesc OutputBuffer, PULONG ContextAttributes, PTimeStamp ExpirationTime, PBOOLEAN MappedContext, PSecBuffer ContextData)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpDeleteContextFn(LSA_SEC_HANDLE ContextHandle)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpApplyControlTokenFn(LSA_SEC_HANDLE ContextHandle, PSecBufferDesc ControlToken)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpGetUserInfoFn(PLUID LogonId, ULONG Flags, PSecurityUserData *UserData)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpGetExtendedInformationFn(SECPKG_EXTENDED_INFORMATION_CLASS Class, PSECPKG_EXTENDED_INFORMATION *ppInformation)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpQueryContextAttributesFn(LSA_SEC_HANDLE ContextHandle, ULONG ContextAttribute, PVOID Buffer)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpAddCredentialsFn(LSA_SEC_HANDLE CredentialHandle, PUNICODE_STRING PrincipalName, PUNICODE_STRING Package, ULONG CredentialUseFlags, PVOID AuthorizationData, PVOID GetKeyFunciton, PVOID GetKeyArgument, PTimeStamp ExpirationTime)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpSetExtendedInformationFn(SECPKG_EXTENDED_INFORMATION_CLASS Class, PSECPKG_EXTENDED_INFORMATION Info)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpSetContextAttributesFn(LSA_SEC_HANDLE ContextHandle, ULONG ContextAttribute, PVOID Buffer, ULONG BufferSize)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpSetCredentialsAttributesFn(LSA_SEC_HANDLE CredentialHandle, ULONG CredentialAttribute, PVOID Buffer, ULONG BufferSize)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpChangeAccountPasswordFn(PUNICODE_STRING pDomainName, PUNICODE_STRING pAccountName, PUNICODE_STRING pOldPassword, PUNICODE_STRING pNewPassword, BOOLEAN Impersonating, PSecBufferDesc pOutput)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpQueryMetaDataFn(LSA_SEC_HANDLE CredentialHandle, PUNICODE_STRING TargetName, ULONG ContextRequirements, PULONG MetaDataLength, PUCHAR *MetaData, PLSA_SEC_HANDLE ContextHandle)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpExchangeMetaDataFn(LSA_SEC_HANDLE CredentialHandle, PUNICODE_STRING TargetName, ULONG ContextRequirements, ULONG MetaDataLength, PUCHAR MetaData, PLSA_SEC_HANDLE ContextHandle)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpGetCredUIContextFn(LSA_SEC_HANDLE ContextHandle, GUID *CredType, PULONG FlatCredUIContextLength, PUCHAR *FlatCredUIContext)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpUpdateCredentialsFn(LSA_SEC_HANDLE ContextHandle, GUID *CredType, ULONG FlatCredUIContextLength, PUCHAR FlatCredUIContext)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpValidateTargetInfoFn(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase, ULONG SubmitBufferLength, PSECPKG_TARGETINFO TargetInfo)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_AP_POST_LOGON_USER(PSECPKG_POST_LOGON_USER_INFO PostLogonUserInfo)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpGetRemoteCredGuardLogonBufferFn(LSA_SEC_HANDLE CredentialHandle, LSA_SEC_HANDLE ContextHandle, const UNICODE_STRING *TargetName, PHANDLE RedirectedLogonHandle, PLSA_REDIRECTED_LOGON_CALLBACK *Callback, PLSA_REDIRECTED_LOGON_CLEANUP_CALLBACK *CleanupCallback, PULONG LogonBufferSize, PVOID *LogonBuffer)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpGetRemoteCredGuardSupplementalCredsFn(LSA_SEC_HANDLE CredentialHandle, const UNICODE_STRING *TargetName, PHANDLE RedirectedLogonHandle, PLSA_REDIRECTED_LOGON_CALLBACK *Callback, PLSA_REDIRECTED_LOGON_CLEANUP_CALLBACK *CleanupCallback, PULONG SupplementalCredsSize, PVOID *SupplementalCreds)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpGetTbalSupplementalCredsFn(LUID LogonId, PULONG SupplementalCredsSize, PVOID *SupplementalCreds)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_AP_LOGON_USER_EX3(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType, PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase, ULONG SubmitBufferSize, PSECPKG_SURROGATE_LOGON SurrogateLogon, PVOID *ProfileBuffer, PULONG ProfileBufferSize, PLUID LogonId, PNTSTATUS SubStatus, PLSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID *TokenInformation, PUNICODE_STRING *AccountName, PUNICODE_STRING *AuthenticatingAuthority, PUNICODE_STRING *MachineName, PSECPKG_PRIMARY_CRED PrimaryCredentials, PSECPKG_SUPPLEMENTAL_CRED_ARRAY *SupplementalCredentials)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_AP_PRE_LOGON_USER_SURROGATE(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType, PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase, ULONG SubmitBufferSize, PSECPKG_SURROGATE_LOGON SurrogateLogon, PNTSTATUS SubStatus)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_LSA_AP_POST_LOGON_USER_SURROGATE(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType, PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase, ULONG SubmitBufferSize, PSECPKG_SURROGATE_LOGON SurrogateLogon, PVOID ProfileBuffer, ULONG ProfileBufferSize, PLUID LogonId, NTSTATUS Status, NTSTATUS SubStatus, LSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID TokenInformation, PUNICODE_STRING AccountName, PUNICODE_STRING AuthenticatingAuthority, PUNICODE_STRING MachineName, PSECPKG_PRIMARY_CRED PrimaryCredentials, PSECPKG_SUPPLEMENTAL_CRED_ARRAY SupplementalCredentials)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI mock_SpExtractTargetInfoFn(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase, ULONG SubmitBufferLength, PVOID *ppvTargetInfo, ULONG *pcbTargetInfo)
{
        return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI pkg_SpInitializeFn(ULONG_PTR PackageId, PSECPKG_PARAMETERS Parameters,
                                         PLSA_SECPKG_FUNCTION_TABLE FunctionTable)
{
        if (Parameters == NULL || FunctionTable == NULL)
                return STATUS_INVALID_PARAMETER;
        initialized_with = FunctionTable;
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI pkg_SpShutdownFn(VOID)
{
        return STATUS_SUCCESS;
}

static SEC_WCHAR pkg_name[] = u"mock";

static NTSTATUS NTAPI pkg_SpGetInfoFn(PSecPkgInfo PackageInfo)
{
        memset(PackageInfo, 0, sizeof(*PackageInfo));
        PackageInfo->wVersion = 1;
        PackageInfo->Name = pkg_name;
        PackageInfo->Comment = pkg_name;
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI pkg_LSA_AP_CALL_PACKAGE(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                              PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                              PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                              PNTSTATUS ProtocolStatus)
{
        *ProtocolReturnBuffer = NULL;
        *ReturnBufferLength = 0;
        *ProtocolStatus = SubmitBufferLength < sizeof(ULONG) ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS;
        return STATUS_SUCCESS;
}

static LSA_SECPKG_FUNCTION_TABLE lsa_table = {
        .CreateLogonSession = mock_LSA_CREATE_LOGON_SESSION,
        .DeleteLogonSession = mock_LSA_DELETE_LOGON_SESSION,
        .AddCredential = mock_LSA_ADD_CREDENTIAL,
        .GetCredentials = mock_LSA_GET_CREDENTIALS,
        .DeleteCredential = mock_LSA_DELETE_CREDENTIAL,
        .AllocateLsaHeap = mock_LSA_ALLOCATE_LSA_HEAP,
        .FreeLsaHeap = mock_LSA_FREE_LSA_HEAP,
        .AllocateClientBuffer = mock_LSA_ALLOCATE_CLIENT_BUFFER,
        .FreeClientBuffer = mock_LSA_FREE_CLIENT_BUFFER,
        .CopyToClientBuffer = mock_LSA_COPY_TO_CLIENT_BUFFER,
        .CopyFromClientBuffer = mock_LSA_COPY_FROM_CLIENT_BUFFER,
        .ImpersonateClient = mock_LSA_IMPERSONATE_CLIENT,
        .UnloadPackage = mock_LSA_UNLOAD_PACKAGE,
        .DuplicateHandle = mock_LSA_DUPLICATE_HANDLE,
        .SaveSupplementalCredentials = mock_LSA_SAVE_SUPPLEMENTAL_CREDENTIALS,
        .CreateThread = mock_LSA_CREATE_THREAD,
        .GetClientInfo = mock_LSA_GET_CLIENT_INFO,
        .RegisterNotification = mock_LSA_REGISTER_NOTIFICATION,
        .CancelNotification = mock_LSA_CANCEL_NOTIFICATION,
        .MapBuffer = mock_LSA_MAP_BUFFER,
        .CreateToken = mock_LSA_CREATE_TOKEN,
        .AuditLogon = mock_LSA_AUDIT_LOGON,
        .CallPackage = mock_LSA_CALL_PACKAGE,
        .FreeReturnBuffer = mock_LSA_FREE_LSA_HEAP,
        .GetCallInfo = mock_LSA_GET_CALL_INFO,
        .CallPackageEx = mock_LSA_CALL_PACKAGEEX,
        .CreateSharedMemory = LsaCreateSharedMemory,
        .AllocateSharedMemory = LsaAllocateSharedMemory,
        .FreeSharedMemory = LsaFreeSharedMemory,
        .DeleteSharedMemory = LsaDeleteSharedMemory,
        .OpenSamUser = mock_LSA_OPEN_SAM_USER,
        .GetUserCredentials = mock_LSA_GET_USER_CREDENTIALS,
        .GetUserAuthData = mock_LSA_GET_USER_AUTH_DATA,
        .CloseSamUser = mock_LSA_CLOSE_SAM_USER,
        .ConvertAuthDataToToken = mock_LSA_CONVERT_AUTH_DATA_TO_TOKEN,
        .ClientCallback = mock_LSA_CLIENT_CALLBACK,
        .UpdateCredentials = mock_LSA_UPDATE_PRIMARY_CREDENTIALS,
        .GetAuthDataForUser = mock_LSA_GET_AUTH_DATA_FOR_USER,
        .CrackSingleName = mock_LSA_CRACK_SINGLE_NAME,
        .AuditAccountLogon = mock_LSA_AUDIT_ACCOUNT_LOGON,
        .CallPackagePassthrough = mock_LSA_CALL_PACKAGE_PASSTHROUGH,
        .DummyFunction1 = mock_LSA_PROTECT_MEMORY,
        .DummyFunction2 = mock_LSA_PROTECT_MEMORY,
        .DummyFunction3 = mock_LSA_PROTECT_MEMORY,
        .LsaProtectMemory = mock_LSA_PROTECT_MEMORY,
        .LsaUnprotectMemory = mock_LSA_PROTECT_MEMORY,
        .OpenTokenByLogonId = mock_LSA_OPEN_TOKEN_BY_LOGON_ID,
        .ExpandAuthDataForDomain = mock_LSA_EXPAND_AUTH_DATA_FOR_DOMAIN,
        .AllocatePrivateHeap = mock_LSA_ALLOCATE_PRIVATE_HEAP,
        .FreePrivateHeap = mock_LSA_FREE_PRIVATE_HEAP,
        .CreateTokenEx = mock_LSA_CREATE_TOKEN_EX,
        .DummyFunction4 = mock_LSA_PROTECT_MEMORY,
        .DummyFunction5 = mock_LSA_PROTECT_MEMORY,
        .DummyFunction6 = mock_LSA_PROTECT_MEMORY,
        .GetExtendedCallFlags = mock_LSA_GET_EXTENDED_CALL_FLAGS,
        .DuplicateTokenHandle = mock_LSA_DUPLICATE_HANDLE,
        .GetServiceAccountPassword = mock_LSA_GET_SERVICE_ACCOUNT_PASSWORD,
        .DummyFunction7 = mock_LSA_PROTECT_MEMORY,
        .AuditLogonEx = mock_LSA_AUDIT_LOGON_EX,
        .CheckProtectedUserByToken = mock_LSA_CHECK_PROTECTED_USER_BY_TOKEN,
        .QueryClientRequest = mock_LSA_QUERY_CLIENT_REQUEST,
        .GetAppModeInfo = mock_LSA_GET_APP_MODE_INFO,
        .SetAppModeInfo = mock_LSA_SET_APP_MODE_INFO,
        .GetClientInfoEx = mock_LSA_GET_CLIENT_INFO_EX,
        .GetSecpkgFailureReason = mock_LSA_GET_SECPKG_FAILURE_REASON,
        .SetSecpkgFailureReason = mock_LSA_SET_SECPKG_FAILURE_REASON,
};

static SECPKG_FUNCTION_TABLE package_table = {
        .InitializePackage = mock_LSA_AP_INITIALIZE_PACKAGE,
        .LogonUser = mock_LSA_AP_LOGON_USER,
        .CallPackage = pkg_LSA_AP_CALL_PACKAGE,
        .LogonTerminated = mock_LSA_AP_LOGON_TERMINATED,
        .CallPackageUntrusted = pkg_LSA_AP_CALL_PACKAGE,
        .CallPackagePassthrough = mock_LSA_AP_CALL_PACKAGE_PASSTHROUGH,
        .LogonUserEx = mock_LSA_AP_LOGON_USER_EX,
        .LogonUserEx2 = mock_LSA_AP_LOGON_USER_EX2,
        .Initialize = pkg_SpInitializeFn,
        .Shutdown = pkg_SpShutdownFn,
        .GetInfo = pkg_SpGetInfoFn,
        .AcceptCredentials = mock_SpAcceptCredentialsFn,
        .AcquireCredentialsHandle = mock_SpAcquireCredentialsHandleFn,
        .QueryCredentialsAttributes = mock_SpQueryCredentialsAttributesFn,
        .FreeCredentialsHandle = mock_SpFreeCredentialsHandleFn,
        .SaveCredentials = mock_SpSaveCredentialsFn,
        .GetCredentials = mock_SpGetCredentialsFn,
        .DeleteCredentials = mock_SpDeleteCredentialsFn,
        .InitLsaModeContext = mock_SpInitLsaModeContextFn,
        .AcceptLsaModeContext = mock_SpAcceptLsaModeContextFn,
        .DeleteContext = mock_SpDeleteContextFn,
        .ApplyControlToken = mock_SpApplyControlTokenFn,
        .GetUserInfo = mock_SpGetUserInfoFn,
        .GetExtendedInformation = mock_SpGetExtendedInformationFn,
        .QueryContextAttributes = mock_SpQueryContextAttributesFn,
        .AddCredentials = mock_SpAddCredentialsFn,
        .SetExtendedInformation = mock_SpSetExtendedInformationFn,
        .SetContextAttributes = mock_SpSetContextAttributesFn,
        .SetCredentialsAttributes = mock_SpSetCredentialsAttributesFn,
        .ChangeAccountPassword = mock_SpChangeAccountPasswordFn,
        .QueryMetaData = mock_SpQueryMetaDataFn,
        .ExchangeMetaData = mock_SpExchangeMetaDataFn,
        .GetCredUIContext = mock_SpGetCredUIContextFn,
        .UpdateCredentials = mock_SpUpdateCredentialsFn,
        .ValidateTargetInfo = mock_SpValidateTargetInfoFn,
        .PostLogonUser = mock_LSA_AP_POST_LOGON_USER,
        .GetRemoteCredGuardLogonBuffer = mock_SpGetRemoteCredGuardLogonBufferFn,
        .GetRemoteCredGuardSupplementalCreds = mock_SpGetRemoteCredGuardSupplementalCredsFn,
        .GetTbalSupplementalCreds = mock_SpGetTbalSupplementalCredsFn,
        .LogonUserEx3 = mock_LSA_AP_LOGON_USER_EX3,
        .PreLogonUserSurrogate = mock_LSA_AP_PRE_LOGON_USER_SURROGATE,
        .PostLogonUserSurrogate = mock_LSA_AP_POST_LOGON_USER_SURROGATE,
        .ExtractTargetInfo = mock_SpExtractTargetInfoFn,
};

static NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion,
                                              PSECPKG_FUNCTION_TABLE *ppTables, PULONG pcTables)
{
        (void)LsaVersion;
        *PackageVersion = SECPKG_INTERFACE_VERSION_11;
        *ppTables = &package_table;
        *pcTables = 1;
        return STATUS_SUCCESS;
}

/* ---- layout ---- */

struct slot {
        const char *name;
        size_t offset;
        size_t expected;
};
#define SLOT(type, member, off) { #member, offsetof(type, member), (off) }

static const struct slot lsa_slots[] = {
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CreateLogonSession, 0),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, DeleteLogonSession, 8),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, AddCredential, 16),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, GetCredentials, 24),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, DeleteCredential, 32),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, AllocateLsaHeap, 40),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, FreeLsaHeap, 48),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, AllocateClientBuffer, 56),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, FreeClientBuffer, 64),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CopyToClientBuffer, 72),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CopyFromClientBuffer, 80),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, ImpersonateClient, 88),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, UnloadPackage, 96),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, DuplicateHandle, 104),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, SaveSupplementalCredentials, 112),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CreateThread, 120),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, GetClientInfo, 128),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, RegisterNotification, 136),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CancelNotification, 144),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, MapBuffer, 152),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CreateToken, 160),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, AuditLogon, 168),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CallPackage, 176),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, FreeReturnBuffer, 184),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, GetCallInfo, 192),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CallPackageEx, 200),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CreateSharedMemory, 208),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, AllocateSharedMemory, 216),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, FreeSharedMemory, 224),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, DeleteSharedMemory, 232),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, OpenSamUser, 240),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, GetUserCredentials, 248),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, GetUserAuthData, 256),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CloseSamUser, 264),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, ConvertAuthDataToToken, 272),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, ClientCallback, 280),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, UpdateCredentials, 288),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, GetAuthDataForUser, 296),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CrackSingleName, 304),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, AuditAccountLogon, 312),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CallPackagePassthrough, 320),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, DummyFunction1, 328),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, DummyFunction2, 336),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, DummyFunction3, 344),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, LsaProtectMemory, 352),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, LsaUnprotectMemory, 360),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, OpenTokenByLogonId, 368),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, ExpandAuthDataForDomain, 376),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, AllocatePrivateHeap, 384),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, FreePrivateHeap, 392),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CreateTokenEx, 400),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, DummyFunction4, 408),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, DummyFunction5, 416),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, DummyFunction6, 424),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, GetExtendedCallFlags, 432),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, DuplicateTokenHandle, 440),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, GetServiceAccountPassword, 448),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, DummyFunction7, 456),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, AuditLogonEx, 464),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, CheckProtectedUserByToken, 472),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, QueryClientRequest, 480),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, GetAppModeInfo, 488),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, SetAppModeInfo, 496),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, GetClientInfoEx, 504),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, GetSecpkgFailureReason, 512),
        SLOT(LSA_SECPKG_FUNCTION_TABLE, SetSecpkgFailureReason, 520),
};

static const struct slot package_slots[] = {
        SLOT(SECPKG_FUNCTION_TABLE, InitializePackage, 0),
        SLOT(SECPKG_FUNCTION_TABLE, LogonUser, 8),
        SLOT(SECPKG_FUNCTION_TABLE, CallPackage, 16),
        SLOT(SECPKG_FUNCTION_TABLE, LogonTerminated, 24),
        SLOT(SECPKG_FUNCTION_TABLE, CallPackageUntrusted, 32),
        SLOT(SECPKG_FUNCTION_TABLE, CallPackagePassthrough, 40),
        SLOT(SECPKG_FUNCTION_TABLE, LogonUserEx, 48),
        SLOT(SECPKG_FUNCTION_TABLE, LogonUserEx2, 56),
        SLOT(SECPKG_FUNCTION_TABLE, Initialize, 64),
        SLOT(SECPKG_FUNCTION_TABLE, Shutdown, 72),
        SLOT(SECPKG_FUNCTION_TABLE, GetInfo, 80),
        SLOT(SECPKG_FUNCTION_TABLE, AcceptCredentials, 88),
        SLOT(SECPKG_FUNCTION_TABLE, AcquireCredentialsHandle, 96),
        SLOT(SECPKG_FUNCTION_TABLE, QueryCredentialsAttributes, 104),
        SLOT(SECPKG_FUNCTION_TABLE, FreeCredentialsHandle, 112),
        SLOT(SECPKG_FUNCTION_TABLE, SaveCredentials, 120),
        SLOT(SECPKG_FUNCTION_TABLE, GetCredentials, 128),
        SLOT(SECPKG_FUNCTION_TABLE, DeleteCredentials, 136),
        SLOT(SECPKG_FUNCTION_TABLE, InitLsaModeContext, 144),
        SLOT(SECPKG_FUNCTION_TABLE, AcceptLsaModeContext, 152),
        SLOT(SECPKG_FUNCTION_TABLE, DeleteContext, 160),
        SLOT(SECPKG_FUNCTION_TABLE, ApplyControlToken, 168),
        SLOT(SECPKG_FUNCTION_TABLE, GetUserInfo, 176),
        SLOT(SECPKG_FUNCTION_TABLE, GetExtendedInformation, 184),
        SLOT(SECPKG_FUNCTION_TABLE, QueryContextAttributes, 192),
        SLOT(SECPKG_FUNCTION_TABLE, AddCredentials, 200),
        SLOT(SECPKG_FUNCTION_TABLE, SetExtendedInformation, 208),
        SLOT(SECPKG_FUNCTION_TABLE, SetContextAttributes, 216),
        SLOT(SECPKG_FUNCTION_TABLE, SetCredentialsAttributes, 224),
        SLOT(SECPKG_FUNCTION_TABLE, ChangeAccountPassword, 232),
        SLOT(SECPKG_FUNCTION_TABLE, QueryMetaData, 240),
        SLOT(SECPKG_FUNCTION_TABLE, ExchangeMetaData, 248),
        SLOT(SECPKG_FUNCTION_TABLE, GetCredUIContext, 256),
        SLOT(SECPKG_FUNCTION_TABLE, UpdateCredentials, 264),
        SLOT(SECPKG_FUNCTION_TABLE, ValidateTargetInfo, 272),
        SLOT(SECPKG_FUNCTION_TABLE, PostLogonUser, 280),
        SLOT(SECPKG_FUNCTION_TABLE, GetRemoteCredGuardLogonBuffer, 288),
        SLOT(SECPKG_FUNCTION_TABLE, GetRemoteCredGuardSupplementalCreds, 296),
        SLOT(SECPKG_FUNCTION_TABLE, GetTbalSupplementalCreds, 304),
        SLOT(SECPKG_FUNCTION_TABLE, LogonUserEx3, 312),
        SLOT(SECPKG_FUNCTION_TABLE, PreLogonUserSurrogate, 320),
        SLOT(SECPKG_FUNCTION_TABLE, PostLogonUserSurrogate, 328),
        SLOT(SECPKG_FUNCTION_TABLE, ExtractTargetInfo, 336),
};

static void check_slots(const struct slot *s, size_t n, size_t size, const void *table)
{
        assert_int_equal(n * sizeof(void *), size);
        for (size_t i = 0; i < n; i++) {
                if (s[i].offset != s[i].expected || s[i].offset != i * sizeof(void *))
                        fail_msg("%s at %zu, expected %zu", s[i].name, s[i].offset, s[i].expected);
        }
        /* every member initialised: no slot is NULL */
        for (size_t i = 0; i < n; i++) {
                uintptr_t p;
                memcpy(&p, (const char *)table + i * sizeof(void *), sizeof(p));
                if (p == 0)
                        fail_msg("%s is NULL", s[i].name);
        }
}

static void test_lsa_table_layout(void **state)
{
        (void)state;
        check_slots(lsa_slots, sizeof(lsa_slots) / sizeof(lsa_slots[0]), sizeof(LSA_SECPKG_FUNCTION_TABLE),
                    &lsa_table);
        assert_int_equal(sizeof(LSA_SECPKG_FUNCTION_TABLE), 528);
        assert_int_equal(offsetof(LSA_SECPKG_FUNCTION_TABLE, CreateSharedMemory), 208);
        assert_int_equal(offsetof(LSA_SECPKG_FUNCTION_TABLE, SetSecpkgFailureReason), 520);
        assert_int_equal(sizeof(LSA_DISPATCH_TABLE), 88);
        assert_int_equal(offsetof(LSA_DISPATCH_TABLE, CopyFromClientBuffer),
                         offsetof(LSA_SECPKG_FUNCTION_TABLE, CopyFromClientBuffer));
}

static void test_package_table_layout(void **state)
{
        (void)state;
        check_slots(package_slots, sizeof(package_slots) / sizeof(package_slots[0]), sizeof(SECPKG_FUNCTION_TABLE),
                    &package_table);
        assert_int_equal(sizeof(SECPKG_FUNCTION_TABLE), 344);
}

static void test_struct_layout(void **state)
{
        (void)state;
        assert_int_equal(sizeof(LUID), 8);
        assert_int_equal(sizeof(UNICODE_STRING), 16);
        assert_int_equal(offsetof(UNICODE_STRING, Buffer), 8);
        assert_int_equal(sizeof(LSA_STRING), 16);
        assert_int_equal(offsetof(LSA_STRING, Buffer), 8);
        assert_int_equal(sizeof(GUID), 16);
        assert_int_equal(sizeof(LARGE_INTEGER), 8);
        assert_int_equal(sizeof(SECPKG_CLIENT_INFO), 32);
        assert_int_equal(offsetof(SECPKG_CLIENT_INFO, HasTcbPrivilege), 16);
        assert_int_equal(offsetof(SECPKG_CLIENT_INFO, ClientToken), 24);
        assert_int_equal(sizeof(SECPKG_CALL_INFO), 24);
        assert_int_equal(sizeof(SECPKG_PARAMETERS), 72);
        assert_int_equal(offsetof(SECPKG_PARAMETERS, DomainName), 24);
        assert_int_equal(offsetof(SECPKG_PARAMETERS, DomainGuid), 56);
        assert_int_equal(sizeof(SecPkgInfoW), 32);
        assert_int_equal(offsetof(SecPkgInfoW, Name), 16);
        assert_int_equal(sizeof(SecBuffer), 16);
        assert_int_equal(sizeof(SecBufferDesc), 16);
}

/* ---- the package, as the host will drive it ---- */

static void test_mock_package(void **state)
{
        (void)state;
        SpLsaModeInitializeFn init = SpLsaModeInitialize;
        ULONG version = 0, count = 0;
        PSECPKG_FUNCTION_TABLE tables = NULL;
        assert_int_equal(init(SECPKG_INTERFACE_VERSION, &version, &tables, &count), STATUS_SUCCESS);
        assert_int_equal(count, 1);
        assert_int_equal(version, SECPKG_INTERFACE_VERSION_11);
        assert_string_equal(SECPKG_LSAMODEINIT_NAME, "SpLsaModeInitialize");

        SECPKG_PARAMETERS params = { .Version = 2,
                                     .MachineState = SECPKG_STATE_STANDALONE | SECPKG_STATE_ENCRYPTION_PERMITTED };
        assert_int_equal(tables->Initialize(1, &params, &lsa_table), STATUS_SUCCESS);
        assert_ptr_equal(initialized_with, &lsa_table);
        SecPkgInfo info;
        assert_int_equal(tables->GetInfo(&info), STATUS_SUCCESS);
        assert_int_equal(info.Name[0], u'm');

        ULONG msg = 1;
        PVOID ret = &msg;
        ULONG ret_len = 1;
        NTSTATUS proto = STATUS_UNSUCCESSFUL;
        assert_int_equal(tables->CallPackageUntrusted(NULL, &msg, &msg, sizeof(msg), &ret, &ret_len, &proto),
                         STATUS_SUCCESS);
        assert_int_equal(proto, STATUS_SUCCESS);
        assert_null(ret);

        /* The shared-memory slots are the real implementations. */
        PLSA_SECPKG_FUNCTION_TABLE t = initialized_with;
        PVOID section = t->CreateSharedMemory(64 * 1024, 4096);
        assert_non_null(section);
        PVOID block = t->AllocateSharedMemory(section, 100);
        assert_non_null(block);
        t->FreeSharedMemory(section, block);
        assert_true(t->DeleteSharedMemory(section));

        /* And the others fail safely. */
        LUID luid = { 0, 0 };
        assert_int_equal(t->CreateLogonSession(&luid), STATUS_NOT_IMPLEMENTED);
        assert_null(t->AllocateLsaHeap(16));
        char buf[8] = { 0 };
        t->LsaProtectMemory(buf, sizeof(buf));
        t->DummyFunction6(buf, sizeof(buf));
        assert_int_equal(mock_calls, 2);
        assert_int_equal(tables->Shutdown(), STATUS_SUCCESS);
}

/* ---- NTSTATUS ---- */

static void test_ntstatus_values(void **state)
{
        (void)state;
        static const struct {
                NTSTATUS value;
                uint32_t expected;
        } errors[] = {
                { STATUS_UNSUCCESSFUL, 0xC0000001u },        { STATUS_NOT_IMPLEMENTED, 0xC0000002u },
                { STATUS_ACCESS_VIOLATION, 0xC0000005u },    { STATUS_INVALID_HANDLE, 0xC0000008u },
                { STATUS_INVALID_PARAMETER, 0xC000000Du },   { STATUS_NO_MEMORY, 0xC0000017u },
                { STATUS_ACCESS_DENIED, 0xC0000022u },       { STATUS_BUFFER_TOO_SMALL, 0xC0000023u },
                { STATUS_NO_SUCH_LOGON_SESSION, 0xC000005Fu }, { STATUS_LOGON_FAILURE, 0xC000006Du },
                { STATUS_INSUFFICIENT_RESOURCES, 0xC000009Au }, { STATUS_NOT_SUPPORTED, 0xC00000BBu },
                { STATUS_INTERNAL_ERROR, 0xC00000E5u },      { STATUS_NO_SUCH_PACKAGE, 0xC00000FEu },
                { STATUS_NAME_TOO_LONG, 0xC0000106u },       { STATUS_NOT_FOUND, 0xC0000225u },
                { STATUS_NOT_MAPPED_VIEW, 0xC0000019u },     { STATUS_OBJECT_NAME_NOT_FOUND, 0xC0000034u },
                { STATUS_PORT_DISCONNECTED, 0xC0000037u },   { STATUS_PORT_CONNECTION_REFUSED, 0xC0000041u },
                { STATUS_QUOTA_EXCEEDED, 0xC0000044u },      { STATUS_PRIVILEGE_NOT_HELD, 0xC0000061u },
                { STATUS_LOGON_SESSION_COLLISION, 0xC0000105u }, { STATUS_INVALID_BUFFER_SIZE, 0xC0000206u },
        };
        for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
                assert_int_equal((uint32_t)errors[i].value, errors[i].expected);
                assert_true(errors[i].value < 0);
                assert_false(NT_SUCCESS(errors[i].value));
        }
        assert_int_equal(STATUS_SUCCESS, 0);
        assert_true(NT_SUCCESS(STATUS_SUCCESS));
        assert_int_equal(STATUS_PENDING, 0x103);
        assert_true(NT_SUCCESS(STATUS_PENDING));
        assert_int_equal(SECPKG_INTERFACE_VERSION, 0x10000);
        assert_int_equal(SECPKG_INTERFACE_VERSION_11, 0x4000000);
}

/* ---- client API: argument checks that need no host ---- */

static void test_client_arguments(void **state)
{
        (void)state;
        /* No host at this path: the connect fails with a status that says
         * so, and the handle is left NULL. */
        setenv("LSASHM_SOCKET", "/nonexistent/lsashm-test.sock", 1);
        HANDLE h = &h;
        assert_int_equal(LsaConnectUntrusted(&h), STATUS_OBJECT_NAME_NOT_FOUND);
        assert_null(h);
        assert_int_equal(LsaConnectUntrusted(NULL), STATUS_INVALID_PARAMETER);

        char name[] = "mock";
        LSA_STRING s = { 4, 5, name };
        LSA_OPERATIONAL_MODE mode = 7;
        assert_int_equal(LsaRegisterLogonProcess(&s, &h, &mode), STATUS_OBJECT_NAME_NOT_FOUND);
        assert_int_equal(mode, 0);
        assert_int_equal(LsaRegisterLogonProcess(NULL, &h, &mode), STATUS_INVALID_PARAMETER);

        HANDLE fake = &s;
        ULONG id = 99;
        assert_int_equal(LsaLookupAuthenticationPackage(fake, &s, &id), STATUS_INVALID_HANDLE);
        assert_int_equal(LsaLookupAuthenticationPackage(NULL, &s, &id), STATUS_INVALID_HANDLE);

        ULONG msg = 1;
        PVOID ret = &msg;
        ULONG ret_len = 5;
        NTSTATUS proto = STATUS_SUCCESS;
        assert_int_equal(LsaCallAuthenticationPackage(fake, 0, &msg, sizeof(msg), &ret, &ret_len, &proto),
                         STATUS_INVALID_HANDLE);
        assert_null(ret);
        assert_int_equal(ret_len, 0);
        assert_int_equal(LsaCallAuthenticationPackage(NULL, 0, &msg, sizeof(msg), &ret, &ret_len, &proto),
                         STATUS_INVALID_HANDLE);

        assert_int_equal(LsaFreeReturnBuffer(NULL), STATUS_SUCCESS);
        assert_int_equal(LsaFreeReturnBuffer(&msg), STATUS_INVALID_PARAMETER);
        assert_int_equal(LsaDeregisterLogonProcess(fake), STATUS_INVALID_HANDLE);
        assert_int_equal(LsaDeregisterLogonProcess(NULL), STATUS_INVALID_HANDLE);
        PVOID base = &msg;
        ULONG size = 3;
        assert_int_equal(LsashmMapSection(fake, 1, &base, &size), STATUS_INVALID_HANDLE);
        assert_int_equal(LsashmMapFrozenSection(fake, 1, &base, &size), STATUS_INVALID_HANDLE);
        assert_int_equal(LsashmUnmapSection(&msg), STATUS_NOT_MAPPED_VIEW);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lsa_table_layout),
                cmocka_unit_test(test_package_table_layout),
                cmocka_unit_test(test_struct_layout),
                cmocka_unit_test(test_mock_package),
                cmocka_unit_test(test_ntstatus_values),
                cmocka_unit_test(test_client_arguments),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
