/* SPDX-License-Identifier: MIT */
/*
 * test-pkg-nsscache-corrupt.so: poses as the user and group cache
 * (LsashmNssCache) and publishes one table built correctly and then damaged
 * on purpose before it is frozen, as $TEST_NSSCACHE_CORRUPT says:
 *   none        nothing damaged (the control: it must be served)
 *   magic       the header's magic
 *   size        the header's total size, one alignment unit too large
 *   generation  the header's generation, not the one announced
 *   string      the string pool's last byte (strings no longer end in it)
 *   index       a user-by-name slot past the user records
 *   short       the table announced in a section one page too small
 *   epoch       the epoch announced at an offset past its section
 *   epochmagic  the epoch's magic
 *   unfrozen    the table left writable (not frozen)
 * Only the query message is answered. Tests only.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lsashm/nsscache.h>
#include <lsashm/ntsecpkg.h>

#include "nsscache/nsscache-build.h"

static WCHAR package_name[] = u"LsashmNssCache";
static PLSA_SECPKG_FUNCTION_TABLE lsa;
static ULONGLONG epoch_id, table_id;
static ULONG epoch_offset;
static PVOID epoch_section, table_section;

#define GENERATION 7u

static NTSTATUS build(void)
{
        const char *how = getenv("TEST_NSSCACHE_CORRUPT");
        if (!how)
                how = "none";
        static const char *const members[] = { "alice" };
        struct nsscache_user_in users[] = {
                { .name = "alice",
                  .uid = 1000,
                  .gid = 1000,
                  .gecos = "Alice",
                  .dir = "/home/alice",
                  .shell = "/bin/sh" },
                { .name = "bob", .uid = 1001, .gid = 1001, .gecos = "", .dir = "/home/bob", .shell = "/bin/sh" },
        };
        struct nsscache_group_in groups[] = { { .name = "staff", .gid = 50, .members = members, .n_members = 1 } };
        struct nsscache_build_input in = { users, 2, groups, 1, GENERATION, { 1, 2, 3 } };
        struct nsscache_image *img;
        if (nsscache_image_plan(&in, &img) < 0)
                return STATUS_NO_MEMORY;
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t size = (nsscache_image_size(img) + page - 1) / page * page;
        bool short_section = strcmp(how, "short") == 0;
        size_t section_size = short_section ? size + page : size;
        PVOID s = lsa->CreateSharedMemory((ULONG)section_size, (ULONG)section_size);
        uint8_t *mem = s ? lsa->AllocateSharedMemory(s, (ULONG)section_size) : NULL;
        if (!mem || (PVOID)mem != s || nsscache_image_write(img, mem, section_size) < 0) {
                nsscache_image_free(img);
                return STATUS_INTERNAL_ERROR;
        }
        nsscache_image_free(img);
        struct nsscache_header *h = (struct nsscache_header *)(void *)mem;
        if (strcmp(how, "magic") == 0)
                h->magic[0] ^= 0x20;
        else if (strcmp(how, "size") == 0)
                h->total_size += NSSCACHE_ALIGN;
        else if (strcmp(how, "generation") == 0)
                h->generation++;
        else if (strcmp(how, "string") == 0)
                mem[h->regions[NSSCACHE_REGION_STRINGS].offset + h->regions[NSSCACHE_REGION_STRINGS].size - 1] = 'x';
        else if (strcmp(how, "index") == 0) {
                uint32_t *slots = (uint32_t *)(void *)(mem + h->regions[NSSCACHE_REGION_USER_BY_NAME].offset);
                uint32_t n = h->regions[NSSCACHE_REGION_USER_BY_NAME].size / 4;
                for (uint32_t i = 0; i < n; i++)
                        if (slots[i])
                                slots[i] = 1000;
        }
        if (short_section)
                h->total_size = size; /* the header agrees with itself, not with the section */
        if ((strcmp(how, "unfrozen") != 0 && !NT_SUCCESS(LsashmFreezeSection(s))) ||
            !NT_SUCCESS(LsashmShareSection(s, LSASHM_SHARE_READ)))
                return STATUS_INTERNAL_ERROR;
        table_section = s;
        table_id = LsashmSectionId(s);
        return STATUS_SUCCESS;
}

static NTSTATUS NTAPI call_untrusted(PLSA_CLIENT_REQUEST ClientRequest, PVOID Submit, PVOID ClientBufferBase,
                                     ULONG SubmitLength, PVOID *ReturnBuffer, PULONG ReturnLength,
                                     PNTSTATUS ProtocolStatus)
{
        (void)ClientBufferBase;
        *ReturnBuffer = NULL;
        *ReturnLength = 0;
        NSSCACHE_REQUEST req;
        if (!Submit || SubmitLength < sizeof(req)) {
                *ProtocolStatus = STATUS_INVALID_PARAMETER;
                return STATUS_SUCCESS;
        }
        memcpy(&req, Submit, sizeof(req));
        if (req.MessageType != NssCacheQueryMessage) {
                *ProtocolStatus = STATUS_NOT_SUPPORTED;
                return STATUS_SUCCESS;
        }
        const char *how = getenv("TEST_NSSCACHE_CORRUPT");
        ULONG offset = how && strcmp(how, "epoch") == 0 ? 4096 : epoch_offset;
        NSSCACHE_QUERY_RESPONSE resp = { NssCacheQueryMessage, offset, epoch_id, table_id, GENERATION };
        PVOID client;
        NTSTATUS st = lsa->AllocateClientBuffer(ClientRequest, sizeof(resp), &client);
        if (NT_SUCCESS(st))
                st = lsa->CopyToClientBuffer(ClientRequest, sizeof(resp), client, &resp);
        *ProtocolStatus = st;
        if (NT_SUCCESS(st)) {
                *ReturnBuffer = client;
                *ReturnLength = sizeof(resp);
        }
        return st;
}

static NTSTATUS NTAPI initialize(ULONG_PTR PackageId, PSECPKG_PARAMETERS Parameters,
                                 PLSA_SECPKG_FUNCTION_TABLE FunctionTable)
{
        (void)PackageId;
        (void)Parameters;
        lsa = FunctionTable;
        epoch_section = lsa->CreateSharedMemory(4096, 4096);
        NSSCACHE_EPOCH *e = epoch_section ? lsa->AllocateSharedMemory(epoch_section, sizeof(*e)) : NULL;
        if (!e)
                return STATUS_NO_MEMORY;
        epoch_offset = (ULONG)((uint8_t *)e - (uint8_t *)epoch_section);
        epoch_id = LsashmSectionId(epoch_section);
        const char *how = getenv("TEST_NSSCACHE_CORRUPT");
        e->Magic = how && strcmp(how, "epochmagic") == 0 ? 0x12345678u : NSSCACHE_EPOCH_MAGIC;
        e->Version = NSSCACHE_EPOCH_VERSION;
        NTSTATUS st = build();
        if (!NT_SUCCESS(st))
                return st;
        e->TableSectionId = table_id;
        __atomic_store_n(&e->Generation, GENERATION, __ATOMIC_RELEASE);
        return LsashmShareSection(epoch_section, LSASHM_SHARE_READ);
}

static NTSTATUS NTAPI get_info(PSecPkgInfo PackageInfo)
{
        memset(PackageInfo, 0, sizeof(*PackageInfo));
        PackageInfo->Name = package_name;
        return STATUS_SUCCESS;
}

static SECPKG_FUNCTION_TABLE table = {
        .CallPackageUntrusted = call_untrusted,
        .Initialize = initialize,
        .GetInfo = get_info,
};

LSASHM_WINAPI_EXPORT NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion,
                                                            PSECPKG_FUNCTION_TABLE *ppTables, PULONG pcTables);

LSASHM_WINAPI_EXPORT NTSTATUS SEC_ENTRY SpLsaModeInitialize(ULONG LsaVersion, PULONG PackageVersion,
                                                            PSECPKG_FUNCTION_TABLE *ppTables, PULONG pcTables)
{
        (void)LsaVersion;
        *PackageVersion = SECPKG_INTERFACE_VERSION;
        *ppTables = &table;
        *pcTables = 1;
        return STATUS_SUCCESS;
}
