/* SPDX-License-Identifier: MIT */
/*
 * The table's builder. Planning does all the work in private memory: the
 * string pool (each distinct string once: member names share the users'
 * names), the records in source order, the member lists, the distinct
 * members with their lists of groups, and the five indexes. Writing is
 * copies. The layout (docs/nsscache-format.md): the header, then the
 * regions in enum order, each at the next multiple of NSSCACHE_ALIGN, the
 * pool last.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "nsscache/nsscache-build.h"
#include "nsscache/nsscache-hash.h"

struct nsscache_image {
        struct nsscache_header header; /* complete but for total_size */
        void *data[NSSCACHE_REGION_COUNT];
        uint64_t size;
};

static uint64_t align_up(uint64_t v)
{
        return (v + NSSCACHE_ALIGN - 1) & ~(uint64_t)(NSSCACHE_ALIGN - 1);
}

/* ---- a growing array ---- */

struct vec {
        uint8_t *data;
        size_t len, cap; /* bytes */
};

static int vec_append(struct vec *v, const void *p, size_t n)
{
        if (n > v->cap - v->len) {
                size_t cap = v->cap ? v->cap : 256;
                while (cap - v->len < n) {
                        if (cap > SIZE_MAX / 2)
                                return -ENOMEM;
                        cap *= 2;
                }
                uint8_t *d = realloc(v->data, cap);
                if (!d)
                        return -ENOMEM;
                v->data = d;
                v->cap = cap;
        }
        memcpy(v->data + v->len, p, n);
        v->len += n;
        return 0;
}

/* ---- the string pool: each distinct string once ---- */

struct pool {
        struct vec bytes;
        uint32_t *slots; /* pool offset + 1; 0 empty */
        uint32_t mask, count;
        struct nsscache_hash_key key;
};

static int pool_rehash(struct pool *p, uint32_t nslots)
{
        uint32_t *slots = calloc(nslots, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        for (uint32_t i = 0; p->slots && i <= p->mask; i++) {
                uint32_t e = p->slots[i];
                if (!e)
                        continue;
                const char *s = (const char *)p->bytes.data + e - 1;
                uint32_t slot = (uint32_t)nsscache_hash(&p->key, s, strlen(s)) & (nslots - 1);
                while (slots[slot])
                        slot = (slot + 1) & (nslots - 1);
                slots[slot] = e;
        }
        free(p->slots);
        p->slots = slots;
        p->mask = nslots - 1;
        return 0;
}

static int pool_add(struct pool *p, const char *s, uint32_t *ret_offset)
{
        if (!s)
                s = "";
        size_t len = strlen(s);
        if ((p->count + 1) * 2 > p->mask + 1) {
                if (p->mask + 1 > (1u << 30))
                        return -E2BIG;
                int r = pool_rehash(p, (p->mask + 1) * 2);
                if (r < 0)
                        return r;
        }
        uint32_t slot = (uint32_t)nsscache_hash(&p->key, s, len) & p->mask;
        for (;; slot = (slot + 1) & p->mask) {
                uint32_t e = p->slots[slot];
                if (!e)
                        break;
                if (strcmp((const char *)p->bytes.data + e - 1, s) == 0) {
                        *ret_offset = e - 1;
                        return 0;
                }
        }
        if (p->bytes.len + len + 1 > NSSCACHE_MAX_SIZE)
                return -E2BIG;
        uint32_t offset = (uint32_t)p->bytes.len;
        int r = vec_append(&p->bytes, s, len + 1);
        if (r < 0)
                return r;
        p->slots[slot] = offset + 1;
        p->count++;
        *ret_offset = offset;
        return 0;
}

static void pool_done(struct pool *p)
{
        free(p->slots);
        p->slots = NULL;
}

/* ---- indexes ---- */

struct index_build {
        const struct nsscache_image *img; /* records and pool so far */
        const char *strings;
        struct nsscache_hash_key key;
};

static bool is_name_index(unsigned i)
{
        return i == NSSCACHE_INDEX_USER_BY_NAME || i == NSSCACHE_INDEX_GROUP_BY_NAME ||
                i == NSSCACHE_INDEX_MEMBER_BY_NAME;
}

/* The key of record rec in index i: a name's string offset, or an id. */
static uint32_t record_key(const struct nsscache_image *img, unsigned i, uint32_t rec)
{
        const struct nsscache_user_rec *users = img->data[NSSCACHE_REGION_USERS];
        const struct nsscache_group_rec *groups = img->data[NSSCACHE_REGION_GROUPS];
        const struct nsscache_member_rec *members = img->data[NSSCACHE_REGION_MEMBERS];
        switch (i) {
        case NSSCACHE_INDEX_USER_BY_NAME:
                return users[rec].name;
        case NSSCACHE_INDEX_USER_BY_UID:
                return users[rec].uid;
        case NSSCACHE_INDEX_GROUP_BY_NAME:
                return groups[rec].name;
        case NSSCACHE_INDEX_GROUP_BY_GID:
                return groups[rec].gid;
        default:
                return members[rec].name;
        }
}

static uint32_t key_hash(const struct index_build *b, unsigned i, uint32_t key)
{
        if (!is_name_index(i))
                return (uint32_t)nsscache_hash_id(&b->key, key);
        const char *s = b->strings + key;
        return (uint32_t)nsscache_hash(&b->key, s, strlen(s));
}

/* Insert the first record of each key; 0, or -EAGAIN when some key would
 * lie probe limit or more slots from its home. Names are equal exactly when
 * their pool offsets are (the pool holds each string once). */
static int index_fill(const struct index_build *b, unsigned i, uint32_t n, uint32_t *slots, uint32_t nslots,
                      uint32_t *ret_limit)
{
        uint32_t mask = nslots - 1, limit = 1;
        for (uint32_t rec = 0; rec < n; rec++) {
                uint32_t key = record_key(b->img, i, rec);
                uint32_t slot = key_hash(b, i, key) & mask, distance = 0;
                bool duplicate = false;
                for (; slots[slot]; slot = (slot + 1) & mask, distance++) {
                        if (record_key(b->img, i, slots[slot] - 1) == key) {
                                duplicate = true;
                                break;
                        }
                }
                if (duplicate)
                        continue;
                if (distance >= NSSCACHE_MAX_PROBE)
                        return -EAGAIN;
                slots[slot] = rec + 1;
                if (distance + 1 > limit)
                        limit = distance + 1;
        }
        *ret_limit = limit;
        return 0;
}

static int index_build(struct nsscache_image *img, const struct index_build *b, unsigned i, uint32_t n)
{
        uint32_t nslots = NSSCACHE_MIN_SLOTS;
        while (nslots < 2 * (uint64_t)n)
                nslots *= 2;
        for (; nslots <= NSSCACHE_MAX_SLOTS; nslots *= 2) {
                uint32_t *slots = calloc(nslots, sizeof(*slots));
                if (!slots)
                        return -ENOMEM;
                uint32_t limit;
                int r = index_fill(b, i, n, slots, nslots, &limit);
                if (r == 0) {
                        img->data[NSSCACHE_INDEX_REGION(i)] = slots;
                        img->header.regions[NSSCACHE_INDEX_REGION(i)].size = nslots * (uint32_t)sizeof(*slots);
                        img->header.probe_limit[i] = limit;
                        return 0;
                }
                free(slots);
        }
        return -E2BIG;
}

/* ---- members: distinct member names, the groups listing them ---- */

struct member_group {
        uint32_t member;
        uint32_t group;
};

static int by_member_then_group(const void *a, const void *b)
{
        const struct member_group *x = a, *y = b;
        if (x->member != y->member)
                return x->member < y->member ? -1 : 1;
        return x->group < y->group ? -1 : x->group > y->group;
}

/* A map from pool offsets to member numbers (number + 1; 0 empty). */
struct offset_map {
        uint32_t *keys, *values;
        uint32_t mask;
};

static uint32_t *offset_map_slot(struct offset_map *m, uint32_t key)
{
        uint32_t slot = (key * UINT32_C(0x9E3779B1)) & m->mask;
        while (m->values[slot] && m->keys[slot] != key)
                slot = (slot + 1) & m->mask;
        m->keys[slot] = key;
        return &m->values[slot];
}

static int members_build(struct nsscache_image *img, const struct nsscache_build_input *in, uint32_t n_refs)
{
        const uint32_t *refs = img->data[NSSCACHE_REGION_MEMBER_NAMES];
        const struct nsscache_group_rec *groups = img->data[NSSCACHE_REGION_GROUPS];
        uint32_t nslots = NSSCACHE_MIN_SLOTS;
        while (nslots < 2 * (uint64_t)n_refs)
                nslots *= 2;
        struct offset_map map = { .keys = calloc(nslots, sizeof(uint32_t)),
                                  .values = calloc(nslots, sizeof(uint32_t)),
                                  .mask = nslots - 1 };
        struct member_group *pairs = malloc((n_refs ? n_refs : 1) * sizeof(*pairs));
        struct nsscache_member_rec *members = malloc((n_refs ? n_refs : 1) * sizeof(*members));
        uint32_t *lists = malloc((n_refs ? n_refs : 1) * sizeof(*lists));
        int r = -ENOMEM;
        if (!map.keys || !map.values || !pairs || !members || !lists)
                goto out;

        /* Members numbered in order of first appearance. */
        uint32_t n_members = 0, k = 0;
        for (uint32_t g = 0; g < in->n_groups; g++) {
                for (uint32_t j = 0; j < groups[g].members_count; j++, k++) {
                        uint32_t *v = offset_map_slot(&map, refs[k]);
                        if (!*v) {
                                members[n_members] = (struct nsscache_member_rec){ .name = refs[k] };
                                *v = ++n_members;
                        }
                        pairs[k] = (struct member_group){ .member = *v - 1, .group = g };
                }
        }
        if (n_members > NSSCACHE_MAX_RECORDS) {
                r = -E2BIG;
                goto out;
        }
        /* Each member's groups in source order, each line once: files
         * answers initgroups with one gid per line that lists the name (a
         * name listed twice on a line counts once; two lines with one gid
         * count twice). */
        qsort(pairs, n_refs, sizeof(*pairs), by_member_then_group);
        uint32_t n_lists = 0;
        for (uint32_t i = 0; i < n_refs; i++) {
                struct nsscache_member_rec *m = &members[pairs[i].member];
                if (m->groups_count == 0)
                        m->groups_first = n_lists;
                else if (lists[n_lists - 1] == pairs[i].group)
                        continue;
                lists[n_lists++] = pairs[i].group;
                m->groups_count++;
        }
        img->data[NSSCACHE_REGION_MEMBERS] = members;
        img->data[NSSCACHE_REGION_MEMBER_GROUPS] = lists;
        img->header.n_members = n_members;
        img->header.regions[NSSCACHE_REGION_MEMBERS].size = n_members * (uint32_t)sizeof(*members);
        img->header.regions[NSSCACHE_REGION_MEMBER_GROUPS].size = n_lists * (uint32_t)sizeof(*lists);
        members = NULL;
        lists = NULL;
        r = 0;
out:
        free(map.keys);
        free(map.values);
        free(pairs);
        free(members);
        free(lists);
        return r;
}

/* ---- planning ---- */

static int check_input(const struct nsscache_build_input *in, uint64_t *ret_refs)
{
        if ((in->n_users && !in->users) || (in->n_groups && !in->groups))
                return -EINVAL;
        if (in->n_users > NSSCACHE_MAX_RECORDS || in->n_groups > NSSCACHE_MAX_RECORDS)
                return -E2BIG;
        for (uint32_t i = 0; i < in->n_users; i++)
                if (!in->users[i].name)
                        return -EINVAL;
        uint64_t refs = 0;
        for (uint32_t g = 0; g < in->n_groups; g++) {
                const struct nsscache_group_in *gi = &in->groups[g];
                if (!gi->name || (gi->n_members && !gi->members))
                        return -EINVAL;
                for (uint32_t j = 0; j < gi->n_members; j++)
                        if (!gi->members[j])
                                return -EINVAL;
                refs += gi->n_members;
        }
        /* Each reference is 4 bytes of the image. */
        if (refs > NSSCACHE_MAX_SIZE / sizeof(uint32_t))
                return -E2BIG;
        *ret_refs = refs;
        return 0;
}

static int records_build(struct nsscache_image *img, const struct nsscache_build_input *in, struct pool *pool,
                         uint32_t n_refs)
{
        struct nsscache_user_rec *users = calloc(in->n_users ? in->n_users : 1, sizeof(*users));
        struct nsscache_group_rec *groups = calloc(in->n_groups ? in->n_groups : 1, sizeof(*groups));
        uint32_t *refs = calloc(n_refs ? n_refs : 1, sizeof(*refs));
        img->data[NSSCACHE_REGION_USERS] = users;
        img->data[NSSCACHE_REGION_GROUPS] = groups;
        img->data[NSSCACHE_REGION_MEMBER_NAMES] = refs;
        if (!users || !groups || !refs)
                return -ENOMEM;
        int r = 0;
        for (uint32_t i = 0; i < in->n_users && r == 0; i++) {
                const struct nsscache_user_in *u = &in->users[i];
                users[i].uid = u->uid;
                users[i].gid = u->gid;
                if ((r = pool_add(pool, u->name, &users[i].name)) < 0 ||
                    (r = pool_add(pool, u->gecos, &users[i].gecos)) < 0 ||
                    (r = pool_add(pool, u->dir, &users[i].dir)) < 0)
                        break;
                r = pool_add(pool, u->shell, &users[i].shell);
        }
        uint32_t k = 0;
        for (uint32_t g = 0; g < in->n_groups && r == 0; g++) {
                const struct nsscache_group_in *gi = &in->groups[g];
                groups[g].gid = gi->gid;
                groups[g].members_first = k;
                groups[g].members_count = gi->n_members;
                r = pool_add(pool, gi->name, &groups[g].name);
                for (uint32_t j = 0; j < gi->n_members && r == 0; j++)
                        r = pool_add(pool, gi->members[j], &refs[k++]);
        }
        struct nsscache_header *h = &img->header;
        h->n_users = in->n_users;
        h->n_groups = in->n_groups;
        h->regions[NSSCACHE_REGION_USERS].size = in->n_users * (uint32_t)sizeof(*users);
        h->regions[NSSCACHE_REGION_GROUPS].size = in->n_groups * (uint32_t)sizeof(*groups);
        h->regions[NSSCACHE_REGION_MEMBER_NAMES].size = n_refs * (uint32_t)sizeof(*refs);
        return r;
}

/* Offsets in enum order; the pool is the last region. */
static int layout(struct nsscache_image *img)
{
        uint64_t at = sizeof(struct nsscache_header);
        for (unsigned i = 0; i < NSSCACHE_REGION_COUNT; i++) {
                at = align_up(at);
                if (at > NSSCACHE_MAX_SIZE)
                        return -E2BIG;
                img->header.regions[i].offset = (uint32_t)at;
                at += img->header.regions[i].size;
        }
        at = align_up(at);
        if (at > NSSCACHE_MAX_SIZE)
                return -E2BIG;
        img->size = at;
        return 0;
}

int nsscache_image_plan(const struct nsscache_build_input *in, struct nsscache_image **ret)
{
        if (!in || !ret)
                return -EINVAL;
        uint64_t refs;
        int r = check_input(in, &refs);
        if (r < 0)
                return r;
        struct nsscache_image *img = calloc(1, sizeof(*img));
        if (!img)
                return -ENOMEM;
        struct nsscache_header *h = &img->header;
        memcpy(h->magic, NSSCACHE_MAGIC, NSSCACHE_MAGIC_SIZE);
        h->version = NSSCACHE_VERSION;
        h->header_size = sizeof(*h);
        h->generation = in->generation;
        memcpy(h->seed, in->seed, sizeof(h->seed));
        h->n_regions = NSSCACHE_REGION_COUNT;

        struct pool pool = { 0 };
        nsscache_hash_key_from_seed(in->seed, &pool.key);
        uint32_t empty;
        r = pool_rehash(&pool, 64);
        if (r == 0)
                r = pool_add(&pool, "", &empty); /* offset 0: the pool is never empty */
        if (r == 0)
                r = records_build(img, in, &pool, (uint32_t)refs);
        if (r == 0)
                r = members_build(img, in, (uint32_t)refs);
        pool_done(&pool);
        img->data[NSSCACHE_REGION_STRINGS] = pool.bytes.data;
        h->regions[NSSCACHE_REGION_STRINGS].size = (uint32_t)pool.bytes.len;

        struct index_build b = { .img = img, .strings = (const char *)pool.bytes.data };
        nsscache_hash_key_from_seed(in->seed, &b.key);
        for (unsigned i = 0; i < NSSCACHE_INDEX_COUNT && r == 0; i++) {
                uint32_t n = i <= NSSCACHE_INDEX_USER_BY_UID ? h->n_users
                        : i <= NSSCACHE_INDEX_GROUP_BY_GID   ? h->n_groups
                                                             : h->n_members;
                r = index_build(img, &b, i, n);
        }
        if (r == 0)
                r = layout(img);
        if (r < 0) {
                nsscache_image_free(img);
                return r;
        }
        *ret = img;
        return 0;
}

size_t nsscache_image_size(const struct nsscache_image *img)
{
        return img ? (size_t)img->size : 0;
}

int nsscache_image_write(const struct nsscache_image *img, void *mem, size_t mem_size)
{
        if (!img || !mem || (uintptr_t)mem % NSSCACHE_ALIGN != 0 || mem_size % NSSCACHE_ALIGN != 0 ||
            mem_size < img->size)
                return -EINVAL;
        if (mem_size > NSSCACHE_MAX_SIZE)
                return -E2BIG;
        uint8_t *out = mem;
        /* Zeros first: the padding between regions and the tail are part of
         * the image, and the memory may hold anything. */
        memset(out, 0, mem_size);
        struct nsscache_header h = img->header;
        h.total_size = mem_size;
        memcpy(out, &h, sizeof(h));
        for (unsigned i = 0; i < NSSCACHE_REGION_COUNT; i++)
                if (h.regions[i].size)
                        memcpy(out + h.regions[i].offset, img->data[i], h.regions[i].size);
        return 0;
}

void nsscache_image_free(struct nsscache_image *img)
{
        if (!img)
                return;
        for (unsigned i = 0; i < NSSCACHE_REGION_COUNT; i++)
                free(img->data[i]);
        free(img);
}
