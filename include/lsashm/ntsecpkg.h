/* SPDX-License-Identifier: MIT */
/*
 * The security-package side of the LSA interfaces, as a package written for
 * Windows' ntsecpkg.h expects them: Windows names, prototypes and widths.
 *
 * This release provides the four shared-memory callbacks of
 * LSA_SECPKG_FUNCTION_TABLE and their implementations. The complete function
 * table comes with the package host.
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

#ifdef __cplusplus
}
#endif

#endif
