/* SPDX-License-Identifier: MIT */
/*
 * AddCredential, GetCredentials and DeleteCredential: strings a package
 * keeps with a logon session, under a primary key of its choosing, until it
 * deletes them or the session ends.
 *
 * Semantics (Microsoft's pages for LSA_ADD_CREDENTIAL, LSA_GET_CREDENTIALS,
 * LSA_DELETE_CREDENTIAL):
 *   - a credential belongs to (LogonId, AuthenticationPackage); the primary
 *     key need not be unique, even within one session;
 *   - GetCredentials returns one credential a call, in a buffer from the
 *     LSA heap that the caller frees with FreeLsaHeap; *QueryContext starts
 *     at 0 and carries the enumeration from call to call; with
 *     RetrieveAllCredentials every credential of the session and package is
 *     returned in turn, its primary key copied into the caller's
 *     PrimaryKeyValue buffer, and a buffer too small for it gives
 *     STATUS_MORE_ENTRIES, the length needed in *PrimaryKeyLength and
 *     nothing else changed, so the caller can retry with a larger one;
 *   - DeleteCredential deletes the first match only;
 *   - "no (more) credential" is documented as ERROR_GEN_FAILURE, the Win32
 *     face of STATUS_UNSUCCESSFUL (LsaNtStatusToWinError maps one to the
 *     other), which is what these members return;
 *   - an unknown session is STATUS_NO_SUCH_LOGON_SESSION.
 * "First" is the oldest: credentials are kept in the order they were added.
 * The query context is the serial of the next credential to consider, so an
 * enumeration survives adds and deletes between its calls: it sees every
 * credential present throughout, each once.
 *
 * lsashm refuses what Windows leaves to the package's good manners: while a
 * package's entry point runs (host_active_package), it may name only its
 * own package id (STATUS_ACCESS_DENIED otherwise). On a package's own
 * thread the host cannot tell who is calling and takes the id as given.
 *
 * Secrets at rest: the key and the credential are each protected in place
 * with LsaProtectMemory (protect.c) as soon as they are copied, and
 * unprotected only into the buffers handed back. Protection is deterministic
 * within the process, so a lookup protects a copy of the key asked for and
 * compares protected bytes: no plaintext key or credential stays in
 * lsashmd's memory between calls. A credential leaving (delete, the end of
 * its session, host shutdown) is wiped before it is freed.
 *
 * Lock: creds_lock guards every session's list and the totals. The session
 * check takes the logon-session table's lock inside it, never the other way
 * round: a session's end releases that lock before it calls
 * host_credentials_logon_ended (host_session_deleted_hook). So a credential
 * is either added while its session exists and wiped by its end, or
 * refused: none outlives a session.
 * Nothing else is called with creds_lock held: no package code, no log.
 */
#include <assert.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/host-packages.h"
#include "util/oa-table-libc.h"

/* A package that keeps more per session, or more in all, is broken or
 * hostile to its host: AddCredential fails with
 * STATUS_INSUFFICIENT_RESOURCES rather than lsashmd's memory growing. */
#define CREDENTIALS_PER_SESSION_MAX 1024u
#define CREDENTIALS_BYTES_MAX       ((size_t)64 << 20)

struct credential {
        struct credential *next;
        ULONG package;
        ULONG serial; /* per session, from 1; the query context's unit */
        USHORT key_length;
        USHORT value_length;
        unsigned char bytes[]; /* key, then value; each protected */
};

struct credential_session {
        struct credential *first; /* oldest first */
        struct credential **last_next;
        unsigned count;
        ULONG next_serial;
};

static pthread_mutex_t creds_lock = PTHREAD_MUTEX_INITIALIZER;
/* LUID -> struct credential_session *; a session appears here from its
 * first credential to its end (or its last credential's delete). */
static struct oa_table creds_sessions;
static size_t creds_bytes;

void (*host_credentials_release)(void *p) = free;

static size_t credential_size(const struct credential *c)
{
        return sizeof(*c) + c->key_length + c->value_length;
}

/* Every usable byte: the protected key and value, and whatever malloc's
 * slack holds. */
static void credential_free(struct credential *c)
{
        explicit_bzero(c, malloc_usable_size(c));
        host_credentials_release(c);
}

/* An input string: a readable Length bytes (Buffer may be NULL only when
 * Length is 0). MaximumLength is the caller's business. */
static bool string_valid(const LSA_STRING *s)
{
        return s && (s->Length == 0 || s->Buffer);
}

/* Only a package's own credentials, where the host knows who is asking. */
static NTSTATUS package_check(ULONG package)
{
        struct host_package *p = host_active_package;
        if (p && p->id != package)
                return STATUS_ACCESS_DENIED;
        return STATUS_SUCCESS;
}

/* key, protected, in a buffer of the caller's (at least key->Length bytes). */
static void key_protect(const LSA_STRING *key, unsigned char *out)
{
        if (key->Length) {
                memcpy(out, key->Buffer, key->Length);
                host_LsaProtectMemory(out, key->Length);
        }
}

/* A protected copy of key to look up with (never NULL on success: at least
 * one byte), freed with key_free; NULL when memory is short. */
static unsigned char *key_lookup_copy(const LSA_STRING *key)
{
        unsigned char *out = malloc(key->Length ? key->Length : 1u);
        if (out)
                key_protect(key, out);
        return out;
}

static void key_free(unsigned char *pkey, USHORT key_length)
{
        if (pkey) {
                explicit_bzero(pkey, key_length);
                free(pkey);
        }
}

static bool credential_matches(const struct credential *c, ULONG package, const unsigned char *pkey, USHORT key_length)
{
        return c->package == package &&
                (!pkey || (c->key_length == key_length && memcmp(c->bytes, pkey, key_length) == 0));
}

/* The first credential of s from serial `from` on that matches (pkey NULL:
 * any key), and the link that points to it. Under creds_lock. */
static struct credential *credential_find(struct credential_session *s, ULONG package, const unsigned char *pkey,
                                          USHORT key_length, ULONG from, struct credential ***ret_link)
{
        for (struct credential **link = &s->first; *link; link = &(*link)->next) {
                struct credential *c = *link;
                if (c->serial >= from && credential_matches(c, package, pkey, key_length)) {
                        if (ret_link)
                                *ret_link = link;
                        return c;
                }
        }
        return NULL;
}

NTSTATUS NTAPI host_AddCredential(PLUID LogonId, ULONG AuthenticationPackage, PLSA_STRING PrimaryKeyValue,
                                  PLSA_STRING Credentials)
{
        if (!LogonId || !string_valid(PrimaryKeyValue) || !string_valid(Credentials))
                return STATUS_INVALID_PARAMETER;
        NTSTATUS st = package_check(AuthenticationPackage);
        if (!NT_SUCCESS(st))
                return st;

        /* Copied and protected before the lock: the package's strings are
         * read once, and LsaProtectMemory is the slow part. */
        size_t size = sizeof(struct credential) + PrimaryKeyValue->Length + Credentials->Length;
        struct credential *c = calloc(1, size);
        if (!c)
                return STATUS_INSUFFICIENT_RESOURCES;
        c->package = AuthenticationPackage;
        c->key_length = PrimaryKeyValue->Length;
        c->value_length = Credentials->Length;
        key_protect(PrimaryKeyValue, c->bytes);
        if (c->value_length) {
                memcpy(c->bytes + c->key_length, Credentials->Buffer, c->value_length);
                host_LsaProtectMemory(c->bytes + c->key_length, c->value_length);
        }

        uint64_t k = host_luid_key(LogonId);
        pthread_mutex_lock(&creds_lock);
        struct credential_session *s = (struct credential_session *)oa_table_find(&creds_sessions, k);
        if (!host_logon_session_exists(LogonId)) {
                st = STATUS_NO_SUCH_LOGON_SESSION;
        } else if (creds_bytes + size > CREDENTIALS_BYTES_MAX ||
                   (s && (s->count >= CREDENTIALS_PER_SESSION_MAX || s->next_serial == UINT32_MAX))) {
                st = STATUS_INSUFFICIENT_RESOURCES;
        } else if (!s) {
                s = calloc(1, sizeof(*s));
                if (!s || oa_table_reserve(&creds_sessions, &oa_table_libc_mem, 1) < 0) {
                        free(s);
                        s = NULL;
                        st = STATUS_INSUFFICIENT_RESOURCES;
                } else {
                        s->last_next = &s->first;
                        s->next_serial = 1;
                        int r = oa_table_insert(&creds_sessions, k, (uintptr_t)s);
                        assert(r == 0); /* absent: looked up under the same lock */
                        (void)r;
                }
        }
        if (st == STATUS_SUCCESS) {
                c->serial = s->next_serial++;
                *s->last_next = c;
                s->last_next = &c->next;
                s->count++;
                creds_bytes += size;
                c = NULL;
        }
        pthread_mutex_unlock(&creds_lock);
        if (c)
                credential_free(c);
        return st;
}

NTSTATUS NTAPI host_GetCredentials(PLUID LogonId, ULONG AuthenticationPackage, PULONG QueryContext,
                                   BOOLEAN RetrieveAllCredentials, PLSA_STRING PrimaryKeyValue, PULONG PrimaryKeyLength,
                                   PLSA_STRING Credentials)
{
        /* With RetrieveAllCredentials, PrimaryKeyValue is the caller's
         * buffer for the key (MaximumLength bytes at Buffer), and the length
         * it needs comes back in *PrimaryKeyLength: both required. */
        if (!LogonId || !QueryContext || !Credentials || !PrimaryKeyValue ||
            (RetrieveAllCredentials ? !PrimaryKeyLength || (PrimaryKeyValue->MaximumLength && !PrimaryKeyValue->Buffer)
                                    : !string_valid(PrimaryKeyValue)))
                return STATUS_INVALID_PARAMETER;
        memset(Credentials, 0, sizeof(*Credentials));
        NTSTATUS st = package_check(AuthenticationPackage);
        if (!NT_SUCCESS(st))
                return st;

        unsigned char *pkey = NULL;
        USHORT key_length = 0;
        if (!RetrieveAllCredentials) {
                key_length = PrimaryKeyValue->Length;
                if (!(pkey = key_lookup_copy(PrimaryKeyValue)))
                        return STATUS_NO_MEMORY;
        }

        uint64_t k = host_luid_key(LogonId);
        ULONG from = *QueryContext;
        void *value = NULL;
        pthread_mutex_lock(&creds_lock);
        struct credential_session *s = (struct credential_session *)oa_table_find(&creds_sessions, k);
        struct credential *c = s ? credential_find(s, AuthenticationPackage, pkey, key_length, from, NULL) : NULL;
        if (!host_logon_session_exists(LogonId)) {
                st = STATUS_NO_SUCH_LOGON_SESSION;
        } else if (!c) {
                st = STATUS_UNSUCCESSFUL;
        } else if (RetrieveAllCredentials && PrimaryKeyValue->MaximumLength < c->key_length) {
                /* Nothing retrieved, the context kept: the same call again
                 * with a larger buffer gets this credential. */
                *PrimaryKeyLength = c->key_length;
                st = STATUS_MORE_ENTRIES;
        } else if (!(value = host_heap_alloc(c->value_length))) {
                st = STATUS_NO_MEMORY;
        } else {
                memcpy(value, c->bytes + c->key_length, c->value_length);
                host_LsaUnprotectMemory(value, c->value_length);
                Credentials->Buffer = value;
                Credentials->Length = c->value_length;
                Credentials->MaximumLength = c->value_length;
                if (RetrieveAllCredentials) {
                        memcpy(PrimaryKeyValue->Buffer, c->bytes, c->key_length);
                        host_LsaUnprotectMemory(PrimaryKeyValue->Buffer, c->key_length);
                        PrimaryKeyValue->Length = c->key_length;
                        if (PrimaryKeyValue->MaximumLength > c->key_length)
                                PrimaryKeyValue->Buffer[c->key_length] = '\0';
                }
                if (PrimaryKeyLength)
                        *PrimaryKeyLength = c->key_length;
                *QueryContext = c->serial + 1;
        }
        pthread_mutex_unlock(&creds_lock);
        key_free(pkey, key_length);
        return st;
}

NTSTATUS NTAPI host_DeleteCredential(PLUID LogonId, ULONG AuthenticationPackage, PLSA_STRING PrimaryKeyValue)
{
        if (!LogonId || !string_valid(PrimaryKeyValue))
                return STATUS_INVALID_PARAMETER;
        NTSTATUS st = package_check(AuthenticationPackage);
        if (!NT_SUCCESS(st))
                return st;
        USHORT key_length = PrimaryKeyValue->Length;
        unsigned char *pkey = key_lookup_copy(PrimaryKeyValue);
        if (!pkey)
                return STATUS_NO_MEMORY;

        uint64_t k = host_luid_key(LogonId);
        struct credential *c = NULL;
        pthread_mutex_lock(&creds_lock);
        struct credential_session *s = (struct credential_session *)oa_table_find(&creds_sessions, k);
        struct credential **link = NULL;
        if (s)
                c = credential_find(s, AuthenticationPackage, pkey, key_length, 0, &link);
        if (!host_logon_session_exists(LogonId)) {
                st = STATUS_NO_SUCH_LOGON_SESSION;
        } else if (!c) {
                st = STATUS_UNSUCCESSFUL;
        } else {
                *link = c->next;
                if (s->last_next == &c->next)
                        s->last_next = link;
                s->count--;
                creds_bytes -= credential_size(c);
                /* The session record stays until the session ends: its
                 * serials must not start again at 1 under an enumeration. */
        }
        pthread_mutex_unlock(&creds_lock);
        key_free(pkey, key_length);
        if (st == STATUS_SUCCESS)
                credential_free(c);
        return st;
}

/* Wipe and free a session's credentials, taken out of the table. */
static void session_free(struct credential_session *s)
{
        for (struct credential *c = s->first, *next; c; c = next) {
                next = c->next;
                credential_free(c);
        }
        free(s);
}

void host_credentials_logon_ended(const LUID *logon_id)
{
        pthread_mutex_lock(&creds_lock);
        struct credential_session *s =
                (struct credential_session *)oa_table_remove(&creds_sessions, host_luid_key(logon_id));
        if (s)
                for (struct credential *c = s->first; c; c = c->next)
                        creds_bytes -= credential_size(c);
        pthread_mutex_unlock(&creds_lock);
        if (s)
                session_free(s);
}

void host_credentials_clear(void)
{
        pthread_mutex_lock(&creds_lock);
        for (size_t i = 0; i < oa_table_capacity(&creds_sessions); i++)
                if (creds_sessions.slots[i].value)
                        session_free((struct credential_session *)creds_sessions.slots[i].value);
        oa_table_destroy(&creds_sessions, &oa_table_libc_mem);
        creds_bytes = 0;
        pthread_mutex_unlock(&creds_lock);
}

void host_credentials_stats(struct host_credentials_stats *ret)
{
        pthread_mutex_lock(&creds_lock);
        ret->sessions = creds_sessions.count;
        ret->credentials = 0;
        for (size_t i = 0; i < oa_table_capacity(&creds_sessions); i++)
                if (creds_sessions.slots[i].value)
                        ret->credentials += ((struct credential_session *)creds_sessions.slots[i].value)->count;
        ret->bytes = creds_bytes;
        pthread_mutex_unlock(&creds_lock);
}
