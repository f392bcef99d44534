/* SPDX-License-Identifier: MIT */
/*
 * What the host's files share. The host is one per process (the function
 * table has no context argument, so table members find it through
 * host_global); connections, packages and calls are served on the host's
 * thread, and the state that a package's own threads can reach through the
 * table (sections, logon sessions) has its own lock.
 */
#ifndef LSASHM_HOST_INTERNAL_H
#define LSASHM_HOST_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/host.h"
#include "lsa/lsa-wire.h"
#include "lsa/ntstatus-errno.h"
#include "lsashm/ntsecpkg.h"
#include "lsashm/section.h"
#include "share/conn.h"

#define HOST_MAX_PACKAGES 64u
#define HOST_MAX_CLIENT_BUFFERS 1024u /* per connection, live at once */
#define HOST_MAX_MAPPINGS 64u         /* distinct sections one connection maps */
#define HOST_MAX_SECTIONS 4096u       /* sections all packages hold at once */
#define HOST_MAX_CALL_DEPTH 4u        /* package-to-package nesting */
#define HOST_CALL_HEAP_BLOCKS 64u     /* client buffers one package-to-package call may hold */

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

/* One client buffer in a connection's reply section. Blocks allocated during
 * one call form a group: the one returned to the client owns the group, and
 * LsaFreeReturnBuffer releases it whole. */
struct client_buffer {
        uint64_t offset;
        uint32_t length;
        uint64_t group;
        uint64_t return_offset; /* of the return buffer, when this block holds it */
        bool head;              /* this block holds the return buffer: its group is the client's */
};

struct conn_mapping {
        uint64_t section_id;
        uint32_t count;
};

/* peer.handshaken: past CONNECT. */
struct host_conn {
        struct conn_peer peer;        /* first: the skeleton allocates and frees us */
        uint64_t serial;              /* never reused within the host's life */
        int mode;                     /* enum lsa_wire_mode, valid once connected */
        char name[LSA_WIRE_MAX_NAME + 1]; /* logon process name */
        uint64_t reply_base;          /* the client's reserved region */
        uint64_t reply_size;          /* what the host uses of it */
        lsashm_section_t *reply;      /* created on the first client buffer */
        bool reply_announced;         /* its fd has gone to the client */
        struct client_buffer *buffers;
        unsigned nbuffers;
        uint64_t next_group;
        uint64_t calls;
        struct conn_mapping maps[HOST_MAX_MAPPINGS];
        unsigned nmaps;
};

/* One package call in progress. Its PLSA_CLIENT_REQUEST is an address that
 * no other call gets for a long time (see calls.c): a package hands it back
 * and we find the call by checking it against the calls actually in
 * progress on this thread, so a request kept from a finished call is
 * refused. */
struct host_call {
        PLSA_CLIENT_REQUEST request;
        struct host_call *outer;
        struct host_conn *conn;        /* NULL: a package-to-package call */
        struct host_package *caller;   /* the package active before: restored on leaving */
        uint64_t group;
        uint64_t submit_base;          /* the client's address of its submit buffer */
        uint32_t submit_len;
        const uint8_t *submit;         /* our private copy */
        uint32_t thread_id;
        bool trusted;
        ULONG attributes;              /* SECPKG_CALL_* */
        ULONG call_count;
        /* Package to package: the "client" buffers are LSA heap, and only
         * these (and the submit buffer) may be copied to or from. */
        void *heap[HOST_CALL_HEAP_BLOCKS];
        size_t heap_len[HOST_CALL_HEAP_BLOCKS];
        unsigned nheap;
};

struct host_section {
        struct host_section *next;
        void *base;                    /* as CreateSharedMemory returned it */
        uint64_t id;                   /* LsashmSectionId: unguessable, never reused */
        uint64_t identity;             /* the section's own id (section_identity): a
                                        * package may delete it behind our back with
                                        * LsaDeleteSharedMemory, and its base may then
                                        * belong to another section */
        struct host_package *owner;    /* NULL if made outside any package entry point */
        uint64_t creator_serial;       /* connection whose call made it; 0: none */
        uint32_t share;                /* LSASHM_SHARE_* given by LsashmShareSection */
        uint32_t mappings;             /* clients mapping it now */
        uint64_t max_size;
};

struct host {
        struct host_config cfg;
        char *socket_path;            /* ours to unlink, or NULL */
        int listen_fd;
        int wake_fd;                  /* eventfd: host_stop wakes host_run */
        volatile sig_atomic_t stop;   /* set from a signal handler */
        struct host_package *packages[HOST_MAX_PACKAGES];
        unsigned npackages;
        struct conn_set cs;           /* the connections; its epoll_fd is the host's */
        uint64_t next_serial;
        uint8_t *rx;                  /* LSA_WIRE_MAX_MESSAGE bytes, wiped after each request */
        uint8_t *tx;                  /* the same, for replies */
        uint64_t calls;

        pthread_mutex_t sections_lock; /* sections, from any thread */
        struct host_section *sections;
        unsigned nsections;
        uint64_t section_counter;
        uint8_t section_key[16];
};

/* The one host of this process (table members have no context argument). */
extern struct host *host_global;
/* The package whose entry point this thread is running, or NULL. */
extern _Thread_local struct host_package *host_active_package;
/* The entry point of host_active_package being run ("CallPackage", ...):
 * a string literal, or NULL (crash-context.c). */
extern _Thread_local const char *host_active_entry;

void host_logf(struct host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- calls.c: call contexts, client buffers, package-to-package calls ---- */
struct host_call *host_call_current(void);
/* Run a client's call to a package (trusted selects CallPackage). Fills the
 * reply (status, protocol status, return buffer) for the connection. */
void host_call_from_client(struct host *h, struct host_conn *c, struct host_package *p,
                           uint32_t thread_id, uint64_t submit_base, const uint8_t *submit,
                           uint32_t submit_len, struct lsa_wire_call_reply *reply);
/* Release a group by its head's offset (LsaFreeReturnBuffer). NTSTATUS. */
NTSTATUS host_free_return_buffer(struct host_conn *c, uint64_t offset);
/* A read-only descriptor of c's reply section for the client. */
int host_reply_section_fd(struct host_conn *c, int *ret_fd, uint64_t *ret_size);
/* Drop all client buffers and the reply section of a closing connection. */
void host_conn_release_buffers(struct host_conn *c);

LSA_ALLOCATE_CLIENT_BUFFER host_AllocateClientBuffer;
LSA_FREE_CLIENT_BUFFER host_FreeClientBuffer;
LSA_COPY_TO_CLIENT_BUFFER host_CopyToClientBuffer;
LSA_COPY_FROM_CLIENT_BUFFER host_CopyFromClientBuffer;
LSA_GET_CLIENT_INFO host_GetClientInfo;
LSA_GET_CALL_INFO host_GetCallInfo;
LSA_CALL_PACKAGE host_CallPackage;
LSA_CALL_PACKAGEEX host_CallPackageEx;
LSA_CALL_PACKAGE_PASSTHROUGH host_CallPackagePassthrough;
LSA_FREE_LSA_HEAP host_FreeReturnBuffer;
LSA_GET_EXTENDED_CALL_FLAGS host_GetExtendedCallFlags;

/* ---- sections.c: sections packages make, ids, mapping by clients ---- */
LSA_CREATE_SHARED_MEMORY host_CreateSharedMemory;
LSA_ALLOCATE_SHARED_MEMORY host_AllocateSharedMemory;
LSA_FREE_SHARED_MEMORY host_FreeSharedMemory;
LSA_DELETE_SHARED_MEMORY host_DeleteSharedMemory;
int host_sections_init(struct host *h);
/* The record's section's figures; -ESTALE once it is gone (or its base is
 * another section's now). */
int host_section_stats(const struct host_section *s, struct lsashm_section_stats *ret);
/* Delete every section p owns (p NULL: every section). */
void host_sections_release(struct host *h, struct host_package *p);
/* MAP for a client: a new descriptor and what to tell it. NTSTATUS. */
NTSTATUS host_section_map(struct host *h, struct host_conn *c, uint64_t id, int *ret_fd,
                          struct lsa_wire_map_reply *reply);
NTSTATUS host_section_unmap(struct host *h, struct host_conn *c, uint64_t id);
/* A connection closes: forget its mappings. */
void host_sections_conn_closed(struct host *h, struct host_conn *c);

/* ---- logon-sessions.c, protect.c, failure-reason.c: table members ---- */
LSA_CREATE_LOGON_SESSION host_CreateLogonSession;
LSA_DELETE_LOGON_SESSION host_DeleteLogonSession;
LSA_PROTECT_MEMORY host_LsaProtectMemory;
LSA_PROTECT_MEMORY host_LsaUnprotectMemory;
LSA_GET_SECPKG_FAILURE_REASON host_GetSecpkgFailureReason;
LSA_SET_SECPKG_FAILURE_REASON host_SetSecpkgFailureReason;

/* ---- table.c: the LSA_SECPKG_FUNCTION_TABLE every package gets ---- */
/* Fill t; every member non-NULL. */
void host_table_fill(LSA_SECPKG_FUNCTION_TABLE *t);
/* Per-process secrets for LsaProtectMemory; 0 or -errno. */
int host_protect_init(void);
/* Forget every logon session (host shutdown). */
void host_logon_sessions_clear(void);

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

/* ---- packages.c ---- */
void host_package_unload(struct host *h, struct host_package *p);
struct host_package *host_find_package_utf16(struct host *h, const UNICODE_STRING *name);
/* Names compare without regard to case, as Windows looks packages up. */
struct host_package *host_find_package_name(struct host *h, const char *name);
/* Call every loaded package's LogonTerminated for this session. */
void host_packages_logon_terminated(const LUID *logon_id);

/* ---- report.c: the admin status report ---- */
/* Write the report into a new sealed memfd; returns it and its length. */
int host_report(struct host *h, int json, int *ret_fd, uint64_t *ret_len);

#endif
