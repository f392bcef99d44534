/* SPDX-License-Identifier: MIT */
/*
 * The token information a package's LogonUser returns
 * (LSA_TOKEN_INFORMATION_NULL, _V1, _V2): checked, its SIDs copied, and
 * what the package allocated for it freed, as Windows frees it.
 *
 * Every pointer is checked before it is read: it must lie inside a block
 * the package allocated from the LSA heap (lsa-heap.c records them). V2 is
 * one block and every pointer must lie inside it; Null and V1 may spread
 * over several blocks, each pointer then the start of a live block or
 * inside one already reached. Counts are bounded by what fits in the
 * block, SIDs by their own revision and length.
 *
 * The walk does not stop at the first fault: it goes on through whatever
 * it can still reach safely, so that every block it found is freed even
 * when the information is refused (a package's malformed answer must not
 * leak its memory). Only blocks proven live are freed, once each.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "host/host-packages.h"

#define MAX_BLOCKS     (LSA_WIRE_MAX_TOKEN_SIDS + 8u)
#define MAX_PRIVILEGES 1024u

struct walk {
        bool single; /* V2: everything inside the first block */
        struct {
                uintptr_t start;
                size_t len;
        } blocks[MAX_BLOCKS];
        unsigned nblocks;
        const char *why; /* the first fault, or NULL */
        uint8_t *sids;
        size_t cap;
        uint32_t sids_len;
        uint16_t nsids;
};

static void fault(struct walk *w, const char *why)
{
        if (!w->why)
                w->why = why;
}

/* May [p, p+n) be read? Inside a block reached already, or (unless
 * single) the start of another live block, which is then reached. */
static bool readable(struct walk *w, const void *p, size_t n)
{
        uintptr_t a = (uintptr_t)p;
        if (!p)
                return false;
        for (unsigned i = 0; i < w->nblocks; i++)
                if (a >= w->blocks[i].start && a - w->blocks[i].start <= w->blocks[i].len &&
                    n <= w->blocks[i].len - (a - w->blocks[i].start))
                        return true;
        size_t len;
        if (w->nblocks >= MAX_BLOCKS || !host_heap_block(p, &len))
                return false;
        w->blocks[w->nblocks].start = a;
        w->blocks[w->nblocks++].len = len;
        /* V2 with a part in a block of its own: refused, but the block is
         * the package's all the same, and freed with the rest. */
        return !w->single && n <= len;
}

/* A SID inside what the package allocated: its length, or 0. */
static size_t sid_checked(struct walk *w, const void *sid)
{
        if (!readable(w, sid, 8))
                return 0;
        size_t n = lsa_wire_sid_length(sid, LSA_WIRE_MAX_SID);
        return n && readable(w, sid, n) ? n : 0;
}

static void sid_take(struct walk *w, const void *sid, uint32_t attributes, const char *what)
{
        if (!sid_checked(w, sid)) {
                fault(w, what);
                return;
        }
        if (w->nsids >= LSA_WIRE_MAX_TOKEN_SIDS || !lsa_wire_sid_put(w->sids, w->cap, &w->sids_len, attributes, sid)) {
                fault(w, "more SIDs than a token carries here");
                return;
        }
        w->nsids++;
}

static void groups_take(struct walk *w, const TOKEN_GROUPS *g)
{
        if (!g)
                return; /* no groups */
        if (!readable(w, g, offsetof(TOKEN_GROUPS, Groups))) {
                fault(w, "Groups outside what the package allocated");
                return;
        }
        DWORD count = g->GroupCount;
        if (count >= LSA_WIRE_MAX_TOKEN_SIDS) {
                fault(w, "GroupCount too large");
                count = 0; /* nothing of it is trusted */
        } else if (!readable(w, g, offsetof(TOKEN_GROUPS, Groups) + (size_t)count * sizeof(SID_AND_ATTRIBUTES))) {
                fault(w, "GroupCount past the end of its block");
                count = 0;
        }
        for (DWORD i = 0; i < count; i++)
                sid_take(w, g->Groups[i].Sid, g->Groups[i].Attributes,
                         "a group SID outside what the package allocated");
}

static void v1_take(struct walk *w, const LSA_TOKEN_INFORMATION_V1 *t)
{
        if (!t->User.User.Sid)
                fault(w, "no User SID");
        else
                sid_take(w, t->User.User.Sid, t->User.User.Attributes, "User SID outside what the package allocated");
        groups_take(w, t->Groups);
        if (!t->PrimaryGroup.PrimaryGroup)
                fault(w, "no PrimaryGroup");
        else if (!sid_checked(w, t->PrimaryGroup.PrimaryGroup))
                fault(w, "PrimaryGroup outside what the package allocated");
        if (t->Owner.Owner && !sid_checked(w, t->Owner.Owner))
                fault(w, "Owner outside what the package allocated");
        const TOKEN_PRIVILEGES *pv = t->Privileges;
        if (pv) {
                if (!readable(w, pv, offsetof(TOKEN_PRIVILEGES, Privileges)))
                        fault(w, "Privileges outside what the package allocated");
                else if (pv->PrivilegeCount > MAX_PRIVILEGES ||
                         !readable(w, pv,
                                   offsetof(TOKEN_PRIVILEGES, Privileges) +
                                           (size_t)pv->PrivilegeCount * sizeof(LUID_AND_ATTRIBUTES)))
                        fault(w, "PrivilegeCount past the end of its block");
        }
        const ACL *acl = t->DefaultDacl.DefaultDacl;
        if (acl) {
                if (!readable(w, acl, sizeof(ACL)))
                        fault(w, "DefaultDacl outside what the package allocated");
                else if (acl->AclSize < sizeof(ACL) || !readable(w, acl, acl->AclSize))
                        fault(w, "DefaultDacl's AclSize past the end of its block");
        }
}

/* ANONYMOUS LOGON, S-1-5-7: the user of a Null-token logon, as on Windows. */
static const uint8_t anonymous_sid[12] = { 1, 1, 0, 0, 0, 0, 0, 5, 7, 0, 0, 0 };

NTSTATUS host_token_info_take(LSA_TOKEN_INFORMATION_TYPE type, void *info, uint8_t *sids, size_t cap,
                              uint32_t *sids_len, uint16_t *nsids, int64_t *expiration, const char **why)
{
        struct walk *w = calloc(1, sizeof(*w));
        if (!w) {
                *why = "out of memory";
                return STATUS_NO_MEMORY; /* the package's blocks stay: nothing safe to do */
        }
        w->sids = sids;
        w->cap = cap;
        w->single = type == LsaTokenInformationV2;
        size_t need =
                type == LsaTokenInformationNull ? sizeof(LSA_TOKEN_INFORMATION_NULL) : sizeof(LSA_TOKEN_INFORMATION_V1);
        *expiration = 0;
        if (type != LsaTokenInformationNull && type != LsaTokenInformationV1 && type != LsaTokenInformationV2) {
                fault(w, "an unknown TokenInformationType");
        } else if (!info) {
                fault(w, "no TokenInformation");
        } else {
                /* The first block, reached by its start whatever the type. */
                bool single = w->single;
                w->single = false;
                bool ok = readable(w, info, need);
                w->single = single;
                if (!ok) {
                        fault(w, "TokenInformation is not an LSA heap block of its size");
                } else if (type == LsaTokenInformationNull) {
                        const LSA_TOKEN_INFORMATION_NULL *t = info;
                        *expiration = t->ExpirationTime.QuadPart;
                        lsa_wire_sid_put(w->sids, w->cap, &w->sids_len, 0, anonymous_sid);
                        w->nsids = 1;
                        groups_take(w, t->Groups);
                } else {
                        const LSA_TOKEN_INFORMATION_V1 *t = info;
                        *expiration = t->ExpirationTime.QuadPart;
                        v1_take(w, t);
                }
        }
        /* Windows frees V2 as its one block and V1 and Null block by block:
         * the blocks reached are exactly those. */
        for (unsigned i = 0; i < w->nblocks; i++)
                host_heap_free_checked((void *)w->blocks[i].start, "LogonUser's TokenInformation");
        NTSTATUS st = w->why ? STATUS_INTERNAL_ERROR : STATUS_SUCCESS;
        *why = w->why;
        *sids_len = w->sids_len;
        *nsids = w->nsids;
        free(w);
        return st;
}
