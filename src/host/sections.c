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
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/host-internal.h"
#include "section/section-internal.h"

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

static struct host_section *find_by_base(struct host *h, const void *base)
{
        for (struct host_section *s = h->sections; s; s = s->next)
                if (s->base == base)
                        return s;
        return NULL;
}

static struct host_section *find_by_id(struct host *h, uint64_t id)
{
        for (struct host_section *s = h->sections; s; s = s->next)
                if (s->id == id)
                        return s;
        return NULL;
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
        if (!base) {
                pthread_mutex_unlock(&h->sections_lock);
                free(rec);
                return NULL;
        }
        /* The client whose call this is, even from inside a package-to-
         * package call made while serving it. */
        struct host_call *call = host_call_current();
        while (call && !call->conn)
                call = call->outer;
        rec->base = base;
        rec->id = next_id(h);
        rec->owner = host_active_package;
        rec->creator_serial = call && call->conn ? call->conn->serial : 0;
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
        else if (host_active_package && s->owner && s->owner != host_active_package)
                st = STATUS_ACCESS_DENIED;
        else
                s->share = Access;
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
                pthread_mutex_unlock(&h->sections_lock);
                if (!s)
                        return;
                LsaDeleteSharedMemory(s->base);
                free(s);
        }
}

static struct conn_mapping *conn_map_entry(struct host_conn *c, uint64_t id, bool create)
{
        for (unsigned i = 0; i < c->nmaps; i++)
                if (c->maps[i].section_id == id)
                        return &c->maps[i];
        if (!create || c->nmaps >= HOST_MAX_MAPPINGS)
                return NULL;
        c->maps[c->nmaps] = (struct conn_mapping){ .section_id = id };
        return &c->maps[c->nmaps++];
}

NTSTATUS host_section_map(struct host *h, struct host_conn *c, uint64_t id, int *ret_fd,
                          struct lsa_wire_map_reply *reply)
{
        *ret_fd = -1;
        if (id == 0)
                return STATUS_NOT_FOUND;
        pthread_mutex_lock(&h->sections_lock);
        struct host_section *s = find_by_id(h, id);
        NTSTATUS st = STATUS_SUCCESS;
        bool writable = false;
        void *base = NULL;
        if (!s) {
                st = STATUS_NOT_FOUND;
        } else if (s->creator_serial && s->creator_serial == c->serial) {
                writable = true;
        } else if (s->share == LSASHM_SHARE_READ_WRITE) {
                writable = true;
        } else if (s->share != LSASHM_SHARE_READ) {
                st = STATUS_ACCESS_DENIED;
        }
        if (st == STATUS_SUCCESS) {
                base = s->base;
                if (!conn_map_entry(c, id, true))
                        st = STATUS_INSUFFICIENT_RESOURCES;
        }
        if (st != STATUS_SUCCESS) {
                pthread_mutex_unlock(&h->sections_lock);
                return st;
        }
        /* A new open file description, read-only unless this client may
         * write: it cannot be turned into a writable mapping. */
        struct lsashm_section *sec = registry_acquire(base);
        struct section_share sh;
        int r = -ESTALE;
        if (sec) {
                uint64_t sid = sec->id;
                pthread_mutex_unlock(&sec->lock);
                r = section_share(sec, sid, writable, &sh);
        }
        if (r < 0 || sh.size > UINT32_MAX) {
                if (r >= 0)
                        close(sh.fd);
                struct conn_mapping *m = conn_map_entry(c, id, false);
                if (m && m->count == 0)
                        *m = c->maps[--c->nmaps];
                pthread_mutex_unlock(&h->sections_lock);
                return r == -ENODATA ? STATUS_NOT_FOUND
                       : r == -EMFILE || r == -ENFILE ? STATUS_INSUFFICIENT_RESOURCES
                       : r < 0 ? STATUS_NOT_FOUND : STATUS_INSUFFICIENT_RESOURCES;
        }
        conn_map_entry(c, id, false)->count++;
        s->mappings++;
        pthread_mutex_unlock(&h->sections_lock);
        *ret_fd = sh.fd;
        reply->writable = sh.writable;
        reply->size = sh.size;
        reply->seals = sh.seals;
        return STATUS_SUCCESS;
}

NTSTATUS host_section_unmap(struct host *h, struct host_conn *c, uint64_t id)
{
        pthread_mutex_lock(&h->sections_lock);
        struct conn_mapping *m = conn_map_entry(c, id, false);
        NTSTATUS st = STATUS_NOT_MAPPED_VIEW;
        if (m && m->count) {
                m->count--;
                struct host_section *s = find_by_id(h, id);
                if (s && s->mappings)
                        s->mappings--;
                if (m->count == 0)
                        *m = c->maps[--c->nmaps];
                st = STATUS_SUCCESS;
        }
        pthread_mutex_unlock(&h->sections_lock);
        return st;
}

void host_sections_conn_closed(struct host *h, struct host_conn *c)
{
        pthread_mutex_lock(&h->sections_lock);
        for (unsigned i = 0; i < c->nmaps; i++) {
                struct host_section *s = find_by_id(h, c->maps[i].section_id);
                if (s)
                        s->mappings = s->mappings > c->maps[i].count ? s->mappings - c->maps[i].count : 0;
        }
        c->nmaps = 0;
        pthread_mutex_unlock(&h->sections_lock);
}
