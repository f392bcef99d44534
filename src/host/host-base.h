/* SPDX-License-Identifier: MIT */
/*
 * src/host layer 1 of 5, the bottom: the host record, the host's log, and
 * what table members need that knows nothing of packages, sections, calls
 * or connections (LsaProtectMemory). May include: host/host.h and headers
 * outside src/host; no other src/host header.
 *
 * The layers, bottom up. Each header includes the one below it; a file
 * includes its own layer's header, never one above, and names nothing a
 * header above declares (tests/layering-host.sh checks all three):
 *   1 host-base.h      base.c protect.c log.c workers.c submit-buffer.c luid.c
 *                      elf-file.c (host.h, the public face, too)
 *   2 host-packages.h  packages.c package-status.c lsa-heap.c logon-sessions.c
 *                      token-info.c credentials.c crash-context.c package-config.c
 *                      package-threads.c
 *   3 host-sections.h  sections.c
 *   4 host-calls.h     calls.c logon.c failure-reason.c
 *   5 host-internal.h  host.c report.c reload.c table.c (and the tests)
 * Where a lower layer needs an answer only a higher one has, it declares a
 * hook (a const function pointer) and table.c, at the top, points it there.
 *
 * The host is one per process (the function table has no context argument,
 * so table members find it through host_global).
 *
 * Threads. The host's thread (whoever calls host_dispatch) accepts, reads
 * each connection's CONNECT, serves admin connections (STATUS: the report
 * walks every connection) and closes connections: the connection skeleton
 * (conn_set) is single-threaded, and it is the host's thread's. A client
 * connection, once connected, is handed to the workers (workers.c): they
 * share one epoll set in which it is armed with EPOLLONESHOT, so one event
 * wakes one worker, which reads, decodes and answers the connection's
 * requests (CALL and LOGON run the package there; LOOKUP, FREE, MAP, UNMAP,
 * CLOSE_TOKEN and the session queries are answered there too, under the
 * locks below), sends each reply itself and re-arms the connection. Until
 * it re-arms it, that worker owns the connection (its client buffers,
 * reply section, tokens, mappings, call counter; the report reads what a
 * lock guards), so one connection's requests are answered one by one, in
 * order, while other connections are served on other workers. A worker
 * that finds its client gone, or drops it, hands the connection back
 * (host->back, back_fd) and the host's thread closes it; nothing else
 * closes a client connection but host_destroy, after the workers have
 * stopped. The hand-over through epoll is invisible to the memory model
 * (and to TSan): host_conn.handoff, bumped with release before each arming
 * and read with acquire by the worker woken, orders it. Package threads
 * (CreateThread, or their own) reach only what has a lock below, or their
 * own thread-local state.
 *
 * What is per thread: the call in progress (calls.c: GetClientInfo,
 * GetCallInfo, client buffers), the package and entry point running
 * (crash context), the failure-reason ledger, a worker's receive and send
 * buffers.
 *
 * Locks, in the order they may be taken (a lock is never taken while one
 * below it in this list is held):
 *   0 cs_lock             (host.c) the connection skeleton: held by the
 *                         host's thread while it dispatches, by a worker
 *                         only to log a line its client caused
 *   1 host_conn.lock      (host-calls.h) a connection's client-buffer table
 *                         and reply section, against the status report
 *   2 sections_lock       the sections packages made, and every
 *                         connection's mapping table
 *   3 a section's own lock, then the section registry's (src/section)
 *   4 sessions_lock       (logon-sessions.c) never held across package code
 *   5 heap_lock           (lsa-heap.c) the LSA heap's block table
 *   6 back_lock           (host.c) the connections handed back; nothing is
 *                         called under it
 *   7 log_lock            one log line at a time; nothing is taken under it
 * The configuration a worker reads per request (max_submit, admin_gid) is
 * stored and loaded atomically (host_reload); the rest of it, and the
 * package list, do not change while clients are served.
 * Counters that several threads bump (calls, failed calls, refused frees)
 * are atomics, read with relaxed loads by the report.
 */
#ifndef LSASHM_HOST_BASE_H
#define LSASHM_HOST_BASE_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "host/host.h"
#include "lsa/lsa-wire.h"
#include "lsa/ntstatus-errno.h"
#include "lsashm/ntsecpkg.h"
#include "lsashm/section.h"
#include "share/conn.h"

#define HOST_MAX_PACKAGES 64u

struct host_package; /* host-packages.h */
struct host_section; /* host-sections.h */

/* ---- workers.c: the threads that serve connections ----
 * Each waits on one shared epoll set whose descriptors are armed with
 * EPOLLONESHOT, and calls serve for the one that woke it: serve owns that
 * descriptor until it re-arms it (host_workers_arm) or gives it up. rx and
 * tx are the worker's own buffers of buf_size bytes. */
typedef void host_serve_fn(void *ctx, void *ptr, uint8_t *rx, uint8_t *tx);

struct host_workers {
        int epoll_fd;                 /* the set the workers wait on */
        int stop_fd;                  /* eventfd in it, written once: every worker leaves */
        host_serve_fn *serve;
        void *ctx;
        size_t buf_size;
        pthread_t *threads;           /* NULL until the first descriptor is added */
        struct host_worker *workers;  /* workers.c's: each thread's own buffers */
        unsigned nthreads, size;
        pid_t pid;                    /* the process that started them */
        unsigned active;              /* atomic: workers inside serve now */
};

/* The default pool size: twice the CPUs this process may run on (package
 * calls mostly wait: on a directory, a disk, an OTP server), at least 4 and
 * at most 64. */
unsigned host_workers_default(void);
/* A pool of n threads (1..HOST_MAX_WORKERS), started with the first
 * descriptor added (see workers.c: fork). 0 or -errno; host_workers_stop is
 * safe either way. */
int host_workers_init(struct host_workers *w, unsigned n, size_t buf_size, host_serve_fn *serve, void *ctx);
/* Arm fd, one-shot, for serve(ctx, ptr, ...): add it to the set (add), or
 * re-arm it from the serve that owns it. 0 or -errno (no worker could be
 * started, epoll_ctl failed). */
int host_workers_arm(struct host_workers *w, int fd, void *ptr, bool add);
/* Take fd out of the set, before its close (a copy of it in another
 * process, a fork's, would keep it registered). */
void host_workers_forget(struct host_workers *w, int fd);
/* Workers inside serve now. */
unsigned host_workers_active(struct host_workers *w);
/* Let every worker finish what it serves, then join them. Safe on a pool
 * that never started, and twice. */
void host_workers_stop(struct host_workers *w);
#define HOST_MAX_WORKERS 256u

/* ---- submit-buffer.c: a client's buffer for a package, private ----
 * What the package gets of a submit (or authentication) buffer: a private
 * copy of the bytes that came in the packet, or a private copy-on-write
 * mapping of a memfd the client sealed against writing, shrinking and
 * growing, so that nothing the client does afterwards changes it. */
struct host_submit {
        uint8_t *data;  /* length bytes (one at least), writable by the package */
        uint32_t length;
        size_t mapped;  /* bytes mapped (munmap), or 0: a malloc copy (wiped, freed) */
};
/* Take a buffer of length bytes: inline (the packet's bytes, fd < 0) or in
 * fd, a memfd the client passed (closed here either way). NTSTATUS:
 *   STATUS_INVALID_BUFFER_SIZE  length past max (the host's max-submit-size)
 *   STATUS_INVALID_PARAMETER    fd is not a regular file sealed with
 *                               F_SEAL_WRITE, F_SEAL_SHRINK and F_SEAL_GROW
 *                               of exactly length bytes (nothing kept)
 *   STATUS_NO_MEMORY, STATUS_INSUFFICIENT_RESOURCES
 * On failure ret is empty (host_submit_release is still safe). */
NTSTATUS host_submit_take(const uint8_t *inline_data, uint32_t length, int fd, uint64_t max,
                          struct host_submit *ret);
/* Wipe (a copy) or unmap it; safe on an empty one and twice. */
void host_submit_release(struct host_submit *s);

/* Every layer's state of the one host. A layer touches only its own
 * fields; the types of the packages and sections are complete only in
 * their layers' headers. */
struct host {
        /* host.c, reload.c: the listener and the connections */
        struct host_config cfg;
        char *socket_path;            /* ours to unlink, or NULL */
        int listen_fd;
        int wake_fd;                  /* eventfd: host_stop wakes host_run */
        volatile sig_atomic_t stop;   /* set from a signal handler */
        /* packages.c */
        struct host_package *packages[HOST_MAX_PACKAGES];
        unsigned npackages;
        /* host.c */
        struct conn_set cs;           /* the connections; its epoll_fd is the host's */
        uint64_t next_serial;
        uint8_t *rx;                  /* LSA_WIRE_MAX_MESSAGE bytes, wiped after each request
                                       * (the host's thread's; each worker has its own) */
        uint8_t *tx;                  /* the same, for replies */
        uint64_t calls;               /* atomic: bumped by the workers */
        struct host_workers workers;
        bool draining;                /* atomic: host_drain, no request is read any more */
        pthread_mutex_t cs_lock;      /* cs (single-threaded): held by the host's thread while
                                       * it dispatches, by a worker to log a client's doing */
        pthread_mutex_t back_lock;    /* back: connections workers gave up, to be closed */
        struct host_conn *back;
        int back_fd;                  /* eventfd in cs.epoll_fd: back is not empty */
        pthread_mutex_t log_lock;     /* one line at a time, from any thread */
        struct timespec started;      /* CLOCK_BOOTTIME at host_create, for the report's uptime */

        /* sections.c */
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
/* This thread is a package's own (CreateThread): it serves no client, and
 * GetClientInfo answers accordingly, though host_active_package names the
 * package for the crash context and the heap's refusals. */
extern _Thread_local bool host_package_thread;

/* host_logf and the priorities: host.h (log.c). */

/* ---- protect.c: LsaProtectMemory ---- */
/* Per-process secrets for LsaProtectMemory; 0 or -errno. */
int host_protect_init(void);
LSA_PROTECT_MEMORY host_LsaProtectMemory;
LSA_PROTECT_MEMORY host_LsaUnprotectMemory;

/* ---- luid.c: the LogonId the host gives a client ----
 * Root is SYSTEM_LUID ({0x3e7, 0}), as Windows' system processes are; every
 * other uid gets a LUID of its own from the process's one allocator
 * (AllocateLocallyUniqueId), the same for all its connections for the
 * host's life. STATUS_SUCCESS, or STATUS_INSUFFICIENT_RESOURCES when
 * HOST_LUID_MAX_UIDS uids have one already or memory is short. */
#define HOST_LUID_MAX_UIDS 65536u
NTSTATUS host_luid_of_uid(uid_t uid, LUID *ret);
/* SYSTEM_LUID or a LUID given to a uid: no logon session may take it. */
bool host_luid_is_client(const LUID *luid);

#endif
