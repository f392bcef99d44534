/* SPDX-License-Identifier: MIT */
/*
 * The four shared-memory members of LSA_SECPKG_FUNCTION_TABLE, over the
 * native section API. Windows gives them no error channel beyond NULL and
 * FALSE, so every failure maps to that; the native API says why.
 */
#include <errno.h>

#include "lsashm/ntsecpkg.h"
#include "section/section-ops.h"

PVOID NTAPI LsaCreateSharedMemory(ULONG MaxSize, ULONG InitialSize)
{
        struct lsashm_section_config cfg = {
                .max_size = MaxSize,
                .initial_size = InitialSize,
                .name = "lsashm",
        };
        lsashm_section_t *s;
        if (lsashm_section_create(&cfg, &s) < 0)
                return NULL;
        void *base = lsashm_section_base(s);
        if (registry_add(s) < 0) {
                lsashm_section_delete(s);
                return NULL;
        }
        return base;
}

PVOID NTAPI LsaAllocateSharedMemory(PVOID SharedMem, ULONG Size)
{
        void *p = NULL;
        return registry_alloc(SharedMem, Size, &p) < 0 ? NULL : p;
}

VOID NTAPI LsaFreeSharedMemory(PVOID SharedMem, PVOID Memory)
{
        if (!Memory)
                return;
        (void)registry_free(SharedMem, Memory); /* refusals are counted in the stats */
}

BOOLEAN NTAPI LsaDeleteSharedMemory(PVOID SharedMem)
{
        lsashm_section_t *s = registry_take(SharedMem);
        if (!s)
                return FALSE;
        section_delete_locked(s);
        return TRUE;
}

int lsashm_shared_memory_stats(const void *shared_mem, struct lsashm_section_stats *ret)
{
        if (!ret)
                return -EINVAL;
        lsashm_section_t *s = registry_acquire(shared_mem);
        if (!s)
                return -ENOENT;
        section_stats_locked(s, ret);
        section_unlock(s);
        return 0;
}

int lsashm_shared_memory_fd(const void *shared_mem)
{
        lsashm_section_t *s = registry_acquire(shared_mem);
        if (!s)
                return -ENOENT;
        int fd = section_fd_locked(s);
        section_unlock(s);
        return fd;
}

int lsashm_shared_memory_check(const void *shared_mem)
{
        lsashm_section_t *s = registry_acquire(shared_mem);
        if (!s)
                return -ENOENT;
        int r = section_check_locked(s);
        section_unlock(s);
        return r;
}

int lsashm_shared_memory_freeze(const void *shared_mem)
{
        lsashm_section_t *s = registry_acquire(shared_mem);
        if (!s)
                return -ENOENT;
        int r = section_freeze_locked(s);
        section_unlock(s);
        return r;
}
