/* SPDX-License-Identifier: MIT */
/*
 * Sections that packages make through the function table, and the way
 * clients reach them.
 *
 * Each section made with the table's CreateSharedMemory is recorded with its
 * owner (the package whose entry point was running), the connection whose
 * call made it (that client may map it read-write: Windows' remark that
 * clients can write to the section) and an id for LsashmSectionId. Ids are a
 * keyed 64-bit permutation of a counter: unguessable without the host's
 * random key, and never repeated because the counter never is.
 *
 * The table is reachable from a package's own threads, so it has its own
 * lock. Lock order: ours first, then (inside the LSA calls) the registry's
 * and a section's; nothing that holds those ever takes ours.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/host-sections.h"
#include "section/section-ops.h"

int host_sections_init(struct host *h)
{
        if (sodium_init() < 0)
                return -EIO;
        randombytes_buf(h->section_key, sizeof(h->section_key));
        return 0;
}

/* Four Feistel rounds over 64 bits with SipHash-2-4 as the round function:
 * a permutation, so distinct counters give distinct ids. */
static uint64_t permute(const uint8_t key[16], uint64_t x)
{
        uint32_t l = (uint32_t)(x >> 32), r = (uint32_t)x;
        for (uint8_t round = 0; round < 4; round++) {
                uint8_t in[5] = { round, (uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16), (uint8_t)(r >> 24) };
                uint8_t out[crypto_shorthash_BYTES];
                crypto_shorthash(out, in, sizeof(in), key);
                uint32_t f = (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 |
                             (uint32_t)out[3] << 24;
                uint32_t t = l ^ f;
                l = r;
                r = t;
        }
        return (uint64_t)l << 32 | r;
}

static uint64_t next_id(struct host *h)
{
        uint64_t id;
        do
                id = permute(h->section_key, ++h->section_counter);
        while (id == 0);
        return id;
}

/* The section a record stands for, locked, if it is still that section:
 * the record's base may have gone to a newer one. */
static lsashm_section_t *record_section(const struct host_section *s)
{
        lsashm_section_t *sec = registry_acquire(s->base);
        if (sec && section_id_locked(sec) != s->identity) {
                section_unlock(sec);
                return NULL;
        }
        return sec;
}

static bool record_live(const struct host_section *s)
{
        lsashm_section_t *sec = record_section(s);
        if (sec)
                section_unlock(sec);
        return sec != NULL;
}

int host_section_stats(const struct host_section *s, struct lsashm_section_stats *ret)
{
        lsashm_section_t *sec = record_section(s);
        if (!sec)
                return -ESTALE;
        section_stats_locked(sec, ret);
        section_unlock(sec);
        return 0;
}

static void unlink_section(struct host *h, struct host_section *s);

/* The live record with this base (or this id, when base is NULL). A
 * record whose section a package deleted directly (LsaDeleteSharedMemory,
 * not the table's member) is dropped when met: its base and its id must
 * not lead to whatever lives there now. */
static struct host_section *find_record(struct host *h, const void *base, uint64_t id)
{
        for (struct host_section *s = h->sections; s; s = s->next) {
                if (base ? s->base != base : s->id != id)
                        continue;
                if (record_live(s))
                        return s;
                unlink_section(h, s);
                free(s);
                return NULL;
        }
        return NULL;
}

static struct host_section *find_by_base(struct host *h, const void *base)
{
        return base ? find_record(h, base, 0) : NULL;
}

static struct host_section *find_by_id(struct host *h, uint64_t id)
{
        return id ? find_record(h, NULL, id) : NULL;
}

static void unlink_section(struct host *h, struct host_section *s)
{
        for (struct host_section **pp = &h->sections; *pp; pp = &(*pp)->next) {
                if (*pp == s) {
                        *pp = s->next;
                        h->nsections--;
                        return;
                }
        }
}

PVOID NTAPI host_CreateSharedMemory(ULONG MaxSize, ULONG InitialSize)
{
        struct host *h = host_global;
        if (!h)
                return LsaCreateSharedMemory(MaxSize, InitialSize);
        struct host_section *rec = calloc(1, sizeof(*rec));
        if (!rec)
                return NULL;
        pthread_mutex_lock(&h->sections_lock);
        if (h->nsections >= HOST_MAX_SECTIONS) {
                pthread_mutex_unlock(&h->sections_lock);
                free(rec);
                return NULL; /* the cap the docs call for: sections are not free */
        }
        PVOID base = LsaCreateSharedMemory(MaxSize, InitialSize);
        lsashm_section_t *sec = base ? registry_acquire(base) : NULL;
        if (!sec) {
                pthread_mutex_unlock(&h->sections_lock);
                free(rec);
                return NULL; /* (a section deleted by another thread already: NULL too) */
        }
        rec->identity = section_id_locked(sec);
        section_unlock(sec);
        /* A stale record of a section deleted directly, at this same base. */
        for (struct host_section *old = h->sections; old; old = old->next) {
                if (old->base == base) {
                        unlink_section(h, old);
                        free(old);
                        break;
                }
        }
        rec->base = base;
        rec->id = next_id(h);
        rec->owner = host_active_package;
        rec->creator_serial = host_sections_client_serial();
        rec->max_size = MaxSize;
        rec->next = h->sections;
        h->sections = rec;
        h->nsections++;
        pthread_mutex_unlock(&h->sections_lock);
        return base;
}

PVOID NTAPI host_AllocateSharedMemory(PVOID SharedMem, ULONG Size)
{
        return LsaAllocateSharedMemory(SharedMem, Size);
}

VOID NTAPI host_FreeSharedMemory(PVOID SharedMem, PVOID Memory)
{
        LsaFreeSharedMemory(SharedMem, Memory);
}

BOOLEAN NTAPI host_DeleteSharedMemory(PVOID SharedMem)
{
        struct host *h = host_global;
        if (h && SharedMem) {
                pthread_mutex_lock(&h->sections_lock);
                struct host_section *s = find_by_base(h, SharedMem);
                if (s)
                        unlink_section(h, s);
                pthread_mutex_unlock(&h->sections_lock);
                free(s);
        }
        return LsaDeleteSharedMemory(SharedMem);
}

ULONGLONG NTAPI LsashmSectionId(PVOID SharedMem)
{
        struct host *h = host_global;
        if (!h || !SharedMem)
                return 0;
        pthread_mutex_lock(&h->sections_lock);
        struct host_section *s = find_by_base(h, SharedMem);
        ULONGLONG id = s ? s->id : 0;
        pthread_mutex_unlock(&h->sections_lock);
        return id;
}

NTSTATUS NTAPI LsashmShareSection(PVOID SharedMem, ULONG Access)
{
        struct host *h = host_global;
        if (Access > LSASHM_SHARE_READ_WRITE)
                return STATUS_INVALID_PARAMETER;
        if (!h || !SharedMem)
                return STATUS_NOT_FOUND;
        NTSTATUS st = STATUS_SUCCESS;
        pthread_mutex_lock(&h->sections_lock);
        struct host_section *s = find_by_base(h, SharedMem);
        if (!s)
                st = STATUS_NOT_FOUND;
        else if (s->owner && s->owner != host_active_package)
                st = STATUS_ACCESS_DENIED; /* another package's, or asked from no package's entry point */
        else
                s->share = Access;
        pthread_mutex_unlock(&h->sections_lock);
        return st;
}

static NTSTATUS freeze_status(int r)
{
        /* A writable view (or descriptor) is out: the kernel's own refusal. */
        if (r == -EBUSY)
                return STATUS_SHARING_VIOLATION;
        /* Not a live section: what LsashmShareSection says too. */
        if (r == -ENOENT || r == -ESTALE)
                return STATUS_NOT_FOUND;
        return lsa_status_from_errno(r, STATUS_NOT_FOUND);
}

NTSTATUS NTAPI LsashmFreezeSection(PVOID SharedMem)
{
        struct host *h = host_global;
        if (!SharedMem)
                return STATUS_NOT_FOUND;
        if (!h) /* a package driven outside lsashmd: no owners to check */
                return freeze_status(lsashm_shared_memory_freeze(SharedMem));
        NTSTATUS st;
        pthread_mutex_lock(&h->sections_lock);
        struct host_section *s = find_by_base(h, SharedMem);
        lsashm_section_t *sec = NULL;
        if (!s)
                st = STATUS_NOT_FOUND;
        else if (s->owner && s->owner != host_active_package)
                st = STATUS_ACCESS_DENIED;
        else if (!(sec = record_section(s)))
                st = STATUS_NOT_FOUND;
        else
                st = freeze_status(section_freeze_locked(sec));
        if (sec)
                section_unlock(sec);
        pthread_mutex_unlock(&h->sections_lock);
        return st;
}

void host_sections_release(struct host *h, struct host_package *p)
{
        for (;;) {
                pthread_mutex_lock(&h->sections_lock);
                struct host_section *s = h->sections;
                while (s && p && s->owner != p)
                        s = s->next;
                if (s)
                        unlink_section(h, s);
                bool live = s && record_live(s);
                pthread_mutex_unlock(&h->sections_lock);
                if (!s)
                        return;
                if (live) /* else its base may be another package's section now */
                        LsaDeleteSharedMemory(s->base);
                free(s);
        }
}

static struct conn_mapping *conn_map_entry(struct conn_mapping *maps, unsigned *nmaps, uint64_t id,
                                           bool create)
{
        for (unsigned i = 0; i < *nmaps; i++)
                if (maps[i].section_id == id)
                        return &maps[i];
        if (!create || *nmaps >= HOST_MAX_MAPPINGS)
                return NULL;
        maps[*nmaps] = (struct conn_mapping){ .section_id = id };
        return &maps[(*nmaps)++];
}

NTSTATUS host_section_map(struct host *h, uint64_t conn_serial, struct conn_mapping *maps,
                          unsigned *nmaps, uint64_t id, int *ret_fd, struct lsa_wire_map_reply *reply)
{
        *ret_fd = -1;
        if (id == 0)
                return STATUS_NOT_FOUND;
        pthread_mutex_lock(&h->sections_lock);
        struct host_section *s = find_by_id(h, id);
        NTSTATUS st = STATUS_SUCCESS;
        bool writable = false;
        if (!s) {
                st = STATUS_NOT_FOUND;
        } else if (s->creator_serial && s->creator_serial == conn_serial) {
                writable = true;
        } else if (s->share == LSASHM_SHARE_READ_WRITE) {
                writable = true;
        } else if (s->share != LSASHM_SHARE_READ) {
                st = STATUS_ACCESS_DENIED;
        }
        if (st == STATUS_SUCCESS) {
                if (!conn_map_entry(maps, nmaps, id, true))
                        st = STATUS_INSUFFICIENT_RESOURCES;
        }
        if (st != STATUS_SUCCESS) {
                pthread_mutex_unlock(&h->sections_lock);
                return st;
        }
        /* A new open file description, read-only unless this client may
         * write: it cannot be turned into a writable mapping. section_share
         * checks the identity the record was made with, under the section's
         * lock: never another section that took the same base. */
        lsashm_section_t *sec = record_section(s);
        struct section_share sh;
        int r = -ESTALE;
        if (sec) {
                section_unlock(sec);
                r = section_share(sec, s->identity, writable, &sh);
        }
        if (r < 0 || sh.size > UINT32_MAX) {
                if (r >= 0)
                        close(sh.fd);
                struct conn_mapping *m = conn_map_entry(maps, nmaps, id, false);
                if (m && m->count == 0)
                        *m = maps[--*nmaps];
                pthread_mutex_unlock(&h->sections_lock);
                /* -ENOMEM/-ENOSPC: a writable view needs the whole section committed. */
                return r < 0 ? lsa_status_from_errno(r, STATUS_NOT_FOUND) : STATUS_INSUFFICIENT_RESOURCES;
        }
        conn_map_entry(maps, nmaps, id, false)->count++;
        s->mappings++;
        pthread_mutex_unlock(&h->sections_lock);
        *ret_fd = sh.fd;
        reply->writable = sh.writable;
        reply->size = sh.size;
        reply->seals = sh.seals;
        return STATUS_SUCCESS;
}

NTSTATUS host_section_unmap(struct host *h, struct conn_mapping *maps, unsigned *nmaps, uint64_t id)
{
        pthread_mutex_lock(&h->sections_lock);
        struct conn_mapping *m = conn_map_entry(maps, nmaps, id, false);
        NTSTATUS st = STATUS_NOT_MAPPED_VIEW;
        if (m && m->count) {
                m->count--;
                struct host_section *s = find_by_id(h, id);
                if (s && s->mappings)
                        s->mappings--;
                if (m->count == 0)
                        *m = maps[--*nmaps];
                st = STATUS_SUCCESS;
        }
        pthread_mutex_unlock(&h->sections_lock);
        return st;
}

void host_sections_conn_closed(struct host *h, struct conn_mapping *maps, unsigned *nmaps)
{
        pthread_mutex_lock(&h->sections_lock);
        for (unsigned i = 0; i < *nmaps; i++) {
                struct host_section *s = find_by_id(h, maps[i].section_id);
                if (s)
                        s->mappings = s->mappings > maps[i].count ? s->mappings - maps[i].count : 0;
        }
        *nmaps = 0;
        pthread_mutex_unlock(&h->sections_lock);
}
