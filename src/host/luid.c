/* SPDX-License-Identifier: MIT */
/*
 * The LogonId of a client (GetClientInfo): Linux has no logon session per
 * process, so the host makes one LUID per uid, as if each user had logged
 * on once. They come from AllocateLocallyUniqueId, the allocator packages
 * use for their own logon sessions, so the two never meet; and
 * CreateLogonSession refuses the ones handed out here (host_luid_is_client).
 *
 * Lock: luid_lock guards both tables; it is a leaf (nothing is called with
 * it held but the allocator, which takes no lock). GetClientInfo may run on
 * any thread that serves a call.
 */
#include <pthread.h>
#include <stdint.h>

#include "host/host-base.h"
#include "lsashm/winnt.h"
#include "util/oa-table-libc.h"

#define SYSTEM_LUID_LOW 0x3e7u

static pthread_mutex_t luid_lock = PTHREAD_MUTEX_INITIALIZER;
static struct oa_table luid_by_uid; /* uid -> LUID (never 0: allocated LUIDs are above 0x3e7) */
static struct oa_table uid_by_luid; /* LUID -> uid + 1 (never 0) */

static uint64_t luid_key(const LUID *luid)
{
        return (uint64_t)(uint32_t)luid->HighPart << 32 | luid->LowPart;
}

NTSTATUS host_luid_of_uid(uid_t uid, LUID *ret)
{
        if (uid == 0) {
                *ret = (LUID){ .LowPart = SYSTEM_LUID_LOW, .HighPart = 0 };
                return STATUS_SUCCESS;
        }
        NTSTATUS st = STATUS_SUCCESS;
        pthread_mutex_lock(&luid_lock);
        uint64_t k = oa_table_find(&luid_by_uid, uid);
        if (!k) {
                LUID fresh;
                if (luid_by_uid.count >= HOST_LUID_MAX_UIDS ||
                    oa_table_reserve(&luid_by_uid, &oa_table_libc_mem, 1) < 0 ||
                    oa_table_reserve(&uid_by_luid, &oa_table_libc_mem, 1) < 0) {
                        st = STATUS_INSUFFICIENT_RESOURCES;
                } else {
                        (void)NtAllocateLocallyUniqueId(&fresh);
                        k = luid_key(&fresh);
                        /* Room reserved above; the LUID is new, and the uid
                         * was looked up under the same lock. */
                        int r = oa_table_insert(&luid_by_uid, uid, (uintptr_t)k);
                        r |= oa_table_insert(&uid_by_luid, k, (uintptr_t)uid + 1);
                        assert(r == 0);
                        (void)r;
                }
        }
        pthread_mutex_unlock(&luid_lock);
        if (st == STATUS_SUCCESS) {
                ret->LowPart = (ULONG)k;
                ret->HighPart = (LONG)(uint32_t)(k >> 32);
        }
        return st;
}

bool host_luid_is_client(const LUID *luid)
{
        if (luid->LowPart == SYSTEM_LUID_LOW && luid->HighPart == 0)
                return true;
        pthread_mutex_lock(&luid_lock);
        bool found = oa_table_find(&uid_by_luid, luid_key(luid)) != 0;
        pthread_mutex_unlock(&luid_lock);
        return found;
}
