/* SPDX-License-Identifier: MIT */
#ifndef LSASHM_NSSCACHE_HASH_H
#define LSASHM_NSSCACHE_HASH_H

#include "nsscache/nsscache-format.h"

/* SipHash-c-d. The table uses c = 1, d = 3 (nsscache_hash); other round
 * counts exist for tests (2-4 is the common variant, checked against
 * another implementation). */
uint64_t nsscache_siphash(const struct nsscache_hash_key *key, const void *data, size_t len, unsigned c_rounds,
                          unsigned d_rounds);

#endif
