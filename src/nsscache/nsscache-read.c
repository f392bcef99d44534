/* SPDX-License-Identifier: MIT */
/*
 * The table's one parser: nsscache_validate() reads every byte a lookup may
 * later depend on and refuses the image unless every rule of
 * docs/nsscache-format.md holds. The lookups below it then trust the view:
 * their only bounds are the ones validation established (probe_limit, the
 * pool's final NUL, list positions inside their regions).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "nsscache/nsscache-hash.h"
#include "nsscache/nsscache-read.h"

static const char passwd_placeholder[] = "x";

/* ---- validation ---- */

static bool region_fits(const struct nsscache_region_desc *r, uint64_t total)
{
        return r->offset % NSSCACHE_ALIGN == 0 && r->offset >= sizeof(struct nsscache_header) &&
                (uint64_t)r->offset + r->size <= total;
}

static bool regions_apart(const struct nsscache_region_desc *a, const struct nsscache_region_desc *b)
{
        /* Empty regions overlap nothing. */
        if (a->size == 0 || b->size == 0)
                return true;
        return (uint64_t)a->offset + a->size <= b->offset || (uint64_t)b->offset + b->size <= a->offset;
}

static bool string_ok(const struct nsscache_view *v, uint32_t offset)
{
        /* The pool ends with NUL (checked once), so any offset inside it
         * starts a string that ends inside it. */
        return offset < v->strings_size;
}

static bool list_ok(uint32_t first, uint32_t count, uint32_t region_entries)
{
        return first <= region_entries && count <= region_entries - first;
}

static int check_header(const struct nsscache_header *h, size_t size)
{
        if (memcmp(h->magic, NSSCACHE_MAGIC, NSSCACHE_MAGIC_SIZE) != 0)
                return -EBADMSG;
        if (h->version != NSSCACHE_VERSION)
                return -EPROTONOSUPPORT;
        if (h->header_size != sizeof(*h) || h->total_size != size || h->total_size > NSSCACHE_MAX_SIZE ||
            h->total_size % NSSCACHE_ALIGN != 0 || h->n_regions != NSSCACHE_REGION_COUNT || h->flags != 0)
                return -EBADMSG;
        if (h->n_users > NSSCACHE_MAX_RECORDS || h->n_groups > NSSCACHE_MAX_RECORDS ||
            h->n_members > NSSCACHE_MAX_RECORDS)
                return -EBADMSG;
        for (unsigned i = 0; i < NSSCACHE_REGION_COUNT; i++) {
                if (!region_fits(&h->regions[i], h->total_size))
                        return -EBADMSG;
                for (unsigned j = 0; j < i; j++)
                        if (!regions_apart(&h->regions[i], &h->regions[j]))
                                return -EBADMSG;
        }
        const struct nsscache_region_desc *r = h->regions;
        if (r[NSSCACHE_REGION_USERS].size != (uint64_t)h->n_users * sizeof(struct nsscache_user_rec) ||
            r[NSSCACHE_REGION_GROUPS].size != (uint64_t)h->n_groups * sizeof(struct nsscache_group_rec) ||
            r[NSSCACHE_REGION_MEMBERS].size != (uint64_t)h->n_members * sizeof(struct nsscache_member_rec) ||
            r[NSSCACHE_REGION_MEMBER_NAMES].size % sizeof(uint32_t) != 0 ||
            r[NSSCACHE_REGION_MEMBER_GROUPS].size % sizeof(uint32_t) != 0)
                return -EBADMSG;
        /* The pool holds at least the empty string, and ends with NUL. */
        const struct nsscache_region_desc *pool = &r[NSSCACHE_REGION_STRINGS];
        if (pool->size == 0 || ((const uint8_t *)h)[pool->offset + pool->size - 1] != 0)
                return -EBADMSG;
        return 0;
}

static int check_index_shape(const struct nsscache_header *h, unsigned i, uint32_t n_records)
{
        const struct nsscache_region_desc *r = &h->regions[NSSCACHE_INDEX_REGION(i)];
        if (r->size % sizeof(uint32_t) != 0)
                return -EBADMSG;
        uint32_t slots = r->size / sizeof(uint32_t);
        /* A power of two, room for every record and an empty slot. */
        if (slots < NSSCACHE_MIN_SLOTS || slots > NSSCACHE_MAX_SLOTS || (slots & (slots - 1)) != 0 ||
            slots <= n_records)
                return -EBADMSG;
        uint32_t limit = h->probe_limit[i];
        if (limit == 0 || limit > NSSCACHE_MAX_PROBE || limit > slots)
                return -EBADMSG;
        return 0;
}

/* The home slot of record rec's key in index i. */
static uint32_t key_home(const struct nsscache_view *v, unsigned i, uint32_t rec)
{
        const char *name;
        uint64_t h;
        switch (i) {
        case NSSCACHE_INDEX_USER_BY_NAME:
                name = v->strings + v->users[rec].name;
                h = nsscache_hash(&v->key, name, strlen(name));
                break;
        case NSSCACHE_INDEX_USER_BY_UID:
                h = nsscache_hash_id(&v->key, v->users[rec].uid);
                break;
        case NSSCACHE_INDEX_GROUP_BY_NAME:
                name = v->strings + v->groups[rec].name;
                h = nsscache_hash(&v->key, name, strlen(name));
                break;
        case NSSCACHE_INDEX_GROUP_BY_GID:
                h = nsscache_hash_id(&v->key, v->groups[rec].gid);
                break;
        default:
                name = v->strings + v->members[rec].name;
                h = nsscache_hash(&v->key, name, strlen(name));
                break;
        }
        return (uint32_t)h & v->index[i].mask;
}

static uint32_t index_records(const struct nsscache_view *v, unsigned i)
{
        switch (i) {
        case NSSCACHE_INDEX_USER_BY_NAME:
        case NSSCACHE_INDEX_USER_BY_UID:
                return v->n_users;
        case NSSCACHE_INDEX_GROUP_BY_NAME:
        case NSSCACHE_INDEX_GROUP_BY_GID:
                return v->n_groups;
        default:
                return v->n_members;
        }
}

/* Every full slot names a record, and there are no more full slots than
 * records: some slot is empty, so even a key that is absent stops early. */
static int check_index_slots(const struct nsscache_view *v, unsigned i)
{
        const struct nsscache_index_view *ix = &v->index[i];
        uint32_t n = index_records(v, i), full = 0;
        for (uint32_t slot = 0; slot <= ix->mask; slot++) {
                uint32_t e = ix->slots[slot];
                if (e != 0 && (e > n || ++full > n))
                        return -EBADMSG;
        }
        return 0;
}

static int check_records(const struct nsscache_view *v)
{
        for (uint32_t i = 0; i < v->n_users; i++) {
                const struct nsscache_user_rec *u = &v->users[i];
                if (!string_ok(v, u->name) || !string_ok(v, u->gecos) || !string_ok(v, u->dir) ||
                    !string_ok(v, u->shell))
                        return -EBADMSG;
        }
        for (uint32_t i = 0; i < v->n_groups; i++) {
                const struct nsscache_group_rec *g = &v->groups[i];
                if (!string_ok(v, g->name) || !list_ok(g->members_first, g->members_count, v->n_member_names))
                        return -EBADMSG;
        }
        for (uint32_t i = 0; i < v->n_member_names; i++)
                if (!string_ok(v, v->member_names[i]))
                        return -EBADMSG;
        for (uint32_t i = 0; i < v->n_members; i++) {
                const struct nsscache_member_rec *m = &v->members[i];
                if (!string_ok(v, m->name) || m->groups_count == 0 ||
                    !list_ok(m->groups_first, m->groups_count, v->n_member_groups))
                        return -EBADMSG;
                /* Ascending and below n_groups: the last one bounds them all. */
                const uint32_t *g = v->member_groups + m->groups_first;
                if (g[m->groups_count - 1] >= v->n_groups)
                        return -EBADMSG;
                for (uint32_t k = 1; k < m->groups_count; k++)
                        if (g[k - 1] >= g[k])
                                return -EBADMSG;
        }
        return 0;
}

int nsscache_validate(const void *base, size_t size, struct nsscache_view *ret)
{
        if (!base || !ret || (uintptr_t)base % NSSCACHE_ALIGN != 0)
                return -EINVAL;
        if (size < sizeof(struct nsscache_header))
                return -EBADMSG;
        const uint8_t *b = base;
        const struct nsscache_header *h = base;
        int r = check_header(h, size);
        if (r < 0)
                return r;

        const struct nsscache_region_desc *rg = h->regions;
        struct nsscache_view v = {
                .base = b,
                .size = size,
                .generation = h->generation,
                .n_users = h->n_users,
                .n_groups = h->n_groups,
                .n_members = h->n_members,
                .users = (const void *)(b + rg[NSSCACHE_REGION_USERS].offset),
                .groups = (const void *)(b + rg[NSSCACHE_REGION_GROUPS].offset),
                .members = (const void *)(b + rg[NSSCACHE_REGION_MEMBERS].offset),
                .member_names = (const void *)(b + rg[NSSCACHE_REGION_MEMBER_NAMES].offset),
                .n_member_names = rg[NSSCACHE_REGION_MEMBER_NAMES].size / sizeof(uint32_t),
                .member_groups = (const void *)(b + rg[NSSCACHE_REGION_MEMBER_GROUPS].offset),
                .n_member_groups = rg[NSSCACHE_REGION_MEMBER_GROUPS].size / sizeof(uint32_t),
                .strings = (const char *)(b + rg[NSSCACHE_REGION_STRINGS].offset),
                .strings_size = rg[NSSCACHE_REGION_STRINGS].size,
        };
        nsscache_hash_key_from_seed(h->seed, &v.key);
        for (unsigned i = 0; i < NSSCACHE_INDEX_COUNT; i++) {
                r = check_index_shape(h, i, index_records(&v, i));
                if (r < 0)
                        return r;
                const struct nsscache_region_desc *ir = &rg[NSSCACHE_INDEX_REGION(i)];
                v.index[i] = (struct nsscache_index_view){
                        .slots = (const void *)(b + ir->offset),
                        .mask = ir->size / (uint32_t)sizeof(uint32_t) - 1,
                        .probe_limit = h->probe_limit[i],
                };
        }
        r = check_records(&v);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < NSSCACHE_INDEX_COUNT; i++) {
                r = check_index_slots(&v, i);
                if (r < 0)
                        return r;
        }
        *ret = v;
        return 0;
}

/* ---- lookups: on a validated view only ---- */

static void user_view(const struct nsscache_view *v, uint32_t rec, struct nsscache_passwd *ret)
{
        const struct nsscache_user_rec *u = &v->users[rec];
        *ret = (struct nsscache_passwd){
                .name = v->strings + u->name,
                .passwd = passwd_placeholder,
                .uid = u->uid,
                .gid = u->gid,
                .gecos = v->strings + u->gecos,
                .dir = v->strings + u->dir,
                .shell = v->strings + u->shell,
        };
}

static void group_view(const struct nsscache_view *v, uint32_t rec, struct nsscache_group *ret)
{
        const struct nsscache_group_rec *g = &v->groups[rec];
        *ret = (struct nsscache_group){
                .name = v->strings + g->name,
                .passwd = passwd_placeholder,
                .gid = g->gid,
                .n_members = g->members_count,
                .member_names = v->member_names + g->members_first,
        };
}

static uint32_t record_name(const struct nsscache_view *v, unsigned i, uint32_t rec)
{
        switch (i) {
        case NSSCACHE_INDEX_USER_BY_NAME:
                return v->users[rec].name;
        case NSSCACHE_INDEX_GROUP_BY_NAME:
                return v->groups[rec].name;
        default:
                return v->members[rec].name;
        }
}

/* The record named name in index i, plus 1; 0 if none. */
static uint32_t find_name(const struct nsscache_view *v, unsigned i, const char *name)
{
        const struct nsscache_index_view *ix = &v->index[i];
        uint32_t slot = (uint32_t)nsscache_hash(&v->key, name, strlen(name)) & ix->mask;
        for (uint32_t probe = 0; probe < ix->probe_limit; probe++, slot = (slot + 1) & ix->mask) {
                uint32_t e = ix->slots[slot];
                if (e == 0)
                        return 0;
                if (strcmp(v->strings + record_name(v, i, e - 1), name) == 0)
                        return e;
        }
        return 0;
}

static uint32_t find_id(const struct nsscache_view *v, unsigned i, uint32_t id)
{
        const struct nsscache_index_view *ix = &v->index[i];
        uint32_t slot = (uint32_t)nsscache_hash_id(&v->key, id) & ix->mask;
        for (uint32_t probe = 0; probe < ix->probe_limit; probe++, slot = (slot + 1) & ix->mask) {
                uint32_t e = ix->slots[slot];
                if (e == 0)
                        return 0;
                uint32_t rec_id = i == NSSCACHE_INDEX_USER_BY_UID ? v->users[e - 1].uid : v->groups[e - 1].gid;
                if (rec_id == id)
                        return e;
        }
        return 0;
}

int nsscache_user_by_name(const struct nsscache_view *v, const char *name, struct nsscache_passwd *ret)
{
        uint32_t e = name ? find_name(v, NSSCACHE_INDEX_USER_BY_NAME, name) : 0;
        if (!e)
                return -ENOENT;
        user_view(v, e - 1, ret);
        return 0;
}

int nsscache_user_by_uid(const struct nsscache_view *v, uint32_t uid, struct nsscache_passwd *ret)
{
        uint32_t e = find_id(v, NSSCACHE_INDEX_USER_BY_UID, uid);
        if (!e)
                return -ENOENT;
        user_view(v, e - 1, ret);
        return 0;
}

int nsscache_group_by_name(const struct nsscache_view *v, const char *name, struct nsscache_group *ret)
{
        uint32_t e = name ? find_name(v, NSSCACHE_INDEX_GROUP_BY_NAME, name) : 0;
        if (!e)
                return -ENOENT;
        group_view(v, e - 1, ret);
        return 0;
}

int nsscache_group_by_gid(const struct nsscache_view *v, uint32_t gid, struct nsscache_group *ret)
{
        uint32_t e = find_id(v, NSSCACHE_INDEX_GROUP_BY_GID, gid);
        if (!e)
                return -ENOENT;
        group_view(v, e - 1, ret);
        return 0;
}

int nsscache_user_at(const struct nsscache_view *v, uint32_t index, struct nsscache_passwd *ret)
{
        if (index >= v->n_users)
                return -ENOENT;
        user_view(v, index, ret);
        return 0;
}

int nsscache_group_at(const struct nsscache_view *v, uint32_t index, struct nsscache_group *ret)
{
        if (index >= v->n_groups)
                return -ENOENT;
        group_view(v, index, ret);
        return 0;
}

const char *nsscache_group_member(const struct nsscache_view *v, const struct nsscache_group *g, uint32_t i)
{
        if (i >= g->n_members)
                return NULL;
        return v->strings + g->member_names[i];
}

int nsscache_member_groups(const struct nsscache_view *v, const char *name, const uint32_t **ret_groups,
                           uint32_t *ret_count)
{
        if (!name || !ret_groups || !ret_count)
                return -EINVAL;
        uint32_t e = find_name(v, NSSCACHE_INDEX_MEMBER_BY_NAME, name);
        if (!e) {
                *ret_groups = NULL;
                *ret_count = 0;
                return 0;
        }
        const struct nsscache_member_rec *m = &v->members[e - 1];
        *ret_groups = v->member_groups + m->groups_first;
        *ret_count = m->groups_count;
        return 0;
}

uint32_t nsscache_group_gid(const struct nsscache_view *v, uint32_t group)
{
        return group < v->n_groups ? v->groups[group].gid : UINT32_MAX;
}

/* ---- the publisher's deeper check ---- */

static bool list_holds(const uint32_t *list, uint32_t n, uint32_t value)
{
        uint32_t lo = 0, hi = n;
        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (list[mid] == value)
                        return true;
                if (list[mid] < value)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

int nsscache_check_reachable(const struct nsscache_view *v)
{
        /* Every entry within its probe limit of its key's home. */
        for (unsigned i = 0; i < NSSCACHE_INDEX_COUNT; i++) {
                const struct nsscache_index_view *ix = &v->index[i];
                for (uint32_t slot = 0; slot <= ix->mask; slot++) {
                        uint32_t e = ix->slots[slot];
                        if (e && ((slot - key_home(v, i, e - 1)) & ix->mask) >= ix->probe_limit)
                                return -EBADMSG;
                }
        }
        /* Every record's keys find the first record with that key: itself,
         * or one before it. */
        for (uint32_t rec = 0; rec < v->n_users; rec++) {
                const struct nsscache_user_rec *u = &v->users[rec];
                uint32_t e = find_name(v, NSSCACHE_INDEX_USER_BY_NAME, v->strings + u->name);
                if (!e || e - 1 > rec || strcmp(v->strings + v->users[e - 1].name, v->strings + u->name) != 0)
                        return -EBADMSG;
                e = find_id(v, NSSCACHE_INDEX_USER_BY_UID, u->uid);
                if (!e || e - 1 > rec)
                        return -EBADMSG;
        }
        for (uint32_t rec = 0; rec < v->n_groups; rec++) {
                const struct nsscache_group_rec *g = &v->groups[rec];
                uint32_t e = find_name(v, NSSCACHE_INDEX_GROUP_BY_NAME, v->strings + g->name);
                if (!e || e - 1 > rec || strcmp(v->strings + v->groups[e - 1].name, v->strings + g->name) != 0)
                        return -EBADMSG;
                e = find_id(v, NSSCACHE_INDEX_GROUP_BY_GID, g->gid);
                if (!e || e - 1 > rec)
                        return -EBADMSG;
                /* Every member of the group finds the group. */
                for (uint32_t j = 0; j < g->members_count; j++) {
                        const uint32_t *list;
                        uint32_t n;
                        const char *name = v->strings + v->member_names[g->members_first + j];
                        if (nsscache_member_groups(v, name, &list, &n) < 0 || !list_holds(list, n, rec))
                                return -EBADMSG;
                }
        }
        for (uint32_t rec = 0; rec < v->n_members; rec++) {
                uint32_t e = find_name(v, NSSCACHE_INDEX_MEMBER_BY_NAME, v->strings + v->members[rec].name);
                if (e != rec + 1)
                        return -EBADMSG; /* member names are distinct */
        }
        return 0;
}
