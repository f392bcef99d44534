/* SPDX-License-Identifier: MIT */
/*
 * The message and profile names of Windows' two built-in authentication
 * packages, MSV1_0 (NTLM) and Kerberos, as ntsecapi.h declares them: a
 * client that talks to them, or a package that speaks their protocol, finds
 * them here. lsashm ships neither package; these are the wire names only.
 * Included by lsashm/ntsecapi.h (which declares the logon submit types).
 */
#ifndef LSASHM_NTSECAPI_MSV1_0_KERB_H
#define LSASHM_NTSECAPI_MSV1_0_KERB_H

#include "lsashm/wintypes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- MSV1_0 ---- */

#define MSV1_0_PACKAGE_NAME  "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0"
#define MSV1_0_PACKAGE_NAMEW u"MICROSOFT_AUTHENTICATION_PACKAGE_V1_0"

#define MSV1_0_CHALLENGE_LENGTH          8
#define MSV1_0_USER_SESSION_KEY_LENGTH   16
#define MSV1_0_LANMAN_SESSION_KEY_LENGTH 8

/* The first ULONG of a message to MSV1_0 (LsaCallAuthenticationPackage). */
typedef enum _MSV1_0_PROTOCOL_MESSAGE_TYPE {
        MsV1_0Lm20ChallengeRequest = 0,
        MsV1_0Lm20GetChallengeResponse,
        MsV1_0EnumerateUsers,
        MsV1_0GetUserInfo,
        MsV1_0ReLogonUsers,
        MsV1_0ChangePassword,
        MsV1_0ChangeCachedPassword,
        MsV1_0GenericPassthrough,
        MsV1_0CacheLogon,
        MsV1_0SubAuth,
        MsV1_0DeriveCredential,
        MsV1_0CacheLookup,
        MsV1_0SetProcessOption,
        MsV1_0ConfigLocalAliases,
        MsV1_0ClearCachedCredentials,
        MsV1_0LookupToken,
        MsV1_0ValidateAuth,
        MsV1_0CacheLookupEx,
        MsV1_0GetCredentialKey,
        MsV1_0SetThreadOption,
        MsV1_0DecryptDpapiMasterKey,
        MsV1_0GetStrongCredentialKey,
        MsV1_0TransferCred,
        MsV1_0ProvisionTbal,
        MsV1_0DeleteTbalSecrets
} MSV1_0_PROTOCOL_MESSAGE_TYPE, *PMSV1_0_PROTOCOL_MESSAGE_TYPE;

/* The first member of the profile buffer a logon returns. */
typedef enum _MSV1_0_PROFILE_BUFFER_TYPE {
        MsV1_0InteractiveProfile = 2,
        MsV1_0Lm20LogonProfile,
        MsV1_0SmartCardProfile
} MSV1_0_PROFILE_BUFFER_TYPE, *PMSV1_0_PROFILE_BUFFER_TYPE;

typedef struct _MSV1_0_INTERACTIVE_PROFILE {
        MSV1_0_PROFILE_BUFFER_TYPE MessageType;
        USHORT LogonCount;
        USHORT BadPasswordCount;
        LARGE_INTEGER LogonTime;
        LARGE_INTEGER LogoffTime;
        LARGE_INTEGER KickOffTime;
        LARGE_INTEGER PasswordLastSet;
        LARGE_INTEGER PasswordCanChange;
        LARGE_INTEGER PasswordMustChange;
        UNICODE_STRING LogonScript;
        UNICODE_STRING HomeDirectory;
        UNICODE_STRING FullName;
        UNICODE_STRING ProfilePath;
        UNICODE_STRING HomeDirectoryDrive;
        UNICODE_STRING LogonServer;
        ULONG UserFlags;
} MSV1_0_INTERACTIVE_PROFILE, *PMSV1_0_INTERACTIVE_PROFILE;

/* A domain's password policy, as a password change reports it. */
typedef struct _DOMAIN_PASSWORD_INFORMATION {
        USHORT MinPasswordLength;
        USHORT PasswordHistoryLength;
        ULONG PasswordProperties;
        LARGE_INTEGER MaxPasswordAge;
        LARGE_INTEGER MinPasswordAge;
} DOMAIN_PASSWORD_INFORMATION, *PDOMAIN_PASSWORD_INFORMATION;

typedef struct _MSV1_0_CHANGEPASSWORD_REQUEST {
        MSV1_0_PROTOCOL_MESSAGE_TYPE MessageType; /* MsV1_0ChangePassword */
        UNICODE_STRING DomainName;
        UNICODE_STRING AccountName;
        UNICODE_STRING OldPassword;
        UNICODE_STRING NewPassword;
        BOOLEAN Impersonating;
} MSV1_0_CHANGEPASSWORD_REQUEST, *PMSV1_0_CHANGEPASSWORD_REQUEST;

typedef struct _MSV1_0_CHANGEPASSWORD_RESPONSE {
        MSV1_0_PROTOCOL_MESSAGE_TYPE MessageType;
        BOOLEAN PasswordInfoValid;
        DOMAIN_PASSWORD_INFORMATION DomainPasswordInfo;
} MSV1_0_CHANGEPASSWORD_RESPONSE, *PMSV1_0_CHANGEPASSWORD_RESPONSE;

/* ---- Kerberos ---- */

#define MICROSOFT_KERBEROS_NAME_A "Kerberos"
#define MICROSOFT_KERBEROS_NAME_W u"Kerberos"
#define MICROSOFT_KERBEROS_NAME   MICROSOFT_KERBEROS_NAME_W

/* The first ULONG of a message to Kerberos. */
typedef enum _KERB_PROTOCOL_MESSAGE_TYPE {
        KerbDebugRequestMessage = 0,
        KerbQueryTicketCacheMessage,
        KerbChangeMachinePasswordMessage,
        KerbVerifyPacMessage,
        KerbRetrieveTicketMessage,
        KerbUpdateAddressesMessage,
        KerbPurgeTicketCacheMessage,
        KerbChangePasswordMessage,
        KerbRetrieveEncodedTicketMessage,
        KerbDecryptDataMessage,
        KerbAddBindingCacheEntryMessage,
        KerbSetPasswordMessage,
        KerbSetPasswordExMessage,
        KerbVerifyCredentialsMessage,
        KerbQueryTicketCacheExMessage,
        KerbPurgeTicketCacheExMessage,
        KerbRefreshSmartcardCredentialsMessage,
        KerbAddExtraCredentialsMessage,
        KerbQuerySupplementalCredentialsMessage,
        KerbTransferCredentialsMessage,
        KerbQueryTicketCacheEx2Message,
        KerbSubmitTicketMessage,
        KerbAddExtraCredentialsExMessage,
        KerbQueryKdcProxyCacheMessage,
        KerbPurgeKdcProxyCacheMessage,
        KerbQueryTicketCacheEx3Message,
        KerbCleanupMachinePkinitCredsMessage,
        KerbAddBindingCacheEntryExMessage,
        KerbQueryBindingCacheMessage,
        KerbPurgeBindingCacheMessage,
        KerbPinKdcMessage,
        KerbUnpinAllKdcsMessage,
        KerbQueryDomainExtendedPoliciesMessage,
        KerbQueryS4U2ProxyCacheMessage,
        KerbRetrieveKeyTabMessage,
        KerbRefreshPolicyMessage,
        KerbPrintCloudKerberosDebugMessage
} KERB_PROTOCOL_MESSAGE_TYPE, *PKERB_PROTOCOL_MESSAGE_TYPE;

typedef enum _KERB_PROFILE_BUFFER_TYPE {
        KerbInteractiveProfile = 2,
        KerbSmartCardProfile = 4,
        KerbTicketProfile = 6
} KERB_PROFILE_BUFFER_TYPE, *PKERB_PROFILE_BUFFER_TYPE;

typedef struct _KERB_INTERACTIVE_PROFILE {
        KERB_PROFILE_BUFFER_TYPE MessageType;
        USHORT LogonCount;
        USHORT BadPasswordCount;
        LARGE_INTEGER LogonTime;
        LARGE_INTEGER LogoffTime;
        LARGE_INTEGER KickOffTime;
        LARGE_INTEGER PasswordLastSet;
        LARGE_INTEGER PasswordCanChange;
        LARGE_INTEGER PasswordMustChange;
        UNICODE_STRING LogonScript;
        UNICODE_STRING HomeDirectory;
        UNICODE_STRING FullName;
        UNICODE_STRING ProfilePath;
        UNICODE_STRING HomeDirectoryDrive;
        UNICODE_STRING LogonServer;
        ULONG UserFlags;
} KERB_INTERACTIVE_PROFILE, *PKERB_INTERACTIVE_PROFILE;

typedef struct _KERB_QUERY_TKT_CACHE_REQUEST {
        KERB_PROTOCOL_MESSAGE_TYPE MessageType;
        LUID LogonId;
} KERB_QUERY_TKT_CACHE_REQUEST, *PKERB_QUERY_TKT_CACHE_REQUEST;

typedef struct _KERB_PURGE_TKT_CACHE_REQUEST {
        KERB_PROTOCOL_MESSAGE_TYPE MessageType;
        LUID LogonId;
        UNICODE_STRING ServerName;
        UNICODE_STRING RealmName;
} KERB_PURGE_TKT_CACHE_REQUEST, *PKERB_PURGE_TKT_CACHE_REQUEST;

typedef struct _KERB_CHANGEPASSWORD_REQUEST {
        KERB_PROTOCOL_MESSAGE_TYPE MessageType; /* KerbChangePasswordMessage */
        UNICODE_STRING DomainName;
        UNICODE_STRING AccountName;
        UNICODE_STRING OldPassword;
        UNICODE_STRING NewPassword;
        BOOLEAN Impersonating;
} KERB_CHANGEPASSWORD_REQUEST, *PKERB_CHANGEPASSWORD_REQUEST;

#if UINTPTR_MAX == UINT64_MAX
LSASHM_STATIC_ASSERT(sizeof(MSV1_0_INTERACTIVE_PROFILE) == 160, "MSV1_0_INTERACTIVE_PROFILE is 160 bytes on x64");
LSASHM_STATIC_ASSERT(sizeof(KERB_PURGE_TKT_CACHE_REQUEST) == 48, "KERB_PURGE_TKT_CACHE_REQUEST is 48 bytes on x64");
#endif

#ifdef __cplusplus
}
#endif

#endif
