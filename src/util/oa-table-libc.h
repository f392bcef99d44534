/* SPDX-License-Identifier: MIT */
/*
 * The C heap as an oa-table's memory, for the tables that live in the
 * process's own memory (the registry of sections, the host's tables). Kept
 * apart from oa-table.h so that the table itself, and the allocator that
 * includes it, never reach malloc.
 */
#ifndef LSASHM_OA_TABLE_LIBC_H
#define LSASHM_OA_TABLE_LIBC_H

#include <stdlib.h>

#include "util/oa-table.h"

static inline void *oa_table_libc_resize(void *ctx, void *old, size_t size)
{
        (void)ctx;
        if (size == 0) {
                free(old);
                return NULL;
        }
        return realloc(old, size);
}

static const struct oa_table_mem oa_table_libc_mem = { .resize = oa_table_libc_resize };

#endif
