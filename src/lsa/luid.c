/* SPDX-License-Identifier: MIT */
/*
 * AllocateLocallyUniqueId and NtAllocateLocallyUniqueId: one counter per
 * process. lsashmd exports these, so the packages it loads share the
 * daemon's counter with the LUIDs it gives its clients (src/host/luid.c).
 */
#include <stdatomic.h>
#include <stdint.h>

#include "lsashm/winnt.h"

/* The first LUID handed out: well above Windows' well-known ones
 * (SYSTEM_LUID is 0x3e7), which are never returned. A 64-bit counter does
 * not wrap in the life of a process. */
#define LUID_FIRST 0x10000u

static atomic_uint_fast64_t luid_next = LUID_FIRST;

NTSTATUS NTAPI NtAllocateLocallyUniqueId(PLUID Luid)
{
        if (!Luid)
                return STATUS_ACCESS_VIOLATION;
        uint64_t v = atomic_fetch_add_explicit(&luid_next, 1, memory_order_relaxed);
        Luid->LowPart = (ULONG)v;
        Luid->HighPart = (LONG)(uint32_t)(v >> 32);
        return STATUS_SUCCESS;
}

BOOL WINAPI AllocateLocallyUniqueId(PLUID Luid)
{
        return NT_SUCCESS(NtAllocateLocallyUniqueId(Luid)) ? TRUE : FALSE;
}
