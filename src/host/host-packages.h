/* SPDX-License-Identifier: MIT */
/*
 * src/host layer 2 of 5: packages (load, unload, look up, LogonTerminated
 * to every package) and the table members that answer to the package
 * running (the LSA heap, logon sessions, the crash context). May include:
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
        uint64_t calls;
        uint64_t failed_calls;
        uint64_t heap_refused_frees; /* FreeLsaHeap/FreePrivateHeap refused (lsa-heap.c; atomic) */
        bool heap_refusal_logged;    /* the first is logged (under lsa-heap.c's lock) */
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

/* ---- logon-sessions.c: CreateLogonSession, DeleteLogonSession ---- */
LSA_CREATE_LOGON_SESSION host_CreateLogonSession;
LSA_DELETE_LOGON_SESSION host_DeleteLogonSession;
/* Forget every logon session (host shutdown). */
void host_logon_sessions_clear(void);
/* Is there a logon session with this LUID? (credentials.c) */
bool host_logon_session_exists(const LUID *logon_id);

/* ---- credentials.c: AddCredential, GetCredentials, DeleteCredential ---- */
LSA_ADD_CREDENTIAL host_AddCredential;
LSA_GET_CREDENTIALS host_GetCredentials;
LSA_DELETE_CREDENTIAL host_DeleteCredential;
/* A session ended (logon-sessions.c, once it is out of the table): its
 * credentials are wiped and freed. */
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
