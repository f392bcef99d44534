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
typedef char CHAR, *PCHAR;
typedef uint16_t USHORT, *PUSHORT;
typedef int16_t SHORT;
typedef uint32_t ULONG, *PULONG;
typedef int32_t LONG, *PLONG;
typedef uint32_t DWORD, *PDWORD;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG, *PULONGLONG;
typedef uintptr_t ULONG_PTR, *PULONG_PTR;
typedef intptr_t LONG_PTR;
typedef size_t SIZE_T;
#ifdef __cplusplus
typedef char16_t WCHAR;
#else
typedef char16_t WCHAR;
#endif
typedef WCHAR *PWCHAR, *PWSTR;
typedef LONG NTSTATUS, *PNTSTATUS;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

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

#endif
