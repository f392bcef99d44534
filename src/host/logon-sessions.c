/* SPDX-License-Identifier: MIT */
/*
 * The logon sessions: CreateLogonSession and DeleteLogonSession, and what a
 * finished logon keeps with its session (host_session_establish).
 *
 * A session is created by a package (CreateLogonSession, usually inside its
 * LogonUser) and is bare until a logon succeeds with it: then logon.c hands
 * the session its data (package, logon type, names, primary credentials,
 * the token's SIDs) and the first token. Tokens are counted here; the last
 * one released deletes the session. A session a failed logon created and
 * left behind is deleted by that logon (host_sessions_abandon): it knows
 * them by the creator mark CreateLogonSession takes from the thread.
 *
 * Deleting a session, whoever asks, runs host_session_deleted_hook (the
 * credentials kept for it go there) and then every package's
 * LogonTerminated, outside the lock: both may call back into the table.
 *
 * Lock: sessions_lock guards the table and every record in it. Packages
 * call from their own threads too. Nothing but malloc and free is called
 * with it held.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/host-packages.h"
#include "util/oa-table-libc.h"

#define SESSIONS_MAX 65536u

struct host_session {
        LUID id;
        uint64_t serial;  /* never reused: a token names this session, not a later one of its LUID */
        uint64_t creator; /* the logon that created it, while it is bare */
        bool established; /* a logon succeeded with it: data is set */
        unsigned tokens;
        struct host_session_data data;
};

/* LUID -> struct host_session * (util/oa-table.h: a pointer is never 0). */
static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct oa_table sessions;
static uint64_t next_serial = 1; /* under sessions_lock */

_Thread_local uint64_t host_session_creator;
void (*host_session_deleted_hook)(const LUID *logon_id);

/* Every 64-bit value, 0 included, is a valid LUID and a valid key. */
uint64_t host_luid_key(const LUID *luid)
{
        return (uint64_t)(uint32_t)luid->HighPart << 32 | luid->LowPart;
}

static void ustr_free(UNICODE_STRING *s)
{
        if (s->Buffer) {
                explicit_bzero(s->Buffer, s->MaximumLength);
                free(s->Buffer);
        }
        memset(s, 0, sizeof(*s));
}

void host_session_data_free(struct host_session_data *d)
{
        ustr_free(&d->account);
        ustr_free(&d->authority);
        ustr_free(&d->machine);
        SECPKG_PRIMARY_CRED *pc = &d->primary;
        UNICODE_STRING *strs[] = { &pc->DownlevelName, &pc->DomainName, &pc->Password,   &pc->OldPassword,
                                   &pc->DnsDomainName, &pc->Upn,        &pc->LogonServer };
        for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
                ustr_free(strs[i]);
        free(pc->UserSid);
        if (d->sids)
                explicit_bzero(d->sids, d->sids_len);
        free(d->sids);
        memset(d, 0, sizeof(*d));
}

NTSTATUS NTAPI host_CreateLogonSession(PLUID LogonId)
{
        if (!LogonId)
                return STATUS_INVALID_PARAMETER;
        uint64_t k = host_luid_key(LogonId);
        struct host_session *s = calloc(1, sizeof(*s));
        if (!s)
                return STATUS_INSUFFICIENT_RESOURCES;
        s->id = *LogonId;
        s->creator = host_session_creator;
        NTSTATUS st = STATUS_SUCCESS;
        pthread_mutex_lock(&sessions_lock);
        if (oa_table_find(&sessions, k) || host_luid_is_client(LogonId)) { /* a client's LogonId (luid.c) */
                st = STATUS_LOGON_SESSION_COLLISION;
        } else if (sessions.count >= SESSIONS_MAX) {
                st = STATUS_INSUFFICIENT_RESOURCES;
        } else if (oa_table_reserve(&sessions, &oa_table_libc_mem, 1) < 0) {
                st = STATUS_INSUFFICIENT_RESOURCES;
        } else {
                s->serial = next_serial++;
                int r = oa_table_insert(&sessions, k, (uintptr_t)s);
                assert(r == 0); /* absent: looked up under the same lock */
                (void)r;
                s = NULL;
        }
        pthread_mutex_unlock(&sessions_lock);
        free(s);
        return st;
}

/* The session is out of the table: tell whoever keeps things for it, and
 * the packages, then forget it. */
static void session_ended(struct host_session *s)
{
        if (host_session_deleted_hook)
                host_session_deleted_hook(&s->id);
        /* As the LSA does: every package hears that the session ended
         * (LsaApLogonTerminated). */
        host_packages_logon_terminated(&s->id);
        host_session_data_free(&s->data);
        free(s);
}

NTSTATUS NTAPI host_DeleteLogonSession(PLUID LogonId)
{
        if (!LogonId)
                return STATUS_INVALID_PARAMETER;
        uint64_t k = host_luid_key(LogonId);
        pthread_mutex_lock(&sessions_lock);
        struct host_session *s = (struct host_session *)(uintptr_t)oa_table_remove(&sessions, k);
        pthread_mutex_unlock(&sessions_lock);
        if (!s)
                return STATUS_NO_SUCH_LOGON_SESSION;
        session_ended(s);
        return STATUS_SUCCESS;
}

NTSTATUS host_session_establish(const LUID *logon_id, struct host_session_data *data, uint64_t *ret_serial)
{
        uint64_t k = host_luid_key(logon_id);
        NTSTATUS st = STATUS_SUCCESS;
        pthread_mutex_lock(&sessions_lock);
        struct host_session *s = (struct host_session *)(uintptr_t)oa_table_find(&sessions, k);
        if (!s) {
                st = STATUS_NO_SUCH_LOGON_SESSION;
        } else if (s->established) {
                /* Another logon's session: one logon, one session. */
                st = STATUS_LOGON_SESSION_COLLISION;
        } else {
                s->data = *data;
                memset(data, 0, sizeof(*data));
                s->established = true;
                s->creator = 0;
                s->tokens = 1;
                *ret_serial = s->serial;
        }
        pthread_mutex_unlock(&sessions_lock);
        return st;
}

void host_session_token_release(const LUID *logon_id, uint64_t serial)
{
        uint64_t k = host_luid_key(logon_id);
        struct host_session *gone = NULL;
        pthread_mutex_lock(&sessions_lock);
        struct host_session *s = (struct host_session *)(uintptr_t)oa_table_find(&sessions, k);
        /* A session the package deleted already, or a later one that has its
         * LUID, is not this token's. */
        if (s && s->serial == serial && s->established && s->tokens > 0 && --s->tokens == 0) {
                oa_table_remove(&sessions, k);
                gone = s;
        }
        pthread_mutex_unlock(&sessions_lock);
        if (gone)
                session_ended(gone);
}

void host_sessions_abandon(uint64_t creator)
{
        if (!creator)
                return;
        for (;;) {
                struct host_session *gone = NULL;
                pthread_mutex_lock(&sessions_lock);
                for (size_t i = 0; i < oa_table_capacity(&sessions) && !gone; i++) {
                        struct host_session *s = (struct host_session *)(uintptr_t)sessions.slots[i].value;
                        if (s && !s->established && s->creator == creator) {
                                oa_table_remove(&sessions, host_luid_key(&s->id));
                                gone = s;
                        }
                }
                pthread_mutex_unlock(&sessions_lock);
                if (!gone)
                        return;
                session_ended(gone);
        }
}

size_t host_sessions_count(void)
{
        pthread_mutex_lock(&sessions_lock);
        size_t n = sessions.count;
        pthread_mutex_unlock(&sessions_lock);
        return n;
}

/* For reports: UTF-16 to UTF-8, '?' for what is not printable ASCII (names
 * come from packages; the report escapes, but a lossy view is enough). */
static void utf16_lossy(const WCHAR *s, size_t n, char *out, size_t cap)
{
        size_t o = 0;
        for (size_t i = 0; s && i < n && o + 1 < cap; i++)
                out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
        out[o] = '\0';
}

static void view_fill(const struct host_session *s, struct host_session_view *v)
{
        memset(v, 0, sizeof(*v));
        v->logon_id = s->id;
        v->established = s->established;
        v->tokens = s->tokens;
        v->uid = s->established ? s->data.uid : -1;
        v->logon_type = s->data.logon_type;
        v->start = s->data.start;
        snprintf(v->package, sizeof(v->package), "%s", s->data.package);
        utf16_lossy(s->data.account.Buffer, s->data.account.Length / 2, v->user, sizeof(v->user));
        utf16_lossy(s->data.authority.Buffer, s->data.authority.Length / 2, v->domain, sizeof(v->domain));
}

int host_sessions_snapshot(struct host_session_view **ret, size_t *ret_count)
{
        *ret = NULL;
        *ret_count = 0;
        pthread_mutex_lock(&sessions_lock);
        size_t n = sessions.count;
        struct host_session_view *v = n ? calloc(n, sizeof(*v)) : NULL;
        if (n && !v) {
                pthread_mutex_unlock(&sessions_lock);
                return -ENOMEM;
        }
        size_t k = 0;
        for (size_t i = 0; i < oa_table_capacity(&sessions) && k < n; i++) {
                const struct host_session *s = (const struct host_session *)(uintptr_t)sessions.slots[i].value;
                if (s)
                        view_fill(s, &v[k++]);
        }
        pthread_mutex_unlock(&sessions_lock);
        *ret = v;
        *ret_count = k;
        return 0;
}

static int ustr_dup(UNICODE_STRING *dst, const UNICODE_STRING *src)
{
        memset(dst, 0, sizeof(*dst));
        if (!src->Buffer || !src->Length)
                return 0;
        dst->Buffer = malloc(src->Length);
        if (!dst->Buffer)
                return -ENOMEM;
        memcpy(dst->Buffer, src->Buffer, src->Length);
        dst->Length = dst->MaximumLength = src->Length;
        return 0;
}

int host_session_detail(const LUID *logon_id, struct host_session_view *view, struct host_session_data *ret)
{
        memset(ret, 0, sizeof(*ret));
        int r = 0;
        pthread_mutex_lock(&sessions_lock);
        const struct host_session *s =
                (const struct host_session *)(uintptr_t)oa_table_find(&sessions, host_luid_key(logon_id));
        if (!s) {
                r = -ENOENT;
        } else {
                const struct host_session_data *d = &s->data;
                view_fill(s, view);
                ret->package_id = d->package_id;
                memcpy(ret->package, d->package, sizeof(ret->package));
                ret->logon_type = d->logon_type;
                ret->uid = d->uid;
                ret->start = d->start;
                ret->primary.Flags = d->primary.Flags;
                if (ustr_dup(&ret->account, &d->account) < 0 || ustr_dup(&ret->authority, &d->authority) < 0 ||
                    ustr_dup(&ret->primary.LogonServer, &d->primary.LogonServer) < 0 ||
                    ustr_dup(&ret->primary.DnsDomainName, &d->primary.DnsDomainName) < 0 ||
                    ustr_dup(&ret->primary.Upn, &d->primary.Upn) < 0)
                        r = -ENOMEM;
                if (r == 0 && d->sids_len) {
                        ret->sids = malloc(d->sids_len);
                        if (ret->sids) {
                                memcpy(ret->sids, d->sids, d->sids_len);
                                ret->sids_len = d->sids_len;
                                ret->nsids = d->nsids;
                        } else {
                                r = -ENOMEM;
                        }
                }
        }
        pthread_mutex_unlock(&sessions_lock);
        if (r < 0)
                host_session_data_free(ret);
        return r;
}

void host_logon_sessions_clear(void)
{
        pthread_mutex_lock(&sessions_lock);
        for (size_t i = 0; i < oa_table_capacity(&sessions); i++) {
                struct host_session *s = (struct host_session *)(uintptr_t)sessions.slots[i].value;
                if (s) {
                        host_session_data_free(&s->data);
                        free(s);
                }
        }
        oa_table_destroy(&sessions, &oa_table_libc_mem);
        pthread_mutex_unlock(&sessions_lock);
}
