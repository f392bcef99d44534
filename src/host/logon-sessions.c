/* SPDX-License-Identifier: MIT */
/* CreateLogonSession and DeleteLogonSession: the host's table of LUIDs. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "host/host-packages.h"

/* A set of LUIDs: open addressing with linear probing, at most half full,
 * deletion by backward shift (no tombstones to accumulate). Packages may
 * call from their own threads, hence the lock. */

#define SESSIONS_MAX 65536u
#define SESSIONS_MIN_SLOTS 64u

struct session_slot {
        uint64_t luid;
        bool used; /* every 64-bit value, 0 included, is a valid LUID */
};

static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct session_slot *sessions;
static size_t sessions_slots; /* a power of two, or 0 */
static size_t sessions_count;

static uint64_t luid_key(const LUID *luid)
{
        return (uint64_t)(uint32_t)luid->HighPart << 32 | luid->LowPart;
}

/* LUIDs are often sequential: mix them (splitmix64's finaliser) so that
 * neighbours do not form one long probe run. */
static size_t session_home(uint64_t k, size_t mask)
{
        k ^= k >> 30;
        k *= UINT64_C(0xbf58476d1ce4e5b9);
        k ^= k >> 27;
        k *= UINT64_C(0x94d049bb133111eb);
        k ^= k >> 31;
        return (size_t)k & mask;
}

/* The slot holding k, or the empty slot where it would go. */
static size_t session_probe(const struct session_slot *s, size_t slots, uint64_t k)
{
        size_t mask = slots - 1;
        size_t i = session_home(k, mask);
        while (s[i].used && s[i].luid != k)
                i = (i + 1) & mask;
        return i;
}

static int sessions_grow(void)
{
        size_t slots = sessions_slots ? sessions_slots * 2 : SESSIONS_MIN_SLOTS;
        struct session_slot *s = calloc(slots, sizeof(*s));
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < sessions_slots; i++)
                if (sessions[i].used)
                        s[session_probe(s, slots, sessions[i].luid)] = sessions[i];
        free(sessions);
        sessions = s;
        sessions_slots = slots;
        return 0;
}

static void session_remove(size_t i)
{
        size_t mask = sessions_slots - 1;
        /* Pull back every later member of the probe run that may sit at i
         * (its home is not in (i, j]), so that lookups never meet a hole
         * before the key they look for. */
        for (size_t j = (i + 1) & mask; sessions[j].used; j = (j + 1) & mask) {
                size_t home = session_home(sessions[j].luid, mask);
                if (((j - home) & mask) >= ((j - i) & mask)) {
                        sessions[i] = sessions[j];
                        i = j;
                }
        }
        sessions[i].used = false;
}


NTSTATUS NTAPI host_CreateLogonSession(PLUID LogonId)
{
        if (!LogonId)
                return STATUS_INVALID_PARAMETER;
        uint64_t k = luid_key(LogonId);
        NTSTATUS st = STATUS_SUCCESS;
        pthread_mutex_lock(&sessions_lock);
        if (sessions_slots && sessions[session_probe(sessions, sessions_slots, k)].used) {
                st = STATUS_LOGON_SESSION_COLLISION;
        } else if (sessions_count >= SESSIONS_MAX) {
                st = STATUS_INSUFFICIENT_RESOURCES;
        } else if ((sessions_count + 1) * 2 > sessions_slots && sessions_grow() < 0) {
                st = STATUS_INSUFFICIENT_RESOURCES;
        } else {
                struct session_slot *s = &sessions[session_probe(sessions, sessions_slots, k)];
                s->luid = k;
                s->used = true;
                sessions_count++;
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
        if (sessions_slots) {
                size_t i = session_probe(sessions, sessions_slots, k);
                if (sessions[i].used) {
                        session_remove(i);
                        sessions_count--;
                        st = STATUS_SUCCESS;
                }
        }
        pthread_mutex_unlock(&sessions_lock);
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
        free(sessions);
        sessions = NULL;
        sessions_slots = 0;
        sessions_count = 0;
        pthread_mutex_unlock(&sessions_lock);
}
