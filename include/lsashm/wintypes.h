/* SPDX-License-Identifier: MIT */
/*
 * The Windows base types that lsashm's Windows-compatible headers use, with
 * Windows' widths on LP64 Linux: ULONG and DWORD are 32 bits (Windows is
 * LLP64), WCHAR is a 16-bit UTF-16 code unit (char16_t, not wchar_t), and the
 * calling-convention macros are empty because packages are native ELF code.
 */
#ifndef LSASHM_WINTYPES_H
#define LSASHM_WINTYPES_H

#include <stddef.h>
#include <stdint.h>
#ifndef __cplusplus
#include <uchar.h>
#endif

#ifndef NTAPI
#define NTAPI
#endif
#ifndef WINAPI
#define WINAPI
#endif
#ifndef SEC_ENTRY
#define SEC_ENTRY
#endif

#ifndef VOID
#define VOID void
#endif

typedef void *PVOID;
typedef void *HANDLE;
typedef HANDLE *PHANDLE;

typedef uint8_t UCHAR, *PUCHAR;
typedef uint8_t BOOLEAN, *PBOOLEAN;
typedef char CHAR, *PCHAR, CCHAR;
typedef uint16_t USHORT, *PUSHORT, WORD, *PWORD, *LPWORD;
typedef int16_t SHORT, *PSHORT;
typedef uint32_t ULONG, *PULONG;
typedef int32_t LONG, *PLONG;
typedef uint32_t DWORD, *PDWORD, *LPDWORD;
typedef int INT, *PINT;
typedef unsigned int UINT, *PUINT;
/* Win32's BOOL is an int (BOOLEAN, the NT one, a byte). */
typedef int BOOL, *PBOOL, *LPBOOL;
/* long long, as Windows' __int64: the same 64 bits as int64_t, but a distinct
 * type to printf ("%llu") and to C++ overloads. */
typedef long long LONGLONG, *PLONGLONG, LONG64, *PLONG64, INT64, *PINT64;
typedef unsigned long long ULONGLONG, *PULONGLONG, ULONG64, *PULONG64, DWORD64, *PDWORD64, DWORDLONG, UINT64, *PUINT64;
typedef int8_t INT8;
typedef uint8_t UINT8;
typedef int16_t INT16;
typedef uint16_t UINT16;
typedef int32_t INT32, LONG32;
typedef uint32_t UINT32, ULONG32, DWORD32;
typedef uintptr_t ULONG_PTR, *PULONG_PTR, UINT_PTR, DWORD_PTR;
typedef intptr_t LONG_PTR, INT_PTR;
typedef size_t SIZE_T, *PSIZE_T;
typedef ptrdiff_t SSIZE_T;
typedef char16_t WCHAR;
typedef WCHAR *PWCHAR, *PWSTR, *LPWCH, *PWCH;
typedef LONG NTSTATUS, *PNTSTATUS;
typedef LONG HRESULT;
typedef uint8_t BYTE, *PBYTE, *LPBYTE;
typedef void *LPVOID;
typedef const void *LPCVOID;
typedef CHAR *PSTR, *LPSTR;
typedef const CHAR *PCSTR, *LPCSTR, *PCCH;
typedef WCHAR *LPWSTR;
typedef const WCHAR *PCWSTR, *LPCWSTR, *PCWCH, *LPCWCH;
/* Ports are Unicode builds, as Windows packages are: TCHAR is WCHAR and
 * TEXT("x") (lsashm/winnt.h) a WCHAR string. */
typedef WCHAR TCHAR, *PTCHAR;
typedef WCHAR *PTSTR, *LPTSTR;
typedef const WCHAR *PCTSTR, *LPCTSTR;

/* A locally unique identifier: 64 bits as two 32-bit halves. */
typedef struct _LUID {
        ULONG LowPart;
        LONG HighPart;
} LUID, *PLUID;

/* A 64-bit integer, also reachable as two 32-bit halves (little-endian, as
 * on every Windows target): LowPart and HighPart directly, as in the SDK (an
 * anonymous struct, which C11 allows), or through u. */
typedef union _LARGE_INTEGER {
        struct {
                ULONG LowPart;
                LONG HighPart;
        };
        struct {
                ULONG LowPart;
                LONG HighPart;
        } u;
        LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
        struct {
                ULONG LowPart;
                ULONG HighPart;
        };
        struct {
                ULONG LowPart;
                ULONG HighPart;
        } u;
        ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

typedef struct _FILETIME {
        DWORD dwLowDateTime;
        DWORD dwHighDateTime;
} FILETIME, *PFILETIME, *LPFILETIME;

typedef struct _GUID {
        ULONG Data1;
        USHORT Data2;
        USHORT Data3;
        UCHAR Data4[8];
} GUID, *PGUID;

/* Counted strings: Length and MaximumLength are in bytes, and Buffer need not
 * be NUL-terminated. */
typedef struct _UNICODE_STRING {
        USHORT Length;
        USHORT MaximumLength;
        PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

typedef struct _STRING {
        USHORT Length;
        USHORT MaximumLength;
        PCHAR Buffer;
} STRING, *PSTRING, ANSI_STRING, *PANSI_STRING;

typedef STRING LSA_STRING, *PLSA_STRING;
typedef UNICODE_STRING LSA_UNICODE_STRING, *PLSA_UNICODE_STRING;
typedef STRING OEM_STRING, *POEM_STRING;
typedef const STRING *PCSTRING, *PCANSI_STRING;

/* Security identifiers are variable-length records; packages only pass them
 * through, so a SID is reached by an untyped pointer. */
typedef PVOID PSID;

typedef enum _SECURITY_IMPERSONATION_LEVEL {
        SecurityAnonymous,
        SecurityIdentification,
        SecurityImpersonation,
        SecurityDelegation
} SECURITY_IMPERSONATION_LEVEL, *PSECURITY_IMPERSONATION_LEVEL;

/* Windows structures that lsashm's prototypes name but never look into. */
typedef struct _SECURITY_ATTRIBUTES SECURITY_ATTRIBUTES, *PSECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

/* ---- Tokens: what a logon produces (winnt.h's layouts) ----
 * A SID is S-R-A-S1-...-Sn: revision 1, a 48-bit authority, at most 15
 * 32-bit sub-authorities, 8 + 4n bytes. */
#define SID_REVISION 1
#define SID_MAX_SUB_AUTHORITIES 15
#define SECURITY_MAX_SID_SIZE (8 + 4 * SID_MAX_SUB_AUTHORITIES)
#define ANYSIZE_ARRAY 1

typedef struct _SID_IDENTIFIER_AUTHORITY {
        BYTE Value[6];
} SID_IDENTIFIER_AUTHORITY, *PSID_IDENTIFIER_AUTHORITY;

typedef struct _SID {
        BYTE Revision;
        BYTE SubAuthorityCount;
        SID_IDENTIFIER_AUTHORITY IdentifierAuthority;
        DWORD SubAuthority[ANYSIZE_ARRAY];
} SID, *PISID;

typedef struct _SID_AND_ATTRIBUTES {
        PSID Sid;
        DWORD Attributes;
} SID_AND_ATTRIBUTES, *PSID_AND_ATTRIBUTES;

/* SID_AND_ATTRIBUTES.Attributes of a group */
#define SE_GROUP_MANDATORY          0x00000001L
#define SE_GROUP_ENABLED_BY_DEFAULT 0x00000002L
#define SE_GROUP_ENABLED            0x00000004L
#define SE_GROUP_OWNER              0x00000008L
#define SE_GROUP_LOGON_ID           0xC0000000L

typedef struct _TOKEN_GROUPS {
        DWORD GroupCount;
        SID_AND_ATTRIBUTES Groups[ANYSIZE_ARRAY];
} TOKEN_GROUPS, *PTOKEN_GROUPS;

typedef struct _TOKEN_USER {
        SID_AND_ATTRIBUTES User;
} TOKEN_USER, *PTOKEN_USER;

typedef struct _TOKEN_OWNER {
        PSID Owner;
} TOKEN_OWNER, *PTOKEN_OWNER;

typedef struct _TOKEN_PRIMARY_GROUP {
        PSID PrimaryGroup;
} TOKEN_PRIMARY_GROUP, *PTOKEN_PRIMARY_GROUP;

typedef struct _LUID_AND_ATTRIBUTES {
        LUID Luid;
        DWORD Attributes;
} LUID_AND_ATTRIBUTES, *PLUID_AND_ATTRIBUTES;

typedef struct _TOKEN_PRIVILEGES {
        DWORD PrivilegeCount;
        LUID_AND_ATTRIBUTES Privileges[ANYSIZE_ARRAY];
} TOKEN_PRIVILEGES, *PTOKEN_PRIVILEGES;

/* An access control list's header; its AclSize bytes hold the ACEs. */
typedef struct _ACL {
        BYTE AclRevision;
        BYTE Sbz1;
        USHORT AclSize;
        USHORT AceCount;
        USHORT Sbz2;
} ACL, *PACL;

typedef struct _TOKEN_DEFAULT_DACL {
        PACL DefaultDacl;
} TOKEN_DEFAULT_DACL, *PTOKEN_DEFAULT_DACL;

#define TOKEN_SOURCE_LENGTH 8
typedef struct _TOKEN_SOURCE {
        CHAR SourceName[TOKEN_SOURCE_LENGTH];
        LUID SourceIdentifier;
} TOKEN_SOURCE, *PTOKEN_SOURCE;

typedef enum _TOKEN_TYPE { TokenPrimary = 1, TokenImpersonation } TOKEN_TYPE, *PTOKEN_TYPE;

typedef struct _TOKEN_STATISTICS {
        LUID TokenId;
        LUID AuthenticationId; /* the logon session */
        LARGE_INTEGER ExpirationTime;
        TOKEN_TYPE TokenType;
        SECURITY_IMPERSONATION_LEVEL ImpersonationLevel;
        DWORD DynamicCharged;
        DWORD DynamicAvailable;
        DWORD GroupCount;
        DWORD PrivilegeCount;
        LUID ModifiedId;
} TOKEN_STATISTICS, *PTOKEN_STATISTICS;

typedef struct _TOKEN_ORIGIN {
        LUID OriginatingLogonSession;
} TOKEN_ORIGIN, *PTOKEN_ORIGIN;

/* The classes NtQueryInformationToken answers are listed in ntsecapi.h; the
 * numbering is Windows'. */
typedef enum _TOKEN_INFORMATION_CLASS {
        TokenUser = 1,
        TokenGroups,
        TokenPrivileges,
        TokenOwner,
        TokenPrimaryGroup,
        TokenDefaultDacl,
        TokenSource,
        TokenType,
        TokenImpersonationLevel,
        TokenStatistics,
        TokenRestrictedSids,
        TokenSessionId,
        TokenGroupsAndPrivileges,
        TokenSessionReference,
        TokenSandBoxInert,
        TokenAuditPolicy,
        TokenOrigin,
} TOKEN_INFORMATION_CLASS, *PTOKEN_INFORMATION_CLASS;

typedef struct _QUOTA_LIMITS {
        SIZE_T PagedPoolLimit;
        SIZE_T NonPagedPoolLimit;
        SIZE_T MinimumWorkingSetSize;
        SIZE_T MaximumWorkingSetSize;
        SIZE_T PagefileLimit;
        LARGE_INTEGER TimeLimit;
} QUOTA_LIMITS, *PQUOTA_LIMITS;
/* ---- end of tokens ---- */

typedef DWORD (WINAPI *PTHREAD_START_ROUTINE)(LPVOID lpThreadParameter);
typedef PTHREAD_START_ROUTINE LPTHREAD_START_ROUTINE;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

/* NTSTATUS: severity in the top two bits, so every error is negative. The
 * codes themselves are in lsashm/ntstatus.h. */
#define NT_SUCCESS(Status)     (((NTSTATUS)(Status)) >= 0)
#define NT_INFORMATION(Status) ((((ULONG)(Status)) >> 30) == 1)
#define NT_WARNING(Status)     ((((ULONG)(Status)) >> 30) == 2)
#define NT_ERROR(Status)       ((((ULONG)(Status)) >> 30) == 3)

#ifdef __cplusplus
#define LSASHM_STATIC_ASSERT static_assert
#else
#define LSASHM_STATIC_ASSERT _Static_assert
#endif

/* Windows' widths, whatever the Linux data model: a package that stores these
 * in files or messages must see the sizes it was written for. */
LSASHM_STATIC_ASSERT(sizeof(ULONG) == 4, "ULONG is 32-bit");
LSASHM_STATIC_ASSERT(sizeof(DWORD) == 4, "DWORD is 32-bit");
LSASHM_STATIC_ASSERT(sizeof(LONG) == 4, "LONG is 32-bit");
LSASHM_STATIC_ASSERT(sizeof(NTSTATUS) == 4, "NTSTATUS is 32-bit");
LSASHM_STATIC_ASSERT((NTSTATUS)-1 < 0, "NTSTATUS is signed");
LSASHM_STATIC_ASSERT(sizeof(BOOLEAN) == 1, "BOOLEAN is 8-bit");
LSASHM_STATIC_ASSERT(sizeof(USHORT) == 2, "USHORT is 16-bit");
LSASHM_STATIC_ASSERT(sizeof(WCHAR) == 2, "WCHAR is a 16-bit UTF-16 unit");
LSASHM_STATIC_ASSERT(sizeof(ULONGLONG) == 8, "ULONGLONG is 64-bit");
LSASHM_STATIC_ASSERT(sizeof(PVOID) == sizeof(void *), "PVOID is a pointer");
LSASHM_STATIC_ASSERT(sizeof(HANDLE) == sizeof(void *), "HANDLE is a pointer");
LSASHM_STATIC_ASSERT(sizeof(ULONG_PTR) == sizeof(void *), "ULONG_PTR holds a pointer");
LSASHM_STATIC_ASSERT(sizeof(LUID) == 8, "LUID is 64-bit");
LSASHM_STATIC_ASSERT(sizeof(LARGE_INTEGER) == 8, "LARGE_INTEGER is 64-bit");
LSASHM_STATIC_ASSERT(offsetof(LARGE_INTEGER, HighPart) == 4, "LARGE_INTEGER.HighPart is the high half");
LSASHM_STATIC_ASSERT(sizeof(ULARGE_INTEGER) == 8, "ULARGE_INTEGER is 64-bit");
LSASHM_STATIC_ASSERT(sizeof(LONGLONG) == 8, "LONGLONG is 64-bit");
LSASHM_STATIC_ASSERT(sizeof(BOOL) == 4, "BOOL is 32-bit");
LSASHM_STATIC_ASSERT(sizeof(HRESULT) == 4, "HRESULT is 32-bit");
LSASHM_STATIC_ASSERT(sizeof(GUID) == 16, "GUID is 16 bytes");
LSASHM_STATIC_ASSERT(sizeof(FILETIME) == 8, "FILETIME is 64-bit");
LSASHM_STATIC_ASSERT(sizeof(SECURITY_IMPERSONATION_LEVEL) == 4, "enums are 32-bit");
#if UINTPTR_MAX == UINT64_MAX
LSASHM_STATIC_ASSERT(sizeof(UNICODE_STRING) == 16, "UNICODE_STRING is 16 bytes on 64-bit targets");
LSASHM_STATIC_ASSERT(offsetof(UNICODE_STRING, Buffer) == 8, "UNICODE_STRING.Buffer at 8");
LSASHM_STATIC_ASSERT(sizeof(STRING) == 16, "STRING is 16 bytes on 64-bit targets");
LSASHM_STATIC_ASSERT(offsetof(STRING, Buffer) == 8, "STRING.Buffer at 8");
#endif

/* The status codes come along: code written before they had a header of their
 * own includes only this one. */
#include "lsashm/ntstatus.h"

#endif
