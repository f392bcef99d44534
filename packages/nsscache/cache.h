/* SPDX-License-Identifier: MIT */
/*
 * lsashm-nsscache.so: the package's state and how its files share it.
 *
 *   package.c   entry points (SpInitialize, Shutdown, calls) and messages
 *   publish.c   one generation: read the sources, build the table into a new
 *               section, freeze it, share it, announce it in the epoch;
 *               retire old ones; the status line
 *   watch.c     the package's thread: inotify on the sources' directories,
 *               changes coalesced into one publication
 *   source.c    passwd/group parsing    conf.c   the configuration file
 *
 * Lock: `lock` guards everything in struct nsscache below it. It is taken by
 * the host's thread (calls) and the package's thread (publications, the
 * retire sweep), and held across a whole publication, so generations are
 * published one at a time and in order. Lock order: ours, then the host's
 * (inside the function table's members); the host never calls us holding one.
 */
#ifndef LSASHM_NSSCACHE_CACHE_H
#define LSASHM_NSSCACHE_CACHE_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>

#include <lsashm/nsscache.h>
#include <lsashm/ntsecpkg.h>

#include "conf.h"

/* A replaced table is deleted once it is this many generations old and was
 * replaced this long ago: a client that read its id just before the change
 * has that long to map it (one round trip; it asks again if it missed).
 * Mappings already made survive the delete: a frozen section is never
 * wiped, and stays in memory until its last client unmaps it. */
#define NSSCACHE_RETIRE_GENERATIONS 2u
#define NSSCACHE_RETIRE_MS          2000u

/* Changes are coalesced: a publication waits for this much quiet after the
 * last change, but never longer than NSSCACHE_MAX_DELAY_MS after the first. */
#define NSSCACHE_QUIET_MS     100u
#define NSSCACHE_MAX_DELAY_MS 500u

#define NSSCACHE_STATUS_MAX 1024u

struct nsscache_table {
        PVOID section;
        ULONGLONG id;
        uint64_t generation;
        uint64_t replaced_ms; /* 0: the current one */
};

struct nsscache {
        PLSA_SECPKG_FUNCTION_TABLE lsa;
        ULONG_PTR package_id;

        pthread_mutex_t lock;
        struct nss_conf conf;
        PVOID epoch_section;
        NSSCACHE_EPOCH *epoch; /* written, never read back */
        ULONG epoch_offset;
        ULONGLONG epoch_id;
        struct nsscache_table *tables; /* current last */
        unsigned ntables, cap_tables;
        NSSCACHE_STATS_RESPONSE stats;

        /* watch.c */
        pthread_t thread; /* when made with pthread_create (joinable) */
        bool thread_running;
        bool thread_from_lsa; /* made with the table's CreateThread: detached */
        sem_t thread_done;    /* posted by a CreateThread thread as it ends */
        int wake_fd;          /* eventfd: stop */
};

extern struct nsscache nsscache;

/* ---- publish.c (lock held) ---- */
/* Read the sources and publish a generation. 0, or -errno (logged): the
 * previous generation stays. */
int nsscache_publish_locked(struct nsscache *c);
/* Delete the tables whose grace is over; true while some still wait. */
bool nsscache_retire_locked(struct nsscache *c, uint64_t now_ms);
/* Delete every table (Shutdown). */
void nsscache_tables_clear_locked(struct nsscache *c);
uint64_t nsscache_now_ms(void);
void nsscache_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- watch.c ---- */
/* Start or stop the package's thread. 0 or -errno. */
int nsscache_watch_start(struct nsscache *c);
void nsscache_watch_stop(struct nsscache *c);

#endif
