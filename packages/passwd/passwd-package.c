/* SPDX-License-Identifier: MIT */
/*
 * lsashm-passwd.so: a sample authentication package ("LsashmPasswd"), the
 * plain kind Windows has had since NT 3.1: it exports LsaApInitializePackage,
 * LsaApLogonUserEx2, LsaApCallPackage, LsaApCallPackageUntrusted,
 * LsaApCallPackagePassthrough and LsaApLogonTerminated, and no
 * SpLsaModeInitialize. Written against <lsashm/ntsecpkg.h> only (and
 * libsodium for argon2id), as a Windows package is against the SDK.
 *
 * Users, their Unix ids and argon2id hashes are in its own file
 * (passwd-db.h; $LSASHM_PASSWD_DB, default PASSWD_DB_DEFAULT_PATH), read at
 * each logon, so that `lsashm-passwd` changes take effect at once.
 *
 * A logon (MSV1_0_INTERACTIVE_LOGON, or KERB_INTERACTIVE_LOGON: the same
 * layout), as MSV1_0 answers:
 *   unknown user                      STATUS_LOGON_FAILURE, SubStatus STATUS_NO_SUCH_USER
 *   wrong password                    STATUS_LOGON_FAILURE, SubStatus STATUS_WRONG_PASSWORD
 *   $LSASHM_PASSWD_LOCKOUT (default 5) wrong passwords in a row, until
 *   `lsashm-passwd unlock` or a password change: STATUS_ACCOUNT_LOCKED_OUT
 *   right password, but the account disabled / expired, or its password
 *   expired / to be changed:          STATUS_ACCOUNT_RESTRICTION, SubStatus
 *       STATUS_ACCOUNT_DISABLED / _ACCOUNT_EXPIRED / _PASSWORD_EXPIRED /
 *       _PASSWORD_MUST_CHANGE
 *   success: a new logon session (AllocateLocallyUniqueId,
 *       CreateLogonSession), LsaTokenInformationV2 in one LSA heap block
 *       with the user's SID S-1-22-1-<uid>, primary group S-1-22-2-<gid>
 *       and every group as S-1-22-2-<gid>; the user name kept as the
 *       session's credential (AddCredential); a PASSWD_PROFILE as the
 *       profile buffer.
 * The domain must be empty, "." or this host's name.
 *
 * Calls (passwd-protocol.h): a password change from logon processes, the
 * stats (logons, failures, LogonTerminated seen) and a session's user as
 * kept in its credential.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include <lsashm/ntsecpkg.h>
#include <lsashm/ntstatus.h>
#include <lsashm/winnt.h> /* AllocateLocallyUniqueId, resolved from lsashmd */

#include "passwd-db.h"
#include "passwd-protocol.h"

#define PASSWORD_MAX_BYTES 1024 /* UTF-8, after conversion */

#ifndef SE_GROUP_MANDATORY
#define SE_GROUP_MANDATORY          0x00000001L
#define SE_GROUP_ENABLED_BY_DEFAULT 0x00000002L
#define SE_GROUP_ENABLED            0x00000004L
#endif
#define GROUP_ATTRIBUTES (SE_GROUP_MANDATORY | SE_GROUP_ENABLED_BY_DEFAULT | SE_GROUP_ENABLED)

/* The Unix SIDs (Samba's convention): S-1-22-1-<uid>, S-1-22-2-<gid>. */
#define UNIX_SID_AUTHORITY 22
#define UNIX_SID_USERS     1
#define UNIX_SID_GROUPS    2
#define UNIX_SID_BYTES     (8 + 2 * 4)

/* The credential each session gets: its user name under this key. */
static CHAR credential_key[] = "lsashm-passwd:user";

static PLSA_SECPKG_FUNCTION_TABLE lsa;
static ULONG package_id;
static const char *db_path = PASSWD_DB_DEFAULT_PATH;
static unsigned max_failures = 5;

/* Serialises this package's own reads and writes of the file (the file's
 * lock serialises them with the command) and guards the stats. */
static pthread_mutex_t passwd_lock = PTHREAD_MUTEX_INITIALIZER;
static PASSWD_STATS stats;

/* Our live sessions, to tell ours apart in LsaApLogonTerminated. */
#define SESSIONS_MAX 4096
static LUID sessions[SESSIONS_MAX];
static unsigned nsessions;

/* Checked once, at the first unknown user: a hash to verify against so that
 * an unknown name costs what a wrong password does. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_hash_make(void)
{
        unsigned char pw[16];
        randombytes_buf(pw, sizeof(pw));
        if (crypto_pwhash_str(dummy_hash, (const char *)pw, sizeof(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
                dummy_hash[0] = '\0';
        sodium_memzero(pw, sizeof(pw));
}

/* One line to lsashmd's log (its stderr). */
__attribute__((format(printf, 1, 2))) static void plog(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("lsashm-passwd: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

/* ---- the submit buffer ---- */

/* The submit buffer as the host gave it: our copy, and where the client had
 * it (for the embedded pointers). */
struct submit {
        const UCHAR *base;
        ULONG_PTR client_base;
        ULONG size;
};

/* The n UTF-16 units of s, rebased into the submit buffer; NULL when they
 * are not all inside it. */
static const WCHAR *submit_string(const struct submit *sb, const UNICODE_STRING *s, USHORT *ret_units)
{
        static const WCHAR empty[1];
        if (s->Length % 2)
                return NULL;
        *ret_units = s->Length / 2;
        if (s->Length == 0)
                return empty;
        ULONG_PTR at = (ULONG_PTR)s->Buffer;
        if (at < sb->client_base || at - sb->client_base > sb->size || sb->size - (at - sb->client_base) < s->Length ||
            (at - sb->client_base) % 2)
                return NULL;
        return (const WCHAR *)(const void *)(sb->base + (at - sb->client_base));
}

/* UTF-16 to UTF-8, NUL-terminated; false when it does not fit or is not
 * valid UTF-16 (a lone surrogate). */
static bool utf16_to_utf8(const WCHAR *in, USHORT units, char *out, size_t size)
{
        size_t o = 0;
        for (USHORT i = 0; i < units; i++) {
                uint32_t c = in[i];
                if (c >= 0xD800 && c <= 0xDBFF) {
                        if (i + 1 >= units || in[i + 1] < 0xDC00 || in[i + 1] > 0xDFFF)
                                return false;
                        c = 0x10000 + ((c - 0xD800) << 10) + (uint32_t)(in[++i] - 0xDC00);
                } else if (c >= 0xDC00 && c <= 0xDFFF) {
                        return false;
                }
                unsigned char b[4];
                size_t n;
                if (c < 0x80) {
                        b[0] = (unsigned char)c;
                        n = 1;
                } else if (c < 0x800) {
                        b[0] = (unsigned char)(0xC0 | c >> 6);
                        b[1] = (unsigned char)(0x80 | (c & 0x3F));
                        n = 2;
                } else if (c < 0x10000) {
                        b[0] = (unsigned char)(0xE0 | c >> 12);
                        b[1] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
                        b[2] = (unsigned char)(0x80 | (c & 0x3F));
                        n = 3;
                } else {
                        b[0] = (unsigned char)(0xF0 | c >> 18);
                        b[1] = (unsigned char)(0x80 | (c >> 12 & 0x3F));
                        b[2] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
                        b[3] = (unsigned char)(0x80 | (c & 0x3F));
                        n = 4;
                }
                if (size - o <= n)
                        return false;
                memcpy(out + o, b, n);
                o += n;
        }
        out[o] = '\0';
        return true;
}

/* ---- LSA heap helpers ---- */

/* A UNICODE_STRING and its buffer, each an LSA heap block, as the LSA frees
 * AccountName and AuthenticatingAuthority. */
static PUNICODE_STRING unicode_from_ascii(const char *s)
{
        size_t n = strlen(s);
        PUNICODE_STRING u = lsa->AllocateLsaHeap(sizeof(*u));
        if (!u)
                return NULL;
        u->Buffer = lsa->AllocateLsaHeap((ULONG)((n + 1) * sizeof(WCHAR)));
        if (!u->Buffer) {
                lsa->FreeLsaHeap(u);
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                u->Buffer[i] = (WCHAR)(unsigned char)s[i];
        u->Length = (USHORT)(n * sizeof(WCHAR));
        u->MaximumLength = (USHORT)((n + 1) * sizeof(WCHAR));
        return u;
}

static void unicode_free(PUNICODE_STRING u)
{
        if (u) {
                lsa->FreeLsaHeap(u->Buffer);
                lsa->FreeLsaHeap(u);
        }
}

static void unix_sid(UCHAR *at, ULONG kind, ULONG id)
{
        SID *sid = (SID *)(void *)at;
        sid->Revision = SID_REVISION;
        sid->SubAuthorityCount = 2;
        memset(&sid->IdentifierAuthority, 0, sizeof(sid->IdentifierAuthority));
        sid->IdentifierAuthority.Value[5] = UNIX_SID_AUTHORITY;
        /* Two sub-authorities in a struct that declares one (ANYSIZE_ARRAY):
         * through a pointer, as the SID is laid out. */
        DWORD *sub = sid->SubAuthority;
        sub[0] = kind;
        sub[1] = id;
}

/* LSA_TOKEN_INFORMATION_V2 for u, in one LSA heap block: the structure,
 * the TOKEN_GROUPS, then every SID. The primary group is the first group. */
static PLSA_TOKEN_INFORMATION_V2 token_make(const struct passwd_user *u)
{
        ULONG gids[1 + PASSWD_GROUPS_MAX];
        ULONG ngids = 0;
        gids[ngids++] = u->gid;
        for (unsigned i = 0; i < u->ngroups; i++) {
                bool seen = false;
                for (ULONG j = 0; j < ngids; j++)
                        seen |= gids[j] == u->groups[i];
                if (!seen)
                        gids[ngids++] = u->groups[i];
        }
        size_t groups_at = sizeof(LSA_TOKEN_INFORMATION_V2);
        groups_at = (groups_at + 7) & ~(size_t)7;
        size_t groups_size = offsetof(TOKEN_GROUPS, Groups) + ngids * sizeof(SID_AND_ATTRIBUTES);
        size_t sids_at = (groups_at + groups_size + 7) & ~(size_t)7;
        size_t total = sids_at + (1 + ngids) * UNIX_SID_BYTES;
        UCHAR *block = lsa->AllocateLsaHeap((ULONG)total);
        if (!block)
                return NULL;
        PLSA_TOKEN_INFORMATION_V2 t = (PLSA_TOKEN_INFORMATION_V2)(void *)block;
        PTOKEN_GROUPS groups = (PTOKEN_GROUPS)(void *)(block + groups_at);
        UCHAR *sid = block + sids_at;
        t->ExpirationTime.QuadPart = 0x7FFFFFFFFFFFFFFFLL; /* never */
        unix_sid(sid, UNIX_SID_USERS, u->uid);
        t->User.User.Sid = sid;
        t->User.User.Attributes = 0;
        sid += UNIX_SID_BYTES;
        groups->GroupCount = ngids;
        for (ULONG i = 0; i < ngids; i++) {
                unix_sid(sid, UNIX_SID_GROUPS, gids[i]);
                groups->Groups[i].Sid = sid;
                groups->Groups[i].Attributes = GROUP_ATTRIBUTES;
                sid += UNIX_SID_BYTES;
        }
        t->Groups = groups;
        t->PrimaryGroup.PrimaryGroup = groups->Groups[0].Sid;
        return t;
}

/* ---- the database, under passwd_lock and the file's lock ---- */

struct db_session {
        int lock_fd;
        struct passwd_db db;
};

static NTSTATUS db_open(struct db_session *s)
{
        s->lock_fd = passwd_db_lock(db_path);
        if (s->lock_fd < 0) {
                plog("cannot lock the database %s", db_path);
                return STATUS_INTERNAL_DB_ERROR;
        }
        bool missing;
        unsigned line;
        int r = passwd_db_load(db_path, &s->db, &missing, &line);
        if (r < 0) {
                close(s->lock_fd);
                plog("cannot read the database %s", db_path);
                return STATUS_INTERNAL_DB_ERROR;
        }
        return STATUS_SUCCESS;
}

static void db_close(struct db_session *s)
{
        passwd_db_free(&s->db);
        close(s->lock_fd);
}

static void db_save(struct db_session *s)
{
        if (passwd_db_save(db_path, &s->db) < 0)
                plog("cannot write the database %s (lockout counters are not kept)", db_path);
}

/* Check name and password against the database: STATUS_SUCCESS with the
 * user copied out, or the status and substatus MSV1_0 would give. Counts
 * failures for the lockout. */
static NTSTATUS user_check(const char *name, const char *password, struct passwd_user *ret_user,
                           NTSTATUS *ret_substatus)
{
        struct db_session s;
        NTSTATUS st = db_open(&s);
        *ret_substatus = st;
        if (!NT_SUCCESS(st))
                return st;
        struct passwd_user *u = passwd_db_find(&s.db, name, strlen(name));
        if (!u) {
                db_close(&s);
                pthread_once(&dummy_once, dummy_hash_make);
                /* The answer is no whatever this says: only its cost counts. */
                if (dummy_hash[0] && crypto_pwhash_str_verify(dummy_hash, password, strlen(password)) == 0)
                        dummy_hash[0] = '\0';
                *ret_substatus = STATUS_NO_SUCH_USER;
                return STATUS_LOGON_FAILURE;
        }
        if (max_failures && u->failures >= max_failures) {
                db_close(&s);
                *ret_substatus = STATUS_ACCOUNT_LOCKED_OUT;
                return STATUS_ACCOUNT_LOCKED_OUT;
        }
        if (crypto_pwhash_str_verify(u->hash, password, strlen(password)) != 0) {
                u->failures++;
                db_save(&s);
                db_close(&s);
                *ret_substatus = STATUS_WRONG_PASSWORD;
                return STATUS_LOGON_FAILURE;
        }
        if (u->failures) {
                u->failures = 0;
                db_save(&s);
        }
        *ret_user = *u;
        db_close(&s);
        /* Restrictions are told only to whoever knows the password. */
        NTSTATUS sub = ret_user->flags & PASSWD_DISABLED    ? STATUS_ACCOUNT_DISABLED
                : ret_user->flags & PASSWD_ACCOUNT_EXPIRED  ? STATUS_ACCOUNT_EXPIRED
                : ret_user->flags & PASSWD_PASSWORD_EXPIRED ? STATUS_PASSWORD_EXPIRED
                : ret_user->flags & PASSWD_MUST_CHANGE      ? STATUS_PASSWORD_MUST_CHANGE
                                                            : STATUS_SUCCESS;
        *ret_substatus = sub;
        return sub == STATUS_SUCCESS ? STATUS_SUCCESS : STATUS_ACCOUNT_RESTRICTION;
}

static bool domain_ok(const WCHAR *d, USHORT units)
{
        char name[256], host[256];
        if (units == 0)
                return true;
        if (!utf16_to_utf8(d, units, name, sizeof(name)))
                return false;
        if (strcmp(name, ".") == 0)
                return true;
        if (gethostname(host, sizeof(host)) < 0)
                return false;
        host[sizeof(host) - 1] = '\0';
        return strcasecmp(name, host) == 0;
}

static void session_remember(const LUID *l)
{
        pthread_mutex_lock(&passwd_lock);
        if (nsessions < SESSIONS_MAX)
                sessions[nsessions++] = *l;
        stats.Logons++;
        stats.LiveSessions = nsessions;
        pthread_mutex_unlock(&passwd_lock);
}

/* ---- entry points ---- */

LSASHM_WINAPI_EXPORT LSA_AP_INITIALIZE_PACKAGE LsaApInitializePackage;
LSASHM_WINAPI_EXPORT LSA_AP_LOGON_USER_EX2 LsaApLogonUserEx2;
LSASHM_WINAPI_EXPORT LSA_AP_CALL_PACKAGE LsaApCallPackage;
LSASHM_WINAPI_EXPORT LSA_AP_CALL_PACKAGE_UNTRUSTED LsaApCallPackageUntrusted;
LSASHM_WINAPI_EXPORT LSA_AP_CALL_PACKAGE_PASSTHROUGH LsaApCallPackagePassthrough;
LSASHM_WINAPI_EXPORT LSA_AP_LOGON_TERMINATED LsaApLogonTerminated;

NTSTATUS NTAPI LsaApInitializePackage(ULONG AuthenticationPackageId, PLSA_DISPATCH_TABLE LsaDispatchTable,
                                      PLSA_STRING Database, PLSA_STRING Confidentiality,
                                      PLSA_STRING *AuthenticationPackageName)
{
        (void)Database;
        (void)Confidentiality;
        if (!LsaDispatchTable || !AuthenticationPackageName)
                return STATUS_INVALID_PARAMETER;
        if (sodium_init() < 0)
                return STATUS_INTERNAL_ERROR;
        /* The LSA passes its whole function table, of which the dispatch
         * table is the start. */
        lsa = (PLSA_SECPKG_FUNCTION_TABLE)(void *)LsaDispatchTable;
        package_id = AuthenticationPackageId;
        const char *path = getenv("LSASHM_PASSWD_DB");
        if (path && *path)
                db_path = path;
        const char *lockout = getenv("LSASHM_PASSWD_LOCKOUT");
        if (lockout && *lockout) {
                char *end;
                unsigned long v = strtoul(lockout, &end, 10);
                if (*end || v > 1000)
                        return STATUS_INVALID_PARAMETER;
                max_failures = (unsigned)v;
        }
        PLSA_STRING name = lsa->AllocateLsaHeap(sizeof(*name));
        if (!name)
                return STATUS_NO_MEMORY;
        name->Buffer = lsa->AllocateLsaHeap(sizeof(PASSWD_PACKAGE_NAME));
        if (!name->Buffer) {
                lsa->FreeLsaHeap(name);
                return STATUS_NO_MEMORY;
        }
        memcpy(name->Buffer, PASSWD_PACKAGE_NAME, sizeof(PASSWD_PACKAGE_NAME));
        name->Length = sizeof(PASSWD_PACKAGE_NAME) - 1;
        name->MaximumLength = sizeof(PASSWD_PACKAGE_NAME);
        *AuthenticationPackageName = name;
        return STATUS_SUCCESS;
}

/* What a successful logon hands back, so a failure part-way frees it all. */
struct logon_out {
        LUID luid;
        bool session;
        PLSA_TOKEN_INFORMATION_V2 token;
        PUNICODE_STRING account, authority;
        PVOID profile;
};

static void logon_undo(PLSA_CLIENT_REQUEST request, struct logon_out *o)
{
        if (o->profile)
                lsa->FreeClientBuffer(request, o->profile);
        unicode_free(o->account);
        unicode_free(o->authority);
        if (o->token)
                lsa->FreeLsaHeap(o->token);
        if (o->session)
                lsa->DeleteLogonSession(&o->luid);
}

static NTSTATUS logon_build(PLSA_CLIENT_REQUEST request, const struct passwd_user *u, struct logon_out *o)
{
        char host[256];
        if (!AllocateLocallyUniqueId(&o->luid))
                return STATUS_INSUFFICIENT_RESOURCES;
        NTSTATUS st = lsa->CreateLogonSession(&o->luid);
        if (!NT_SUCCESS(st))
                return st;
        o->session = true;
        LSA_STRING key = { sizeof(credential_key) - 1, sizeof(credential_key), credential_key };
        CHAR name_buf[PASSWD_NAME_MAX + 1];
        memcpy(name_buf, u->name, sizeof(name_buf));
        LSA_STRING value = { (USHORT)strlen(name_buf), sizeof(name_buf), name_buf };
        st = lsa->AddCredential(&o->luid, package_id, &key, &value);
        if (!NT_SUCCESS(st))
                return st;
        if (gethostname(host, sizeof(host)) < 0)
                snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = '\0';
        PASSWD_PROFILE profile = { .Uid = u->uid, .Gid = u->gid, .GroupCount = u->ngroups };
        memcpy(profile.Groups, u->groups, u->ngroups * sizeof(ULONG));
        if (!(o->token = token_make(u)) || !(o->account = unicode_from_ascii(u->name)) ||
            !(o->authority = unicode_from_ascii(host)))
                return STATUS_NO_MEMORY;
        st = lsa->AllocateClientBuffer(request, sizeof(profile), &o->profile);
        if (NT_SUCCESS(st))
                st = lsa->CopyToClientBuffer(request, sizeof(profile), o->profile, &profile);
        return st;
}

NTSTATUS NTAPI LsaApLogonUserEx2(PLSA_CLIENT_REQUEST ClientRequest, SECURITY_LOGON_TYPE LogonType,
                                 PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase, ULONG SubmitBufferSize,
                                 PVOID *ProfileBuffer, PULONG ProfileBufferSize, PLUID LogonId, PNTSTATUS SubStatus,
                                 PLSA_TOKEN_INFORMATION_TYPE TokenInformationType, PVOID *TokenInformation,
                                 PUNICODE_STRING *AccountName, PUNICODE_STRING *AuthenticatingAuthority,
                                 PUNICODE_STRING *MachineName, PSECPKG_PRIMARY_CRED PrimaryCredentials,
                                 PSECPKG_SUPPLEMENTAL_CRED_ARRAY *SupplementalCredentials)
{
        (void)LogonType;
        (void)PrimaryCredentials; /* no clear password leaves the package */
        *SubStatus = STATUS_SUCCESS;
        *ProfileBuffer = NULL;
        *ProfileBufferSize = 0;
        *TokenInformation = NULL;
        *AccountName = NULL;
        *AuthenticatingAuthority = NULL;
        *MachineName = NULL;
        *SupplementalCredentials = NULL;

        MSV1_0_INTERACTIVE_LOGON in;
        if (!ProtocolSubmitBuffer || SubmitBufferSize < sizeof(in))
                return STATUS_INVALID_PARAMETER;
        memcpy(&in, ProtocolSubmitBuffer, sizeof(in));
        if (in.MessageType != MsV1_0InteractiveLogon)
                return STATUS_INVALID_LOGON_TYPE;
        struct submit sb = { ProtocolSubmitBuffer, (ULONG_PTR)ClientBufferBase, SubmitBufferSize };
        USHORT nuser, npass, ndomain;
        const WCHAR *user = submit_string(&sb, &in.UserName, &nuser);
        const WCHAR *pass = submit_string(&sb, &in.Password, &npass);
        const WCHAR *domain = submit_string(&sb, &in.LogonDomainName, &ndomain);
        if (!user || !pass || !domain)
                return STATUS_INVALID_PARAMETER;

        char name[PASSWD_NAME_MAX + 1];
        char password[PASSWORD_MAX_BYTES + 1];
        NTSTATUS st;
        struct passwd_user u;
        if (!domain_ok(domain, ndomain) || !utf16_to_utf8(user, nuser, name, sizeof(name)) ||
            !passwd_name_valid(name, strlen(name))) {
                *SubStatus = STATUS_NO_SUCH_USER;
                st = STATUS_LOGON_FAILURE;
        } else if (!utf16_to_utf8(pass, npass, password, sizeof(password))) {
                *SubStatus = STATUS_WRONG_PASSWORD;
                st = STATUS_LOGON_FAILURE;
        } else {
                st = user_check(name, password, &u, SubStatus);
        }
        sodium_memzero(password, sizeof(password));
        if (!NT_SUCCESS(st)) {
                pthread_mutex_lock(&passwd_lock);
                stats.FailedLogons++;
                pthread_mutex_unlock(&passwd_lock);
                return st;
        }

        struct logon_out o = { 0 };
        st = logon_build(ClientRequest, &u, &o);
        sodium_memzero(&u, sizeof(u));
        if (!NT_SUCCESS(st)) {
                logon_undo(ClientRequest, &o);
                return st;
        }
        session_remember(&o.luid);
        *LogonId = o.luid;
        *ProfileBuffer = o.profile;
        *ProfileBufferSize = sizeof(PASSWD_PROFILE);
        *TokenInformationType = LsaTokenInformationV2;
        *TokenInformation = o.token;
        *AccountName = o.account;
        *AuthenticatingAuthority = o.authority;
        return STATUS_SUCCESS;
}

/* ---- calls ---- */

static NTSTATUS reply(PLSA_CLIENT_REQUEST request, const void *data, ULONG size, PVOID *ret, PULONG ret_length)
{
        PVOID buf;
        NTSTATUS st = lsa->AllocateClientBuffer(request, size, &buf);
        if (!NT_SUCCESS(st))
                return st;
        st = lsa->CopyToClientBuffer(request, size, buf, (PVOID)(uintptr_t)data);
        if (!NT_SUCCESS(st)) {
                lsa->FreeClientBuffer(request, buf);
                return st;
        }
        *ret = buf;
        *ret_length = size;
        return STATUS_SUCCESS;
}

static NTSTATUS change_password(const struct submit *sb)
{
        PASSWD_CHANGE_PASSWORD_REQUEST in;
        if (sb->size < sizeof(in))
                return STATUS_INVALID_PARAMETER;
        memcpy(&in, sb->base, sizeof(in));
        USHORT nuser, nold, nnew;
        const WCHAR *user = submit_string(sb, &in.UserName, &nuser);
        const WCHAR *old = submit_string(sb, &in.OldPassword, &nold);
        const WCHAR *new = submit_string(sb, &in.NewPassword, &nnew);
        if (!user || !old || !new)
                return STATUS_INVALID_PARAMETER;
        char name[PASSWD_NAME_MAX + 1], oldpw[PASSWORD_MAX_BYTES + 1], newpw[PASSWORD_MAX_BYTES + 1];
        NTSTATUS st = STATUS_SUCCESS;
        if (!utf16_to_utf8(user, nuser, name, sizeof(name)) || !passwd_name_valid(name, strlen(name)) ||
            !utf16_to_utf8(old, nold, oldpw, sizeof(oldpw)))
                st = STATUS_LOGON_FAILURE;
        else if (!utf16_to_utf8(new, nnew, newpw, sizeof(newpw)) || newpw[0] == '\0')
                st = STATUS_PASSWORD_RESTRICTION;
        struct db_session s;
        if (NT_SUCCESS(st))
                st = db_open(&s);
        if (NT_SUCCESS(st)) {
                struct passwd_user *u = passwd_db_find(&s.db, name, strlen(name));
                if (!u) {
                        st = STATUS_LOGON_FAILURE;
                } else if (max_failures && u->failures >= max_failures) {
                        st = STATUS_ACCOUNT_LOCKED_OUT;
                } else if (crypto_pwhash_str_verify(u->hash, oldpw, strlen(oldpw)) != 0) {
                        u->failures++;
                        db_save(&s);
                        st = STATUS_LOGON_FAILURE;
                } else {
                        char hash[crypto_pwhash_STRBYTES];
                        /* The cost of the hash being replaced, so that a
                         * database made for tests stays cheap to check. */
                        unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
                        size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
                        if (crypto_pwhash_str_needs_rehash(u->hash, crypto_pwhash_OPSLIMIT_MIN,
                                                           crypto_pwhash_MEMLIMIT_MIN) == 0) {
                                ops = crypto_pwhash_OPSLIMIT_MIN;
                                mem = crypto_pwhash_MEMLIMIT_MIN;
                        }
                        if (crypto_pwhash_str(hash, newpw, strlen(newpw), ops, mem) != 0) {
                                st = STATUS_NO_MEMORY;
                        } else {
                                memcpy(u->hash, hash, sizeof(hash));
                                u->failures = 0;
                                u->flags &= ~(unsigned)(PASSWD_PASSWORD_EXPIRED | PASSWD_MUST_CHANGE);
                                if (passwd_db_save(db_path, &s.db) < 0)
                                        st = STATUS_INTERNAL_DB_ERROR;
                        }
                        sodium_memzero(hash, sizeof(hash));
                }
                db_close(&s);
        }
        sodium_memzero(oldpw, sizeof(oldpw));
        sodium_memzero(newpw, sizeof(newpw));
        return st;
}

static NTSTATUS query_session(PLSA_CLIENT_REQUEST request, const struct submit *sb, PVOID *ret, PULONG ret_length)
{
        PASSWD_QUERY_SESSION_REQUEST in;
        if (sb->size < sizeof(in))
                return STATUS_INVALID_PARAMETER;
        memcpy(&in, sb->base, sizeof(in));
        ULONG ctx = 0;
        LSA_STRING key = { sizeof(credential_key) - 1, sizeof(credential_key), credential_key };
        LSA_STRING value = { 0, 0, NULL };
        NTSTATUS st = lsa->GetCredentials(&in.LogonId, package_id, &ctx, FALSE, &key, NULL, &value);
        if (!NT_SUCCESS(st))
                return st == STATUS_UNSUCCESSFUL ? STATUS_NO_SUCH_LOGON_SESSION : st;
        PASSWD_SESSION out = { 0 };
        if (value.Length < sizeof(out.UserName))
                memcpy(out.UserName, value.Buffer, value.Length);
        lsa->FreeLsaHeap(value.Buffer);
        struct db_session s;
        if (NT_SUCCESS(db_open(&s))) {
                struct passwd_user *u = passwd_db_find(&s.db, out.UserName, strlen(out.UserName));
                if (u)
                        out.Uid = u->uid;
                db_close(&s);
        }
        return reply(request, &out, sizeof(out), ret, ret_length);
}

static NTSTATUS call(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase,
                     ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                     PNTSTATUS ProtocolStatus, bool trusted)
{
        *ProtocolReturnBuffer = NULL;
        *ReturnBufferLength = 0;
        *ProtocolStatus = STATUS_SUCCESS;
        PASSWD_REQUEST head;
        if (!ProtocolSubmitBuffer || SubmitBufferLength < sizeof(head))
                return STATUS_INVALID_PARAMETER;
        memcpy(&head, ProtocolSubmitBuffer, sizeof(head));
        struct submit sb = { ProtocolSubmitBuffer, (ULONG_PTR)ClientBufferBase, SubmitBufferLength };
        switch (head.MessageType) {
        case PasswdChangePassword:
                if (!trusted)
                        return STATUS_ACCESS_DENIED;
                *ProtocolStatus = change_password(&sb);
                return STATUS_SUCCESS;
        case PasswdQueryStats: {
                pthread_mutex_lock(&passwd_lock);
                PASSWD_STATS out = stats;
                pthread_mutex_unlock(&passwd_lock);
                return reply(ClientRequest, &out, sizeof(out), ProtocolReturnBuffer, ReturnBufferLength);
        }
        case PasswdQuerySession:
                if (!trusted)
                        return STATUS_ACCESS_DENIED;
                return query_session(ClientRequest, &sb, ProtocolReturnBuffer, ReturnBufferLength);
        default:
                return STATUS_INVALID_PARAMETER;
        }
}

NTSTATUS NTAPI LsaApCallPackage(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer, PVOID ClientBufferBase,
                                ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                PNTSTATUS ProtocolStatus)
{
        return call(ClientRequest, ProtocolSubmitBuffer, ClientBufferBase, SubmitBufferLength, ProtocolReturnBuffer,
                    ReturnBufferLength, ProtocolStatus, true);
}

NTSTATUS NTAPI LsaApCallPackageUntrusted(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                         PVOID ClientBufferBase, ULONG SubmitBufferLength, PVOID *ProtocolReturnBuffer,
                                         PULONG ReturnBufferLength, PNTSTATUS ProtocolStatus)
{
        return call(ClientRequest, ProtocolSubmitBuffer, ClientBufferBase, SubmitBufferLength, ProtocolReturnBuffer,
                    ReturnBufferLength, ProtocolStatus, false);
}

NTSTATUS NTAPI LsaApCallPackagePassthrough(PLSA_CLIENT_REQUEST ClientRequest, PVOID ProtocolSubmitBuffer,
                                           PVOID ClientBufferBase, ULONG SubmitBufferLength,
                                           PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                           PNTSTATUS ProtocolStatus)
{
        (void)ClientRequest;
        (void)ProtocolSubmitBuffer;
        (void)ClientBufferBase;
        (void)SubmitBufferLength;
        *ProtocolReturnBuffer = NULL;
        *ReturnBufferLength = 0;
        *ProtocolStatus = STATUS_SUCCESS;
        return STATUS_NOT_SUPPORTED;
}

/* Every package hears of every session's end; only ours count. */
VOID NTAPI LsaApLogonTerminated(PLUID LogonId)
{
        pthread_mutex_lock(&passwd_lock);
        for (unsigned i = 0; i < nsessions; i++) {
                if (sessions[i].LowPart == LogonId->LowPart && sessions[i].HighPart == LogonId->HighPart) {
                        sessions[i] = sessions[--nsessions];
                        stats.LogonsTerminated++;
                        stats.LiveSessions = nsessions;
                        break;
                }
        }
        pthread_mutex_unlock(&passwd_lock);
}
