/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's view of an allocator under test.
 *
 * Every implementation, lsashm's two APIs as well as the peers (glibc,
 * apr_rmm, Boost.Interprocess), fills one of these tables, so the workloads
 * in bench-section.c run the very same loop against all of them and no
 * implementation gets a code path of its own. The Boost driver is C++ and
 * lives in bench-boost.cpp; this header is all the two halves share.
 */
#ifndef LSASHM_BENCH_H
#define LSASHM_BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "Not measurable" for byte counts and latencies. */
#define BENCH_NA UINT64_MAX

struct bench_impl {
        const char *name;
        /* One line on what is special about it (locking, zero-fill...). */
        const char *note;
        /* Most steps run per churn, latency or thread run; 0 for no cap. Only
         * for peers whose cost per step grows with the live set. */
        uint64_t max_steps;
        /* How peak_committed() gets its figure, for the note column. */
        const char *mem_method;

        /* A heap that can hold max_size bytes, initial_size of them committed
         * up front where the implementation can grow. 0 or a negative errno. */
        int (*create)(void **ret_ctx, uint64_t max_size, uint64_t initial_size);
        /* NULL when the block cannot be had. Must be thread-safe. */
        void *(*alloc)(void *ctx, size_t size);
        void (*free)(void *ctx, void *ptr);
        /* 0 or a negative errno; the context is gone either way. */
        int (*destroy)(void *ctx);

        /* Optional. Peak bytes committed since create(), BENCH_NA when the
         * implementation cannot tell. */
        uint64_t (*peak_committed)(void *ctx);
        /* Optional. For implementations whose peak can only be sampled: the
         * driver calls it now and then, outside the timed stretches. */
        void (*sample)(void *ctx);
};

/* bench-boost.cpp */
extern const struct bench_impl bench_boost_impl;
/* The C++ compiler's version string, for the header of the report. */
const char *bench_boost_compiler(void);
/* The Boost version, e.g. "1_74". */
const char *bench_boost_version(void);

/* bench-section.c: bytes of [addr, addr+len) that are resident, counted by
 * mincore(); BENCH_NA on error. Shared-memory peers that commit on first
 * touch have never released a page, so this is their peak commitment. */
uint64_t bench_resident_bytes(const void *addr, size_t len);

#ifdef __cplusplus
}
#endif

#endif
