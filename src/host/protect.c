/* SPDX-License-Identifier: MIT */
/* LsaProtectMemory and LsaUnprotectMemory, with libsodium. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "host/host-base.h"

/* A keyed, length-preserving permutation of the buffer, in place, under keys
 * drawn once per process. It keeps secrets a package holds for a long time
 * (passwords, keys) unreadable in a core dump, a swapped-out page, or memory
 * another process manages to read, unless the keys are read too: they live
 * in their own locked page, excluded from core dumps and read-only.
 * It is not encryption against anyone who can run code in this process, and
 * it is deterministic: equal buffers of equal size protect to equal bytes,
 * which reveals equality. No keystream is reused, though: buffers that
 * differ anywhere protect to bytes whose XOR says nothing of theirs.
 *
 * 17 bytes and more: a three-round unbalanced Feistel network over
 * L (the first 16 bytes) and R (the rest):
 *     R ^= XChaCha20(K1, nonce = L || length)
 *     L ^= BLAKE2b-128(K2, R)
 *     R ^= XChaCha20(K3, nonce = L || length)
 * Each round is its own inverse given the other half, so unprotecting runs
 * the same rounds in reverse order. The first round alone would reuse a
 * keystream for buffers sharing L; the second makes L depend on all of R and
 * the third uses the new L, so a change anywhere changes the whole output.
 * 1 to 16 bytes: too short to split as above, so a balanced Feistel network
 * of SMALL_ROUNDS rounds over nibbles: the two halves are 4n bits each
 * (an odd-length buffer splits inside its middle byte), the round function
 * a keyed BLAKE2b of the round number, the length and the other half. As in
 * NIST's FF1 format-preserving encryption, ten rounds. */

#define WIDE_HALF 16u
#define SMALL_ROUNDS 10u

struct protect_keys {
        uint8_t round1[crypto_stream_xchacha20_KEYBYTES];
        uint8_t round2[crypto_generichash_KEYBYTES];
        uint8_t round3[crypto_stream_xchacha20_KEYBYTES];
        uint8_t small[crypto_generichash_KEYBYTES];
};

_Static_assert(crypto_stream_xchacha20_NONCEBYTES == WIDE_HALF + 8, "nonce is L and a 64-bit length");
_Static_assert(crypto_generichash_BYTES_MIN <= WIDE_HALF, "BLAKE2b gives 16 bytes");

static pthread_once_t keys_once = PTHREAD_ONCE_INIT;
static const struct protect_keys *keys;
static int keys_error;

static void keys_setup(void)
{
        if (sodium_init() < 0) {
                keys_error = -EIO;
                return;
        }
        /* Guard pages, mlock (when RLIMIT_MEMLOCK allows) and MADV_DONTDUMP.
         * Never freed: the keys are needed until the process ends. */
        struct protect_keys *k = sodium_malloc(sizeof(*k));
        if (!k) {
                keys_error = -ENOMEM;
                return;
        }
        randombytes_buf(k, sizeof(*k));
        sodium_mprotect_readonly(k);
        keys = k;
}

int host_protect_init(void)
{
        pthread_once(&keys_once, keys_setup);
        return keys ? 0 : keys_error;
}

static const struct protect_keys *keys_get(void)
{
        if (host_protect_init() < 0) {
                /* The host refuses to start without keys (host_create), so
                 * only a process that skipped it gets here. Returning the
                 * buffer unchanged would be a silent no-op on secrets. */
                fputs("lsashm: LsaProtectMemory: no keys (libsodium failed to initialise)\n", stderr);
                abort();
        }
        return keys;
}

static void wide_stream(uint8_t *buf, size_t n, const uint8_t *key)
{
        uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES];
        uint64_t len = n;
        memcpy(nonce, buf, WIDE_HALF);
        for (unsigned i = 0; i < 8; i++)
                nonce[WIDE_HALF + i] = (uint8_t)(len >> (8 * i));
        crypto_stream_xchacha20_xor(buf + WIDE_HALF, buf + WIDE_HALF, n - WIDE_HALF, nonce, key);
        sodium_memzero(nonce, sizeof(nonce));
}

static void wide_hash(uint8_t *buf, size_t n, const uint8_t *key)
{
        uint8_t h[WIDE_HALF];
        crypto_generichash(h, sizeof(h), buf + WIDE_HALF, n - WIDE_HALF, key, crypto_generichash_KEYBYTES);
        for (unsigned i = 0; i < WIDE_HALF; i++)
                buf[i] ^= h[i];
        sodium_memzero(h, sizeof(h));
}

static void wide_transform(uint8_t *buf, size_t n, bool protect)
{
        const struct protect_keys *k = keys_get();
        wide_stream(buf, n, protect ? k->round1 : k->round3);
        wide_hash(buf, n, k->round2);
        wide_stream(buf, n, protect ? k->round3 : k->round1);
}

/* count nibbles of buf from nibble first, as one number; nibble 0 is the
 * high nibble of byte 0. */
static uint64_t nibbles_get(const uint8_t *buf, unsigned first, unsigned count)
{
        uint64_t v = 0;
        for (unsigned i = first; i < first + count; i++)
                v = v << 4 | (uint64_t)((buf[i / 2] >> (i % 2 ? 0 : 4)) & 0xF);
        return v;
}

static void nibbles_put(uint8_t *buf, unsigned first, unsigned count, uint64_t v)
{
        for (unsigned i = first + count; i-- > first;) {
                unsigned shift = i % 2 ? 0 : 4;
                buf[i / 2] = (uint8_t)((buf[i / 2] & ~(0xFu << shift)) | (unsigned)(v & 0xF) << shift);
                v >>= 4;
        }
}

static uint64_t small_round(const struct protect_keys *k, unsigned round, unsigned n, uint64_t half,
                            uint64_t mask)
{
        uint8_t in[10], out[crypto_generichash_BYTES_MIN];
        in[0] = (uint8_t)round;
        in[1] = (uint8_t)n;
        for (unsigned i = 0; i < 8; i++)
                in[2 + i] = (uint8_t)(half >> (8 * i));
        crypto_generichash(out, sizeof(out), in, sizeof(in), k->small, sizeof(k->small));
        uint64_t f = 0;
        for (unsigned i = 0; i < 8; i++)
                f |= (uint64_t)out[i] << (8 * i);
        sodium_memzero(in, sizeof(in));
        sodium_memzero(out, sizeof(out));
        return f & mask;
}

static void small_transform(uint8_t *buf, unsigned n, bool protect)
{
        const struct protect_keys *k = keys_get();
        /* n nibbles a half: at most 64 bits, for n <= 16. */
        uint64_t mask = n == 16 ? UINT64_MAX : (UINT64_C(1) << (4 * n)) - 1;
        uint64_t half[2] = { nibbles_get(buf, 0, n), nibbles_get(buf, n, n) };
        for (unsigned i = 0; i < SMALL_ROUNDS; i++) {
                unsigned round = protect ? i : SMALL_ROUNDS - 1 - i;
                /* Even rounds change the left half, odd ones the right. */
                half[round % 2] ^= small_round(k, round, n, half[1 - round % 2], mask);
        }
        nibbles_put(buf, 0, n, half[0]);
        nibbles_put(buf, n, n, half[1]);
        sodium_memzero(half, sizeof(half));
}

static void protect_transform(PVOID Buffer, ULONG BufferSize, bool protect)
{
        if (!Buffer || BufferSize == 0)
                return;
        if (BufferSize > WIDE_HALF)
                wide_transform(Buffer, BufferSize, protect);
        else
                small_transform(Buffer, BufferSize, protect);
}


VOID NTAPI host_LsaProtectMemory(PVOID Buffer, ULONG BufferSize)
{
        protect_transform(Buffer, BufferSize, true);
}

VOID NTAPI host_LsaUnprotectMemory(PVOID Buffer, ULONG BufferSize)
{
        protect_transform(Buffer, BufferSize, false);
}
