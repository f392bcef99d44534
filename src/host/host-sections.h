/* SPDX-License-Identifier: MIT */
/*
 * src/host layer 3 of 5: the sections packages make (CreateSharedMemory and
 * the rest), their ids, and their mapping by clients. May include:
 * host-packages.h (and so host-base.h) and headers outside src/host. Knows
 * a connection only by its serial and its mapping table, which sections.c
 * alone changes (under sections_lock). See host-base.h for the layers.
 */
#ifndef LSASHM_HOST_SECTIONS_H
#define LSASHM_HOST_SECTIONS_H

#include "host/host-packages.h"

#define HOST_MAX_MAPPINGS 64u         /* distinct sections one connection maps */
#define HOST_MAX_SECTIONS 4096u       /* sections all packages hold at once */

/* One entry of a connection's mapping table. */
struct conn_mapping {
        uint64_t section_id;
        uint32_t count;
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
/* MAP for the client connection conn_serial, whose mapping table is maps
 * (HOST_MAX_MAPPINGS entries, *nmaps used): a new descriptor and what to
 * tell it. NTSTATUS. */
NTSTATUS host_section_map(struct host *h, uint64_t conn_serial, struct conn_mapping *maps,
                          unsigned *nmaps, uint64_t id, int *ret_fd, struct lsa_wire_map_reply *reply);
NTSTATUS host_section_unmap(struct host *h, struct conn_mapping *maps, unsigned *nmaps, uint64_t id);
/* A connection closes: forget its mappings. */
void host_sections_conn_closed(struct host *h, struct conn_mapping *maps, unsigned *nmaps);
/* Hook the top layer points (table.c): the serial of the client connection
 * whose call this thread is serving, even from inside a package-to-package
 * call made while serving it; 0: none. */
extern uint64_t (*const host_sections_client_serial)(void);

#endif
