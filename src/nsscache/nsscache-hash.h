/* SPDX-License-Identifier: MIT */
/*
 * SipHash, keyed by the table's seed. The table uses SipHash-1-3 (one
 * compression round per 8-byte block, three finalisation rounds): keyed, so
 * whoever controls names in the sources cannot aim them at one slot without
 * the seed, and short enough that a lookup hashes in a few nanoseconds.
 * Inline: it sits on every lookup of the NSS module.
 */
#ifndef LSASHM_NSSCACHE_HASH_H
#define LSASHM_NSSCACHE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nsscache/nsscache-format.h"

struct nsscache_sip {
        uint64_t v0, v1, v2, v3;
};

static inline uint64_t nsscache_rotl(uint64_t x, unsigned b)
{
        return (x << b) | (x >> (64 - b));
}

static inline uint64_t nsscache_load_le64(const uint8_t *p)
{
        uint64_t v;
        memcpy(&v, p, sizeof(v)); /* little-endian host: see nsscache-format.h */
        return v;
}

static inline void nsscache_sip_round(struct nsscache_sip *s)
{
        s->v0 += s->v1;
        s->v1 = nsscache_rotl(s->v1, 13);
        s->v1 ^= s->v0;
        s->v0 = nsscache_rotl(s->v0, 32);
        s->v2 += s->v3;
        s->v3 = nsscache_rotl(s->v3, 16);
        s->v3 ^= s->v2;
        s->v0 += s->v3;
        s->v3 = nsscache_rotl(s->v3, 21);
        s->v3 ^= s->v0;
        s->v2 += s->v1;
        s->v1 = nsscache_rotl(s->v1, 17);
        s->v1 ^= s->v2;
        s->v2 = nsscache_rotl(s->v2, 32);
}

static inline uint64_t nsscache_siphash_inline(const struct nsscache_hash_key *key, const void *data, size_t len,
                                               unsigned c_rounds, unsigned d_rounds)
{
        const uint8_t *p = data;
        struct nsscache_sip s = {
                .v0 = key->k0 ^ UINT64_C(0x736f6d6570736575),
                .v1 = key->k1 ^ UINT64_C(0x646f72616e646f6d),
                .v2 = key->k0 ^ UINT64_C(0x6c7967656e657261),
                .v3 = key->k1 ^ UINT64_C(0x7465646279746573),
        };
        size_t whole = len & ~(size_t)7;
        for (size_t i = 0; i < whole; i += 8) {
                uint64_t m = nsscache_load_le64(p + i);
                s.v3 ^= m;
                for (unsigned r = 0; r < c_rounds; r++)
                        nsscache_sip_round(&s);
                s.v0 ^= m;
        }
        /* The last block: the remaining 0..7 bytes, the length's low byte on top. */
        uint64_t last = (uint64_t)(len & 0xff) << 56;
        for (size_t i = 0; i < (len & 7); i++)
                last |= (uint64_t)p[whole + i] << (8 * i);
        s.v3 ^= last;
        for (unsigned r = 0; r < c_rounds; r++)
                nsscache_sip_round(&s);
        s.v0 ^= last;
        s.v2 ^= 0xff;
        for (unsigned r = 0; r < d_rounds; r++)
                nsscache_sip_round(&s);
        return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

static inline void nsscache_hash_key_from_seed(const uint8_t seed[16], struct nsscache_hash_key *ret)
{
        ret->k0 = nsscache_load_le64(seed);
        ret->k1 = nsscache_load_le64(seed + 8);
}

/* A name: its bytes, without the NUL. */
static inline uint64_t nsscache_hash(const struct nsscache_hash_key *key, const void *data, size_t len)
{
        return nsscache_siphash_inline(key, data, len, 1, 3);
}

/* An id: its 4 little-endian bytes, which is one final block. */
static inline uint64_t nsscache_hash_id(const struct nsscache_hash_key *key, uint32_t id)
{
        uint8_t b[4] = { (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16), (uint8_t)(id >> 24) };
        return nsscache_siphash_inline(key, b, sizeof(b), 1, 3);
}

/* SipHash-c-d out of line, for tests: as 2-4 (the common variant) it is
 * checked against another implementation. */
uint64_t nsscache_siphash(const struct nsscache_hash_key *key, const void *data, size_t len, unsigned c_rounds,
                          unsigned d_rounds);

#endif
