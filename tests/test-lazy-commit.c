/* SPDX-License-Identifier: MIT */
/*
 * Create commits nothing: a section's initial_size is committed by its first
 * growth (an allocation, a read-only share, lsashm_section_fd, a freeze).
 * A section nobody allocates from costs no page; a refused first commit is
 * that call's clean error; a client that maps a section before its first
 * allocation sees initial_size of zeros, committed for it then.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsashm/ntsecpkg.h"
#include "section/crash-wipe.h"
#include "section/section-internal.h"
#include "test-util.h"

#define KiB     ((uint64_t)1024)
#define INITIAL (64 * KiB)
#define RESERVE (1024 * KiB)

static int (*real_commit)(int, uint64_t, uint64_t);
static int commits_refused;
static bool refuse;

static int refusing_commit(int fd, uint64_t offset, uint64_t len)
{
        if (refuse) {
                commits_refused++;
                return -ENOSPC; /* a full tmpfs or a memory limit */
        }
        return real_commit(fd, offset, len);
}

static int setup(void **state)
{
        (void)state;
        real_commit = memfd_section_commit;
        memfd_section_commit = refusing_commit;
        commits_refused = 0;
        refuse = false;
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        memfd_section_commit = real_commit;
        return 0;
}

static lsashm_section_t *make(uint64_t max, uint64_t initial, uint32_t flags)
{
        struct lsashm_section_config cfg = {
                .max_size = max, .initial_size = initial, .flags = flags, .name = "lazy-commit"
        };
        lsashm_section_t *s = NULL;
        assert_int_equal(lsashm_section_create(&cfg, &s), 0);
        return s;
}

static struct lsashm_section_stats stats_of(lsashm_section_t *s)
{
        struct lsashm_section_stats st;
        assert_int_equal(lsashm_section_stats(s, &st), 0);
        return st;
}

/* A descriptor of the section's file that outlives the section. */
static int dup_of_file(lsashm_section_t *s)
{
        section_lock(s);
        int fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
        section_lock_release(s);
        assert_true(fd >= 0);
        return fd;
}

static void assert_file_holds(int fd, uint64_t size)
{
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal((uint64_t)st.st_size, size);
        assert_true((uint64_t)st.st_blocks * 512u <= size);
}

static void test_lazy_create_delete_leaves_no_page(void **state)
{
        (void)state;
        const uint32_t flags[] = { 0, LSASHM_SECTION_NO_WIPE, LSASHM_SECTION_READERS_ONLY };
        for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
                unsigned live = crash_wipe_count();
                lsashm_section_t *s = make(INITIAL, INITIAL, flags[i]);
                int fd = dup_of_file(s);
                struct lsashm_section_stats st = stats_of(s);
                assert_int_equal(st.committed, 0);
                assert_int_equal(st.peak_committed, 0);
                assert_int_equal(st.reserved, INITIAL);
                /* Sealed from the start all the same: nobody may shrink it. */
                assert_true(fcntl(fd, F_GET_SEALS) & F_SEAL_SHRINK);
                assert_file_holds(fd, 0);
                /* Known to the crash wipe (a growth is wiped on a crash),
                 * with nothing to wipe yet. */
                assert_int_equal(crash_wipe_count(), live + (flags[i] & LSASHM_SECTION_NO_WIPE ? 0 : 1));
                assert_int_equal(lsashm_section_delete(s), 0);
                assert_int_equal(crash_wipe_count(), live);
                assert_file_holds(fd, 0);
                close(fd);
        }
        assert_int_equal(commits_refused, 0);
}

static void test_lazy_first_alloc_commits_initial(void **state)
{
        (void)state;
        lsashm_section_t *s = make(RESERVE, INITIAL, 0);
        int fd = dup_of_file(s);
        void *p;
        assert_int_equal(lsashm_section_alloc(s, 100, &p), 0);
        assert_ptr_equal(p, lsashm_section_base(s));
        assert_true(tu_all_zero(p, 100));
        struct lsashm_section_stats st = stats_of(s);
        /* Exactly the hint, as create would have committed it. */
        assert_int_equal(st.committed, INITIAL);
        assert_int_equal(st.peak_committed, INITIAL);
        assert_file_holds(fd, INITIAL);
        /* A first request larger than the hint commits what it needs. */
        lsashm_section_t *big = make(RESERVE, 4 * KiB, 0);
        assert_int_equal(lsashm_section_alloc(big, 200 * KiB, &p), 0);
        assert_true(stats_of(big).committed >= 200 * KiB);
        assert_true(stats_of(big).committed <= RESERVE);
        assert_int_equal(lsashm_section_check(big), 0);
        assert_int_equal(lsashm_section_delete(big), 0);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
        close(fd);
}

static void test_lazy_first_alloc_refused_cleanly(void **state)
{
        (void)state;
        lsashm_section_t *s = make(RESERVE, INITIAL, 0);
        int fd = dup_of_file(s);
        refuse = true;
        void *p = (void *)0x1;
        assert_int_equal(lsashm_section_alloc(s, 100, &p), -ENOSPC);
        assert_ptr_equal(p, (void *)0x1);
        assert_true(commits_refused > 0);
        struct lsashm_section_stats st = stats_of(s);
        assert_int_equal(st.committed, 0);
        assert_int_equal(st.live_blocks, 0);
        assert_int_equal(st.failed_allocs, 1);
        assert_file_holds(fd, 0);
        assert_int_equal(lsashm_section_check(s), 0);
        /* Memory is back: the same request commits the hint. */
        refuse = false;
        assert_int_equal(lsashm_section_alloc(s, 100, &p), 0);
        assert_int_equal(stats_of(s).committed, INITIAL);
        assert_int_equal(lsashm_section_delete(s), 0);
        close(fd);

        /* Through the Windows calls: NULL, and the section stays usable. */
        PVOID base = LsaCreateSharedMemory(RESERVE, INITIAL);
        assert_non_null(base);
        refuse = true;
        assert_null(LsaAllocateSharedMemory(base, 100));
        refuse = false;
        PVOID q = LsaAllocateSharedMemory(base, 100);
        assert_ptr_equal(q, base);
        LsaFreeSharedMemory(base, q);
        assert_true(LsaDeleteSharedMemory(base));
}

/* A reader that maps the section before any allocation: initial_size of
 * zeros, committed for it, and it sees what the owner writes later. */
static void test_lazy_reader_before_first_alloc(void **state)
{
        (void)state;
        lsashm_section_t *s = make(RESERVE, INITIAL, 0);
        uint64_t id;
        assert_int_equal(section_identity(s, &id), 0);

        /* No memory for it: the share fails, nothing changed, nothing leaks. */
        int fds = tu_count_fds();
        refuse = true;
        struct section_share sh = { .fd = -1 };
        assert_int_equal(section_share(s, id, false, &sh), -ENOSPC);
        refuse = false;
        assert_int_equal(sh.fd, -1);
        assert_int_equal(tu_count_fds(), fds);
        assert_int_equal(stats_of(s).committed, 0);

        assert_int_equal(section_share(s, id, false, &sh), 0);
        assert_false(sh.writable);
        assert_int_equal(sh.size, INITIAL);
        assert_int_equal(stats_of(s).committed, INITIAL);
        assert_file_holds(sh.fd, INITIAL);
        unsigned char *view = mmap(NULL, sh.size, PROT_READ, MAP_SHARED, sh.fd, 0);
        assert_true(view != MAP_FAILED);
        assert_true(tu_all_zero(view, sh.size));
        /* The owner's first allocation finds the hint committed already. */
        unsigned char *p;
        assert_int_equal(lsashm_section_alloc(s, 64, (void **)&p), 0);
        memset(p, 0x5a, 64);
        assert_int_equal(stats_of(s).committed, INITIAL);
        assert_int_equal(view[(uintptr_t)p - (uintptr_t)lsashm_section_base(s)], 0x5a);
        munmap(view, sh.size);
        close(sh.fd);
        assert_int_equal(lsashm_section_delete(s), 0);

        /* Created with no initial size: still nothing to map. */
        s = make(RESERVE, 0, 0);
        assert_int_equal(section_identity(s, &id), 0);
        assert_int_equal(section_share(s, id, false, &sh), -ENODATA);
        assert_int_equal(stats_of(s).committed, 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* A readers-only section is sealed against new writable mappings at create:
 * its first growth still works through the owner's own mapping. */
static void test_lazy_readers_only_first_growth(void **state)
{
        (void)state;
        lsashm_section_t *s = make(RESERVE, INITIAL, LSASHM_SECTION_READERS_ONLY);
        int fd = dup_of_file(s);
        assert_true(fcntl(fd, F_GET_SEALS) & F_SEAL_FUTURE_WRITE);
        unsigned char *p;
        assert_int_equal(lsashm_section_alloc(s, 1000, (void **)&p), 0);
        memset(p, 0x11, 1000);
        assert_int_equal(stats_of(s).committed, INITIAL);
        assert_file_holds(fd, INITIAL);
        assert_int_equal(lsashm_section_free(s, p), 0);
        assert_true(tu_all_zero(p, 1000));
        assert_int_equal(lsashm_section_delete(s), 0);
        close(fd);
}

/* The growths that need all of it commit all of it from nothing. */
static void test_lazy_fd_and_freeze_commit_all(void **state)
{
        (void)state;
        lsashm_section_t *s = make(RESERVE, INITIAL, 0);
        int fd = lsashm_section_fd(s);
        assert_true(fd >= 0);
        assert_int_equal(stats_of(s).committed, RESERVE);
        assert_file_holds(fd, RESERVE);
        assert_true(fcntl(fd, F_GET_SEALS) & F_SEAL_GROW);
        assert_int_equal(lsashm_section_delete(s), 0);

        s = make(RESERVE, INITIAL, 0);
        assert_int_equal(lsashm_section_freeze(s), 0);
        assert_int_equal(stats_of(s).committed, RESERVE);
        assert_true(tu_all_zero(lsashm_section_base(s), RESERVE));
        assert_int_equal(lsashm_section_delete(s), 0);

        /* Refused: nothing committed, the section as it was. */
        s = make(RESERVE, INITIAL, 0);
        refuse = true;
        assert_int_equal(lsashm_section_fd(s), -ENOSPC);
        assert_int_equal(lsashm_section_freeze(s), -ENOSPC);
        refuse = false;
        assert_int_equal(stats_of(s).committed, 0);
        void *p;
        assert_int_equal(lsashm_section_alloc(s, 10, &p), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_lazy_create_delete_leaves_no_page, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lazy_first_alloc_commits_initial, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lazy_first_alloc_refused_cleanly, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lazy_reader_before_first_alloc, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lazy_readers_only_first_growth, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lazy_fd_and_freeze_commit_all, setup, teardown),
        };
        return cmocka_run_group_tests_name("lazy-commit", tests, NULL, NULL);
}
