/* SPDX-License-Identifier: MIT */
/*
 * SipHash with a configurable number of rounds, keyed by the table's seed.
 * The table uses SipHash-1-3 (one compression round per 8-byte block, three
 * finalisation rounds): keyed, so a user who controls names in the sources
 * cannot aim them at one slot without knowing the seed, and short enough that
 * a name hashes in a few nanoseconds. The rounds are a parameter only so that
 * a test can check this code as SipHash-2-4 against an independent one.
 */
#include <string.h>

#include "nsscache/nsscache-format.h"
#include "nsscache/nsscache-hash.h"

static inline uint64_t rotl(uint64_t x, unsigned b)
{
        return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
        uint64_t v;
        memcpy(&v, p, sizeof(v)); /* little-endian host: see nsscache-format.h */
        return v;
}

struct sip_state {
        uint64_t v0, v1, v2, v3;
};

static inline void sip_round(struct sip_state *s)
{
        s->v0 += s->v1;
        s->v1 = rotl(s->v1, 13);
        s->v1 ^= s->v0;
        s->v0 = rotl(s->v0, 32);
        s->v2 += s->v3;
        s->v3 = rotl(s->v3, 16);
        s->v3 ^= s->v2;
        s->v0 += s->v3;
        s->v3 = rotl(s->v3, 21);
        s->v3 ^= s->v0;
        s->v2 += s->v1;
        s->v1 = rotl(s->v1, 17);
        s->v1 ^= s->v2;
        s->v2 = rotl(s->v2, 32);
}

static inline void sip_absorb(struct sip_state *s, uint64_t m, unsigned c_rounds)
{
        s->v3 ^= m;
        for (unsigned i = 0; i < c_rounds; i++)
                sip_round(s);
        s->v0 ^= m;
}

uint64_t nsscache_siphash(const struct nsscache_hash_key *key, const void *data, size_t len, unsigned c_rounds,
                          unsigned d_rounds)
{
        const uint8_t *p = data;
        struct sip_state s = {
                .v0 = key->k0 ^ UINT64_C(0x736f6d6570736575),
                .v1 = key->k1 ^ UINT64_C(0x646f72616e646f6d),
                .v2 = key->k0 ^ UINT64_C(0x6c7967656e657261),
                .v3 = key->k1 ^ UINT64_C(0x7465646279746573),
        };
        size_t whole = len & ~(size_t)7;
        for (size_t i = 0; i < whole; i += 8)
                sip_absorb(&s, load_le64(p + i), c_rounds);
        /* The last block: the remaining 0..7 bytes, and the length's low byte on top. */
        uint64_t last = (uint64_t)(len & 0xff) << 56;
        for (size_t i = 0; i < (len & 7); i++)
                last |= (uint64_t)p[whole + i] << (8 * i);
        sip_absorb(&s, last, c_rounds);
        s.v2 ^= 0xff;
        for (unsigned i = 0; i < d_rounds; i++)
                sip_round(&s);
        return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

void nsscache_hash_key_from_seed(const uint8_t seed[16], struct nsscache_hash_key *ret)
{
        ret->k0 = load_le64(seed);
        ret->k1 = load_le64(seed + 8);
}

uint64_t nsscache_hash(const struct nsscache_hash_key *key, const void *data, size_t len)
{
        return nsscache_siphash(key, data, len, 1, 3);
}

uint64_t nsscache_hash_id(const struct nsscache_hash_key *key, uint32_t id)
{
        uint8_t b[4] = { (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16), (uint8_t)(id >> 24) };
        return nsscache_siphash(key, b, sizeof(b), 1, 3);
}
