/* SPDX-License-Identifier: MIT */
/*
 * The test authentication packages (test-ap-package.h): AP-only libraries
 * written against <lsashm/ntsecpkg.h> and libc, as for Windows. One source,
 * two variants (TAP_VARIANT_EX2, TAP_VARIANT_PLAIN).
 *
 * Everything handed to the LSA is LSA heap, allocated as the LSA frees it:
 * V2 token information in one block, V1 and Null block by block, names as
 * an UNICODE_STRING block and a Buffer block. The malformed scenarios make
 * their token information as described in the header, still from the LSA
 * heap where the scenario allows, so that a host that frees what it found
 * leaves nothing behind.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lsashm/ntsecapi.h>
#include <lsashm/ntsecpkg.h>

#include "test-ap-package.h"

#define EXPORT __attribute__((visibility("default")))

/* The entry points, declared with ntsecpkg.h's types as on Windows. */
EXPORT LSA_AP_INITIALIZE_PACKAGE LsaApInitializePackage;
EXPORT LSA_AP_CALL_PACKAGE LsaApCallPackage;
EXPORT LSA_AP_CALL_PACKAGE_UNTRUSTED LsaApCallPackageUntrusted;
EXPORT LSA_AP_LOGON_TERMINATED LsaApLogonTerminated;
EXPORT LSA_AP_LOGON_USER LsaApLogonUser;
#if defined(TAP_VARIANT_EX2)
EXPORT LSA_AP_LOGON_USER_EX2 LsaApLogonUserEx2;
#elif defined(TAP_VARIANT_EX)
EXPORT LSA_AP_LOGON_USER_EX LsaApLogonUserEx;
#endif

static PLSA_SECPKG_FUNCTION_TABLE lsa;
/* The LSA calls a package from several threads at once: what logons and
 * calls share is under lock (never held across a call into the LSA). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static TAP_STATS_REPLY stats;
static ULONG next_luid = 1;
static ULONG logons;
static LUID last_ok;
static UCHAR static_token[512];

#if defined(TAP_VARIANT_EX2)
static const char package_name[] = TAP_NAME_EX2;
#elif defined(TAP_VARIANT_EX)
static const char package_name[] = TAP_NAME_EX;
#else
static const char package_name[] = TAP_NAME_PLAIN;
#endif

static PVOID heap(size_t n)
{
        return lsa->AllocateLsaHeap((ULONG)n);
}

EXPORT NTSTATUS NTAPI LsaApInitializePackage(ULONG AuthenticationPackageId, PLSA_DISPATCH_TABLE LsaDispatchTable,
                                             PLSA_STRING Database, PLSA_STRING Confidentiality,
                                             PLSA_STRING *AuthenticationPackageName)
{
        (void)AuthenticationPackageId;
        pthread_mutex_lock(&lock);
        stats.InitializeCalls++;
        pthread_mutex_unlock(&lock);
        if (Database || Confidentiality || !LsaDispatchTable || !AuthenticationPackageName)
                return STATUS_INVALID_PARAMETER;
        /* Real packages take the dispatch table for the full function table. */
        lsa = (PLSA_SECPKG_FUNCTION_TABLE)LsaDispatchTable;
        pthread_mutex_lock(&lock);
        stats.GotFullTable = lsa->GetClientInfo != NULL && lsa->GetCallInfo != NULL;
        pthread_mutex_unlock(&lock);
        size_t n = strlen(package_name);
#if defined(TAP_VARIANT_PLAIN)
        /* One block: the LSA_STRING, its characters right behind it. */
        PLSA_STRING s = heap(sizeof(LSA_STRING) + n + 1);
        if (!s)
                return STATUS_NO_MEMORY;
        s->Buffer = (PCHAR)(s + 1);
#else
        PLSA_STRING s = heap(sizeof(LSA_STRING));
        if (!s)
                return STATUS_NO_MEMORY;
        s->Buffer = heap(n + 1);
        if (!s->Buffer) {
                lsa->FreeLsaHeap(s); /* a failed initialization leaves nothing */
                return STATUS_NO_MEMORY;
        }
#endif
        memcpy(s->Buffer, package_name, n);
        s->Length = (USHORT)n;
        s->MaximumLength = (USHORT)(n + 1);
        *AuthenticationPackageName = s;
        return STATUS_SUCCESS;
}

EXPORT NTSTATUS NTAPI LsaApCallPackage(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                       PVOID ClientBufferBase, ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer,
                                       PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus)
{
        (void)ClientBufferBase;
        ULONG type = 0;
        if (SubmitBufferLength >= sizeof(type))
                memcpy(&type, ProtocolSubmitBuffer, sizeof(type));
        if ((type == TAP_DELETE_SESSION || type == TAP_CREATE_SESSION) &&
            SubmitBufferLength >= sizeof(TAP_SESSION_REQUEST)) {
                TAP_SESSION_REQUEST r;
                memcpy(&r, ProtocolSubmitBuffer, sizeof(r));
                *ProtocolStatus = type == TAP_DELETE_SESSION ? lsa->DeleteLogonSession(&r.LogonId)
                                                             : lsa->CreateLogonSession(&r.LogonId);
                return STATUS_SUCCESS;
        }
        if (type != TAP_STATS) {
                *ProtocolStatus = STATUS_INVALID_PARAMETER;
                return STATUS_SUCCESS;
        }
        pthread_mutex_lock(&lock);
        stats.MessageType = TAP_STATS;
        TAP_STATS_REPLY now = stats;
        pthread_mutex_unlock(&lock);
        PVOID cb;
        NTSTATUS st = lsa->AllocateClientBuffer(ClientRequest, sizeof(now), &cb);
        if (NT_SUCCESS(st))
                st = lsa->CopyToClientBuffer(ClientRequest, sizeof(now), cb, &now);
        if (!NT_SUCCESS(st))
                return st;
        *ProtocolReturnBuffer = cb;
        *ReturnBufferLength = sizeof(now);
        *ProtocolStatus = STATUS_SUCCESS;
        return STATUS_SUCCESS;
}

EXPORT NTSTATUS NTAPI LsaApCallPackageUntrusted(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                                PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                                PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                                PNTSTATUS ProtocolStatus)
{
        pthread_mutex_lock(&lock);
        stats.CallsUntrusted++;
        pthread_mutex_unlock(&lock);
        return LsaApCallPackage(ClientRequest, ProtocolSubmitBuffer, ClientBufferBase, SubmitBufferLength,
                                ProtocolReturnBuffer, ReturnBufferLength, ProtocolStatus);
}

EXPORT VOID NTAPI LsaApLogonTerminated(PLUID LogonId)
{
        pthread_mutex_lock(&lock);
        stats.Terminated++;
        stats.LastTerminated = *LogonId;
        pthread_mutex_unlock(&lock);
}

/* ---- building what LogonUser returns ---- */

/* S-1-<authority>-<subs...> at p; its length. */
static size_t put_sid(void *p, UCHAR authority, const ULONG *subs, UCHAR n)
{
        UCHAR *b = p;
        b[0] = 1;
        b[1] = n;
        memset(b + 2, 0, 5);
        b[7] = authority;
        memcpy(b + 8, subs, 4u * n);
        return 8u + 4u * n;
}

/* Each SID of an ordinary logon: user, then three groups. */
struct sids {
        UCHAR sid[4][16];
        size_t len[4];
};

static void logon_sids(struct sids *s, bool unix_user)
{
        const ULONG u[] = { 1, TAP_UID }, g1[] = { 2, TAP_GID }, g2[] = { 2, TAP_GID2 }, users[] = { 32, 545 };
        memset(s, 0, sizeof(*s));
        if (unix_user)
                s->len[0] = put_sid(s->sid[0], 22, u, 2);
        else
                s->len[0] = 0;
        s->len[1] = put_sid(s->sid[1], 22, g1, 2);
        s->len[2] = put_sid(s->sid[2], 22, g2, 2);
        s->len[3] = put_sid(s->sid[3], 5, users, 2);
}

static PVOID token_v2(bool unix_user, ULONG group_count, ULONG groups_room)
{
        static const ULONG win_user[] = { 21, 1, 2, 3, 1001 };
        struct sids s;
        logon_sids(&s, unix_user);
        UCHAR user[28];
        size_t ulen = unix_user ? put_sid(user, 22, (const ULONG[]){ 1, TAP_UID }, 2) : put_sid(user, 5, win_user, 5);
        size_t groups_off = sizeof(LSA_TOKEN_INFORMATION_V2);
        size_t groups_len = offsetof(TOKEN_GROUPS, Groups) + groups_room * sizeof(SID_AND_ATTRIBUTES);
        size_t sid_off = groups_off + ((groups_len + 7) & ~(size_t)7);
        size_t total = sid_off + 28 + 3 * 16 + 16;
        UCHAR *b = heap(total);
        if (!b)
                return NULL;
        LSA_TOKEN_INFORMATION_V2 *t = (void *)b;
        TOKEN_GROUPS *g = (void *)(b + groups_off);
        UCHAR *at = b + sid_off;
        memcpy(at, user, ulen);
        t->User.User.Sid = at;
        at += 28;
        g->GroupCount = group_count;
        for (ULONG i = 0; i < 3 && i < groups_room; i++) {
                memcpy(at, s.sid[i + 1], s.len[i + 1]);
                g->Groups[i].Sid = at;
                g->Groups[i].Attributes = SE_GROUP_MANDATORY | SE_GROUP_ENABLED;
                at += 16;
        }
        t->Groups = g;
        t->PrimaryGroup.PrimaryGroup = g->Groups[0].Sid;
        t->ExpirationTime.QuadPart = INT64_MAX;
        return t;
}

/* V1: the structure, Groups, each SID and the primary group: blocks of their own. */
static PVOID token_v1(const char *user)
{
        struct sids s;
        logon_sids(&s, true);
        LSA_TOKEN_INFORMATION_V1 *t = heap(sizeof(*t));
        TOKEN_GROUPS *g = heap(offsetof(TOKEN_GROUPS, Groups) + 3 * sizeof(SID_AND_ATTRIBUTES));
        if (!t || !g)
                return NULL;
        if (strcmp(user, TAP_USER_BAD_NOUSER) != 0) {
                t->User.User.Sid = heap(s.len[0]);
                memcpy(t->User.User.Sid, s.sid[0], s.len[0]);
                if (strcmp(user, TAP_USER_BAD_SID) == 0)
                        ((UCHAR *)t->User.User.Sid)[0] = 2;
        }
        UCHAR stack_sid[16];
        g->GroupCount = 3;
        for (int i = 0; i < 3; i++) {
                g->Groups[i].Sid = heap(s.len[i + 1]);
                memcpy(g->Groups[i].Sid, s.sid[i + 1], s.len[i + 1]);
                g->Groups[i].Attributes = SE_GROUP_MANDATORY | SE_GROUP_ENABLED;
        }
        if (strcmp(user, TAP_USER_BAD_SID_STACK) == 0) {
                /* The block stays the package's; the pointer goes to the stack. */
                memcpy(stack_sid, s.sid[3], s.len[3]);
                SID_AND_ATTRIBUTES *entries = g->Groups; /* ANYSIZE_ARRAY: 3 allocated */
                lsa->FreeLsaHeap(entries[2].Sid);
                entries[2].Sid = stack_sid;
        }
        t->Groups = g;
        if (strcmp(user, TAP_USER_BAD_NOPRIMARY) != 0) {
                t->PrimaryGroup.PrimaryGroup = heap(s.len[1]);
                memcpy(t->PrimaryGroup.PrimaryGroup, s.sid[1], s.len[1]);
        }
        t->ExpirationTime.QuadPart = INT64_MAX;
        return t;
}

static PVOID token_null(void)
{
        LSA_TOKEN_INFORMATION_NULL *t = heap(sizeof(*t));
        TOKEN_GROUPS *g = heap(sizeof(TOKEN_GROUPS));
        if (!t || !g)
                return NULL;
        const ULONG g1[] = { 2, TAP_GID };
        g->GroupCount = 1;
        g->Groups[0].Sid = heap(16);
        put_sid(g->Groups[0].Sid, 22, g1, 2);
        t->Groups = g;
        return t;
}

static PUNICODE_STRING name(const WCHAR *w, size_t n)
{
        PUNICODE_STRING s = heap(sizeof(*s));
        if (!s)
                return NULL;
        s->Buffer = heap(n * 2);
        if (!s->Buffer) {
                lsa->FreeLsaHeap(s);
                return NULL;
        }
        if (n)
                memcpy(s->Buffer, w, n * 2);
        s->Length = s->MaximumLength = (USHORT)(n * 2);
        return s;
}

/* A string of the primary credentials in the LSA heap (left empty when
 * the heap is out of memory: they are extras). */
static void cred_str(UNICODE_STRING *s, const void *w, size_t bytes)
{
        s->Buffer = heap(bytes);
        if (!s->Buffer)
                return;
        memcpy(s->Buffer, w, bytes);
        s->Length = s->MaximumLength = (USHORT)bytes;
}

static void ascii_w(const char *a, WCHAR *w, size_t *n)
{
        for (*n = 0; a[*n]; (*n)++)
                w[*n] = (WCHAR)a[*n];
}

/* A string of the authentication information, as the client addressed
 * it, found in our copy: NULL if it does not lie inside. */
static const WCHAR *rebase(const UNICODE_STRING *s, PVOID copy, PVOID client_base, ULONG len)
{
        uintptr_t b = (uintptr_t)s->Buffer, base = (uintptr_t)client_base;
        if (!s->Length)
                return (const WCHAR *)(const void *)"";
        if (b < base || b - base > len || s->Length > len - (b - base) || s->Length % 2)
                return NULL;
        return (const WCHAR *)(const void *)((UCHAR *)copy + (b - base));
}

static bool wide_is(const WCHAR *w, USHORT bytes, const char *a)
{
        size_t n = strlen(a);
        if (bytes != n * 2)
                return false;
        for (size_t i = 0; i < n; i++)
                if (w[i] != (WCHAR)a[i])
                        return false;
        return true;
}

static void sleep_ms(ULONG ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0)
                ;
}

/* Whoever waits for a slow logon to be in LogonUser reads this line. */
static void log_sleeping(void)
{
        const char *path = getenv(TAP_LOG_ENV);
        FILE *f = path && *path ? fopen(path, "ae") : NULL;
        if (f) {
                fputs(TAP_SLOW_LINE, f);
                fclose(f);
        }
}

static NTSTATUS logon(PLSA_CLIENT_REQUEST req, SECURITY_LOGON_TYPE type, PVOID auth, PVOID client_base, ULONG auth_len,
                      PVOID *profile, PULONG profile_len, PLUID logon_id, PNTSTATUS sub,
                      PLSA_TOKEN_INFORMATION_TYPE token_type, PVOID *token, PUNICODE_STRING *account,
                      PUNICODE_STRING *authority, PUNICODE_STRING *machine, PSECPKG_PRIMARY_CRED primary)
{
        (void)type;
        *sub = STATUS_SUCCESS;
        SECPKG_CLIENT_INFO ci;
        bool ci_ok = NT_SUCCESS(lsa->GetClientInfo(&ci));
        pthread_mutex_lock(&lock);
        stats.ClientInfoOk = ci_ok;
        stats.ClientPid = ci.ProcessID;
        pthread_mutex_unlock(&lock);
        MSV1_0_INTERACTIVE_LOGON in;
        if (auth_len < sizeof(in))
                return STATUS_INVALID_PARAMETER;
        memcpy(&in, auth, sizeof(in));
        if (in.MessageType != MsV1_0InteractiveLogon)
                return STATUS_INVALID_PARAMETER;
        const WCHAR *user = rebase(&in.UserName, auth, client_base, auth_len);
        const WCHAR *pass = rebase(&in.Password, auth, client_base, auth_len);
        const WCHAR *domain = rebase(&in.LogonDomainName, auth, client_base, auth_len);
        if (!user || !pass || !domain)
                return STATUS_INVALID_PARAMETER;
        char u[64];
        size_t un = in.UserName.Length / 2;
        if (un >= sizeof(u))
                return STATUS_LOGON_FAILURE;
        for (size_t i = 0; i < un; i++)
                u[i] = (char)user[i];
        u[un] = '\0';

        /* The names go back even when the logon fails, as on Windows. */
        WCHAR w[64];
        size_t wn;
        ascii_w(u, w, &wn);
        *account = name(w, wn);
        *authority = name(domain, in.LogonDomainName.Length / 2);
        if (machine) {
                ascii_w("testhost", w, &wn);
                *machine = name(w, wn);
        }
        if (!wide_is(pass, in.Password.Length, TAP_PASSWORD)) {
                *sub = TAP_SUB_WRONG_PASSWORD;
                return STATUS_LOGON_FAILURE;
        }
        if (strcmp(u, TAP_USER_SLOW) == 0) {
                log_sleeping();
                sleep_ms(TAP_SLOW_MS);
        }

        pthread_mutex_lock(&lock);
        LUID id = { .LowPart = next_luid++, .HighPart = 0x7A7A };
        LUID last = last_ok;
        pthread_mutex_unlock(&lock);
        if (strcmp(u, TAP_USER_REUSE) == 0) {
                id = last;
        } else if (strcmp(u, TAP_USER_RECREATE) == 0) {
                id = last;
                NTSTATUS st = lsa->CreateLogonSession(&id);
                if (!NT_SUCCESS(st))
                        return st;
        } else if (strcmp(u, TAP_USER_NOSESSION) != 0) {
                NTSTATUS st = lsa->CreateLogonSession(&id);
                if (!NT_SUCCESS(st))
                        return st;
        }
        pthread_mutex_lock(&lock);
        stats.LastLogon = id;
        pthread_mutex_unlock(&lock);
        if (strcmp(u, TAP_USER_FAILCREATED) == 0)
                return STATUS_LOGON_FAILURE; /* the session is left for the LSA to end */
        *logon_id = id;

        if (strcmp(u, TAP_USER_V1) == 0 || strncmp(u, "bad-", 4) == 0) {
                *token_type = LsaTokenInformationV1;
                *token = token_v1(u);
        } else if (strcmp(u, TAP_USER_NULL) == 0) {
                *token_type = LsaTokenInformationNull;
                *token = token_null();
        } else {
                *token_type = LsaTokenInformationV2;
                *token = token_v2(strcmp(u, TAP_USER_NOUNIX) != 0, 3, 3);
        }
        if (strcmp(u, TAP_USER_BAD_V2_OUTSIDE) == 0 || strcmp(u, TAP_USER_BAD_COUNT) == 0 ||
            strcmp(u, TAP_USER_BAD_COUNT_FIT) == 0 || strcmp(u, TAP_USER_BAD_DACL) == 0) {
                /* V1 built above is not wanted: free it as the LSA would not. */
                LSA_TOKEN_INFORMATION_V1 *v1 = *token;
                lsa->FreeLsaHeap(v1->User.User.Sid);
                for (ULONG i = 0; i < v1->Groups->GroupCount; i++)
                        lsa->FreeLsaHeap(v1->Groups->Groups[i].Sid);
                lsa->FreeLsaHeap(v1->Groups);
                lsa->FreeLsaHeap(v1->PrimaryGroup.PrimaryGroup);
                lsa->FreeLsaHeap(v1);
                *token_type = LsaTokenInformationV2;
                LSA_TOKEN_INFORMATION_V2 *t = token_v2(true, 3, 3);
                *token = t;
                if (strcmp(u, TAP_USER_BAD_COUNT) == 0) {
                        t->Groups->GroupCount = 0x7fffffff;
                } else if (strcmp(u, TAP_USER_BAD_COUNT_FIT) == 0) {
                        LSA_TOKEN_INFORMATION_V2 *f = token_v2(true, 40, 2);
                        lsa->FreeLsaHeap(t);
                        *token = f;
                } else if (strcmp(u, TAP_USER_BAD_DACL) == 0) {
                        /* An ACL header inside the block, claiming more than it holds. */
                        ACL *acl = (ACL *)(void *)t->User.User.Sid; /* any 8 bytes inside */
                        t->DefaultDacl.DefaultDacl = acl;
                        acl->AclSize = 0xFFF0;
                } else {
                        /* Groups moved to a block of its own: outside V2's one block. */
                        TOKEN_GROUPS *g = heap(sizeof(TOKEN_GROUPS));
                        g->GroupCount = 0;
                        t->Groups = g;
                }
        } else if (strcmp(u, TAP_USER_BAD_STATIC) == 0) {
                LSA_TOKEN_INFORMATION_V1 *v1 = *token;
                memcpy(static_token, v1, sizeof(*v1));
                *token = static_token;
                lsa->FreeLsaHeap(v1); /* the parts it pointed to go with the LSA's walk, or leak */
        } else if (strcmp(u, TAP_USER_BAD_TYPE) == 0) {
                *token_type = (LSA_TOKEN_INFORMATION_TYPE)7;
        } else if (strcmp(u, TAP_USER_BAD_NOINFO) == 0) {
                LSA_TOKEN_INFORMATION_V1 *v1 = *token;
                lsa->FreeLsaHeap(v1->User.User.Sid);
                for (ULONG i = 0; i < v1->Groups->GroupCount; i++)
                        lsa->FreeLsaHeap(v1->Groups->Groups[i].Sid);
                lsa->FreeLsaHeap(v1->Groups);
                lsa->FreeLsaHeap(v1->PrimaryGroup.PrimaryGroup);
                lsa->FreeLsaHeap(v1);
                *token = NULL;
        }

        if (strcmp(u, TAP_USER_BADPROFILE) == 0) {
                static UCHAR not_a_client_buffer[64];
                *profile = not_a_client_buffer;
                *profile_len = sizeof(not_a_client_buffer);
        } else {
                size_t ulen = un * 2;
                ULONG total = (ULONG)(sizeof(TAP_PROFILE) + ulen);
                UCHAR local[sizeof(TAP_PROFILE) + 128];
                PVOID cb;
                NTSTATUS st = lsa->AllocateClientBuffer(req, total, &cb);
                if (!NT_SUCCESS(st))
                        return st;
                pthread_mutex_lock(&lock);
                ULONG count = ++logons;
                pthread_mutex_unlock(&lock);
                TAP_PROFILE p = { .MessageType = TAP_PROFILE_TYPE, .LogonCount = count, .ClientPid = ci.ProcessID };
                p.User.Length = p.User.MaximumLength = (USHORT)ulen;
                p.User.Buffer = (PWSTR)(void *)((UCHAR *)cb + sizeof(TAP_PROFILE));
                memcpy(local, &p, sizeof(p));
                memcpy(local + sizeof(p), user, ulen);
                st = lsa->CopyToClientBuffer(req, total, cb, local);
                if (!NT_SUCCESS(st))
                        return st;
                *profile = cb;
                *profile_len = total;
        }
        if (primary) {
                primary->LogonId = id;
                ascii_w(u, w, &wn);
                cred_str(&primary->DownlevelName, w, wn * 2);
                cred_str(&primary->Password, pass, in.Password.Length);
                ascii_w("alice@test.example", w, &wn);
                cred_str(&primary->Upn, w, wn * 2);
                primary->UserSid = heap(16);
                if (primary->UserSid)
                        put_sid(primary->UserSid, 22, (const ULONG[]){ 1, TAP_UID }, 2);
                primary->Flags = PRIMARY_CRED_CLEAR_PASSWORD;
        }
        if (strncmp(u, "bad", 3) != 0 && strcmp(u, TAP_USER_NOSESSION) != 0 && strcmp(u, TAP_USER_REUSE) != 0 &&
            strcmp(u, TAP_USER_RECREATE) != 0) {
                pthread_mutex_lock(&lock);
                last_ok = id;
                pthread_mutex_unlock(&lock);
        }
        return STATUS_SUCCESS;
}

#if defined(TAP_VARIANT_EX2)
EXPORT NTSTATUS NTAPI LsaApLogonUserEx2(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType,
                                        PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase, ULONG SubmitBufferSize,
                                        PVOID *ProfileBuffer, PULONG ProfileBufferSize, PLUID LogonId,
                                        PNTSTATUS SubStatus, PLSA_TOKEN_INFORMATION_TYPE TokenInformationType,
                                        PVOID *TokenInformation, PUNICODE_STRING *AccountName,
                                        PUNICODE_STRING *AuthenticatingAuthority, PUNICODE_STRING *MachineName,
                                        PSECPKG_PRIMARY_CRED PrimaryCredentials,
                                        PSECPKG_SUPPLEMENTAL_CRED_ARRAY *SupplementalCredentials)
{
        pthread_mutex_lock(&lock);
        stats.LogonUserEx2Calls++;
        pthread_mutex_unlock(&lock);
        *SupplementalCredentials = NULL;
        return logon(ClientRequest, LogonType, ProtocolSubmitBuffer, ClientBufferBase, SubmitBufferSize, ProfileBuffer,
                     ProfileBufferSize, LogonId, SubStatus, TokenInformationType, TokenInformation, AccountName,
                     AuthenticatingAuthority, MachineName, PrimaryCredentials);
}
#endif

#if defined(TAP_VARIANT_EX)
EXPORT NTSTATUS NTAPI LsaApLogonUserEx(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType,
                                       PVOID AuthenticationInformation, PVOID ClientAuthenticationBase,
                                       ULONG AuthenticationInformationLength, PVOID *ProfileBuffer,
                                       PULONG ProfileBufferLength, PLUID LogonId, PNTSTATUS SubStatus,
                                       PLSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID *TokenInformation,
                                       PUNICODE_STRING *AccountName, PUNICODE_STRING *AuthenticatingAuthority,
                                       PUNICODE_STRING *MachineName)
{
        pthread_mutex_lock(&lock);
        stats.LogonUserExCalls++;
        pthread_mutex_unlock(&lock);
        return logon(ClientRequest, LogonType, AuthenticationInformation, ClientAuthenticationBase,
                     AuthenticationInformationLength, ProfileBuffer, ProfileBufferLength, LogonId, SubStatus,
                     TokenInformationType, TokenInformation, AccountName, AuthenticatingAuthority, MachineName, NULL);
}
#endif

/* Every variant exports it; only ap-plain may see it called. */
EXPORT NTSTATUS NTAPI LsaApLogonUser(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType,
                                     PVOID AuthenticationInformation, PVOID ClientAuthenticationBase,
                                     ULONG AuthenticationInformationLength, PVOID *ProfileBuffer,
                                     PULONG ProfileBufferLength, PLUID LogonId, PNTSTATUS SubStatus,
                                     PLSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID *TokenInformation,
                                     PLSA_UNICODE_STRING *AccountName, PLSA_UNICODE_STRING *AuthenticatingAuthority)
{
        pthread_mutex_lock(&lock);
        stats.LogonUserCalls++;
        pthread_mutex_unlock(&lock);
        return logon(ClientRequest, LogonType, AuthenticationInformation, ClientAuthenticationBase,
                     AuthenticationInformationLength, ProfileBuffer, ProfileBufferLength, LogonId, SubStatus,
                     TokenInformationType, TokenInformation, AccountName, AuthenticatingAuthority, NULL, NULL);
}
