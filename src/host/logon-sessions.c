/* SPDX-License-Identifier: MIT */
/* CreateLogonSession and DeleteLogonSession: the host's table of LUIDs. */
#include <assert.h>
#include <pthread.h>
#include <stdint.h>

#include "host/host-packages.h"
#include "util/oa-table-libc.h"

/* A set of LUIDs (util/oa-table.h; each maps to 1, the table's values being
 * non-zero). Packages may call from their own threads, hence the lock. */

#define SESSIONS_MAX 65536u
#define SESSION_PRESENT 1u

static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct oa_table sessions;

/* Every 64-bit value, 0 included, is a valid LUID and a valid key. */
static uint64_t luid_key(const LUID *luid)
{
        return (uint64_t)(uint32_t)luid->HighPart << 32 | luid->LowPart;
}

NTSTATUS NTAPI host_CreateLogonSession(PLUID LogonId)
{
        if (!LogonId)
                return STATUS_INVALID_PARAMETER;
        uint64_t k = luid_key(LogonId);
        NTSTATUS st = STATUS_SUCCESS;
        pthread_mutex_lock(&sessions_lock);
        if (oa_table_find(&sessions, k)) {
                st = STATUS_LOGON_SESSION_COLLISION;
        } else if (sessions.count >= SESSIONS_MAX) {
                st = STATUS_INSUFFICIENT_RESOURCES;
        } else if (oa_table_reserve(&sessions, &oa_table_libc_mem, 1) < 0) {
                st = STATUS_INSUFFICIENT_RESOURCES;
        } else {
                int r = oa_table_insert(&sessions, k, SESSION_PRESENT);
                assert(r == 0); /* absent: looked up under the same lock */
                (void)r;
        }
        pthread_mutex_unlock(&sessions_lock);
        return st;
}

NTSTATUS NTAPI host_DeleteLogonSession(PLUID LogonId)
{
        if (!LogonId)
                return STATUS_INVALID_PARAMETER;
        uint64_t k = luid_key(LogonId);
        NTSTATUS st = STATUS_NO_SUCH_LOGON_SESSION;
        pthread_mutex_lock(&sessions_lock);
        if (oa_table_remove(&sessions, k))
                st = STATUS_SUCCESS;
        pthread_mutex_unlock(&sessions_lock);
        if (st == STATUS_SUCCESS)
                host_credentials_logon_ended(LogonId);
        /* As the LSA does: every package hears that the session ended
         * (LsaApLogonTerminated), outside our lock, since they may call
         * back into the table. */
        if (st == STATUS_SUCCESS)
                host_packages_logon_terminated(LogonId);
        return st;
}

void host_logon_sessions_clear(void)
{
        pthread_mutex_lock(&sessions_lock);
        oa_table_destroy(&sessions, &oa_table_libc_mem);
        pthread_mutex_unlock(&sessions_lock);
        host_credentials_clear();
}

bool host_logon_session_exists(const LUID *logon_id)
{
        uint64_t k = luid_key(logon_id);
        pthread_mutex_lock(&sessions_lock);
        bool found = oa_table_find(&sessions, k) != 0;
        pthread_mutex_unlock(&sessions_lock);
        return found;
}
