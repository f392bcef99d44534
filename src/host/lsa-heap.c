/* SPDX-License-Identifier: MIT */
/*
 * The LSA heap and the private heap: AllocateLsaHeap, FreeLsaHeap,
 * AllocatePrivateHeap and FreePrivateHeap. Blocks are the C heap's,
 * zero-filled like HEAP_ZERO_MEMORY, and every block these members hand out
 * is recorded here, out of band, by its address: a package's pointer is
 * looked up before anything is read, written or freed through it.
 *
 * A free of anything but the start of a live block (an interior pointer, a
 * client's address, a stack or static address, a block already freed) is
 * refused: nothing is touched, the refusal is counted for the package that
 * made it (host_active_package) and in a total, both in `lsashm status`,
 * and the package's first refusal is logged with its name. Before this
 * record existed the free asked malloc for the block's size, which reads a
 * chunk header in front of whatever pointer it is given: an interior
 * pointer aborted lsashmd, an unmapped one faulted, and a block freed twice
 * was wiped over glibc's double-free mark and entered the free list twice,
 * so that two later allocations returned the same memory.
 *
 * One heap under two names: either free accepts a block of either
 * allocator. On Windows the private heap is a heap of its own and freeing
 * across is a package bug, but here it costs nothing to honour, packages
 * mix the two up, and refusing would only leak the block.
 *
 * The client buffers of package-to-package calls are calloc blocks of
 * calls.c's, not recorded: FreeLsaHeap refuses them while the call holds
 * them (calls.c frees them itself), host_heap_adopt records one when the
 * caller comes to own it, and host_heap_free is the host's own way to free
 * either kind.
 *
 * Lock: heap_lock guards the block table and every package's
 * heap_refusal_logged flag. Packages call these members from their own
 * threads as well as from the host's. Nothing is called with it held but
 * realloc and free of the table's array itself: no logging, no package code, no
 * other lock, so it nests inside anything and nothing nests inside it. A
 * block leaves the table under the lock and is wiped and freed after it:
 * once out of the table no other thread can free it, and until it is
 * freed malloc cannot hand its address out again.
 */
#include <assert.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/host-packages.h"
#include "util/oa-table-libc.h"

/* Blocks live at once. A package that leaks past this is broken; the
 * allocation fails (NULL) instead of the table growing without end. */
#define HEAP_MAX_BLOCKS (1u << 24)

/* Block address -> its length as allocated (the request, or 1 for a request
 * of 0): util/oa-table.h, whose value 0 means "absent", which no length is. */
static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct oa_table heap_blocks;
static size_t heap_live_bytes;
static uint64_t heap_refused;          /* atomic: every refusal, attributed or not */
static bool heap_unattributed_logged;  /* under heap_lock */

void (*host_heap_release)(void *p) = free;

/* Record p (a malloc block of n bytes) as live. */
static int block_record(void *p, size_t n)
{
        int r = 0;
        pthread_mutex_lock(&heap_lock);
        if (heap_blocks.count >= HEAP_MAX_BLOCKS)
                r = -ENOSPC;
        else
                r = oa_table_reserve(&heap_blocks, &oa_table_libc_mem, 1);
        if (r == 0) {
                /* -EEXIST: malloc never returns a live block, the caller is wrong. */
                r = oa_table_insert(&heap_blocks, (uintptr_t)p, n);
                if (r == 0)
                        heap_live_bytes += n;
        }
        pthread_mutex_unlock(&heap_lock);
        return r;
}

void *host_heap_alloc(size_t length)
{
        if (length > HOST_HEAP_MAX)
                return NULL;
        /* Windows heaps return a block for 0 bytes, and packages take NULL
         * to mean "out of memory": a unique 1-byte block instead. */
        size_t n = length ? length : 1;
        void *p = calloc(1, n);
        if (!p)
                return NULL;
        int r = block_record(p, n);
        /* malloc never returns a live block's address: if it did, the
         * record would be wrong and every free suspect. */
        assert(r != -EEXIST);
        if (r < 0) {
                /* A block we could not free later must not be handed out. */
                free(p);
                return NULL;
        }
        return p;
}

int host_heap_adopt(void *p, size_t length)
{
        if (!p || !length)
                return -EINVAL;
        return block_record(p, length);
}

/* Wipe a block that has left the table, and give it back. */
static void block_release(void *p)
{
        /* Blocks hold credentials and keys, and the next owner of the memory
         * may be any code in the process. Every usable byte, not only the
         * length asked for: a package that overran into malloc's slack left
         * its bytes there too. Safe now that p is known to be a live block. */
        explicit_bzero(p, malloc_usable_size(p));
        host_heap_release(p);
}

/* Take p out of the table if it is a live block. */
static bool block_take(void *p)
{
        pthread_mutex_lock(&heap_lock);
        size_t length = oa_table_remove(&heap_blocks, (uintptr_t)p);
        heap_live_bytes -= length;
        pthread_mutex_unlock(&heap_lock);
        return length != 0;
}

static void refusal_record(const char *member)
{
        struct host_package *p = host_active_package;
        __atomic_fetch_add(&heap_refused, 1, __ATOMIC_RELAXED);
        if (p)
                __atomic_fetch_add(&p->heap_refused_frees, 1, __ATOMIC_RELAXED);
        /* One line per package: a package that gets this wrong usually gets
         * it wrong on every call, and the count says how often. */
        pthread_mutex_lock(&heap_lock);
        bool *logged = p ? &p->heap_refusal_logged : &heap_unattributed_logged;
        bool first = !*logged;
        *logged = true;
        pthread_mutex_unlock(&heap_lock);
        if (first)
                host_logf(host_global,
                          HOST_LOG_WARNING
                          "package %s: %s: not the start of a live LSA or private heap block; refused, "
                          "nothing freed (further refusals are only counted, in lsashm status)",
                          p ? p->name : "(a thread outside any package call)", member);
}

bool host_heap_free_checked(void *p, const char *member)
{
        if (!p)
                return true;
        if (!block_take(p)) {
                refusal_record(member);
                return false;
        }
        block_release(p);
        return true;
}

void host_heap_free(void *p)
{
        if (!p)
                return;
        if (block_take(p)) {
                block_release(p);
                return;
        }
        /* A block the host allocated itself with calloc (a package-to-package
         * call's client buffers, calls.c): trusted callers only. */
        explicit_bzero(p, malloc_usable_size(p));
        host_heap_release(p);
}

bool host_heap_block(const void *p, size_t *ret_length)
{
        if (!p)
                return false;
        pthread_mutex_lock(&heap_lock);
        size_t length = oa_table_find(&heap_blocks, (uintptr_t)p);
        pthread_mutex_unlock(&heap_lock);
        if (length && ret_length)
                *ret_length = length;
        return length != 0;
}

void host_heap_stats(struct host_heap_stats *ret)
{
        pthread_mutex_lock(&heap_lock);
        ret->live_blocks = heap_blocks.count;
        ret->live_bytes = heap_live_bytes;
        pthread_mutex_unlock(&heap_lock);
        ret->refused_frees = __atomic_load_n(&heap_refused, __ATOMIC_RELAXED);
}
