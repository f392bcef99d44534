/* SPDX-License-Identifier: MIT */
#include "nsscache/nsscache-hash.h"

uint64_t nsscache_siphash(const struct nsscache_hash_key *key, const void *data, size_t len, unsigned c_rounds,
                          unsigned d_rounds)
{
        return nsscache_siphash_inline(key, data, len, c_rounds, d_rounds);
}
