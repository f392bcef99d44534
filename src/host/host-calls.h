/* SPDX-License-Identifier: MIT */
/*
 * src/host layer 4 of 5: package calls (from clients and from package to
 * package), the client buffers they use, and the table members that answer
 * to the call in progress (GetClientInfo, the failure reason). May include:
 * host-sections.h (and so the layers below) and headers outside src/host.
 * A connection is defined here, as the calls see it; accepting, serving
 * and closing connections is the layer above. See host-base.h for the
 * layers.
 */
#ifndef LSASHM_HOST_CALLS_H
#define LSASHM_HOST_CALLS_H

#include "host/host-sections.h"

#define HOST_MAX_CLIENT_BUFFERS 1024u /* per connection, live at once */
#define HOST_MAX_CALL_DEPTH 4u        /* package-to-package nesting */
#define HOST_CALL_HEAP_BLOCKS 64u     /* client buffers one package-to-package call may hold */

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

/* peer.handshaken: past CONNECT. A client connection is served by the
 * workers from its CONNECT on, one worker at a time (host-base.h,
 * "Threads"): that worker owns everything here but what a lock or an atomic
 * guards, until it re-arms the connection or hands it back (back_next,
 * back_why) for the host's thread to close. */
struct host_conn {
        struct conn_peer peer;        /* first: the skeleton allocates and frees us */
        uint64_t serial;              /* never reused within the host's life */
        int mode;                     /* enum lsa_wire_mode, valid once connected */
        char name[LSA_WIRE_MAX_NAME + 1]; /* logon process name */
        uint64_t reply_base;          /* the client's reserved region */
        uint64_t reply_size;          /* what the host uses of it */
        unsigned handoff;             /* atomic: bumped (release) by whoever arms the
                                       * connection, read (acquire) by the worker it wakes:
                                       * the hand-over through epoll, made visible */
        struct host_conn *back_next;  /* in host->back, under back_lock */
        const char *back_why;         /* why it is to be dropped; NULL: the client left */
        pthread_mutex_t lock;         /* reply, buffers, nbuffers: changed under it (the report reads) */
        lsashm_section_t *reply;      /* created on the first client buffer */
        bool reply_announced;         /* its fd has gone to the client */
        struct client_buffer *buffers;
        unsigned nbuffers;
        uint64_t next_group;
        uint64_t calls;               /* atomic: the report reads it while a call runs */
        struct conn_mapping maps[HOST_MAX_MAPPINGS]; /* sections.c's, under sections_lock */
        unsigned nmaps;
        struct host_token *tokens;    /* logon.c's: the tokens LsaLogonUser gave this client */
        unsigned ntokens;
};

#define HOST_MAX_TOKENS 1024u /* per connection, open at once */

/* A token a client holds: the host's name for it, and its logon session. */
struct host_token {
        uint64_t id;
        LUID logon_id;
        uint64_t session;             /* its serial (logon-sessions.c) */
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

/* ---- calls.c: call contexts, client buffers, package-to-package calls ---- */
struct host_call *host_call_current(void);
/* The serial of the connection whose call this thread is serving, looking
 * out through package-to-package calls; 0: none. */
uint64_t host_call_client_serial(void);
/* Run a client's call to a package (trusted selects CallPackage), on the
 * thread that owns c, with submit (private: host_submit_take). Fills the
 * reply (status, protocol status, return buffer) for the connection. */
void host_call_from_client(struct host *h, struct host_conn *c, struct host_package *p,
                           uint32_t thread_id, uint64_t submit_base, struct host_submit *submit,
                           struct lsa_wire_call_reply *reply);
/* Enter and leave a call to p on this thread (GetClientInfo, client
 * buffers and the failure reason answer to it meanwhile). */
void host_call_enter(struct host_call *call, struct host_package *p);
void host_call_leave(struct host_call *call);
/* After a client's call: the buffer ret (ret_len bytes) the package returned
 * becomes the client's return buffer, its group the client's (1, offset
 * in *ret_offset); or the call's group is freed: no buffer or a failed call
 * (0), a buffer outside this call's client buffers (-1). */
int host_call_keep_buffer(struct host_conn *c, const struct host_call *call, const void *ret, ULONG ret_len,
                          bool succeeded, uint64_t *ret_offset);
/* A return buffer of len bytes the host fills itself (logon session
 * listings): *ours to write, *client_addr where the client sees it. */
NTSTATUS host_conn_return_buffer(struct host_conn *c, uint32_t len, void **ours, uint64_t *client_addr,
                                 uint64_t *ret_offset);
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

/* ---- logon.c: LsaLogonUser, tokens, logon session queries ---- */
/* Run a client's LsaLogonUser with package p, on the thread that owns c,
 * with auth, its authentication information (private: host_submit_take);
 * m->auth is not read, m->local must be valid. sids: room for the token's
 * SIDs (HOST_TOKEN_SIDS_CAP bytes), which reply->sids points to on success. */
#define HOST_TOKEN_SIDS_CAP (LSA_WIRE_MAX_TOKEN_SIDS * (5u + LSA_WIRE_MAX_SID))
void host_logon_from_client(struct host *h, struct host_conn *c, struct host_package *p,
                            const struct lsa_wire_logon *m, struct host_submit *auth, uint8_t *sids, size_t cap,
                            struct lsa_wire_logon_reply *reply);
/* CLOSE_TOKEN: a token of c's is closed (anything else: nothing). */
void host_token_close(struct host_conn *c, uint64_t token_id);
/* A closing connection's tokens are all closed. */
void host_conn_release_tokens(struct host_conn *c);
/* LsaEnumerateLogonSessions and LsaGetLogonSessionData for c, whose peer
 * sees every session if all, else those of its own uid. */
void host_sessions_enumerate(struct host_conn *c, bool all, struct lsa_wire_call_reply *reply);
void host_session_data_query(struct host_conn *c, bool all, uint64_t logon_id, struct lsa_wire_call_reply *reply);

/* ---- failure-reason.c: per call ---- */
LSA_GET_SECPKG_FAILURE_REASON host_GetSecpkgFailureReason;
LSA_SET_SECPKG_FAILURE_REASON host_SetSecpkgFailureReason;

#endif
