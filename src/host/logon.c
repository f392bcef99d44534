/* SPDX-License-Identifier: MIT */
/*
 * LsaLogonUser on the host's side, the tokens it gives clients, and the
 * logon session queries (LsaEnumerateLogonSessions, LsaGetLogonSessionData).
 *
 * A logon runs like a package call (calls.c), on a worker that owns the
 * connection meanwhile (host-base.h, "Threads"): a call context, so that
 * GetClientInfo, client buffers and CopyFromClientBuffer answer for this
 * client; the authentication information is the submit buffer, a private
 * copy (inline, or a sealed memfd mapped copy-on-write past 64 KiB), with
 * its client address as ClientBufferBase. Logon and token ids come from
 * atomic counters; the session table has its own lock. The package's
 * LogonUserEx2 is called, else LogonUserEx, else LogonUser.
 *
 * What the package hands back is taken as Windows takes it. AccountName,
 * AuthenticatingAuthority and MachineName (an LSA heap UNICODE_STRING and
 * its Buffer) are copied and freed, success or not; the strings and
 * UserSid of the primary credentials likewise, and the supplemental
 * credentials freed. On success the profile buffer must be one of this
 * call's client buffers, the token information must pass token-info.c, and
 * the LogonId must name a session the package created and no logon has
 * used: then the session keeps the logon's data, the client gets a token,
 * and the profile buffer becomes its return buffer. Otherwise the logon
 * fails, the call's client buffers are freed, and the sessions this logon
 * created are deleted (their LogonTerminated runs): nothing is left.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/host-calls.h"

static _Atomic uint64_t next_logon = 1;
static _Atomic uint64_t next_token = 1;

/* A package's UNICODE_STRING result (LSA heap, its Buffer LSA heap too or
 * inside the same block): copied into *out, then freed. */
static void ustr_take(PUNICODE_STRING s, UNICODE_STRING *out, const char *what)
{
        memset(out, 0, sizeof(*out));
        if (!s)
                return;
        size_t len;
        if (!host_heap_block(s, &len) || len < sizeof(*s)) {
                host_heap_free_checked(s, what); /* refused, counted, logged */
                return;
        }
        uintptr_t b = (uintptr_t)s->Buffer, start = (uintptr_t)s;
        bool inside = b >= start && b - start <= len && s->Length <= len - (b - start);
        size_t blen = 0;
        bool own_block = !inside && s->Buffer && host_heap_block(s->Buffer, &blen);
        USHORT n = s->Length & (USHORT)~1u;
        if (s->Buffer && n && (inside || (own_block && n <= blen))) {
                out->Buffer = malloc(n);
                if (out->Buffer) {
                        memcpy(out->Buffer, s->Buffer, n);
                        out->Length = out->MaximumLength = n;
                }
        }
        if (s->Buffer && !inside)
                host_heap_free_checked(s->Buffer, what);
        host_heap_free_checked(s, what);
}

/* A string of the primary credentials: our struct, the package's Buffer. */
static void cred_str_take(UNICODE_STRING *s, const char *what)
{
        PWSTR buf = s->Buffer;
        USHORT n = s->Length & (USHORT)~1u;
        memset(s, 0, sizeof(*s));
        if (!buf)
                return;
        size_t len;
        if (host_heap_block(buf, &len) && n && n <= len) {
                s->Buffer = malloc(n);
                if (s->Buffer) {
                        memcpy(s->Buffer, buf, n);
                        s->Length = s->MaximumLength = n;
                }
        }
        host_heap_free_checked(buf, what);
}

static void primary_take(SECPKG_PRIMARY_CRED *pc)
{
        UNICODE_STRING *strs[] = { &pc->DownlevelName, &pc->DomainName, &pc->Password,   &pc->OldPassword,
                                   &pc->DnsDomainName, &pc->Upn,        &pc->LogonServer };
        for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
                cred_str_take(strs[i], "LogonUserEx2's PrimaryCredentials");
        UNICODE_STRING *spare[] = { &pc->Spare1, &pc->Spare2, &pc->Spare3, &pc->Spare4 };
        for (size_t i = 0; i < 4; i++) {
                if (spare[i]->Buffer)
                        host_heap_free_checked(spare[i]->Buffer, "LogonUserEx2's PrimaryCredentials");
                memset(spare[i], 0, sizeof(*spare[i]));
        }
        void *sid = pc->UserSid;
        pc->UserSid = NULL;
        size_t len, n;
        if (sid && host_heap_block(sid, &len) && (n = lsa_wire_sid_length(sid, len)) != 0) {
                pc->UserSid = malloc(n);
                if (pc->UserSid)
                        memcpy(pc->UserSid, sid, n);
        }
        if (sid)
                host_heap_free_checked(sid, "LogonUserEx2's PrimaryCredentials UserSid");
}

/* The uid the token's user maps to (the first entry), or -1. */
static int64_t token_uid(const uint8_t *sids, uint32_t sids_len)
{
        if (!sids_len)
                return -1;
        uint32_t pos = 0, id;
        struct lsa_wire_sid sid;
        lsa_wire_sid_at(sids, &pos, &sid);
        return lsa_wire_sid_unix_id(sid.sid, sid.len, &id) == 1 ? (int64_t)id : -1;
}

/* LsaLogonUser's LocalGroups, after the package's groups (checked by the
 * decoder). STATUS_TOO_MANY_CONTEXT_IDS when the token cannot carry them. */
static NTSTATUS local_groups_add(const struct lsa_wire_logon *m, uint8_t *sids, size_t cap, uint32_t *sids_len,
                                 uint16_t *nsids)
{
        uint32_t pos = 0;
        for (uint16_t i = 0; i < m->nlocal; i++) {
                struct lsa_wire_sid s;
                lsa_wire_sid_at(m->local, &pos, &s);
                if (*nsids >= LSA_WIRE_MAX_TOKEN_SIDS || !lsa_wire_sid_put(sids, cap, sids_len, s.attributes, s.sid))
                        return STATUS_TOO_MANY_CONTEXT_IDS;
                (*nsids)++;
        }
        return STATUS_SUCCESS;
}

struct logon_out {
        PVOID profile;
        ULONG profile_len;
        LUID logon_id;
        NTSTATUS sub_status;
        LSA_TOKEN_INFORMATION_TYPE token_type;
        PVOID token_info;
        PUNICODE_STRING account, authority, machine;
        SECPKG_PRIMARY_CRED primary;
        PSECPKG_SUPPLEMENTAL_CRED_ARRAY supplemental;
};

static NTSTATUS call_logon_user(struct host_package *p, struct host_call *call, uint32_t logon_type,
                                struct logon_out *o)
{
        PVOID auth = (PVOID)(uintptr_t)call->submit; /* our own private copy */
        PVOID base = (PVOID)(uintptr_t)call->submit_base;
        ULONG len = call->submit_len;
        SECURITY_LOGON_TYPE type = (SECURITY_LOGON_TYPE)logon_type;
        /* The highest variant the package has, as the LSA calls them. */
        if (p->table.LogonUserEx2) {
                host_active_entry = "LogonUserEx2";
                return p->table.LogonUserEx2(call->request, type, auth, base, len, &o->profile, &o->profile_len,
                                             &o->logon_id, &o->sub_status, &o->token_type, &o->token_info, &o->account,
                                             &o->authority, &o->machine, &o->primary, &o->supplemental);
        }
        if (p->table.LogonUserEx) {
                host_active_entry = "LogonUserEx";
                return p->table.LogonUserEx(call->request, type, auth, base, len, &o->profile, &o->profile_len,
                                            &o->logon_id, &o->sub_status, &o->token_type, &o->token_info, &o->account,
                                            &o->authority, &o->machine);
        }
        host_active_entry = "LogonUser";
        return p->table.LogonUser(call->request, type, auth, base, len, &o->profile, &o->profile_len, &o->logon_id,
                                  &o->sub_status, &o->token_type, &o->token_info, &o->account, &o->authority);
}

static NTSTATUS logon_refuse(struct host *h, struct host_package *p, const char *why)
{
        host_logf(h, HOST_LOG_WARNING "package %s: LogonUser: %s; logon refused", p->name, why);
        return STATUS_INTERNAL_ERROR;
}

void host_logon_from_client(struct host *h, struct host_conn *c, struct host_package *p, const struct lsa_wire_logon *m,
                            struct host_submit *auth, uint8_t *sids, size_t cap, struct lsa_wire_logon_reply *reply)
{
        memset(reply, 0, sizeof(*reply));
        __atomic_add_fetch(&c->calls, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&p->calls, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&h->calls, 1, __ATOMIC_RELAXED);
        if (c->mode != LSA_WIRE_MODE_LOGON) {
                reply->status = STATUS_NOT_LOGON_PROCESS; /* LsaLogonUser is a logon process's */
                return;
        }
        if (!p->table.LogonUserEx2 && !p->table.LogonUserEx && !p->table.LogonUser) {
                reply->status = STATUS_NOT_SUPPORTED;
                return;
        }
        if (c->ntokens >= HOST_MAX_TOKENS) {
                reply->status = STATUS_INSUFFICIENT_RESOURCES;
                return;
        }
        if (!c->tokens) {
                c->tokens = calloc(HOST_MAX_TOKENS, sizeof(*c->tokens));
                if (!c->tokens) {
                        reply->status = STATUS_NO_MEMORY;
                        return;
                }
        }
        struct host_call call = {
                .conn = c,
                .group = ++c->next_group,
                .submit_base = m->auth_base,
                .submit_len = auth->length,
                .submit = auth->data,
                .thread_id = m->thread_id,
                .trusted = true,
                .attributes = SECPKG_CALL_IS_TCB,
                .call_count = (ULONG)c->calls,
        };
        struct logon_out o;
        memset(&o, 0, sizeof(o));
        uint64_t creator = atomic_fetch_add(&next_logon, 1);
        const char *outer_entry = host_active_entry;
        uint64_t outer_creator = host_session_creator;
        host_session_creator = creator;
        host_call_enter(&call, p);
        NTSTATUS st = call_logon_user(p, &call, m->logon_type, &o);
        host_call_leave(&call);
        host_session_creator = outer_creator;
        host_active_entry = outer_entry;

        /* What Windows frees whatever the outcome; the names are kept. */
        struct host_package *outer = host_active_package;
        host_active_package = p; /* refused frees are this package's */
        struct host_session_data data;
        memset(&data, 0, sizeof(data));
        ustr_take(o.account, &data.account, "LogonUser's AccountName");
        ustr_take(o.authority, &data.authority, "LogonUser's AuthenticatingAuthority");
        ustr_take(o.machine, &data.machine, "LogonUserEx's MachineName");
        data.primary = o.primary;
        primary_take(&data.primary);
        if (o.supplemental)
                host_heap_free_checked(o.supplemental, "LogonUserEx2's SupplementalCredentials");
        const char *why = NULL;
        if (NT_SUCCESS(st)) {
                NTSTATUS t = host_token_info_take(o.token_type, o.token_info, sids, cap, &reply->sids_len,
                                                  &reply->nsids, &reply->expiration, &why);
                if (t == STATUS_INTERNAL_ERROR)
                        st = logon_refuse(h, p, why);
                else if (!NT_SUCCESS(t))
                        st = t;
                else
                        st = local_groups_add(m, sids, cap, &reply->sids_len, &reply->nsids);
        } else if (o.token_info) {
                /* A failed logon's token information is the package's to free;
                 * one that returned some anyway leaks it on Windows. Here it
                 * is freed if it is well formed. */
                uint32_t n;
                uint16_t k;
                int64_t e;
                host_token_info_take(o.token_type, o.token_info, sids, cap, &n, &k, &e, &why);
        }
        host_active_package = outer;

        uint64_t off = 0, session = 0;
        int kept = host_call_keep_buffer(c, &call, o.profile, o.profile_len, NT_SUCCESS(st), &off);
        if (kept < 0)
                st = logon_refuse(h, p, "a ProfileBuffer outside its client buffers");
        if (NT_SUCCESS(st)) {
                data.package_id = p->id;
                memcpy(data.package, p->name, sizeof(data.package));
                data.logon_type = m->logon_type;
                data.expiration = reply->expiration;
                data.uid = token_uid(sids, reply->sids_len);
                data.start = (int64_t)time(NULL);
                data.sids = malloc(reply->sids_len);
                if (!data.sids) {
                        st = STATUS_NO_MEMORY;
                } else {
                        memcpy(data.sids, sids, reply->sids_len);
                        data.sids_len = reply->sids_len;
                        data.nsids = reply->nsids;
                        st = host_session_establish(&o.logon_id, &data, &session);
                        if (st == STATUS_NO_SUCH_LOGON_SESSION)
                                host_logf(h,
                                          HOST_LOG_WARNING "package %s: LogonUser succeeded without creating its logon "
                                          "session; logon refused",
                                          p->name);
                }
                if (!NT_SUCCESS(st) && kept > 0)
                        host_free_return_buffer(c, off);
        }
        host_session_data_free(&data);
        /* Sessions this logon created and did not establish: gone. */
        host_sessions_abandon(creator);
        reply->status = st;
        reply->sub_status = o.sub_status;
        if (!NT_SUCCESS(st)) {
                __atomic_add_fetch(&p->failed_calls, 1, __ATOMIC_RELAXED);
                reply->nsids = 0;
                reply->sids_len = 0;
                reply->expiration = 0;
                return;
        }
        uint64_t token = atomic_fetch_add(&next_token, 1);
        c->tokens[c->ntokens++] = (struct host_token){ .id = token, .logon_id = o.logon_id, .session = session };
        reply->token_id = token;
        reply->logon_id = host_luid_key(&o.logon_id);
        reply->sids = sids;
        if (kept > 0) {
                reply->flags |= LSA_WIRE_REPLY_HAS_BUFFER;
                reply->profile_offset = off;
                reply->profile_length = o.profile_len;
        }
}

void host_token_close(struct host_conn *c, uint64_t token_id)
{
        for (unsigned i = 0; i < c->ntokens; i++) {
                if (c->tokens[i].id == token_id) {
                        struct host_token t = c->tokens[i];
                        c->tokens[i] = c->tokens[--c->ntokens];
                        host_session_token_release(&t.logon_id, t.session);
                        return;
                }
        }
}

void host_conn_release_tokens(struct host_conn *c)
{
        while (c->ntokens) {
                struct host_token t = c->tokens[--c->ntokens];
                host_session_token_release(&t.logon_id, t.session);
        }
        free(c->tokens);
        c->tokens = NULL;
}

/* ---- LsaEnumerateLogonSessions, LsaGetLogonSessionData ---- */

static bool visible(const struct host_conn *c, bool all, const struct host_session_view *v)
{
        return all || (v->uid >= 0 && (uint64_t)v->uid == (uint64_t)c->peer.uid);
}

static void reply_buffer(struct lsa_wire_call_reply *reply, uint64_t off, uint32_t len)
{
        reply->status = STATUS_SUCCESS;
        reply->flags |= LSA_WIRE_REPLY_HAS_BUFFER;
        reply->return_offset = off;
        reply->return_length = len;
}

void host_sessions_enumerate(struct host_conn *c, bool all, struct lsa_wire_call_reply *reply)
{
        memset(reply, 0, sizeof(*reply));
        struct host_session_view *v;
        size_t n;
        if (host_sessions_snapshot(&v, &n) < 0) {
                reply->status = STATUS_NO_MEMORY;
                return;
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (v[i].established && visible(c, all, &v[i]))
                        v[k++] = v[i];
        reply->status = STATUS_SUCCESS;
        if (k) {
                void *ours;
                uint64_t addr, off;
                NTSTATUS st = host_conn_return_buffer(c, (uint32_t)(k * sizeof(LUID)), &ours, &addr, &off);
                if (st != STATUS_SUCCESS) {
                        reply->status = st;
                } else {
                        LUID *list = ours;
                        for (size_t i = 0; i < k; i++)
                                list[i] = v[i].logon_id;
                        reply_buffer(reply, off, (uint32_t)(k * sizeof(LUID)));
                }
        }
        free(v);
}

/* Lay a string out at *at in the buffer (ours), pointing the client's
 * copy of the UNICODE_STRING at its client address. */
static void put_ustr(uint8_t *ours, uint64_t addr, size_t *at, UNICODE_STRING *dst, const UNICODE_STRING *src)
{
        memset(dst, 0, sizeof(*dst));
        if (!src->Buffer || !src->Length)
                return;
        memcpy(ours + *at, src->Buffer, src->Length);
        dst->Length = src->Length;
        dst->MaximumLength = src->Length;
        dst->Buffer = (PWSTR)(uintptr_t)(addr + *at);
        *at += src->Length;
        *at = (*at + 7) & ~(size_t)7;
}

static size_t ustr_room(const UNICODE_STRING *s)
{
        return ((size_t)s->Length + 7) & ~(size_t)7;
}

void host_session_data_query(struct host_conn *c, bool all, uint64_t logon_id, struct lsa_wire_call_reply *reply)
{
        memset(reply, 0, sizeof(*reply));
        LUID id = { .LowPart = (ULONG)logon_id, .HighPart = (LONG)(logon_id >> 32) };
        struct host_session_view v;
        struct host_session_data d;
        int r = host_session_detail(&id, &v, &d);
        if (r < 0 || !v.established || !visible(c, all, &v)) {
                reply->status = r == -ENOMEM ? STATUS_NO_MEMORY : STATUS_NO_SUCH_LOGON_SESSION;
                if (r == 0)
                        host_session_data_free(&d);
                return;
        }
        UNICODE_STRING package = { 0 };
        WCHAR pkg[LSA_WIRE_MAX_NAME + 1];
        size_t pn = 0;
        for (; d.package[pn]; pn++)
                pkg[pn] = (WCHAR)(unsigned char)d.package[pn]; /* names are ASCII in practice; bytes as units */
        package.Buffer = pkg;
        package.Length = package.MaximumLength = (USHORT)(pn * 2);
        struct lsa_wire_sid user = { 0 };
        if (d.sids_len) {
                uint32_t pos = 0;
                lsa_wire_sid_at(d.sids, &pos, &user);
        }
        size_t size = sizeof(SECURITY_LOGON_SESSION_DATA) + ustr_room(&d.account) + ustr_room(&d.authority) +
                ustr_room(&package) + ustr_room(&d.primary.LogonServer) + ustr_room(&d.primary.DnsDomainName) +
                ustr_room(&d.primary.Upn) + ((user.len + 7u) & ~7u);
        void *ours;
        uint64_t addr, off;
        NTSTATUS st = host_conn_return_buffer(c, (uint32_t)size, &ours, &addr, &off);
        if (st != STATUS_SUCCESS) {
                reply->status = st;
                host_session_data_free(&d);
                return;
        }
        SECURITY_LOGON_SESSION_DATA s;
        memset(&s, 0, sizeof(s));
        size_t at = sizeof(s);
        s.Size = sizeof(s);
        s.LogonId = id;
        put_ustr(ours, addr, &at, &s.UserName, &d.account);
        put_ustr(ours, addr, &at, &s.LogonDomain, &d.authority);
        put_ustr(ours, addr, &at, &s.AuthenticationPackage, &package);
        put_ustr(ours, addr, &at, &s.LogonServer, &d.primary.LogonServer);
        put_ustr(ours, addr, &at, &s.DnsDomainName, &d.primary.DnsDomainName);
        put_ustr(ours, addr, &at, &s.Upn, &d.primary.Upn);
        s.LogonType = d.logon_type;
        if (user.len) {
                memcpy((uint8_t *)ours + at, user.sid, user.len);
                s.Sid = (PSID)(uintptr_t)(addr + at);
        }
        /* FILETIME: 100 ns units since 1601-01-01. */
        s.LogonTime.QuadPart = (d.start + INT64_C(11644473600)) * 10000000;
        memcpy(ours, &s, sizeof(s));
        host_session_data_free(&d);
        reply_buffer(reply, off, (uint32_t)size);
}
