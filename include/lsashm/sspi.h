/* SPDX-License-Identifier: MIT */
/*
 * The SSPI names a security package and its clients use, as Windows' sspi.h
 * has them: handles, buffers, package information, the capability, request
 * and attribute flags, and the SEC_WINNT_AUTH_IDENTITY credentials. The
 * SECURITY_STATUS codes (SEC_E_*, SEC_I_*) are in lsashm/winerror.h, which
 * this header includes, as on Windows.
 *
 * Ports are Unicode builds: the W forms are the ones declared, and the
 * unsuffixed names (SecPkgInfo, SEC_WINNT_AUTH_IDENTITY) are those.
 *
 * The client-side SSPI functions (AcquireCredentialsHandleW,
 * InitializeSecurityContextW, ...) are not provided: lsashm routes clients
 * to packages through LsaCallAuthenticationPackage only.
 */
#ifndef LSASHM_SSPI_H
#define LSASHM_SSPI_H

#include "lsashm/wintypes.h"
#include "lsashm/winerror.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef WCHAR SEC_WCHAR;
typedef CHAR SEC_CHAR;
typedef LONG SECURITY_STATUS;

typedef struct _SecHandle {
        ULONG_PTR dwLower;
        ULONG_PTR dwUpper;
} SecHandle, *PSecHandle;
typedef SecHandle CredHandle, *PCredHandle;
typedef SecHandle CtxtHandle, *PCtxtHandle;

typedef LARGE_INTEGER _SECURITY_INTEGER, SECURITY_INTEGER, *PSECURITY_INTEGER;
typedef SECURITY_INTEGER TimeStamp, *PTimeStamp;
typedef UNICODE_STRING SECURITY_STRING, *PSECURITY_STRING;

typedef struct _SecBuffer {
        ULONG cbBuffer;
        ULONG BufferType;
        PVOID pvBuffer;
} SecBuffer, *PSecBuffer;

typedef struct _SecBufferDesc {
        ULONG ulVersion;
        ULONG cBuffers;
        PSecBuffer pBuffers;
} SecBufferDesc, *PSecBufferDesc;

typedef struct _SecPkgInfoW {
        ULONG fCapabilities;
        USHORT wVersion;
        USHORT wRPCID;
        ULONG cbMaxToken;
        SEC_WCHAR *Name;
        SEC_WCHAR *Comment;
} SecPkgInfoW, *PSecPkgInfoW;
/* Packages are built Unicode, as on Windows. */
typedef SecPkgInfoW SecPkgInfo, *PSecPkgInfo;

/* A handle no one holds: both halves all ones. */
#define SecInvalidateHandle(x) ((PSecHandle)(x))->dwLower = ((PSecHandle)(x))->dwUpper = ((ULONG_PTR)((INT_PTR)-1))
#define SecIsValidHandle(x)                                            \
        ((((PSecHandle)(x))->dwLower != ((ULONG_PTR)((INT_PTR)-1))) && \
         (((PSecHandle)(x))->dwUpper != ((ULONG_PTR)((INT_PTR)-1))))

/* SecPkgInfo.wRPCID of a package without an RPC identifier. */
#define SECPKG_ID_NONE 0xFFFF

/* The version of the SSPI dispatch a package's user-mode side reports. */
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION   1
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2 2
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_3 3
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_4 4
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_5 5

/* SecPkgInfo.fCapabilities */
#define SECPKG_FLAG_INTEGRITY                    0x00000001
#define SECPKG_FLAG_PRIVACY                      0x00000002
#define SECPKG_FLAG_TOKEN_ONLY                   0x00000004
#define SECPKG_FLAG_DATAGRAM                     0x00000008
#define SECPKG_FLAG_CONNECTION                   0x00000010
#define SECPKG_FLAG_MULTI_REQUIRED               0x00000020
#define SECPKG_FLAG_CLIENT_ONLY                  0x00000040
#define SECPKG_FLAG_EXTENDED_ERROR               0x00000080
#define SECPKG_FLAG_IMPERSONATION                0x00000100
#define SECPKG_FLAG_ACCEPT_WIN32_NAME            0x00000200
#define SECPKG_FLAG_STREAM                       0x00000400
#define SECPKG_FLAG_NEGOTIABLE                   0x00000800
#define SECPKG_FLAG_GSS_COMPATIBLE               0x00001000
#define SECPKG_FLAG_LOGON                        0x00002000
#define SECPKG_FLAG_ASCII_BUFFERS                0x00004000
#define SECPKG_FLAG_FRAGMENT                     0x00008000
#define SECPKG_FLAG_MUTUAL_AUTH                  0x00010000
#define SECPKG_FLAG_DELEGATION                   0x00020000
#define SECPKG_FLAG_READONLY_WITH_CHECKSUM       0x00040000
#define SECPKG_FLAG_RESTRICTED_TOKENS            0x00080000
#define SECPKG_FLAG_NEGO_EXTENDER                0x00100000
#define SECPKG_FLAG_NEGOTIABLE2                  0x00200000
#define SECPKG_FLAG_APPCONTAINER_PASSTHROUGH     0x00400000
#define SECPKG_FLAG_APPCONTAINER_CHECKS          0x00800000
#define SECPKG_FLAG_CREDENTIAL_ISOLATION_ENABLED 0x01000000
#define SECPKG_FLAG_APPLY_LOOPBACK               0x02000000

/* SecBufferDesc.ulVersion, and SecBuffer.BufferType (a type, plus attribute bits) */
#define SECBUFFER_VERSION                0
#define SECBUFFER_EMPTY                  0
#define SECBUFFER_DATA                   1
#define SECBUFFER_TOKEN                  2
#define SECBUFFER_PKG_PARAMS             3
#define SECBUFFER_MISSING                4
#define SECBUFFER_EXTRA                  5
#define SECBUFFER_STREAM_TRAILER         6
#define SECBUFFER_STREAM_HEADER          7
#define SECBUFFER_NEGOTIATION_INFO       8
#define SECBUFFER_PADDING                9
#define SECBUFFER_STREAM                 10
#define SECBUFFER_MECHLIST               11
#define SECBUFFER_MECHLIST_SIGNATURE     12
#define SECBUFFER_TARGET                 13
#define SECBUFFER_CHANNEL_BINDINGS       14
#define SECBUFFER_CHANGE_PASS_RESPONSE   15
#define SECBUFFER_TARGET_HOST            16
#define SECBUFFER_ALERT                  17
#define SECBUFFER_ATTRMASK               0xF0000000
#define SECBUFFER_READONLY               0x80000000
#define SECBUFFER_READONLY_WITH_CHECKSUM 0x10000000
#define SECBUFFER_RESERVED               0x60000000

/* Data representation, for InitializeSecurityContext and AcceptSecurityContext */
#define SECURITY_NATIVE_DREP  0x00000010
#define SECURITY_NETWORK_DREP 0x00000000

/* CredentialUseFlags of AcquireCredentialsHandle */
#define SECPKG_CRED_INBOUND              0x00000001
#define SECPKG_CRED_OUTBOUND             0x00000002
#define SECPKG_CRED_BOTH                 0x00000003
#define SECPKG_CRED_DEFAULT              0x00000004
#define SECPKG_CRED_RESERVED             0xF0000000
#define SECPKG_CRED_AUTOLOGON_RESTRICTED 0x00000010
#define SECPKG_CRED_PROCESS_POLICY_ONLY  0x00000020

/* Context requirements a client asks for (InitializeSecurityContext) and gets */
#define ISC_REQ_DELEGATE               0x00000001
#define ISC_REQ_MUTUAL_AUTH            0x00000002
#define ISC_REQ_REPLAY_DETECT          0x00000004
#define ISC_REQ_SEQUENCE_DETECT        0x00000008
#define ISC_REQ_CONFIDENTIALITY        0x00000010
#define ISC_REQ_USE_SESSION_KEY        0x00000020
#define ISC_REQ_PROMPT_FOR_CREDS       0x00000040
#define ISC_REQ_USE_SUPPLIED_CREDS     0x00000080
#define ISC_REQ_ALLOCATE_MEMORY        0x00000100
#define ISC_REQ_USE_DCE_STYLE          0x00000200
#define ISC_REQ_DATAGRAM               0x00000400
#define ISC_REQ_CONNECTION             0x00000800
#define ISC_REQ_CALL_LEVEL             0x00001000
#define ISC_REQ_FRAGMENT_SUPPLIED      0x00002000
#define ISC_REQ_EXTENDED_ERROR         0x00004000
#define ISC_REQ_STREAM                 0x00008000
#define ISC_REQ_INTEGRITY              0x00010000
#define ISC_REQ_IDENTIFY               0x00020000
#define ISC_REQ_NULL_SESSION           0x00040000
#define ISC_REQ_MANUAL_CRED_VALIDATION 0x00080000
#define ISC_REQ_RESERVED1              0x00100000
#define ISC_REQ_FRAGMENT_TO_FIT        0x00200000

#define ISC_RET_DELEGATE               0x00000001
#define ISC_RET_MUTUAL_AUTH            0x00000002
#define ISC_RET_REPLAY_DETECT          0x00000004
#define ISC_RET_SEQUENCE_DETECT        0x00000008
#define ISC_RET_CONFIDENTIALITY        0x00000010
#define ISC_RET_USE_SESSION_KEY        0x00000020
#define ISC_RET_USED_COLLECTED_CREDS   0x00000040
#define ISC_RET_USED_SUPPLIED_CREDS    0x00000080
#define ISC_RET_ALLOCATED_MEMORY       0x00000100
#define ISC_RET_USED_DCE_STYLE         0x00000200
#define ISC_RET_DATAGRAM               0x00000400
#define ISC_RET_CONNECTION             0x00000800
#define ISC_RET_INTERMEDIATE_RETURN    0x00001000
#define ISC_RET_CALL_LEVEL             0x00002000
#define ISC_RET_EXTENDED_ERROR         0x00004000
#define ISC_RET_STREAM                 0x00008000
#define ISC_RET_INTEGRITY              0x00010000
#define ISC_RET_IDENTIFY               0x00020000
#define ISC_RET_NULL_SESSION           0x00040000
#define ISC_RET_MANUAL_CRED_VALIDATION 0x00080000
#define ISC_RET_RESERVED1              0x00100000
#define ISC_RET_FRAGMENT_ONLY          0x00200000

/* Context requirements a server asks for (AcceptSecurityContext) and gets */
#define ASC_REQ_DELEGATE              0x00000001
#define ASC_REQ_MUTUAL_AUTH           0x00000002
#define ASC_REQ_REPLAY_DETECT         0x00000004
#define ASC_REQ_SEQUENCE_DETECT       0x00000008
#define ASC_REQ_CONFIDENTIALITY       0x00000010
#define ASC_REQ_USE_SESSION_KEY       0x00000020
#define ASC_REQ_ALLOCATE_MEMORY       0x00000100
#define ASC_REQ_USE_DCE_STYLE         0x00000200
#define ASC_REQ_DATAGRAM              0x00000400
#define ASC_REQ_CONNECTION            0x00000800
#define ASC_REQ_CALL_LEVEL            0x00001000
#define ASC_REQ_FRAGMENT_SUPPLIED     0x00002000
#define ASC_REQ_EXTENDED_ERROR        0x00008000
#define ASC_REQ_STREAM                0x00010000
#define ASC_REQ_INTEGRITY             0x00020000
#define ASC_REQ_LICENSING             0x00040000
#define ASC_REQ_IDENTIFY              0x00080000
#define ASC_REQ_ALLOW_NULL_SESSION    0x00100000
#define ASC_REQ_ALLOW_NON_USER_LOGONS 0x00200000
#define ASC_REQ_ALLOW_CONTEXT_REPLAY  0x00400000
#define ASC_REQ_FRAGMENT_TO_FIT       0x00800000
#define ASC_REQ_NO_TOKEN              0x01000000

#define ASC_RET_DELEGATE              0x00000001
#define ASC_RET_MUTUAL_AUTH           0x00000002
#define ASC_RET_REPLAY_DETECT         0x00000004
#define ASC_RET_SEQUENCE_DETECT       0x00000008
#define ASC_RET_CONFIDENTIALITY       0x00000010
#define ASC_RET_USE_SESSION_KEY       0x00000020
#define ASC_RET_ALLOCATED_MEMORY      0x00000100
#define ASC_RET_USED_DCE_STYLE        0x00000200
#define ASC_RET_DATAGRAM              0x00000400
#define ASC_RET_CONNECTION            0x00000800
#define ASC_RET_CALL_LEVEL            0x00002000
#define ASC_RET_THIRD_LEG_FAILED      0x00004000
#define ASC_RET_EXTENDED_ERROR        0x00008000
#define ASC_RET_STREAM                0x00010000
#define ASC_RET_INTEGRITY             0x00020000
#define ASC_RET_LICENSING             0x00040000
#define ASC_RET_IDENTIFY              0x00080000
#define ASC_RET_NULL_SESSION          0x00100000
#define ASC_RET_ALLOW_NON_USER_LOGONS 0x00200000
#define ASC_RET_FRAGMENT_ONLY         0x00800000
#define ASC_RET_NO_TOKEN              0x01000000

/* QueryContextAttributes: the attribute asked for */
#define SECPKG_ATTR_SIZES              0
#define SECPKG_ATTR_NAMES              1
#define SECPKG_ATTR_LIFESPAN           2
#define SECPKG_ATTR_DCE_INFO           3
#define SECPKG_ATTR_STREAM_SIZES       4
#define SECPKG_ATTR_KEY_INFO           5
#define SECPKG_ATTR_AUTHORITY          6
#define SECPKG_ATTR_PROTO_INFO         7
#define SECPKG_ATTR_PASSWORD_EXPIRY    8
#define SECPKG_ATTR_SESSION_KEY        9
#define SECPKG_ATTR_PACKAGE_INFO       10
#define SECPKG_ATTR_USER_FLAGS         11
#define SECPKG_ATTR_NEGOTIATION_INFO   12
#define SECPKG_ATTR_NATIVE_NAMES       13
#define SECPKG_ATTR_FLAGS              14
#define SECPKG_ATTR_USE_VALIDATED      15
#define SECPKG_ATTR_CREDENTIAL_NAME    16
#define SECPKG_ATTR_TARGET_INFORMATION 17
#define SECPKG_ATTR_ACCESS_TOKEN       18
#define SECPKG_ATTR_TARGET             19
#define SECPKG_ATTR_AUTHENTICATION_ID  20
#define SECPKG_ATTR_LOGOFF_TIME        21

typedef struct _SecPkgContext_Sizes {
        ULONG cbMaxToken;
        ULONG cbMaxSignature;
        ULONG cbBlockSize;
        ULONG cbSecurityTrailer;
} SecPkgContext_Sizes, *PSecPkgContext_Sizes;

typedef struct _SecPkgContext_StreamSizes {
        ULONG cbHeader;
        ULONG cbTrailer;
        ULONG cbMaximumMessage;
        ULONG cBuffers;
        ULONG cbBlockSize;
} SecPkgContext_StreamSizes, *PSecPkgContext_StreamSizes;

typedef struct _SecPkgContext_NamesW {
        SEC_WCHAR *sUserName;
} SecPkgContext_NamesW, *PSecPkgContext_NamesW, SecPkgContext_Names, *PSecPkgContext_Names;

typedef struct _SecPkgContext_Lifespan {
        TimeStamp tsStart;
        TimeStamp tsExpiry;
} SecPkgContext_Lifespan, *PSecPkgContext_Lifespan;

typedef struct _SecPkgContext_AuthorityW {
        SEC_WCHAR *sAuthorityName;
} SecPkgContext_AuthorityW, *PSecPkgContext_AuthorityW, SecPkgContext_Authority, *PSecPkgContext_Authority;

typedef struct _SecPkgContext_SessionKey {
        ULONG SessionKeyLength;
        unsigned char *SessionKey;
} SecPkgContext_SessionKey, *PSecPkgContext_SessionKey;

typedef struct _SecPkgContext_Flags {
        ULONG Flags;
} SecPkgContext_Flags, *PSecPkgContext_Flags;

typedef struct _SecPkgContext_PackageInfoW {
        PSecPkgInfoW PackageInfo;
} SecPkgContext_PackageInfoW, *PSecPkgContext_PackageInfoW, SecPkgContext_PackageInfo, *PSecPkgContext_PackageInfo;

typedef struct _SecPkgContext_AccessToken {
        void *AccessToken;
} SecPkgContext_AccessToken, *PSecPkgContext_AccessToken;

/* QueryCredentialsAttributes */
#define SECPKG_CRED_ATTR_NAMES 1

typedef struct _SecPkgCredentials_NamesW {
        SEC_WCHAR *sUserName;
} SecPkgCredentials_NamesW, *PSecPkgCredentials_NamesW, SecPkgCredentials_Names, *PSecPkgCredentials_Names;

/* A message-protection quality of protection: sign only, do not encrypt. */
#define SECQOP_WRAP_NO_ENCRYPT 0x80000001

/* Explicit credentials for AcquireCredentialsHandle. Lengths are in
 * characters, without the terminating NUL; Flags says which kind of string
 * the pointers hold. As in the SDK, the Unicode strings are typed
 * unsigned short (the same type as WCHAR in C; C++ needs a cast). */
#define SEC_WINNT_AUTH_IDENTITY_ANSI    0x1
#define SEC_WINNT_AUTH_IDENTITY_UNICODE 0x2

typedef struct _SEC_WINNT_AUTH_IDENTITY_W {
        unsigned short *User;
        ULONG UserLength;
        unsigned short *Domain;
        ULONG DomainLength;
        unsigned short *Password;
        ULONG PasswordLength;
        ULONG Flags;
} SEC_WINNT_AUTH_IDENTITY_W, *PSEC_WINNT_AUTH_IDENTITY_W;

typedef struct _SEC_WINNT_AUTH_IDENTITY_A {
        unsigned char *User;
        ULONG UserLength;
        unsigned char *Domain;
        ULONG DomainLength;
        unsigned char *Password;
        ULONG PasswordLength;
        ULONG Flags;
} SEC_WINNT_AUTH_IDENTITY_A, *PSEC_WINNT_AUTH_IDENTITY_A;

typedef SEC_WINNT_AUTH_IDENTITY_W SEC_WINNT_AUTH_IDENTITY, *PSEC_WINNT_AUTH_IDENTITY;

#ifdef __cplusplus
}
#endif

#endif
