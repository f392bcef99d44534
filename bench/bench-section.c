/* SPDX-License-Identifier: MIT */
/*
 * bench-section: lsashm's section heap against its peers.
 *
 * Implementations (rows): lsashm through its native API (wipe off and on)
 * and through the LSA callbacks, glibc malloc and calloc, apr_rmm on an
 * apr_shm segment, and Boost.Interprocess (bench-boost.cpp). Bare memfd
 * set-ups join them for create-delete.
 *
 * Workloads, identical for every implementation and all in one run:
 *   pairs          allocate and free one block, sizes 16..256 B in 16 B steps
 *   churn          10,000 live blocks of 16 B..4 KiB, one replaced per step
 *   latency        churn again, every allocate and free timed on its own
 *   threads        two threads churning on one shared heap; then two threads
 *                  running pairs on one shared heap (row threads-pairs)
 *   create-delete  a 64 KiB section made and thrown away
 *
 * Every random choice comes from one xorshift64 stream with a fixed seed, so
 * every implementation sees the same sizes in the same slots.
 *
 * The targets (collect_targets) are printed under the table and recorded
 * for the final report of scripts/bench (bench-results.h), with the
 * allocation latencies of lsashm's LSA API, glibc and Boost for its plot.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcntl.h>
#include <gnu/libc-version.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_rmm.h>
#include <apr_shm.h>
#include <apr_thread_mutex.h>
#include <apr_version.h>
#include <apu_version.h>

#include "lsashm/ntsecpkg.h"
#include "lsashm/section.h"

#include "bench-results.h"
#include "bench.h"

/* ------------------------------------------------------------------------ */
/* Workload parameters (full run; --quick divides the counts by ten).       */

#define SECTION_MAX ((uint64_t)64 << 20)    /* reserved size of every heap */
#define SECTION_INITIAL ((uint64_t)1 << 20) /* small, so lsashm has to grow */

#define PAIRS_COUNT 10000000u
#define PAIRS_MIN 16u
#define PAIRS_STEP 16u
#define PAIRS_SIZES 16u /* 16, 32, ... 256 */

#define CHURN_SLOTS 10000u
#define CHURN_STEPS 5000000u
#define CHURN_MIN 16u
#define CHURN_MAX 4096u
#define SEED 42u

#define THREADS 2u
#define THREAD_SLOTS (CHURN_SLOTS / THREADS)
#define THREAD_STEPS (CHURN_STEPS / THREADS)

#define CD_SIZE ((uint64_t)64 << 10)
#define CD_COUNT 100000u

/* How often implementations that can only sample their footprint (glibc)
 * are asked to; the time it takes is taken out of the measurement. */
#define SAMPLE_EVERY 65536u

/* apr_rmm scans its whole free list on every allocation and walks its sorted
 * lists on every free: with 10,000 live blocks a step costs tens of
 * microseconds, so its churn-like runs stop here. */
#define APR_MAX_STEPS 20000u

enum workload {
        W_PAIRS = 1u << 0,
        W_CHURN = 1u << 1,
        W_LATENCY = 1u << 2,
        W_THREADS = 1u << 3,
        W_CREATE_DELETE = 1u << 4,
        W_ALL = (1u << 5) - 1,
};

static const struct {
        const char *name;
        unsigned bit;
} workload_names[] = {
        { "pairs", W_PAIRS },     { "churn", W_CHURN },
        { "latency", W_LATENCY }, { "threads", W_THREADS },
        { "create-delete", W_CREATE_DELETE },
};

static struct {
        bool quick;
        bool json;
        unsigned only;
        unsigned scale; /* counts are divided by this */
} opt = { .only = W_ALL, .scale = 1 };

/* ------------------------------------------------------------------------ */
/* Clock, random numbers, small helpers.                                    */

static inline uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t xorshift64(uint64_t *state)
{
        uint64_t x = *state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *state = x;
        return x;
}

/* Uniform in [0, n): multiply-shift on the high half, no division. */
static inline uint32_t draw(uint64_t *state, uint32_t n)
{
        return (uint32_t)(((xorshift64(state) >> 32) * n) >> 32);
}

static inline uint32_t draw_size(uint64_t *state)
{
        return CHURN_MIN + draw(state, CHURN_MAX - CHURN_MIN + 1);
}

/* Where pairs put each block, so no compiler can prove the allocation unused
 * and drop the allocate-free pair (GCC does that to malloc/free). */
static void *volatile sink;

static atomic_ulong free_errors; /* frees an implementation refused */

static double mib(uint64_t bytes)
{
        return (double)bytes / (1024.0 * 1024.0);
}

uint64_t bench_resident_bytes(const void *addr, size_t len)
{
        long page_size = sysconf(_SC_PAGESIZE);
        if (page_size <= 0 || !addr || len == 0)
                return BENCH_NA;
        uintptr_t page = (uintptr_t)page_size;
        uintptr_t start = (uintptr_t)addr & ~(page - 1);
        uintptr_t end = (uintptr_t)addr + len;
        size_t pages = (end - start + page - 1) / page;
        unsigned char *vec = malloc(pages);
        if (!vec)
                return BENCH_NA;
        uint64_t resident = BENCH_NA;
        if (mincore((void *)start, end - start, vec) == 0) {
                resident = 0;
                for (size_t i = 0; i < pages; i++)
                        resident += (uint64_t)(vec[i] & 1u) * page;
        }
        free(vec);
        return resident;
}

/* ------------------------------------------------------------------------ */
/* lsashm, native API.                                                      */

static int native_create_flags(void **ret_ctx, uint64_t max_size, uint64_t initial_size,
                               uint32_t flags)
{
        struct lsashm_section_config cfg = {
                .max_size = max_size,
                .initial_size = initial_size,
                .flags = flags,
                .name = "lsashm-bench",
        };
        lsashm_section_t *s;
        int ret = lsashm_section_create(&cfg, &s);
        if (ret < 0)
                return ret;
        *ret_ctx = s;
        return 0;
}

static int native_create(void **ret_ctx, uint64_t max_size, uint64_t initial_size)
{
        return native_create_flags(ret_ctx, max_size, initial_size, LSASHM_SECTION_NO_WIPE);
}

static int native_wipe_create(void **ret_ctx, uint64_t max_size, uint64_t initial_size)
{
        return native_create_flags(ret_ctx, max_size, initial_size, 0);
}

static void *native_alloc(void *ctx, size_t size)
{
        void *p;
        return lsashm_section_alloc(ctx, size, &p) < 0 ? NULL : p;
}

static void native_free(void *ctx, void *ptr)
{
        if (lsashm_section_free(ctx, ptr) < 0)
                atomic_fetch_add_explicit(&free_errors, 1, memory_order_relaxed);
}

static int native_destroy(void *ctx)
{
        return lsashm_section_delete(ctx);
}

static uint64_t native_peak_committed(void *ctx)
{
        struct lsashm_section_stats st;
        return lsashm_section_stats(ctx, &st) < 0 ? BENCH_NA : st.peak_committed;
}

/* ------------------------------------------------------------------------ */
/* lsashm, LSA callbacks: the context is the section's base address.        */

static int lsa_create(void **ret_ctx, uint64_t max_size, uint64_t initial_size)
{
        if (max_size > UINT32_MAX || initial_size > UINT32_MAX)
                return -EINVAL;
        PVOID base = LsaCreateSharedMemory((ULONG)max_size, (ULONG)initial_size);
        if (!base)
                return -ENOMEM;
        *ret_ctx = base;
        return 0;
}

static void *lsa_alloc(void *ctx, size_t size)
{
        return size > UINT32_MAX ? NULL : LsaAllocateSharedMemory(ctx, (ULONG)size);
}

static void lsa_free(void *ctx, void *ptr)
{
        /* VOID: a refused free only shows in the section's refused_frees. */
        LsaFreeSharedMemory(ctx, ptr);
}

static int lsa_destroy(void *ctx)
{
        return LsaDeleteSharedMemory(ctx) ? 0 : -EINVAL;
}

static uint64_t lsa_peak_committed(void *ctx)
{
        struct lsashm_section_stats st;
        return lsashm_shared_memory_stats(ctx, &st) < 0 ? BENCH_NA : st.peak_committed;
}

static const struct bench_impl native_impl = {
        .name = "lsashm native",
        .note = "lsashm_section_alloc/free, flags NO_WIPE (blocks are still zero-filled)",
        .mem_method = "stats",
        .create = native_create,
        .alloc = native_alloc,
        .free = native_free,
        .destroy = native_destroy,
        .peak_committed = native_peak_committed,
};

static const struct bench_impl native_wipe_impl = {
        .name = "lsashm native wipe",
        .note = "lsashm_section_alloc/free, flags 0: explicit_bzero on free and delete",
        .mem_method = "stats",
        .create = native_wipe_create,
        .alloc = native_alloc,
        .free = native_free,
        .destroy = native_destroy,
        .peak_committed = native_peak_committed,
};

static const struct bench_impl lsa_impl = {
        .name = "lsashm LSA",
        .note = "Lsa{Create,Allocate,Free,Delete}SharedMemory (wipe on)",
        .mem_method = "stats",
        .create = lsa_create,
        .alloc = lsa_alloc,
        .free = lsa_free,
        .destroy = lsa_destroy,
        .peak_committed = lsa_peak_committed,
};

/* After each run, before the heap goes: lsashm's own consistency check and
 * its error counters. Anything here is a library bug, or a benchmark one. */
static void lsashm_audit(const struct bench_impl *im, void *ctx, char *buf, size_t len)
{
        struct lsashm_section_stats st;
        int check, ret;
        if (im == &lsa_impl) {
                ret = lsashm_shared_memory_stats(ctx, &st);
                check = lsashm_shared_memory_check(ctx);
        } else {
                ret = lsashm_section_stats(ctx, &st);
                check = lsashm_section_check(ctx);
        }
        if (ret < 0)
                snprintf(buf, len, "stats failed: %s", strerror(-ret));
        else if (check < 0)
                snprintf(buf, len, "heap check failed: %s", strerror(-check));
        else if (st.refused_frees || st.failed_allocs)
                snprintf(buf, len, "refused_frees=%" PRIu64 " failed_allocs=%" PRIu64,
                         st.refused_frees, st.failed_allocs);
}

static bool is_lsashm(const struct bench_impl *im)
{
        return im == &native_impl || im == &native_wipe_impl || im == &lsa_impl;
}

/* ------------------------------------------------------------------------ */
/* glibc malloc and calloc: the process heap, one "instance" at a time.     */

/*
 * glibc's committed memory is measured as growth of the process's resident
 * set, sampled. mallinfo2()'s arena cannot serve across runs: it only
 * shrinks from the top, chunks still held (by the tcache, for one) keep it
 * from doing so, and a run that reuses what an earlier run freed then shows
 * no growth at all. malloc_trim(0) at create gives back the free pages
 * inside the heap too, so resident growth from there is what the run itself
 * made real, give or take the few pages around chunks that stayed held:
 * an approximation, and the note says so.
 */
static struct {
        uint64_t baseline;
        uint64_t peak;
} glibc_state;

/* /proc/self/statm read without stdio, which would allocate on the very
 * heap being measured. */
static uint64_t resident_set_bytes(void)
{
        char buf[128];
        int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        unsigned long long size_pages, resident_pages;
        if (sscanf(buf, "%llu %llu", &size_pages, &resident_pages) != 2)
                return 0;
        return (uint64_t)resident_pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

static int glibc_create(void **ret_ctx, uint64_t max_size, uint64_t initial_size)
{
        (void)max_size;
        (void)initial_size;
        /* Give back what earlier runs left free, so this run's growth shows. */
        malloc_trim(0);
        glibc_state.baseline = resident_set_bytes();
        glibc_state.peak = glibc_state.baseline;
        *ret_ctx = &glibc_state;
        return 0;
}

static void *glibc_malloc(void *ctx, size_t size)
{
        (void)ctx;
        return malloc(size);
}

static void *glibc_calloc(void *ctx, size_t size)
{
        (void)ctx;
        return calloc(1, size);
}

static void glibc_free(void *ctx, void *ptr)
{
        (void)ctx;
        free(ptr);
}

static int glibc_destroy(void *ctx)
{
        (void)ctx;
        return 0;
}

static void glibc_sample(void *ctx)
{
        (void)ctx;
        uint64_t f = resident_set_bytes();
        if (f > glibc_state.peak)
                glibc_state.peak = f;
}

static uint64_t glibc_peak_committed(void *ctx)
{
        glibc_sample(ctx);
        return glibc_state.peak > glibc_state.baseline ? glibc_state.peak - glibc_state.baseline
                                                       : BENCH_NA;
}

static const struct bench_impl glibc_malloc_impl = {
        .name = "glibc malloc",
        .note = "malloc/free on the process heap, no zero-fill",
        .mem_method = "RSS growth, sampled, approx.",
        .create = glibc_create,
        .alloc = glibc_malloc,
        .free = glibc_free,
        .destroy = glibc_destroy,
        .peak_committed = glibc_peak_committed,
        .sample = glibc_sample,
};

static const struct bench_impl glibc_calloc_impl = {
        .name = "glibc calloc",
        .note = "calloc/free: zero-fills like lsashm, the like-for-like peer",
        .mem_method = "RSS growth, sampled, approx.",
        .create = glibc_create,
        .alloc = glibc_calloc,
        .free = glibc_free,
        .destroy = glibc_destroy,
        .peak_committed = glibc_peak_committed,
        .sample = glibc_sample,
};

/* ------------------------------------------------------------------------ */
/* apr_rmm on an anonymous apr_shm segment.                                 */

struct rmm_heap {
        apr_pool_t *pool; /* owns everything below */
        apr_shm_t *shm;
        apr_rmm_t *rmm;
        void *base;
        size_t size;
};

static int rmm_heap_create(void **ret_ctx, uint64_t max_size, uint64_t initial_size)
{
        (void)initial_size; /* an apr_shm segment has its size for life */
        apr_pool_t *pool;
        if (apr_pool_create(&pool, NULL) != APR_SUCCESS)
                return -ENOMEM;
        struct rmm_heap *h = apr_pcalloc(pool, sizeof(*h));
        apr_thread_mutex_t *mutex;
        /* apr_rmm does no locking of its own: this lock is what makes it
         * usable from two threads, as every other implementation is. */
        apr_anylock_t lock = { .type = apr_anylock_threadmutex };
        h->pool = pool;
        if (apr_shm_create(&h->shm, (apr_size_t)max_size, NULL, pool) != APR_SUCCESS)
                goto fail;
        h->base = apr_shm_baseaddr_get(h->shm);
        h->size = apr_shm_size_get(h->shm);
        if (apr_thread_mutex_create(&mutex, APR_THREAD_MUTEX_DEFAULT, pool) != APR_SUCCESS)
                goto fail;
        lock.lock.tm = mutex;
        if (apr_rmm_init(&h->rmm, &lock, h->base, h->size, pool) != APR_SUCCESS)
                goto fail;
        *ret_ctx = h;
        return 0;
fail:
        apr_pool_destroy(pool); /* destroys the segment too */
        return -ENOMEM;
}

static void *rmm_heap_alloc(void *ctx, size_t size)
{
        struct rmm_heap *h = ctx;
        /* calloc: lsashm hands out zero-filled blocks. */
        apr_rmm_off_t off = apr_rmm_calloc(h->rmm, size);
        return off ? apr_rmm_addr_get(h->rmm, off) : NULL;
}

static void rmm_heap_free(void *ctx, void *ptr)
{
        struct rmm_heap *h = ctx;
        if (apr_rmm_free(h->rmm, apr_rmm_offset_get(h->rmm, ptr)) != APR_SUCCESS)
                atomic_fetch_add_explicit(&free_errors, 1, memory_order_relaxed);
}

static int rmm_heap_destroy(void *ctx)
{
        struct rmm_heap *h = ctx;
        int ret = 0;
        if (apr_rmm_destroy(h->rmm) != APR_SUCCESS)
                ret = -EIO;
        if (apr_shm_destroy(h->shm) != APR_SUCCESS)
                ret = -EIO;
        apr_pool_destroy(h->pool);
        return ret;
}

static uint64_t rmm_heap_peak_committed(void *ctx)
{
        struct rmm_heap *h = ctx;
        return bench_resident_bytes(h->base, h->size);
}

static const struct bench_impl apr_rmm_impl = {
        .name = "apr_rmm",
        .note = "apr_rmm_calloc/free on an anonymous apr_shm segment, apr thread mutex",
        .max_steps = APR_MAX_STEPS,
        .mem_method = "resident pages",
        .create = rmm_heap_create,
        .alloc = rmm_heap_alloc,
        .free = rmm_heap_free,
        .destroy = rmm_heap_destroy,
        .peak_committed = rmm_heap_peak_committed,
};

/* ------------------------------------------------------------------------ */
/* Bare memfd: the floor for create-delete. No heap, so no alloc or free.   */

enum bare_mode {
        BARE_PLAIN,     /* memfd_create, ftruncate, mmap; munmap, close */
        BARE_TOUCH_ONE, /* plus one byte written: one page allocated, as a header needs */
        BARE_FALLOCATE, /* plus fallocate: the pages exist, as lsashm's committed part */
        BARE_POPULATE,  /* plus MADV_POPULATE_WRITE: the pages are mapped too */
};

struct bare_memfd {
        int fd;
        void *base;
        size_t size;
};

static int bare_memfd_open(void **ret_ctx, uint64_t max_size, uint64_t initial_size,
                           enum bare_mode mode)
{
        struct bare_memfd *m = malloc(sizeof(*m));
        int err;
        if (!m)
                return -ENOMEM;
        m->size = (size_t)max_size;
        m->fd = memfd_create("lsashm-bench", MFD_CLOEXEC);
        if (m->fd < 0) {
                err = -errno;
                goto out_free;
        }
        if (ftruncate(m->fd, (off_t)max_size) < 0 ||
            (mode >= BARE_FALLOCATE && fallocate(m->fd, 0, 0, (off_t)initial_size) < 0)) {
                err = -errno;
                goto out_close;
        }
        m->base = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
        if (m->base == MAP_FAILED) {
                err = -errno;
                goto out_close;
        }
        if (mode == BARE_TOUCH_ONE)
                *(volatile unsigned char *)m->base = 1;
        if (mode >= BARE_POPULATE &&
            madvise(m->base, (size_t)initial_size, MADV_POPULATE_WRITE) < 0) {
                /* Linux before 5.14 has no MADV_POPULATE_WRITE. */
                err = errno == EINVAL ? -EOPNOTSUPP : -errno;
                munmap(m->base, m->size);
                goto out_close;
        }
        *ret_ctx = m;
        return 0;
out_close:
        close(m->fd);
out_free:
        free(m);
        return err;
}

static int bare_memfd_create(void **ret_ctx, uint64_t max_size, uint64_t initial_size)
{
        return bare_memfd_open(ret_ctx, max_size, initial_size, BARE_PLAIN);
}

static int bare_memfd_touch_create(void **ret_ctx, uint64_t max_size, uint64_t initial_size)
{
        return bare_memfd_open(ret_ctx, max_size, initial_size, BARE_TOUCH_ONE);
}

static int bare_memfd_falloc_create(void **ret_ctx, uint64_t max_size, uint64_t initial_size)
{
        return bare_memfd_open(ret_ctx, max_size, initial_size, BARE_FALLOCATE);
}

static int bare_memfd_populate_create(void **ret_ctx, uint64_t max_size, uint64_t initial_size)
{
        return bare_memfd_open(ret_ctx, max_size, initial_size, BARE_POPULATE);
}

static int bare_memfd_destroy(void *ctx)
{
        struct bare_memfd *m = ctx;
        int ret = 0;
        if (munmap(m->base, m->size) < 0)
                ret = -errno;
        if (close(m->fd) < 0 && ret == 0)
                ret = -errno;
        free(m);
        return ret;
}

static const struct bench_impl bare_memfd_impl = {
        .name = "bare memfd",
        .note = "memfd_create+ftruncate+mmap, munmap+close (create-delete floor)",
        .create = bare_memfd_create,
        .destroy = bare_memfd_destroy,
};

static const struct bench_impl bare_memfd_touch_impl = {
        .name = "bare memfd+1 page",
        .note = "bare memfd plus one byte written (one page allocated and mapped)",
        .create = bare_memfd_touch_create,
        .destroy = bare_memfd_destroy,
};

static const struct bench_impl bare_memfd_falloc_impl = {
        .name = "bare memfd+fallocate",
        .note = "bare memfd plus fallocate of the 64 KiB (pages exist)",
        .create = bare_memfd_falloc_create,
        .destroy = bare_memfd_destroy,
};

static const struct bench_impl bare_memfd_populate_impl = {
        .name = "bare memfd+populate",
        .note = "bare memfd+fallocate plus MADV_POPULATE_WRITE (pages mapped)",
        .create = bare_memfd_populate_create,
        .destroy = bare_memfd_destroy,
};

/* The heaps, in the order of the table. */
static const struct bench_impl *const heap_impls[] = {
        &native_impl,       &native_wipe_impl, &lsa_impl,         &glibc_malloc_impl,
        &glibc_calloc_impl, &apr_rmm_impl,     &bench_boost_impl,
};

/* Everything that has a create and a delete worth timing. */
static const struct bench_impl *const section_impls[] = {
        &native_impl,          &native_wipe_impl,         &lsa_impl,
        &bare_memfd_impl,      &bare_memfd_touch_impl,    &bare_memfd_falloc_impl,
        &bare_memfd_populate_impl, &apr_rmm_impl,         &bench_boost_impl,
};

/* Both lists, each implementation once, for the legend. */
static const struct bench_impl *const all_impls[] = {
        &native_impl,       &native_wipe_impl, &lsa_impl,         &glibc_malloc_impl,
        &glibc_calloc_impl, &apr_rmm_impl,     &bench_boost_impl, &bare_memfd_impl,
        &bare_memfd_touch_impl, &bare_memfd_falloc_impl, &bare_memfd_populate_impl,
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------ */
/* Results.                                                                 */

struct row {
        const char *workload;
        const char *impl;
        double ns_per_op; /* NAN: not measured */
        double ops_per_s;
        uint64_t p50, p99, p999, max; /* BENCH_NA: not measured */
        double mem_ratio;             /* NAN: not measurable */
        uint64_t ops;
        bool failed;
        const char *target; /* PASS, MISS, (PASS), (MISS) or NULL */
        char note[256];
};

#define MAX_ROWS 64
static struct row rows[MAX_ROWS];
static size_t nrows;

static struct row *new_row(const char *workload, const struct bench_impl *im)
{
        if (nrows == MAX_ROWS) {
                fprintf(stderr, "bench: too many rows\n");
                exit(2);
        }
        struct row *r = &rows[nrows++];
        *r = (struct row){
                .workload = workload,
                .impl = im->name,
                .ns_per_op = NAN,
                .ops_per_s = NAN,
                .p50 = BENCH_NA,
                .p99 = BENCH_NA,
                .p999 = BENCH_NA,
                .max = BENCH_NA,
                .mem_ratio = NAN,
        };
        return r;
}

static const struct row *find_row(const char *workload, const char *impl)
{
        for (size_t i = 0; i < nrows; i++)
                if (!strcmp(rows[i].workload, workload) && !strcmp(rows[i].impl, impl) &&
                    !rows[i].failed)
                        return &rows[i];
        return NULL;
}

/* Append to a row's note, "; "-separated. */
__attribute__((format(printf, 2, 3))) static void note(struct row *r, const char *fmt, ...)
{
        size_t used = strlen(r->note);
        if (used && used + 2 < sizeof(r->note)) {
                memcpy(r->note + used, "; ", 3);
                used += 2;
        }
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->note + used, sizeof(r->note) - used, fmt, ap);
        va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void fail(struct row *r, const char *fmt, ...)
{
        char buf[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        r->failed = true;
        r->ns_per_op = NAN;
        r->ops_per_s = NAN;
        note(r, "FAILED: %s", buf);
        fprintf(stderr, "bench: %s / %s: %s\n", r->workload, r->impl, buf);
}

static void set_rate(struct row *r, uint64_t ops, uint64_t elapsed_ns)
{
        r->ops = ops;
        if (ops == 0 || elapsed_ns == 0)
                return;
        r->ns_per_op = (double)elapsed_ns / (double)ops;
        r->ops_per_s = (double)ops * 1e9 / (double)elapsed_ns;
}

/* Checks that run after every heap run, before the heap is destroyed. */
static void audit(struct row *r, const struct bench_impl *im, void *ctx,
                  unsigned long frees_refused)
{
        char buf[160] = "";
        if (is_lsashm(im))
                lsashm_audit(im, ctx, buf, sizeof(buf));
        if (buf[0])
                fail(r, "%s", buf);
        if (frees_refused)
                fail(r, "%lu frees refused", frees_refused);
}

/* Percentiles, exact: 1 ns buckets below 64 us, the rare rest sorted. */
struct latency {
        uint64_t p50, p99, p999, max;
        double mean;
};

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return (x > y) - (x < y);
}

static int summarize(const uint32_t *v, size_t n, struct latency *out)
{
        enum { BUCKETS = 1u << 16 };
        if (n == 0)
                return -EINVAL;
        uint32_t *hist = calloc(BUCKETS, sizeof(*hist));
        if (!hist)
                return -ENOMEM;
        size_t n_over = 0;
        uint64_t sum = 0;
        uint32_t max = 0;
        for (size_t i = 0; i < n; i++) {
                sum += v[i];
                if (v[i] > max)
                        max = v[i];
                if (v[i] < BUCKETS)
                        hist[v[i]]++;
                else
                        n_over++;
        }
        uint32_t *over = malloc((n_over ? n_over : 1) * sizeof(*over));
        if (!over) {
                free(hist);
                return -ENOMEM;
        }
        for (size_t i = 0, j = 0; i < n; i++)
                if (v[i] >= BUCKETS)
                        over[j++] = v[i];
        qsort(over, n_over, sizeof(*over), cmp_u32);

        /* The p-quantile is the smallest value with at least ceil(p * n)
         * samples at or below it. */
        static const struct {
                uint64_t num, den;
        } q[3] = { { 50, 100 }, { 99, 100 }, { 999, 1000 } };
        uint64_t res[3];
        for (size_t k = 0; k < 3; k++) {
                uint64_t rank = ((uint64_t)n * q[k].num + q[k].den - 1) / q[k].den;
                uint64_t cum = 0;
                res[k] = BENCH_NA;
                for (uint32_t b = 0; b < BUCKETS; b++) {
                        cum += hist[b];
                        if (cum >= rank) {
                                res[k] = b;
                                break;
                        }
                }
                if (res[k] == BENCH_NA)
                        res[k] = over[rank - cum - 1];
        }
        out->p50 = res[0];
        out->p99 = res[1];
        out->p999 = res[2];
        out->max = max;
        out->mean = (double)sum / (double)n;
        free(over);
        free(hist);
        return 0;
}

static uint32_t clamp_u32(uint64_t v)
{
        return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* ------------------------------------------------------------------------ */
/* Workloads.                                                               */

static uint64_t scaled(uint64_t count)
{
        uint64_t n = count / opt.scale;
        return n ? n : 1;
}

/* Steps a churn-like run takes for this implementation, and the note that
 * says so when it is capped. */
static uint64_t capped_steps(const struct bench_impl *im, uint64_t steps, struct row *r)
{
        if (!im->max_steps)
                return steps;
        uint64_t cap = scaled(im->max_steps);
        if (steps <= cap)
                return steps;
        note(r, "CAPPED at %" PRIu64 " of %" PRIu64 " steps (linear free-list scan)", cap, steps);
        return cap;
}

static void progress(const char *workload, const struct bench_impl *im)
{
        fprintf(stderr, "bench: %-13s %s\n", workload, im->name);
}

static void run_pairs(const struct bench_impl *im)
{
        struct row *r = new_row("pairs", im);
        uint64_t n = scaled(PAIRS_COUNT);
        unsigned long refused0 = atomic_load(&free_errors);
        void *ctx;
        progress(r->workload, im);
        int ret = im->create(&ctx, SECTION_MAX, SECTION_INITIAL);
        if (ret < 0) {
                fail(r, "create: %s", strerror(-ret));
                return;
        }
        uint64_t t0 = now_ns();
        uint64_t i;
        for (i = 0; i < n; i++) {
                void *p = im->alloc(ctx, PAIRS_MIN + PAIRS_STEP * (size_t)(i % PAIRS_SIZES));
                if (!p)
                        break;
                sink = p;
                im->free(ctx, p);
        }
        uint64_t elapsed = now_ns() - t0;
        if (i < n)
                fail(r, "allocation failed at pair %" PRIu64, i);
        else
                set_rate(r, n, elapsed);
        audit(r, im, ctx, atomic_load(&free_errors) - refused0);
        if ((ret = im->destroy(ctx)) < 0)
                fail(r, "destroy: %s", strerror(-ret));
}

/* One churn: nslots live blocks, each step frees a random one and puts a
 * block of a random size in its place. */
struct churn {
        const struct bench_impl *im;
        void *ctx;
        uint32_t nslots;
        void **ptr;
        uint32_t *size;
        uint64_t rng;
        uint64_t live;      /* sum of requested sizes of the live blocks */
        uint64_t peak_live; /* the same for every implementation */
};

/* The heap (c->ctx) is set once it exists: the slot arrays come first. */
static int churn_init(struct churn *c, const struct bench_impl *im, uint32_t nslots, uint64_t seed)
{
        *c = (struct churn){ .im = im, .nslots = nslots, .rng = seed };
        c->ptr = calloc(nslots, sizeof(*c->ptr));
        c->size = calloc(nslots, sizeof(*c->size));
        if (!c->ptr || !c->size) {
                free(c->ptr);
                free(c->size);
                return -ENOMEM;
        }
        return 0;
}

static int churn_fill(struct churn *c)
{
        for (uint32_t i = 0; i < c->nslots; i++) {
                uint32_t size = draw_size(&c->rng);
                c->ptr[i] = c->im->alloc(c->ctx, size);
                if (!c->ptr[i])
                        return -ENOMEM;
                c->size[i] = size;
                c->live += size;
        }
        c->peak_live = c->live;
        return 0;
}

/* The timed loop of churn and threads: nothing in it but the work. */
static uint64_t churn_steps(struct churn *c, uint64_t steps)
{
        const struct bench_impl *im = c->im;
        void *ctx = c->ctx;
        for (uint64_t i = 0; i < steps; i++) {
                uint32_t slot = draw(&c->rng, c->nslots);
                uint32_t size = draw_size(&c->rng);
                im->free(ctx, c->ptr[slot]);
                c->ptr[slot] = im->alloc(ctx, size);
                if (!c->ptr[slot])
                        return i;
                c->live = c->live - c->size[slot] + size;
                c->size[slot] = size;
                if (c->live > c->peak_live)
                        c->peak_live = c->live;
        }
        return steps;
}

/* The same loop with every allocate and free timed on its own. */
static uint64_t churn_steps_timed(struct churn *c, uint64_t steps, uint32_t *lat_alloc,
                                  uint32_t *lat_free)
{
        const struct bench_impl *im = c->im;
        void *ctx = c->ctx;
        for (uint64_t i = 0; i < steps; i++) {
                uint32_t slot = draw(&c->rng, c->nslots);
                uint32_t size = draw_size(&c->rng);
                uint64_t t0 = now_ns();
                im->free(ctx, c->ptr[slot]);
                uint64_t t1 = now_ns();
                c->ptr[slot] = im->alloc(ctx, size);
                uint64_t t2 = now_ns();
                lat_free[i] = clamp_u32(t1 - t0);
                lat_alloc[i] = clamp_u32(t2 - t1);
                if (!c->ptr[slot])
                        return i;
                c->live = c->live - c->size[slot] + size;
                c->size[slot] = size;
                if (c->live > c->peak_live)
                        c->peak_live = c->live;
        }
        return steps;
}

static void churn_drain(struct churn *c)
{
        for (uint32_t i = 0; i < c->nslots; i++)
                if (c->ptr[i]) {
                        c->im->free(c->ctx, c->ptr[i]);
                        c->ptr[i] = NULL;
                }
}

static void churn_release(struct churn *c)
{
        free(c->ptr);
        free(c->size);
}

static void sample(const struct bench_impl *im, void *ctx)
{
        if (im->sample)
                im->sample(ctx);
}

/* The implementations whose allocation latencies the final report plots:
 * lsashm as a package sees it, and the peers the targets name. */
static bool plots_alloc_latency(const struct bench_impl *im)
{
        return im == &lsa_impl || im == &glibc_calloc_impl || im == &glibc_malloc_impl || im == &bench_boost_impl;
}

/* churn (timed as a whole) or latency (every operation timed). */
static void run_churn(const struct bench_impl *im, bool timed)
{
        struct row *r = new_row(timed ? "lat-alloc" : "churn", im);
        struct row *rf = NULL;
        uint64_t steps = capped_steps(im, scaled(CHURN_STEPS), r);
        uint32_t *lat_alloc = NULL, *lat_free = NULL;
        unsigned long refused0 = atomic_load(&free_errors);
        struct churn c;
        void *ctx;
        int ret;

        progress(timed ? "latency" : "churn", im);
        if (timed) {
                rf = new_row("lat-free", im);
                capped_steps(im, scaled(CHURN_STEPS), rf);
                lat_alloc = malloc(steps * sizeof(*lat_alloc));
                lat_free = malloc(steps * sizeof(*lat_free));
                if (!lat_alloc || !lat_free) {
                        fail(r, "out of memory");
                        fail(rf, "out of memory");
                        goto out_free;
                }
                /* Fault the sample arrays in now, not inside the timed loop. */
                memset(lat_alloc, 0, steps * sizeof(*lat_alloc));
                memset(lat_free, 0, steps * sizeof(*lat_free));
        }
        if (churn_init(&c, im, CHURN_SLOTS, SEED) < 0) {
                fail(r, "out of memory");
                goto out_free;
        }
        /* Created after the driver's own allocations, so that glibc's
         * baseline already holds them. */
        ret = im->create(&ctx, SECTION_MAX, SECTION_INITIAL);
        if (ret < 0) {
                fail(r, "create: %s", strerror(-ret));
                if (rf)
                        fail(rf, "create: %s", strerror(-ret));
                goto out_release;
        }
        c.ctx = ctx;
        if (churn_fill(&c) < 0) {
                fail(r, "allocation failed while filling %u slots", CHURN_SLOTS);
                goto out_drain;
        }
        sample(im, ctx);

        uint64_t done = 0, excluded = 0, t0 = now_ns();
        while (done < steps) {
                uint64_t chunk = steps - done < SAMPLE_EVERY ? steps - done : SAMPLE_EVERY;
                uint64_t got = timed ? churn_steps_timed(&c, chunk, lat_alloc + done,
                                                         lat_free + done)
                                     : churn_steps(&c, chunk);
                done += got;
                if (got < chunk)
                        break;
                if (im->sample) {
                        uint64_t s0 = now_ns();
                        im->sample(ctx);
                        excluded += now_ns() - s0;
                }
        }
        uint64_t elapsed = now_ns() - t0 - excluded;
        if (done < steps) {
                fail(r, "allocation failed at step %" PRIu64, done);
                goto out_drain;
        }

        if (!timed) {
                set_rate(r, steps, elapsed);
                uint64_t committed = im->peak_committed ? im->peak_committed(ctx) : BENCH_NA;
                if (committed != BENCH_NA) {
                        r->mem_ratio = (double)committed / (double)c.peak_live;
                        note(r, "peak live %.1f MiB, committed %.1f MiB (%s)", mib(c.peak_live),
                             mib(committed), im->mem_method);
                } else {
                        note(r, "peak live %.1f MiB, committed n/a", mib(c.peak_live));
                }
        } else {
                struct latency la, lf;
                if (summarize(lat_alloc, steps, &la) < 0 || summarize(lat_free, steps, &lf) < 0) {
                        fail(r, "out of memory");
                        goto out_drain;
                }
                if (plots_alloc_latency(im))
                        bench_series_latencies32("alloc-latency", im->name, lat_alloc, steps);
                r->ns_per_op = la.mean;
                r->p50 = la.p50, r->p99 = la.p99, r->p999 = la.p999, r->max = la.max;
                r->ops = steps;
                rf->ns_per_op = lf.mean;
                rf->p50 = lf.p50, rf->p99 = lf.p99, rf->p999 = lf.p999, rf->max = lf.max;
                rf->ops = steps;
                note(r, "mean incl. timer");
                note(rf, "mean incl. timer");
        }
out_drain:
        churn_drain(&c);
        audit(r, im, ctx, atomic_load(&free_errors) - refused0);
        if ((ret = im->destroy(ctx)) < 0)
                fail(r, "destroy: %s", strerror(-ret));
out_release:
        churn_release(&c);
out_free:
        free(lat_alloc);
        free(lat_free);
}

/* threads: THREADS workers churn their own slots on one shared heap. */
struct worker {
        struct churn c;
        uint64_t steps;
        uint64_t done;
        int err;
        pthread_barrier_t *barrier;
};

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        if (churn_fill(&w->c) < 0)
                w->err = -ENOMEM;
        pthread_barrier_wait(w->barrier); /* start: everyone has filled */
        if (!w->err) {
                w->done = churn_steps(&w->c, w->steps);
                if (w->done < w->steps)
                        w->err = -ENOMEM;
        }
        pthread_barrier_wait(w->barrier); /* stop: everyone is done */
        churn_drain(&w->c);
        return NULL;
}

static void run_threads(const struct bench_impl *im)
{
        struct row *r = new_row("threads", im);
        uint64_t steps = capped_steps(im, scaled(THREAD_STEPS), r);
        unsigned long refused0 = atomic_load(&free_errors);
        struct worker w[THREADS];
        pthread_t tid[THREADS];
        pthread_barrier_t barrier;
        unsigned started = 0, inited = 0;
        void *ctx;
        int ret;

        progress(r->workload, im);
        ret = im->create(&ctx, SECTION_MAX, SECTION_INITIAL);
        if (ret < 0) {
                fail(r, "create: %s", strerror(-ret));
                return;
        }
        pthread_barrier_init(&barrier, NULL, THREADS + 1);
        for (inited = 0; inited < THREADS; inited++) {
                /* Per-thread streams, fixed like the single-threaded one. */
                uint64_t seed = SEED + 0x9E3779B97F4A7C15u * (inited + 1);
                w[inited] = (struct worker){ .steps = steps, .barrier = &barrier };
                if (churn_init(&w[inited].c, im, THREAD_SLOTS, seed) < 0)
                        break;
                w[inited].c.ctx = ctx;
        }
        if (inited < THREADS) {
                fail(r, "out of memory");
                goto out;
        }
        for (started = 0; started < THREADS; started++)
                if ((ret = pthread_create(&tid[started], NULL, worker_main, &w[started])) != 0)
                        break;
        if (started < THREADS) {
                /* The barrier counts on every party: it cannot be used now.
                 * This is a broken machine, not a result. */
                fprintf(stderr, "bench: pthread_create: %s\n", strerror(ret));
                exit(2);
        }
        pthread_barrier_wait(&barrier);
        uint64_t t0 = now_ns();
        pthread_barrier_wait(&barrier);
        uint64_t elapsed = now_ns() - t0;
        for (unsigned i = 0; i < THREADS; i++)
                pthread_join(tid[i], NULL);

        bool ok = true;
        for (unsigned i = 0; i < THREADS; i++)
                if (w[i].err) {
                        fail(r, "thread %u: allocation failed at step %" PRIu64, i, w[i].done);
                        ok = false;
                }
        if (ok) {
                set_rate(r, steps * THREADS, elapsed);
                note(r, "%u threads x %" PRIu64 " steps, %u slots each, one heap", THREADS, steps,
                     THREAD_SLOTS);
        }
        audit(r, im, ctx, atomic_load(&free_errors) - refused0);
out:
        for (unsigned i = 0; i < inited; i++)
                churn_release(&w[i].c);
        pthread_barrier_destroy(&barrier);
        if ((ret = im->destroy(ctx)) < 0)
                fail(r, "destroy: %s", strerror(-ret));
}

/* threads-pairs: THREADS workers run the pairs loop at once on one shared
 * heap, so every allocation and free meets the other thread's at the heap's
 * lock; the figure is pairs per second of all threads together. */
struct pair_worker {
        const struct bench_impl *im;
        void *ctx;
        uint64_t pairs;
        uint64_t done;
        pthread_barrier_t *barrier;
};

static void *pair_worker_main(void *arg)
{
        struct pair_worker *w = arg;
        pthread_barrier_wait(w->barrier); /* start together */
        uint64_t i;
        for (i = 0; i < w->pairs; i++) {
                void *p = w->im->alloc(w->ctx, PAIRS_MIN + PAIRS_STEP * (size_t)(i % PAIRS_SIZES));
                if (!p)
                        break;
                sink = p;
                w->im->free(w->ctx, p);
        }
        w->done = i;
        pthread_barrier_wait(w->barrier); /* stop when the last one is done */
        return NULL;
}

static void run_thread_pairs(const struct bench_impl *im)
{
        struct row *r = new_row("threads-pairs", im);
        uint64_t pairs = scaled(PAIRS_COUNT / THREADS);
        unsigned long refused0 = atomic_load(&free_errors);
        struct pair_worker w[THREADS];
        pthread_t tid[THREADS];
        pthread_barrier_t barrier;
        void *ctx;
        int ret;

        progress(r->workload, im);
        ret = im->create(&ctx, SECTION_MAX, SECTION_INITIAL);
        if (ret < 0) {
                fail(r, "create: %s", strerror(-ret));
                return;
        }
        pthread_barrier_init(&barrier, NULL, THREADS + 1);
        for (unsigned i = 0; i < THREADS; i++) {
                w[i] = (struct pair_worker){ .im = im, .ctx = ctx, .pairs = pairs, .barrier = &barrier };
                if ((ret = pthread_create(&tid[i], NULL, pair_worker_main, &w[i])) != 0) {
                        /* As in run_threads: the barrier needs every party. */
                        fprintf(stderr, "bench: pthread_create: %s\n", strerror(ret));
                        exit(2);
                }
        }
        pthread_barrier_wait(&barrier);
        uint64_t t0 = now_ns();
        pthread_barrier_wait(&barrier);
        uint64_t elapsed = now_ns() - t0;
        bool ok = true;
        for (unsigned i = 0; i < THREADS; i++) {
                pthread_join(tid[i], NULL);
                if (w[i].done < pairs) {
                        fail(r, "thread %u: allocation failed at pair %" PRIu64, i, w[i].done);
                        ok = false;
                }
        }
        if (ok) {
                set_rate(r, pairs * THREADS, elapsed);
                note(r, "%u threads x %" PRIu64 " pairs of %u..%u B, one heap", THREADS, pairs, PAIRS_MIN,
                     PAIRS_MIN + PAIRS_STEP * (PAIRS_SIZES - 1));
        }
        audit(r, im, ctx, atomic_load(&free_errors) - refused0);
        pthread_barrier_destroy(&barrier);
        if ((ret = im->destroy(ctx)) < 0)
                fail(r, "destroy: %s", strerror(-ret));
}

static void run_create_delete(const struct bench_impl *im)
{
        struct row *r = new_row("create-delete", im);
        uint64_t n = scaled(CD_COUNT);
        progress(r->workload, im);
        uint64_t t0 = now_ns();
        for (uint64_t i = 0; i < n; i++) {
                void *ctx;
                int ret = im->create(&ctx, CD_SIZE, CD_SIZE);
                if (ret == -EOPNOTSUPP) {
                        note(r, "n/a: not supported by this kernel");
                        return;
                }
                if (ret < 0) {
                        fail(r, "create %" PRIu64 ": %s", i, strerror(-ret));
                        return;
                }
                if ((ret = im->destroy(ctx)) < 0) {
                        fail(r, "delete %" PRIu64 ": %s", i, strerror(-ret));
                        return;
                }
        }
        set_rate(r, n, now_ns() - t0);
        note(r, "%.2f us per create+delete", r->ns_per_op / 1000.0);

}

/* ------------------------------------------------------------------------ */
/* Targets: judged on the LSA API, the one packages call (wipe on), except  */
/* churn with NO_WIPE, which only the native API offers. One list feeds    */
/* this program's table and the final report of scripts/bench.             */

struct section_target {
        struct bench_target t;
        const char *impl; /* the row of the table the verdict is shown on */
        const char *row;
        unsigned workload; /* W_*: the run that measures it */
};

#define MAX_TARGETS 16
static struct section_target targets[MAX_TARGETS];
static size_t ntargets;

static double row_ns(const char *workload, const char *impl)
{
        const struct row *r = find_row(workload, impl);
        return r ? r->ns_per_op : NAN;
}

static double row_rate(const char *workload, const char *impl)
{
        const struct row *r = find_row(workload, impl);
        return r ? r->ops_per_s : NAN;
}

static double row_p999(const char *workload, const char *impl)
{
        const struct row *r = find_row(workload, impl);
        return r && r->p999 != BENCH_NA ? (double)r->p999 : NAN;
}

static double row_mem(const char *workload, const char *impl)
{
        const struct row *r = find_row(workload, impl);
        return r ? r->mem_ratio : NAN;
}

/* A target whose workload --only left out is left out too: the final table
 * then says "not run" rather than n/a. */
static void add_target(const char *impl, const char *row, unsigned workload, struct bench_target t)
{
        if (ntargets == MAX_TARGETS || !(opt.only & workload))
                return;
        targets[ntargets++] = (struct section_target){ t, impl, row, workload };
}

/* The verdict, as the final report computes it. */
static const char *target_verdict(const struct section_target *st)
{
        return bench_verdict(&st->t, bench_ratio(&st->t));
}

static void collect_targets(void)
{
        const char *lsa = lsa_impl.name, *native = native_impl.name, *calloc_name = glibc_calloc_impl.name;
        const char *boost = bench_boost_impl.name, *touch = bare_memfd_touch_impl.name;
        double churn_lsa = row_ns("churn", lsa), churn_boost = row_ns("churn", boost);
        double churn_calloc = row_ns("churn", calloc_name);
        double tp_lsa = row_rate("threads-pairs", lsa), tp_boost = row_rate("threads-pairs", boost);
        double cd_lsa = row_ns("create-delete", lsa) / 1000.0;

        add_target(lsa, "churn", W_CHURN,
                   (struct bench_target){ .id = "churn-wipe-calloc", .what = "churn, wipe on (LSA API) vs glibc calloc",
                                          .figure = churn_lsa, .unit = "ns/step", .ref_name = calloc_name,
                                          .ref_figure = churn_calloc, .op = BENCH_AT_MOST, .limit = 1.0 });
        add_target(lsa, "churn", W_CHURN,
                   (struct bench_target){ .id = "churn-wipe-boost",
                                          .what = "churn, wipe on (LSA API): speed-up over Boost",
                                          .figure = churn_lsa, .unit = "ns/step", .ref_name = boost,
                                          .ref_figure = churn_boost, .inverse = true, .op = BENCH_AT_LEAST,
                                          .limit = 3.5 });
        add_target(lsa, "churn", W_CHURN,
                   (struct bench_target){ .id = "churn-wipe-boost-stretch",
                                          .what = "churn, wipe on (LSA API): speed-up over Boost, stretch",
                                          .figure = churn_lsa, .unit = "ns/step", .ref_name = boost,
                                          .ref_figure = churn_boost, .inverse = true, .op = BENCH_AT_LEAST,
                                          .limit = 4.0, .info = true });
        add_target(native, "churn", W_CHURN,
                   (struct bench_target){ .id = "churn-nowipe-calloc",
                                          .what = "churn, NO_WIPE (native API) vs glibc calloc",
                                          .figure = row_ns("churn", native), .unit = "ns/step",
                                          .ref_name = calloc_name, .ref_figure = churn_calloc,
                                          .op = BENCH_AT_MOST, .limit = 0.9 });
        add_target(lsa, "pairs", W_PAIRS,
                   (struct bench_target){ .id = "pairs-calloc",
                                          .what = "pairs, allocate + free 16-256 B (LSA API) vs glibc calloc",
                                          .figure = row_ns("pairs", lsa), .unit = "ns/pair", .ref_name = calloc_name,
                                          .ref_figure = row_ns("pairs", calloc_name), .op = BENCH_AT_MOST,
                                          .limit = 1.0 });
        add_target(lsa, "threads-pairs", W_THREADS,
                   (struct bench_target){ .id = "threads-boost",
                                          .what = "pairs, 2 threads on one heap (LSA API) vs Boost",
                                          .figure = tp_lsa, .unit = "pairs/s", .ref_name = boost,
                                          .ref_figure = tp_boost, .op = BENCH_AT_LEAST, .limit = 1.0 });
        add_target(lsa, "threads-pairs", W_THREADS,
                   (struct bench_target){ .id = "threads-boost-stretch",
                                          .what = "pairs, 2 threads on one heap (LSA API) vs Boost, stretch",
                                          .figure = tp_lsa, .unit = "pairs/s", .ref_name = boost,
                                          .ref_figure = tp_boost, .op = BENCH_AT_LEAST, .limit = 2.0,
                                          .info = true });
        add_target(lsa, "create-delete", W_CREATE_DELETE,
                   (struct bench_target){ .id = "create-delete-boost",
                                          .what = "create + delete 64 KiB (LSA API) vs Boost", .figure = cd_lsa,
                                          .unit = "us", .ref_name = boost,
                                          .ref_figure = row_ns("create-delete", boost) / 1000.0,
                                          .op = BENCH_BELOW, .limit = 1.0 });
        add_target(lsa, "create-delete", W_CREATE_DELETE,
                   (struct bench_target){ .id = "create-delete-memfd",
                                          .what = "create + delete 64 KiB (LSA API) vs memfd + one page",
                                          .figure = cd_lsa, .unit = "us", .ref_name = "bare memfd, one page touched",
                                          .ref_figure = row_ns("create-delete", touch) / 1000.0,
                                          .op = BENCH_AT_MOST, .limit = 2.0 });
        add_target(lsa, "lat-alloc", W_LATENCY,
                   (struct bench_target){ .id = "alloc-p999",
                                          .what = "allocate p99.9 in churn, timer included (LSA API)",
                                          .figure = row_p999("lat-alloc", lsa), .unit = "ns", .op = BENCH_AT_MOST,
                                          .limit = 1000 });
        add_target(lsa, "churn", W_CHURN,
                   (struct bench_target){ .id = "committed-live",
                                          .what = "churn, peak committed / peak live (LSA API)",
                                          .figure = row_mem("churn", lsa), .unit = "ratio", .op = BENCH_AT_MOST,
                                          .limit = 1.25 });
}

static void evaluate_targets(void)
{
        collect_targets();
        /* A row shows MISS when any of its targets is missed; a stretch
         * goal's verdict in parentheses. */
        for (size_t i = 0; i < nrows; i++) {
                const char *shown = NULL;
                for (size_t k = 0; k < ntargets; k++) {
                        const struct section_target *st = &targets[k];
                        if (strcmp(st->impl, rows[i].impl) || strcmp(st->row, rows[i].workload))
                                continue;
                        const char *v = target_verdict(st);
                        bool pass = !strcmp(v, "PASS"), miss = !strcmp(v, "MISS");
                        if (st->t.info) {
                                if (!shown && (pass || miss))
                                        shown = pass ? "(PASS)" : "(MISS)";
                        } else if (miss) {
                                shown = "MISS";
                        } else if (pass && (!shown || shown[0] == '(')) {
                                shown = "PASS";
                        }
                }
                rows[i].target = shown;
        }
}

/* For the final report of scripts/bench (bench-results.h). */
static void record_results(void)
{
        for (size_t k = 0; k < ntargets; k++)
                bench_target(&targets[k].t);
}

/* ------------------------------------------------------------------------ */
/* Report.                                                                  */

static struct {
        char cpu[128];
        long cpus;
        char kernel[200]; /* three utsname fields of 65 */
        char c_compiler[128];
        char load[64];   /* /proc/loadavg at start: other work skews every figure */
        double timer_ns; /* median of two back-to-back readings */
} machine;

static void read_machine(void)
{
        cpu_set_t set;
        machine.cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set)
                                                                    : sysconf(_SC_NPROCESSORS_ONLN);
        snprintf(machine.cpu, sizeof(machine.cpu), "unknown");
        FILE *f = fopen("/proc/cpuinfo", "r");
        if (f) {
                char line[512];
                while (fgets(line, sizeof(line), f)) {
                        char *colon = strchr(line, ':');
                        if (strncmp(line, "model name", 10) || !colon)
                                continue;
                        colon += strspn(colon + 1, " \t") + 1;
                        colon[strcspn(colon, "\n")] = '\0';
                        snprintf(machine.cpu, sizeof(machine.cpu), "%s", colon);
                        break;
                }
                fclose(f);
        }
        struct utsname u;
        if (uname(&u) == 0)
                snprintf(machine.kernel, sizeof(machine.kernel), "%s %s %s", u.sysname,
                         u.release, u.machine);
        f = fopen("/proc/loadavg", "r");
        if (f) {
                float l1, l5, l15;
                if (fscanf(f, "%f %f %f", &l1, &l5, &l15) == 3)
                        snprintf(machine.load, sizeof(machine.load), "%.2f %.2f %.2f", l1, l5, l15);
                fclose(f);
        }
#if defined(__clang__)
        snprintf(machine.c_compiler, sizeof(machine.c_compiler), "clang %s", __clang_version__);
#elif defined(__GNUC__)
        snprintf(machine.c_compiler, sizeof(machine.c_compiler), "gcc %s", __VERSION__);
#else
        snprintf(machine.c_compiler, sizeof(machine.c_compiler), "unknown");
#endif
}

/* What an empty interval measures: the floor under every latency figure. */
static void measure_timer(void)
{
        enum { N = 200000 };
        uint32_t *d = malloc(N * sizeof(*d));
        struct latency l;
        machine.timer_ns = NAN;
        if (!d)
                return;
        for (size_t i = 0; i < N; i++) {
                uint64_t a = now_ns();
                d[i] = clamp_u32(now_ns() - a);
        }
        if (summarize(d, N, &l) == 0)
                machine.timer_ns = (double)l.p50;
        free(d);
}

static const char *fmt_u64(uint64_t v, char *buf, size_t len)
{
        if (v == BENCH_NA)
                snprintf(buf, len, "-");
        else
                snprintf(buf, len, "%" PRIu64, v);
        return buf;
}

static const char *fmt_rate(double v, char *buf, size_t len)
{
        if (isnan(v))
                snprintf(buf, len, "-");
        else if (v >= 1e9)
                snprintf(buf, len, "%.2fG", v / 1e9);
        else if (v >= 1e6)
                snprintf(buf, len, "%.2fM", v / 1e6);
        else if (v >= 1e3)
                snprintf(buf, len, "%.1fk", v / 1e3);
        else
                snprintf(buf, len, "%.1f", v);
        return buf;
}

static const char *fmt_double(double v, int decimals, char *buf, size_t len)
{
        if (isnan(v) || isinf(v))
                snprintf(buf, len, "-");
        else
                snprintf(buf, len, "%.*f", decimals, v);
        return buf;
}

static void print_header_text(void)
{
        printf("lsashm section benchmark, %s\n",
               opt.quick ? "quick run (counts / 10)" : "full run");
        printf("machine:  %ld CPUs (nproc), %s, %s\n", machine.cpus, machine.cpu, machine.kernel);
        printf("load:     %s (1, 5, 15 min, at start; the figures are only as steady as the "
               "machine is idle)\n",
               machine.load[0] ? machine.load : "unknown");
        printf("compiler: C %s; C++ %s\n", machine.c_compiler, bench_boost_compiler());
        printf("peers:    glibc %s, apr %s, apr-util %s, boost %s\n", gnu_get_libc_version(),
               apr_version_string(), apu_version_string(), bench_boost_version());
        printf("timer:    clock_gettime(CLOCK_MONOTONIC), overhead ~%.0f ns per timed interval "
               "(included in the latency figures)\n",
               machine.timer_ns);
        printf("sections: %" PRIu64 " MiB reserved, %" PRIu64 " MiB initial; churn %u slots of "
               "%u..%u B, seed %u; pairs %u..%u B\n",
               SECTION_MAX >> 20, SECTION_INITIAL >> 20, CHURN_SLOTS, CHURN_MIN, CHURN_MAX, SEED,
               PAIRS_MIN, PAIRS_MIN + PAIRS_STEP * (PAIRS_SIZES - 1));
        printf("mem:      peak committed / peak live bytes; live = sum of requested sizes, the "
               "same for every implementation\n");
        printf("implementations:\n");
        for (size_t i = 0; i < ARRAY_SIZE(all_impls); i++)
                printf("  %-21s %s\n", all_impls[i]->name, all_impls[i]->note);
        printf("apr_rmm:  best-fit scan of a linear free list, O(live blocks) per operation: its "
               "churn, latency and threads runs are capped at %" PRIu64 " steps\n\n",
               scaled(APR_MAX_STEPS));
}

/* lat-alloc and lat-free are one workload, latency, in two rows. */
static const char *group_of(const char *workload)
{
        return strncmp(workload, "lat-", 4) ? workload : "latency";
}

static void print_table(void)
{
        char b[8][32], header[256];
        int width = snprintf(header, sizeof(header),
                             "%-13s | %-20s | %10s | %8s | %6s | %6s | %7s | %8s | %5s | %-6s | ",
                             "workload", "impl", "ns/op", "ops/s", "p50", "p99", "p99.9", "max",
                             "mem", "target");
        printf("%snote\n", header);
        for (size_t i = 0; i < nrows; i++) {
                const struct row *r = &rows[i];
                if (i == 0 || strcmp(group_of(rows[i - 1].workload), group_of(r->workload))) {
                        for (int k = 0; k < width + 4; k++)
                                putchar('-');
                        putchar('\n');
                }
                printf("%-13s | %-20s | %10s | %8s | %6s | %6s | %7s | %8s | %5s | %-6s | %s\n",
                       r->workload, r->impl, fmt_double(r->ns_per_op, 1, b[0], sizeof(b[0])),
                       fmt_rate(r->ops_per_s, b[1], sizeof(b[1])),
                       fmt_u64(r->p50, b[2], sizeof(b[2])), fmt_u64(r->p99, b[3], sizeof(b[3])),
                       fmt_u64(r->p999, b[4], sizeof(b[4])), fmt_u64(r->max, b[5], sizeof(b[5])),
                       fmt_double(r->mem_ratio, 2, b[6], sizeof(b[6])),
                       r->target ? r->target : "-", r->note);
        }
}

static void print_targets_text(void)
{
        char v[48], l[48];
        printf("\ntargets (LSA API, wipe on; churn NO_WIPE on the native API; stretch goals in parentheses)\n");
        printf("  %-24s %-58s %12s %10s  %s\n", "id", "target", "measured", "limit", "result");
        unsigned pass = 0, miss = 0, na = 0;
        for (size_t k = 0; k < ntargets; k++) {
                const struct bench_target *t = &targets[k].t;
                const char *res = target_verdict(&targets[k]);
                const char *op = t->op == BENCH_AT_MOST ? "<=" : t->op == BENCH_BELOW ? "<" : ">=";
                /* A ratio to a peer, or the figure itself against an absolute limit. */
                double m = t->ref_name ? bench_ratio(t) : t->figure;
                if (isnan(m))
                        snprintf(v, sizeof(v), "n/a");
                else if (t->ref_name)
                        snprintf(v, sizeof(v), "%.2fx", m);
                else
                        snprintf(v, sizeof(v), "%.4g %s", m, t->unit);
                if (t->ref_name)
                        snprintf(l, sizeof(l), "%s %.2fx", op, t->limit);
                else
                        snprintf(l, sizeof(l), "%s %g %s", op, t->limit, t->unit);
                if (t->info) {
                        printf("  %-24s %-58s %12s %10s  (%s)\n", t->id, t->what, v, l, res);
                        continue;
                }
                printf("  %-24s %-58s %12s %10s  %s\n", t->id, t->what, v, l, res);
                if (!strcmp(res, "PASS"))
                        pass++;
                else if (!strcmp(res, "MISS"))
                        miss++;
                else
                        na++;
        }
        printf("targets: %u PASS, %u MISS, %u n/a\n", pass, miss, na);
}

static void json_str(const char *s)
{
        putchar('"');
        for (; s && *s; s++) {
                unsigned char ch = (unsigned char)*s;
                if (ch == '"' || ch == '\\')
                        printf("\\%c", ch);
                else if (ch < 0x20)
                        printf("\\u%04x", ch);
                else
                        putchar(ch);
        }
        putchar('"');
}

static void json_num(double v)
{
        if (isnan(v) || isinf(v))
                printf("null");
        else
                printf("%.3f", v);
}

static void json_u64(uint64_t v)
{
        if (v == BENCH_NA)
                printf("null");
        else
                printf("%" PRIu64, v);
}

static void print_json(void)
{
        printf("{\n  \"quick\": %s,\n  \"machine\": {\"cpus\": %ld, \"cpu\": ",
               opt.quick ? "true" : "false", machine.cpus);
        json_str(machine.cpu);
        printf(", \"kernel\": ");
        json_str(machine.kernel);
        printf(", \"loadavg\": ");
        json_str(machine.load);
        printf(", \"c_compiler\": ");
        json_str(machine.c_compiler);
        printf(", \"cxx_compiler\": ");
        json_str(bench_boost_compiler());
        printf(", \"glibc\": ");
        json_str(gnu_get_libc_version());
        printf(", \"apr\": ");
        json_str(apr_version_string());
        printf(", \"apr_util\": ");
        json_str(apu_version_string());
        printf(", \"boost\": ");
        json_str(bench_boost_version());
        printf("},\n  \"timer\": {\"source\": \"clock_gettime(CLOCK_MONOTONIC)\", "
               "\"overhead_ns\": ");
        json_num(machine.timer_ns);
        printf("},\n  \"apr_rmm_max_steps\": %" PRIu64 ",\n  \"implementations\": [\n",
               scaled(APR_MAX_STEPS));
        for (size_t i = 0; i < ARRAY_SIZE(all_impls); i++) {
                printf("    {\"name\": ");
                json_str(all_impls[i]->name);
                printf(", \"note\": ");
                json_str(all_impls[i]->note);
                printf("}%s\n", i + 1 < ARRAY_SIZE(all_impls) ? "," : "");
        }
        printf("  ],\n  \"results\": [\n");
        for (size_t i = 0; i < nrows; i++) {
                const struct row *r = &rows[i];
                printf("    {\"workload\": ");
                json_str(r->workload);
                printf(", \"impl\": ");
                json_str(r->impl);
                printf(", \"ops\": %" PRIu64 ", \"ns_per_op\": ", r->ops);
                json_num(r->ns_per_op);
                printf(", \"ops_per_s\": ");
                json_num(r->ops_per_s);
                printf(", \"p50_ns\": ");
                json_u64(r->p50);
                printf(", \"p99_ns\": ");
                json_u64(r->p99);
                printf(", \"p999_ns\": ");
                json_u64(r->p999);
                printf(", \"max_ns\": ");
                json_u64(r->max);
                printf(", \"mem_ratio\": ");
                json_num(r->mem_ratio);
                printf(", \"failed\": %s, \"target\": ", r->failed ? "true" : "false");
                if (r->target)
                        json_str(r->target);
                else
                        printf("null");
                printf(", \"note\": ");
                json_str(r->note);
                printf("}%s\n", i + 1 < nrows ? "," : "");
        }
        printf("  ],\n  \"targets\": [\n");
        for (size_t k = 0; k < ntargets; k++) {
                const struct bench_target *t = &targets[k].t;
                printf("    {\"id\": ");
                json_str(t->id);
                printf(", \"impl\": ");
                json_str(targets[k].impl);
                printf(", \"target\": ");
                json_str(t->what);
                printf(", \"figure\": ");
                json_num(t->figure);
                printf(", \"unit\": ");
                json_str(t->unit);
                printf(", \"ref\": ");
                if (t->ref_name)
                        json_str(t->ref_name);
                else
                        printf("null");
                printf(", \"ref_figure\": ");
                json_num(t->ref_name ? t->ref_figure : NAN);
                printf(", \"ratio\": ");
                json_num(bench_ratio(t));
                printf(", \"limit\": ");
                json_num(t->limit);
                printf(", \"binding\": %s, \"result\": ", t->info ? "false" : "true");
                json_str(target_verdict(&targets[k]));
                printf("}%s\n", k + 1 < ntargets ? "," : "");
        }
        printf("  ]\n}\n");
}

/* ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
        fprintf(f, "usage: bench-section [--quick] [--json] [--only WORKLOAD[,WORKLOAD...]]\n"
                   "  --quick   divide every count by 10, for a fast check\n"
                   "  --json    print the results as JSON instead of a table\n"
                   "  --only    run only these workloads: pairs, churn, latency, threads,\n"
                   "            create-delete (may be repeated)\n"
                   "Progress goes to stderr; the report to stdout.\n");
}

static int parse_only(const char *arg)
{
        char *copy = strdup(arg), *save = NULL;
        if (!copy)
                return -ENOMEM;
        if (opt.only == W_ALL)
                opt.only = 0;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                size_t k;
                for (k = 0; k < ARRAY_SIZE(workload_names); k++)
                        if (!strcmp(tok, workload_names[k].name))
                                break;
                if (k == ARRAY_SIZE(workload_names)) {
                        fprintf(stderr, "bench: unknown workload '%s'\n", tok);
                        free(copy);
                        return -EINVAL;
                }
                opt.only |= workload_names[k].bit;
        }
        free(copy);
        return 0;
}

int main(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--quick")) {
                        opt.quick = true;
                        opt.scale = 10;
                } else if (!strcmp(argv[i], "--json")) {
                        opt.json = true;
                } else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
                        if (parse_only(argv[++i]) < 0)
                                return 2;
                } else if (!strncmp(argv[i], "--only=", 7)) {
                        if (parse_only(argv[i] + 7) < 0)
                                return 2;
                } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
                        usage(stdout);
                        return 0;
                } else {
                        usage(stderr);
                        return 2;
                }
        }
        if (apr_initialize() != APR_SUCCESS) {
                fprintf(stderr, "bench: apr_initialize failed\n");
                return 2;
        }
        atexit(apr_terminate);
        read_machine();
        measure_timer();

        if (opt.only & W_PAIRS)
                for (size_t i = 0; i < ARRAY_SIZE(heap_impls); i++)
                        run_pairs(heap_impls[i]);
        if (opt.only & W_CHURN)
                for (size_t i = 0; i < ARRAY_SIZE(heap_impls); i++)
                        run_churn(heap_impls[i], false);
        if (opt.only & W_LATENCY)
                for (size_t i = 0; i < ARRAY_SIZE(heap_impls); i++)
                        run_churn(heap_impls[i], true);
        if (opt.only & W_THREADS) {
                for (size_t i = 0; i < ARRAY_SIZE(heap_impls); i++)
                        run_threads(heap_impls[i]);
                for (size_t i = 0; i < ARRAY_SIZE(heap_impls); i++)
                        run_thread_pairs(heap_impls[i]);
        }
        if (opt.only & W_CREATE_DELETE)
                for (size_t i = 0; i < ARRAY_SIZE(section_impls); i++)
                        run_create_delete(section_impls[i]);

        evaluate_targets();
        record_results();
        if (opt.json) {
                print_json();
        } else {
                print_header_text();
                print_table();
                print_targets_text();
        }
        for (size_t i = 0; i < nrows; i++)
                if (rows[i].failed)
                        return 1;
        return 0;
}
