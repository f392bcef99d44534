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
 *   1 host-base.h      base.c protect.c log.c (host.h, the public face, too)
 *   2 host-packages.h  packages.c lsa-heap.c logon-sessions.c token-info.c
 *                      credentials.c crash-context.c package-config.c
 *   3 host-sections.h  sections.c
 *   4 host-calls.h     calls.c logon.c failure-reason.c
 *   5 host-internal.h  host.c report.c reload.c table.c (and the tests)
 * Where a lower layer needs an answer only a higher one has, it declares a
 * hook (a const function pointer) and table.c, at the top, points it there.
 *
 * The host is one per process (the function table has no context argument,
 * so table members find it through host_global); connections, packages and
 * calls are served on the host's thread, and the state that a package's own
 * threads can reach through the table (sections, logon sessions) has its own
 * lock.
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
        uint8_t *rx;                  /* LSA_WIRE_MAX_MESSAGE bytes, wiped after each request */
        uint8_t *tx;                  /* the same, for replies */
        uint64_t calls;
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

/* host_logf and the priorities: host.h (log.c). */

/* ---- protect.c: LsaProtectMemory ---- */
/* Per-process secrets for LsaProtectMemory; 0 or -errno. */
int host_protect_init(void);
LSA_PROTECT_MEMORY host_LsaProtectMemory;
LSA_PROTECT_MEMORY host_LsaUnprotectMemory;

#endif
