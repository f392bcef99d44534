/* SPDX-License-Identifier: MIT */
/*
 * src/host layer 2 of 5: packages (load, unload, look up, LogonTerminated
 * to every package) and the table members that answer to the package
 * running (the LSA heap, logon sessions, the crash context), and the
 * token information a logon returns. May include:
 * host-base.h and headers outside src/host. See host-base.h for the layers.
 */
#ifndef LSASHM_HOST_PACKAGES_H
#define LSASHM_HOST_PACKAGES_H

#include "host/host-base.h"

struct host_package {
        unsigned id;                 /* the AuthenticationPackage number clients use */
        char name[LSA_WIRE_MAX_NAME + 1]; /* from GetInfo, as UTF-8 */
        char path[4096];
        void *dl;
        ULONG version;               /* what SpLsaModeInitialize returned */
        SECPKG_FUNCTION_TABLE table; /* our copy; members past version cleared */
        SecPkgInfoW info;
        PLSA_STRING ap_name;         /* from InitializePackage, freed with FreeLsaHeap */
        uint64_t calls;              /* atomic: workers bump them at once */
        uint64_t failed_calls;       /* atomic */
        uint64_t heap_refused_frees; /* FreeLsaHeap/FreePrivateHeap refused (lsa-heap.c; atomic) */
        bool heap_refusal_logged;    /* the first is logged (under lsa-heap.c's lock) */
        uint32_t threads;            /* CreateThread threads running (atomic) */
};

/* ---- packages.c ---- */
void host_package_unload(struct host *h, struct host_package *p);
struct host_package *host_find_package_utf16(struct host *h, const UNICODE_STRING *name);
/* Names compare without regard to case, as Windows looks packages up. */
struct host_package *host_find_package_name(struct host *h, const char *name);
/* Call every loaded package's LogonTerminated for this session. */
void host_packages_logon_terminated(const LUID *logon_id);
/* Hooks the top layer points (table.c). The function table every package
 * gets, filled once before the first package loads: */
extern void (*const host_packages_table_fill)(LSA_SECPKG_FUNCTION_TABLE *t);
/* Release what p owns in the layers above (its sections) once its Shutdown
 * has run, or once a load that got far enough to make any has failed: */
extern void (*const host_packages_release_owned)(struct host *h, struct host_package *p);

/* ---- package-threads.c: CreateThread ---- */
LSA_CREATE_THREAD host_CreateThread;
/* p's CreateThread threads still running. */
unsigned host_package_threads(const struct host_package *p);
/* The same, once they are gone or ms milliseconds have passed. */
unsigned host_package_threads_wait(const struct host_package *p, unsigned ms);

/* ---- package-status.c: LsashmSetPackageStatus ---- */
/* A status slot for a package id, from before its first entry point... */
void host_package_status_register(unsigned id);
/* ...until it is freed (unloaded, or its load failed). */
void host_package_status_forget(unsigned id);
/* Its status line into buf (size bytes): true, or false when it has none. */
bool host_package_status_get(unsigned id, char *buf, size_t size);

/* ---- logon-sessions.c: CreateLogonSession, DeleteLogonSession, sessions ---- */
/* What a successful logon keeps with its session; private memory, every
 * buffer its own malloc block, wiped when freed. */
struct host_session_data {
        unsigned package_id;
        char package[LSA_WIRE_MAX_NAME + 1];
        uint32_t logon_type;           /* SECURITY_LOGON_TYPE */
        UNICODE_STRING account;        /* the package's AccountName */
        UNICODE_STRING authority;      /* AuthenticatingAuthority */
        UNICODE_STRING machine;        /* MachineName */
        SECPKG_PRIMARY_CRED primary;   /* strings and UserSid copied; Spare* unused */
        uint8_t *sids;                 /* the token's SIDs, user first (lsa-wire's entries) */
        uint32_t sids_len;
        uint16_t nsids;
        int64_t expiration;
        int64_t uid;                   /* the user SID's Unix uid, or -1 */
        int64_t start;                 /* CLOCK_REALTIME seconds */
};
void host_session_data_free(struct host_session_data *d);

/* One session as reports and listings see it. */
struct host_session_view {
        LUID logon_id;
        bool established;              /* false: created, no logon finished with it */
        unsigned tokens;
        int64_t uid;
        uint32_t logon_type;
        int64_t start;
        char package[LSA_WIRE_MAX_NAME + 1];
        char user[128];                /* lossy: printable ASCII, '?' for the rest */
        char domain[128];
};

LSA_CREATE_LOGON_SESSION host_CreateLogonSession;
LSA_DELETE_LOGON_SESSION host_DeleteLogonSession;
uint64_t host_luid_key(const LUID *luid);
/* Set by a logon in progress on this thread (a number no other logon has):
 * the sessions CreateLogonSession makes meanwhile are that logon's until it
 * establishes one, and host_sessions_abandon deletes the rest. */
extern _Thread_local uint64_t host_session_creator;
/* Runs for every session deleted, before the packages' LogonTerminated
 * (credentials are wiped there). NULL: nothing. Set once, before serving. */
extern void (*host_session_deleted_hook)(const LUID *logon_id);
/* A logon succeeded with this session: it takes *data (left zeroed) and
 * one token; *ret_serial names this session (not a later one of the same
 * LUID). STATUS_NO_SUCH_LOGON_SESSION: none such (the package made none);
 * STATUS_LOGON_SESSION_COLLISION: another logon's already. */
NTSTATUS host_session_establish(const LUID *logon_id, struct host_session_data *data, uint64_t *ret_serial);
/* A token of the session is gone; the last one deletes the session. */
void host_session_token_release(const LUID *logon_id, uint64_t serial);
/* Delete the sessions creator made that no logon established. */
void host_sessions_abandon(uint64_t creator);
size_t host_sessions_count(void);
/* Every session, in no order: *ret (free it) of *ret_count. 0 or -ENOMEM. */
int host_sessions_snapshot(struct host_session_view **ret, size_t *ret_count);
/* One session: its view, and copies of what LsaGetLogonSessionData shows
 * (names, primary credential strings but the passwords, SIDs) in *ret,
 * which the caller frees with host_session_data_free. -ENOENT, -ENOMEM. */
int host_session_detail(const LUID *logon_id, struct host_session_view *view, struct host_session_data *ret);
/* Forget every logon session (host shutdown). */
void host_logon_sessions_clear(void);
/* Is there a logon session with this LUID? (credentials.c) */
bool host_logon_session_exists(const LUID *logon_id);

/* ---- credentials.c: AddCredential, GetCredentials, DeleteCredential ---- */
LSA_ADD_CREDENTIAL host_AddCredential;
LSA_GET_CREDENTIALS host_GetCredentials;
LSA_DELETE_CREDENTIAL host_DeleteCredential;
/* A session ended (host_session_deleted_hook, once it is out of the
 * table): its credentials are wiped and freed. */
void host_credentials_logon_ended(const LUID *logon_id);
/* Wipe and free every credential (host shutdown). */
void host_credentials_clear(void);
struct host_credentials_stats {
        uint64_t sessions;    /* sessions with a credential record */
        uint64_t credentials;
        uint64_t bytes;       /* what they take, records included */
};
void host_credentials_stats(struct host_credentials_stats *ret);
/* free; tests look at each wiped credential there. */
extern void (*host_credentials_release)(void *p);

/* ---- token-info.c: LogonUser's TokenInformation ---- */
/* Check it (every pointer inside LSA heap blocks the package allocated;
 * V2's inside its one block), copy its SIDs, user first (a Null token's
 * user is ANONYMOUS LOGON), as lsa-wire entries into sids (cap bytes), and
 * free the blocks it is made of, refused or not. STATUS_SUCCESS, or
 * STATUS_INTERNAL_ERROR with *why the first fault found. */
NTSTATUS host_token_info_take(LSA_TOKEN_INFORMATION_TYPE type, void *info, uint8_t *sids, size_t cap,
                              uint32_t *sids_len, uint16_t *nsids, int64_t *expiration, const char **why);

/* ---- lsa-heap.c: AllocateLsaHeap/FreeLsaHeap, AllocatePrivateHeap/FreePrivateHeap ---- */
/* A larger request is a length computed from underflowed arithmetic, not a
 * need: with overcommit it would succeed and fail later, when touched. */
#define HOST_HEAP_MAX ((size_t)1 << 30)
/* A zero-filled block, recorded as live; NULL past HOST_HEAP_MAX, out of
 * memory, or when the record cannot grow. */
void *host_heap_alloc(size_t length);
/* FreeLsaHeap and FreePrivateHeap. A live block: wiped, released through
 * host_heap_release, true. Anything else: nothing touched, counted against
 * host_active_package and in the total, logged once per package naming
 * member; false. NULL: nothing, true. */
bool host_heap_free_checked(void *p, const char *member);
/* For calls.c (its own package-to-package client buffers, which it
 * allocates with calloc, and FreeReturnBuffer): a live block as above;
 * any other pointer is taken to be a calloc block and wiped and freed, so
 * only pointers the host allocated itself may come here. */
void host_heap_free(void *p);
/* Make p, a block of length bytes the host allocated with malloc or calloc,
 * a live LSA heap block from now on (a package-to-package call's return
 * buffer, once the caller owns it). 0; -ENOMEM or -ENOSPC: p is left as it
 * was; -EEXIST: p is live already. */
int host_heap_adopt(void *p, size_t length);
/* Is p the start of a live block? Its length (as allocated) then. */
bool host_heap_block(const void *p, size_t *ret_length);
struct host_heap_stats {
        uint64_t live_blocks;
        uint64_t live_bytes;
        uint64_t refused_frees; /* since the process started, every package's */
};
void host_heap_stats(struct host_heap_stats *ret);
/* free; tests look at each wiped block there. */
extern void (*host_heap_release)(void *p);

#endif
