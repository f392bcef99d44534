/* SPDX-License-Identifier: MIT */
/*
 * The slow path of the NSS module (nss-snapshot.h): reaching lsashmd,
 * mapping and validating a generation, retiring old ones.
 *
 * Lock: `lock` guards everything here but nss_current's loads on the fast
 * path (it is stored with release order under the lock) and the enumeration
 * state of nss-lsashm.c. The client library's own locks are taken only
 * under it, so none of them is held by another thread at fork.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lsashm/ntsecapi.h"
#include "nss/nss-snapshot.h"

/* Exported by every package host to its packages (ntsecpkg.h); present in
 * this process only when it is one. */
extern ULONGLONG NTAPI LsashmSectionId(PVOID SharedMem) __attribute__((weak));

struct nss_epoch_map {
        void *base;
        ULONG size;
        uint64_t section_id;
        unsigned refs; /* snapshots using it */
};

struct nss_snapshot *nss_current;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static struct nss_snapshot *retired;

static void lock_for_fork(void)
{
        pthread_mutex_lock(&lock);
}

static void unlock_after_fork(void)
{
        pthread_mutex_unlock(&lock);
}

static bool atfork_ok = true;

/* Without these a fork while another thread refreshes would leave the
 * child a lock nobody unlocks. If they cannot be registered, the module
 * answers nothing rather than risk that. */
static void atfork_init(void)
{
        if (pthread_atfork(lock_for_fork, unlock_after_fork, unlock_after_fork) != 0)
                atfork_ok = false;
}

void nss_lock(void)
{
        pthread_once(&atfork_once, atfork_init);
        pthread_mutex_lock(&lock);
}

void nss_unlock(void)
{
        pthread_mutex_unlock(&lock);
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void epoch_map_put(struct nss_epoch_map *m)
{
        if (!m || --m->refs)
                return;
        LsashmUnmapSection(m->base);
        free(m);
}

static void snapshot_free(struct nss_snapshot *s)
{
        LsashmUnmapSection(s->table_base);
        epoch_map_put(s->epoch_map);
        free(s);
}

/* Unmap what no lookup can still be reading (nss-snapshot.h). */
static void retired_sweep(void)
{
        uint64_t now = now_ms();
        for (struct nss_snapshot **pp = &retired; *pp;) {
                struct nss_snapshot *s = *pp;
                if (s->pins == 0 && s->newer >= NSS_RETIRE_GENERATIONS &&
                    now - s->retired_at_ms >= NSS_RETIRE_SECONDS * 1000u) {
                        *pp = s->next_retired;
                        snapshot_free(s);
                } else {
                        pp = &s->next_retired;
                }
        }
}

static void snapshot_install(struct nss_snapshot *s)
{
        struct nss_snapshot *old = nss_current;
        for (struct nss_snapshot *r = retired; r; r = r->next_retired)
                r->newer++;
        __atomic_store_n(&nss_current, s, __ATOMIC_RELEASE);
        if (old) {
                old->retired_at_ms = now_ms();
                old->newer = 1;
                old->next_retired = retired;
                retired = old;
        }
        retired_sweep();
}

static bool in_package_host(void)
{
        return LsashmSectionId != NULL;
}

/* Ask the package where the epoch and the current table are. */
static NTSTATUS query(HANDLE h, NSSCACHE_QUERY_RESPONSE *ret)
{
        char name[] = NSSCACHE_PACKAGE_NAME;
        LSA_STRING pkg_name = { sizeof(name) - 1, sizeof(name), name };
        ULONG pkg;
        NTSTATUS st = LsaLookupAuthenticationPackage(h, &pkg_name, &pkg);
        if (!NT_SUCCESS(st))
                return st;
        NSSCACHE_REQUEST req = { .MessageType = NssCacheQueryMessage };
        PVOID buf = NULL;
        ULONG len = 0;
        NTSTATUS pst;
        st = LsaCallAuthenticationPackage(h, pkg, &req, sizeof(req), &buf, &len, &pst);
        if (NT_SUCCESS(st) && !NT_SUCCESS(pst))
                st = pst;
        if (NT_SUCCESS(st) && (len < sizeof(*ret) || !buf))
                st = STATUS_INTERNAL_ERROR;
        if (NT_SUCCESS(st))
                memcpy(ret, buf, sizeof(*ret));
        if (buf)
                LsaFreeReturnBuffer(buf);
        if (NT_SUCCESS(st) && ret->MessageType != NssCacheQueryMessage)
                st = STATUS_INTERNAL_ERROR;
        return st;
}

static struct nss_epoch_map *epoch_map(HANDLE h, const NSSCACHE_QUERY_RESPONSE *q)
{
        if (nss_current && nss_current->epoch_map->section_id == q->EpochSectionId) {
                nss_current->epoch_map->refs++;
                return nss_current->epoch_map;
        }
        struct nss_epoch_map *m = calloc(1, sizeof(*m));
        if (!m)
                return NULL;
        if (!NT_SUCCESS(LsashmMapSection(h, q->EpochSectionId, &m->base, &m->size))) {
                free(m);
                return NULL;
        }
        m->section_id = q->EpochSectionId;
        m->refs = 1;
        /* Copied once and checked: the offset comes from the package. */
        ULONG off = q->EpochOffset;
        const NSSCACHE_EPOCH *e = (const NSSCACHE_EPOCH *)((const uint8_t *)m->base + off);
        if (off % 64 || off > m->size || m->size - off < sizeof(NSSCACHE_EPOCH) || e->Magic != NSSCACHE_EPOCH_MAGIC ||
            e->Version != NSSCACHE_EPOCH_VERSION) {
                epoch_map_put(m);
                return NULL;
        }
        return m;
}

/* One attempt: a new snapshot, or NULL. */
static struct nss_snapshot *fetch(void)
{
        HANDLE h = NULL;
        if (!NT_SUCCESS(LsaConnectUntrusted(&h)))
                return NULL;
        struct nss_snapshot *s = NULL;
        NSSCACHE_QUERY_RESPONSE q;
        if (!NT_SUCCESS(query(h, &q)) || q.EpochOffset % 64)
                goto out;
        s = calloc(1, sizeof(*s));
        if (!s)
                goto out;
        s->epoch_map = epoch_map(h, &q);
        if (!s->epoch_map)
                goto fail;
        s->epoch = (const NSSCACHE_EPOCH *)((const uint8_t *)s->epoch_map->base + q.EpochOffset);
        s->lease = (const uint32_t *)(const void *)s->epoch->Lease;
        ULONG size;
        /* Only a frozen table: the kernel's word that nobody, lsashmd
         * included, can change it after we validated it once. */
        if (!NT_SUCCESS(LsashmMapFrozenSection(h, q.TableSectionId, &s->table_base, &size)))
                goto fail;
        if (nsscache_validate(s->table_base, size, &s->view) < 0 || s->view.generation != q.Generation ||
            q.Generation == 0)
                goto fail;
        s->generation = s->view.generation;
        goto out;
fail:
        if (s->table_base)
                LsashmUnmapSection(s->table_base);
        epoch_map_put(s->epoch_map);
        free(s);
        s = NULL;
out:
        /* The socket, the reply region and its descriptor go; the views stay. */
        LsaDeregisterLogonProcess(h);
        return s;
}

static struct nss_snapshot *refresh_locked(void)
{
        struct nss_snapshot *cur = nss_current;
        if (cur && nss_snapshot_current(cur))
                return cur; /* another thread refreshed while we waited */
        if (!atfork_ok || in_package_host())
                return NULL;
        /* A generation may be retired between the answer and the map: ask
         * again, a few times. */
        for (int attempt = 0; attempt < 3; attempt++) {
                struct nss_snapshot *s = fetch();
                if (s) {
                        snapshot_install(s);
                        return s;
                }
        }
        return NULL;
}

const struct nss_snapshot *nss_snapshot_refresh(void)
{
        int saved = errno;
        nss_lock();
        const struct nss_snapshot *s = refresh_locked();
        nss_unlock();
        errno = saved;
        return s;
}

struct nss_snapshot *nss_snapshot_pin_locked(void)
{
        int saved = errno;
        struct nss_snapshot *s = refresh_locked();
        errno = saved;
        if (s)
                s->pins++;
        return s;
}

void nss_snapshot_unpin_locked(struct nss_snapshot *s)
{
        if (s && s->pins)
                s->pins--;
}
