/* SPDX-License-Identifier: MIT */
/*
 * The macros and ntdll helpers a package or client written for Windows uses
 * without thinking of them as an API: UNREFERENCED_PARAMETER, TEXT(),
 * ARRAYSIZE, FIELD_OFFSET, __declspec(dllexport), the Rtl*Memory family,
 * SecureZeroMemory, RtlInitUnicodeString and NtQuerySystemTime.
 *
 * Everything here is a macro or static inline, so a package that uses it
 * needs no library: the one exception, AllocateLocallyUniqueId (LUIDs must
 * be unique across the process), is resolved from lsashmd when a package is
 * loaded there, and from liblsashm in any other program.
 */
#ifndef LSASHM_WINNT_H
#define LSASHM_WINNT_H

#include <string.h>
#include <time.h>

#include "lsashm/wintypes.h"
#include "lsashm/ntstatus.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Calling conventions and storage classes ----
 * Packages are native ELF code with one calling convention: these only have
 * to compile. __declspec(dllexport) makes a symbol visible to the host even
 * when the package is built with -fvisibility=hidden. */
#ifndef __stdcall
#define __stdcall
#endif
#ifndef __cdecl
#define __cdecl
#endif
#ifndef CALLBACK
#define CALLBACK
#endif
#ifndef APIENTRY
#define APIENTRY
#endif
#ifndef WINAPIV
#define WINAPIV
#endif
#ifndef NTSYSAPI
#define NTSYSAPI
#endif
#ifndef FORCEINLINE
#define FORCEINLINE static inline
#endif
#ifndef __declspec
#define __declspec(x) LSASHM_DECLSPEC_##x
#if defined(__GNUC__)
#define LSASHM_DECLSPEC_dllexport __attribute__((visibility("default")))
#define LSASHM_DECLSPEC_noinline  __attribute__((noinline))
#define LSASHM_DECLSPEC_noreturn  __attribute__((noreturn))
#define LSASHM_DECLSPEC_selectany __attribute__((weak))
#define LSASHM_DECLSPEC_align(n)  __attribute__((aligned(n)))
#else
#define LSASHM_DECLSPEC_dllexport
#define LSASHM_DECLSPEC_noinline
#define LSASHM_DECLSPEC_noreturn
#define LSASHM_DECLSPEC_selectany
#define LSASHM_DECLSPEC_align(n)
#endif
#define LSASHM_DECLSPEC_dllimport
#define LSASHM_DECLSPEC_thread _Thread_local
#endif

/* Old-style parameter annotations (IN PLUID LogonId). */
#ifndef IN
#define IN
#endif
#ifndef OUT
#define OUT
#endif
#ifndef OPTIONAL
#define OPTIONAL
#endif
#ifndef CONST
#define CONST const
#endif

/* ---- Small macros ---- */
#define UNREFERENCED_PARAMETER(P)          ((void)(P))
#define DBG_UNREFERENCED_PARAMETER(P)      ((void)(P))
#define DBG_UNREFERENCED_LOCAL_VARIABLE(V) ((void)(V))

/* TEXT("x") is a WCHAR string: a port is a Unicode build. */
#define __TEXT(quote) u##quote
#define TEXT(quote)   __TEXT(quote)
/* <tchar.h>'s spellings, for a Unicode build. */
#ifndef _T
#define _T(x) __TEXT(x)
#endif
#ifndef _TEXT
#define _TEXT(x) __TEXT(x)
#endif
#define UNICODE_NULL ((WCHAR)0)
#define ANSI_NULL    ((CHAR)0)
#define MAX_PATH     260

#define RTL_NUMBER_OF(A)                        (sizeof(A) / sizeof((A)[0]))
#define ARRAYSIZE(A)                            RTL_NUMBER_OF(A)
#define FIELD_OFFSET(type, field)               ((LONG)offsetof(type, field))
#define RTL_FIELD_SIZE(type, field)             (sizeof(((type *)0)->field))
#define CONTAINING_RECORD(address, type, field) ((type *)((PCHAR)(address)-offsetof(type, field)))
#define ANYSIZE_ARRAY                           1

#define MAXUCHAR    0xff
#define MAXUSHORT   0xffff
#define MAXULONG    0xffffffffu
#define MAXLONG     0x7fffffff
#define MAXDWORD    0xffffffffu
#define MAXLONGLONG 0x7fffffffffffffffLL

#define LOBYTE(w)      ((BYTE)(((DWORD_PTR)(w)) & 0xff))
#define HIBYTE(w)      ((BYTE)((((DWORD_PTR)(w)) >> 8) & 0xff))
#define LOWORD(l)      ((WORD)(((DWORD_PTR)(l)) & 0xffff))
#define HIWORD(l)      ((WORD)((((DWORD_PTR)(l)) >> 16) & 0xffff))
#define MAKEWORD(a, b) ((WORD)(((BYTE)(((DWORD_PTR)(a)) & 0xff)) | ((WORD)((BYTE)(((DWORD_PTR)(b)) & 0xff))) << 8))
#define MAKELONG(a, b) \
        ((LONG)(((WORD)(((DWORD_PTR)(a)) & 0xffff)) | ((DWORD)((WORD)(((DWORD_PTR)(b)) & 0xffff))) << 16))

/* ---- Memory ---- */
#define RtlEqualMemory(Destination, Source, Length) (!memcmp((Destination), (Source), (Length)))
#define RtlCopyMemory(Destination, Source, Length)  memcpy((Destination), (Source), (Length))
#define RtlMoveMemory(Destination, Source, Length)  memmove((Destination), (Source), (Length))
#define RtlFillMemory(Destination, Length, Fill)    memset((Destination), (Fill), (Length))
#define RtlZeroMemory(Destination, Length)          memset((Destination), 0, (Length))
#define CopyMemory                                  RtlCopyMemory
#define MoveMemory                                  RtlMoveMemory
#define FillMemory                                  RtlFillMemory
#define ZeroMemory                                  RtlZeroMemory
#define EqualMemory                                 RtlEqualMemory

/* Zeroes that the compiler may not remove, for secrets about to be freed:
 * every store goes through a volatile pointer, as Windows' inline does. */
static inline PVOID RtlSecureZeroMemory(PVOID ptr, SIZE_T cnt)
{
        volatile char *p = (volatile char *)ptr;
        while (cnt--)
                *p++ = 0;
        return ptr;
}
#define SecureZeroMemory RtlSecureZeroMemory

/* ---- Counted strings ----
 * Windows' semantics: Length is the string's size in bytes without the NUL,
 * MaximumLength includes it, and a NULL source gives an empty string with a
 * NULL Buffer. A source too long for a USHORT is cut to the longest even
 * length that fits (Windows caps it the same way). */
static inline VOID RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
        SIZE_T n = 0;
        if (SourceString)
                while (SourceString[n] && n < (MAXUSHORT - sizeof(WCHAR)) / sizeof(WCHAR))
                        n++;
        DestinationString->Length = (USHORT)(n * sizeof(WCHAR));
        DestinationString->MaximumLength = SourceString ? (USHORT)((n + 1) * sizeof(WCHAR)) : 0;
        /* Windows' type drops the const; the string is still the caller's. */
        DestinationString->Buffer = (PWSTR)(uintptr_t)SourceString;
}

static inline VOID RtlInitString(PSTRING DestinationString, PCSTR SourceString)
{
        SIZE_T n = SourceString ? strlen(SourceString) : 0;
        if (n > MAXUSHORT - 1)
                n = MAXUSHORT - 1;
        DestinationString->Length = (USHORT)n;
        DestinationString->MaximumLength = SourceString ? (USHORT)(n + 1) : 0;
        DestinationString->Buffer = (PCHAR)(uintptr_t)SourceString;
}

static inline VOID RtlInitAnsiString(PANSI_STRING DestinationString, PCSTR SourceString)
{
        RtlInitString(DestinationString, SourceString);
}

/* Copies as much of Source as Destination's MaximumLength holds (no NUL is
 * added); a NULL Source empties Destination. */
static inline VOID RtlCopyUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString)
{
        if (!SourceString) {
                DestinationString->Length = 0;
                return;
        }
        USHORT n = SourceString->Length;
        if (n > DestinationString->MaximumLength)
                n = DestinationString->MaximumLength;
        memmove(DestinationString->Buffer, SourceString->Buffer, n);
        DestinationString->Length = n;
}

/* ---- Time ----
 * System time as Windows counts it: 100-nanosecond intervals since
 * 1601-01-01 UTC (FILETIME, LARGE_INTEGER). */
#define LSASHM_FILETIME_UNIX_EPOCH 116444736000000000LL

static inline NTSTATUS NtQuerySystemTime(PLARGE_INTEGER SystemTime)
{
        struct timespec ts;
        if (!SystemTime)
                return STATUS_ACCESS_VIOLATION;
        /* Written on every path, so callers' compilers see it set. */
        SystemTime->QuadPart = 0;
        if (timespec_get(&ts, TIME_UTC) != TIME_UTC)
                return STATUS_UNSUCCESSFUL;
        SystemTime->QuadPart = LSASHM_FILETIME_UNIX_EPOCH + (LONGLONG)ts.tv_sec * 10000000LL + ts.tv_nsec / 100;
        return STATUS_SUCCESS;
}

static inline VOID GetSystemTimeAsFileTime(LPFILETIME lpSystemTimeAsFileTime)
{
        LARGE_INTEGER t;
        t.QuadPart = 0;
        (void)NtQuerySystemTime(&t);
        lpSystemTimeAsFileTime->dwLowDateTime = t.LowPart;
        lpSystemTimeAsFileTime->dwHighDateTime = (DWORD)t.HighPart;
}

/* ---- Locally unique identifiers ----
 * Unique for the life of the process: inside lsashmd that is the daemon's
 * one allocator, shared with the LUIDs it gives connections (see
 * docs/writing-a-package.md, "LUIDs"). Never one of the well-known LUIDs
 * (SYSTEM_LUID, ...). AllocateLocallyUniqueId returns FALSE only for a NULL
 * Luid; NtAllocateLocallyUniqueId then returns STATUS_ACCESS_VIOLATION. */
#if defined(__GNUC__)
#define LSASHM_NTDLL_EXPORT __attribute__((visibility("default")))
#else
#define LSASHM_NTDLL_EXPORT
#endif
LSASHM_NTDLL_EXPORT BOOL WINAPI AllocateLocallyUniqueId(PLUID Luid);
LSASHM_NTDLL_EXPORT NTSTATUS NTAPI NtAllocateLocallyUniqueId(PLUID Luid);

/* The well-known logon sessions, with Windows' values. */
#define SYSTEM_LUID        \
        {                  \
                0x3e7, 0x0 \
        }
#define ANONYMOUS_LOGON_LUID \
        {                    \
                0x3e6, 0x0   \
        }
#define LOCALSERVICE_LUID  \
        {                  \
                0x3e5, 0x0 \
        }
#define NETWORKSERVICE_LUID \
        {                   \
                0x3e4, 0x0  \
        }
#define IUSER_LUID         \
        {                  \
                0x3e3, 0x0 \
        }
#define PROTECTED_TO_SYSTEM_LUID \
        {                        \
                0x3e2, 0x0       \
        }

static inline BOOLEAN RtlEqualLuid(const LUID *L1, const LUID *L2)
{
        return L1->LowPart == L2->LowPart && L1->HighPart == L2->HighPart;
}

#ifdef __cplusplus
}
#endif

#endif
