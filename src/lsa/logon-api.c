/* SPDX-License-Identifier: MIT */
/*
 * The client side of logons: LsaLogonUser, the tokens it returns
 * (NtQueryInformationToken, LsashmGetTokenUnixIds, LsashmCloseToken), and
 * the logon session queries (LsaEnumerateLogonSessions,
 * LsaGetLogonSessionData).
 *
 * A token is the address of a struct lsa_token, looked up in the list of
 * open tokens by pointer value before it is touched, like a connection
 * handle. It holds what the host said of the logon (checked by the wire's
 * decoder) and the connection it came from, which stays open for it even
 * after LsaDeregisterLogonProcess: the host ends a logon session when the
 * last token of it is closed or its connection goes away (this process
 * exits).
 *
 * The two queries take no handle, as on Windows: each opens an untrusted
 * connection for the one request, copies the answer into memory of ours
 * (rebasing its pointers) and closes the connection, so the buffer lives
 * until LsaFreeReturnBuffer, which knows these buffers (a list here) from
 * the reply-section ones.
 *
 * Locks: tokens_lock guards the token list, local_lock the buffer list;
 * neither is held across I/O or while taking another.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lsa/client-internal.h"

struct lsa_token {
        struct lsa_token *next;
        struct lsa_conn *conn;
        uint64_t id; /* the host's name for it */
        LUID logon_id;
        TOKEN_SOURCE source;
        LARGE_INTEGER expiration;
        uint16_t nsids; /* the user's, then the groups' */
        struct lsa_wire_sid sids[];
};

static pthread_mutex_t tokens_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lsa_token *tokens;

/* ---- LsaLogonUser ---- */

static NTSTATUS token_make(struct lsa_conn *c, const struct lsa_wire_logon_reply *r, const TOKEN_SOURCE *source,
                           struct lsa_token **ret)
{
        struct lsa_token *t = calloc(1, sizeof(*t) + (size_t)r->nsids * sizeof(struct lsa_wire_sid));
        if (!t)
                return STATUS_NO_MEMORY;
        t->conn = c;
        t->id = r->token_id;
        t->logon_id.LowPart = (ULONG)r->logon_id;
        t->logon_id.HighPart = (LONG)(r->logon_id >> 32);
        t->source = *source;
        t->expiration.QuadPart = r->expiration;
        uint32_t pos = 0;
        for (uint16_t i = 0; i < r->nsids; i++)
                lsa_wire_sid_at(r->sids, &pos, &t->sids[i]);
        t->nsids = r->nsids;
        *ret = t;
        return STATUS_SUCCESS;
}

/* LocalGroups as the wire's SID entries: at most LSA_WIRE_MAX_LOCAL_GROUPS,
 * each a valid SID (read where the caller points, as Windows reads it). */
static NTSTATUS local_groups(const TOKEN_GROUPS *g, uint8_t *out, size_t cap, uint32_t *len, uint16_t *n)
{
        *len = 0;
        *n = 0;
        if (!g)
                return STATUS_SUCCESS;
        if (g->GroupCount > LSA_WIRE_MAX_LOCAL_GROUPS)
                return STATUS_TOO_MANY_CONTEXT_IDS;
        const SID_AND_ATTRIBUTES *e = g->Groups;
        for (DWORD i = 0; i < g->GroupCount; i++) {
                if (!e[i].Sid || !lsa_wire_sid_put(out, cap, len, e[i].Attributes, e[i].Sid))
                        return STATUS_INVALID_SID;
                (*n)++;
        }
        return STATUS_SUCCESS;
}

static NTSTATUS logon_user(struct lsa_conn *c, const LSA_STRING *origin, SECURITY_LOGON_TYPE type, ULONG package,
                           const void *auth, ULONG auth_len, const TOKEN_GROUPS *local, const TOKEN_SOURCE *source,
                           PVOID *profile, PULONG profile_len, PLUID logon_id, PHANDLE token, PNTSTATUS sub_status)
{
        struct lsa_wire_message req = { .type = LSA_WIRE_LOGON }, m;
        uint8_t local_sids[LSA_WIRE_MAX_LOCAL_GROUPS * (5u + LSA_WIRE_MAX_SID)];
        NTSTATUS lst = local_groups(local, local_sids, sizeof(local_sids), &req.logon.local_len, &req.logon.nlocal);
        if (!NT_SUCCESS(lst))
                return lst;
        req.logon.local = local_sids;
        req.logon.package = package;
        req.logon.logon_type = (uint32_t)type;
        req.logon.thread_id = lsa_thread_id();
        req.logon.auth_base = (uint64_t)(uintptr_t)auth;
        req.logon.auth_len = auth_len;
        int auth_fd = -1; /* past LSA_WIRE_MAX_SUBMIT: the bytes go in a sealed memfd */
        if (auth_len > LSA_WIRE_MAX_SUBMIT) {
                NTSTATUS mst = lsa_submit_memfd(auth, auth_len, &auth_fd);
                if (!NT_SUCCESS(mst))
                        return mst;
        }
        req.logon.auth = auth_fd >= 0 ? NULL : auth;
        memcpy(req.logon.source_name, source->SourceName, sizeof(req.logon.source_name));
        req.logon.source_id =
                (uint64_t)(uint32_t)source->SourceIdentifier.HighPart << 32 | source->SourceIdentifier.LowPart;
        req.logon.origin_len = (uint8_t)origin->Length;
        if (origin->Length)
                memcpy(req.logon.origin, origin->Buffer, origin->Length);
        void *buf;
        NTSTATUS st = lsa_conn_buffer_request(c, &req, auth_fd, &m, &buf);
        if (auth_fd >= 0)
                close(auth_fd); /* the host has its own, and a copy-on-write view at most */
        if (!NT_SUCCESS(st))
                return st;
        *sub_status = m.logon_reply.sub_status;
        if (!NT_SUCCESS(m.logon_reply.status)) {
                LsaFreeReturnBuffer(buf); /* a host that sent one anyway */
                return m.logon_reply.status;
        }
        struct lsa_token *t;
        st = token_make(c, &m.logon_reply, source, &t);
        if (!NT_SUCCESS(st)) {
                /* The host made the token: it must hear that it is gone. */
                lsa_conn_token_hold(c);
                lsa_conn_token_close(c, m.logon_reply.token_id);
                LsaFreeReturnBuffer(buf);
                return st;
        }
        lsa_conn_token_hold(c);
        pthread_mutex_lock(&tokens_lock);
        t->next = tokens;
        tokens = t;
        pthread_mutex_unlock(&tokens_lock);
        *profile = buf;
        *profile_len = buf ? m.logon_reply.profile_length : 0;
        *logon_id = t->logon_id;
        *token = t;
        return STATUS_SUCCESS;
}

NTSTATUS NTAPI LsaLogonUser(HANDLE LsaHandle, PLSA_STRING OriginName, SECURITY_LOGON_TYPE LogonType,
                            ULONG AuthenticationPackage, PVOID AuthenticationInformation,
                            ULONG AuthenticationInformationLength, PTOKEN_GROUPS LocalGroups,
                            PTOKEN_SOURCE SourceContext, PVOID *ProfileBuffer, PULONG ProfileBufferLength,
                            PLUID LogonId, PHANDLE Token, PQUOTA_LIMITS Quotas, PNTSTATUS SubStatus)
{
        if (ProfileBuffer)
                *ProfileBuffer = NULL;
        if (ProfileBufferLength)
                *ProfileBufferLength = 0;
        if (LogonId)
                memset(LogonId, 0, sizeof(*LogonId));
        if (Token)
                *Token = NULL;
        if (Quotas)
                memset(Quotas, 0, sizeof(*Quotas));
        if (SubStatus)
                *SubStatus = STATUS_SUCCESS;
        struct lsa_conn *c = lsa_conn_get(LsaHandle);
        if (!c)
                return STATUS_INVALID_HANDLE;
        NTSTATUS st;
        if (!OriginName || !SourceContext || !ProfileBuffer || !ProfileBufferLength || !LogonId || !Token || !Quotas ||
            !SubStatus || (AuthenticationInformationLength && !AuthenticationInformation) ||
            OriginName->Length > OriginName->MaximumLength || (OriginName->Length && !OriginName->Buffer))
                st = STATUS_INVALID_PARAMETER;
        else if ((unsigned)LogonType > LSA_WIRE_MAX_LOGON_TYPE)
                st = STATUS_INVALID_LOGON_TYPE;
        else if (OriginName->Length > LSASHM_MAX_PACKAGE_NAME)
                st = STATUS_NAME_TOO_LONG;
        else if (OriginName->Length && memchr(OriginName->Buffer, '\0', OriginName->Length))
                st = STATUS_INVALID_PARAMETER;
        else if (AuthenticationInformationLength > LSA_WIRE_MAX_AUTH)
                st = STATUS_INVALID_BUFFER_SIZE; /* past any host's max-submit-size */
        else
                st = logon_user(c, OriginName, LogonType, AuthenticationPackage, AuthenticationInformation,
                                AuthenticationInformationLength, LocalGroups, SourceContext, ProfileBuffer,
                                ProfileBufferLength, LogonId, Token, SubStatus);
        lsa_conn_put(c);
        return st;
}

/* ---- tokens ---- */

/* Under tokens_lock: the open token h names, or NULL. */
static struct lsa_token *token_find_locked(HANDLE h)
{
        for (struct lsa_token *t = tokens; t; t = t->next)
                if ((void *)t == h)
                        return t;
        return NULL;
}

NTSTATUS NTAPI LsashmCloseToken(HANDLE Token)
{
        struct lsa_token *t = NULL;
        pthread_mutex_lock(&tokens_lock);
        for (struct lsa_token **p = &tokens; *p; p = &(*p)->next) {
                if ((void *)*p == Token) {
                        t = *p;
                        *p = t->next;
                        break;
                }
        }
        pthread_mutex_unlock(&tokens_lock);
        if (!t)
                return STATUS_INVALID_HANDLE;
        lsa_conn_token_close(t->conn, t->id);
        free(t);
        return STATUS_SUCCESS;
}

/* The answer to a query: what it needs, and whether it fits. */
static NTSTATUS fits(ULONG need, ULONG have, PULONG ret_length)
{
        *ret_length = need;
        return need > have ? STATUS_BUFFER_TOO_SMALL : STATUS_SUCCESS;
}

/* SID_AND_ATTRIBUTES entries at *out, their SIDs from *tail on. */
static void put_sids(const struct lsa_token *t, uint16_t first, uint16_t n, SID_AND_ATTRIBUTES *out, uint8_t *tail)
{
        for (uint16_t i = 0; i < n; i++) {
                const struct lsa_wire_sid *s = &t->sids[first + i];
                memcpy(tail, s->sid, s->len);
                out[i].Sid = tail;
                out[i].Attributes = s->attributes;
                tail += s->len; /* SIDs are 4-byte multiples: the next stays aligned */
        }
}

static ULONG sids_size(const struct lsa_token *t, uint16_t first, uint16_t n)
{
        ULONG size = 0;
        for (uint16_t i = 0; i < n; i++)
                size += t->sids[first + i].len;
        return size;
}

static NTSTATUS query(const struct lsa_token *t, TOKEN_INFORMATION_CLASS cls, void *out, ULONG len, PULONG ret_length)
{
        NTSTATUS st;
        uint16_t groups = (uint16_t)(t->nsids - 1);
        switch (cls) {
        case TokenUser: {
                ULONG need = (ULONG)sizeof(TOKEN_USER) + t->sids[0].len;
                if ((st = fits(need, len, ret_length)) == STATUS_SUCCESS)
                        put_sids(t, 0, 1, &((TOKEN_USER *)out)->User, (uint8_t *)out + sizeof(TOKEN_USER));
                return st;
        }
        case TokenGroups: {
                size_t head = offsetof(TOKEN_GROUPS, Groups) + (size_t)groups * sizeof(SID_AND_ATTRIBUTES);
                if (head < sizeof(TOKEN_GROUPS))
                        head = sizeof(TOKEN_GROUPS);
                ULONG need = (ULONG)head + sids_size(t, 1, groups);
                if ((st = fits(need, len, ret_length)) == STATUS_SUCCESS) {
                        TOKEN_GROUPS *g = out;
                        memset(g, 0, head);
                        g->GroupCount = groups;
                        put_sids(t, 1, groups, g->Groups, (uint8_t *)out + head);
                }
                return st;
        }
        case TokenStatistics: {
                if ((st = fits(sizeof(TOKEN_STATISTICS), len, ret_length)) == STATUS_SUCCESS) {
                        TOKEN_STATISTICS s;
                        memset(&s, 0, sizeof(s));
                        s.TokenId.LowPart = (ULONG)t->id;
                        s.TokenId.HighPart = (LONG)(t->id >> 32);
                        s.AuthenticationId = t->logon_id;
                        s.ExpirationTime = t->expiration;
                        s.TokenType = TokenPrimary;
                        s.ImpersonationLevel = SecurityAnonymous;
                        s.GroupCount = groups;
                        s.ModifiedId = s.TokenId;
                        memcpy(out, &s, sizeof(s));
                }
                return st;
        }
        case TokenSource:
                if ((st = fits(sizeof(TOKEN_SOURCE), len, ret_length)) == STATUS_SUCCESS)
                        memcpy(out, &t->source, sizeof(TOKEN_SOURCE));
                return st;
        case TokenType:
                if ((st = fits(sizeof(TOKEN_TYPE), len, ret_length)) == STATUS_SUCCESS) {
                        TOKEN_TYPE type = TokenPrimary;
                        memcpy(out, &type, sizeof(type));
                }
                return st;
        default:
                *ret_length = 0;
                return STATUS_INVALID_INFO_CLASS;
        }
}

NTSTATUS NTAPI NtQueryInformationToken(HANDLE TokenHandle, TOKEN_INFORMATION_CLASS TokenInformationClass,
                                       PVOID TokenInformation, ULONG TokenInformationLength, PULONG ReturnLength)
{
        if (!ReturnLength || (TokenInformationLength && !TokenInformation))
                return STATUS_INVALID_PARAMETER;
        *ReturnLength = 0;
        pthread_mutex_lock(&tokens_lock);
        const struct lsa_token *t = token_find_locked(TokenHandle);
        NTSTATUS st = t ? query(t, TokenInformationClass, TokenInformation, TokenInformationLength, ReturnLength)
                        : STATUS_INVALID_HANDLE;
        pthread_mutex_unlock(&tokens_lock);
        return st;
}

NTSTATUS NTAPI LsashmGetTokenUnixIds(HANDLE Token, PULONG Uid, PULONG Gids, ULONG GidCount, PULONG ReturnGidCount)
{
        if (!Uid || !ReturnGidCount || (GidCount && !Gids))
                return STATUS_INVALID_PARAMETER;
        *Uid = (ULONG)-1;
        *ReturnGidCount = 0;
        pthread_mutex_lock(&tokens_lock);
        const struct lsa_token *t = token_find_locked(Token);
        if (!t) {
                pthread_mutex_unlock(&tokens_lock);
                return STATUS_INVALID_HANDLE;
        }
        uint32_t id;
        bool user = lsa_wire_sid_unix_id(t->sids[0].sid, t->sids[0].len, &id) == 1;
        if (user)
                *Uid = id;
        ULONG n = 0;
        for (uint16_t i = 1; i < t->nsids; i++) {
                if (lsa_wire_sid_unix_id(t->sids[i].sid, t->sids[i].len, &id) != 2)
                        continue;
                if (n < GidCount)
                        Gids[n] = id;
                n++;
        }
        pthread_mutex_unlock(&tokens_lock);
        *ReturnGidCount = n;
        if (n > GidCount)
                return STATUS_BUFFER_TOO_SMALL;
        return user ? STATUS_SUCCESS : STATUS_NONE_MAPPED;
}

/* ---- logon session queries ---- */

struct local_buffer {
        struct local_buffer *next;
        void *p;
};

static pthread_mutex_t local_lock = PTHREAD_MUTEX_INITIALIZER;
static struct local_buffer *locals;

bool lsa_local_buffer_free(void *p)
{
        struct local_buffer *found = NULL;
        pthread_mutex_lock(&local_lock);
        for (struct local_buffer **l = &locals; *l; l = &(*l)->next) {
                if ((*l)->p == p) {
                        found = *l;
                        *l = found->next;
                        break;
                }
        }
        pthread_mutex_unlock(&local_lock);
        if (!found)
                return false;
        free(found->p);
        free(found);
        return true;
}

/* A copy of len bytes of the host's answer, ours to hand out. */
static void *local_copy(const void *src, size_t len)
{
        struct local_buffer *l = malloc(sizeof(*l));
        void *p = malloc(len);
        if (!l || !p) {
                free(l);
                free(p);
                return NULL;
        }
        memcpy(p, src, len);
        l->p = p;
        pthread_mutex_lock(&local_lock);
        l->next = locals;
        locals = l;
        pthread_mutex_unlock(&local_lock);
        return p;
}

/* One request on a connection of its own; *ret a local copy of the answer
 * (NULL when the host returned none), *ret_len its length. */
static NTSTATUS session_request(const struct lsa_wire_message *req, void **ret, uint32_t *ret_len,
                                const void **host_buf)
{
        HANDLE h;
        *ret = NULL;
        *ret_len = 0;
        NTSTATUS st = LsaConnectUntrusted(&h);
        if (!NT_SUCCESS(st))
                return st;
        struct lsa_conn *c = lsa_conn_get(h);
        struct lsa_wire_message m;
        void *buf = NULL;
        st = c ? lsa_conn_buffer_request(c, req, -1, &m, &buf) : STATUS_INVALID_HANDLE;
        if (c)
                lsa_conn_put(c);
        if (NT_SUCCESS(st))
                st = m.call_reply.status;
        if (NT_SUCCESS(st) && buf) {
                *ret = local_copy(buf, m.call_reply.return_length);
                *ret_len = m.call_reply.return_length;
                *host_buf = buf;
                if (!*ret)
                        st = STATUS_NO_MEMORY;
        }
        LsaFreeReturnBuffer(buf);
        LsaDeregisterLogonProcess(h);
        return st;
}

NTSTATUS NTAPI LsaEnumerateLogonSessions(PULONG LogonSessionCount, PLUID *LogonSessionList)
{
        if (LogonSessionCount)
                *LogonSessionCount = 0;
        if (LogonSessionList)
                *LogonSessionList = NULL;
        if (!LogonSessionCount || !LogonSessionList)
                return STATUS_INVALID_PARAMETER;
        struct lsa_wire_message req = { .type = LSA_WIRE_SESSIONS };
        void *list;
        uint32_t len;
        const void *host_buf;
        NTSTATUS st = session_request(&req, &list, &len, &host_buf);
        if (!NT_SUCCESS(st))
                return st;
        *LogonSessionCount = len / sizeof(LUID);
        *LogonSessionList = list;
        return STATUS_SUCCESS;
}

/* A string of the host's answer, rebased from the host's copy (at
 * host_base in our address space, len bytes) to ours; one that does not lie
 * inside the answer is emptied. */
static void rebase_ustr(UNICODE_STRING *s, uintptr_t host_base, uint8_t *ours, uint32_t len)
{
        uintptr_t b = (uintptr_t)s->Buffer;
        if (!s->Buffer || b < host_base || b - host_base > len || s->Length > len - (b - host_base) || s->Length % 2) {
                memset(s, 0, sizeof(*s));
                return;
        }
        s->Buffer = (PWSTR)(void *)(ours + (b - host_base));
        s->MaximumLength = s->Length;
}

NTSTATUS NTAPI LsaGetLogonSessionData(PLUID LogonId, PSECURITY_LOGON_SESSION_DATA *ppLogonSessionData)
{
        if (ppLogonSessionData)
                *ppLogonSessionData = NULL;
        if (!LogonId || !ppLogonSessionData)
                return STATUS_INVALID_PARAMETER;
        struct lsa_wire_message req = { .type = LSA_WIRE_SESSION_DATA };
        req.session_data.logon_id = (uint64_t)(uint32_t)LogonId->HighPart << 32 | LogonId->LowPart;
        void *data;
        uint32_t len;
        const void *host_buf = NULL;
        NTSTATUS st = session_request(&req, &data, &len, &host_buf);
        if (!NT_SUCCESS(st))
                return st;
        if (!data || len < sizeof(SECURITY_LOGON_SESSION_DATA)) {
                lsa_local_buffer_free(data);
                return STATUS_PORT_DISCONNECTED; /* a host that breaks the protocol */
        }
        SECURITY_LOGON_SESSION_DATA *s = data;
        uintptr_t base = (uintptr_t)host_buf;
        rebase_ustr(&s->UserName, base, data, len);
        rebase_ustr(&s->LogonDomain, base, data, len);
        rebase_ustr(&s->AuthenticationPackage, base, data, len);
        rebase_ustr(&s->LogonServer, base, data, len);
        rebase_ustr(&s->DnsDomainName, base, data, len);
        rebase_ustr(&s->Upn, base, data, len);
        UNICODE_STRING *unused[] = { &s->LogonScript, &s->ProfilePath, &s->HomeDirectory, &s->HomeDirectoryDrive };
        for (size_t i = 0; i < sizeof(unused) / sizeof(unused[0]); i++)
                memset(unused[i], 0, sizeof(*unused[i]));
        uintptr_t sid = (uintptr_t)s->Sid;
        s->Sid = NULL;
        if (sid >= base && sid - base < len) {
                size_t off = sid - base;
                if (lsa_wire_sid_length((uint8_t *)data + off, len - off))
                        s->Sid = (uint8_t *)data + off;
        }
        s->Size = sizeof(*s);
        *ppLogonSessionData = s;
        return STATUS_SUCCESS;
}
