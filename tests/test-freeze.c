/* SPDX-License-Identifier: MIT */
/*
 * Frozen sections: once lsashm_section_freeze (or LsashmFreezeSection)
 * returns, no write route changes a byte, for the owner, for root and for
 * another uid, each a real process; allocation and free answer their
 * documented errors; sharing and deletion still work; a freeze that a
 * writable mapping or descriptor elsewhere forbids is refused and changes
 * nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/host-internal.h"
#include "lsashm/ntsecapi.h"
#include "lsashm/ntsecpkg.h"
#include "lsashm/section.h"
#include "section/crash-wipe.h"
#include "section/section-internal.h"
#include "test-util.h"

#define KiB    1024u
#define SIZE   (64u * KiB)
#define BLOCK  (16u * KiB)
#define NOBODY 65534u

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* ---- helpers ---- */

static lsashm_section_t *make(uint64_t max, uint64_t initial, uint32_t flags)
{
        struct lsashm_section_config cfg = {
                .max_size = max, .initial_size = initial, .flags = flags, .name = "freeze"
        };
        lsashm_section_t *s = NULL;
        assert_int_equal(lsashm_section_create(&cfg, &s), 0);
        return s;
}

/* The owner's own descriptor, without lsashm_section_fd (which hands it
 * out, locking the seals: no freeze after that). */
static int owner_fd(lsashm_section_t *s)
{
        return s->fd;
}

static uint64_t id_of(lsashm_section_t *s)
{
        uint64_t id;
        assert_int_equal(section_identity(s, &id), 0);
        return id;
}

static struct lsashm_section_stats stats_of(lsashm_section_t *s)
{
        struct lsashm_section_stats st;
        assert_int_equal(lsashm_section_stats(s, &st), 0);
        return st;
}

static void fill_pattern(uint8_t *p, size_t len, uint8_t salt)
{
        for (size_t i = 0; i < len; i++)
                p[i] = (uint8_t)(i * 31u + salt);
}

static bool has_pattern(const uint8_t *p, size_t len, uint8_t salt)
{
        for (size_t i = 0; i < len; i++)
                if (p[i] != (uint8_t)(i * 31u + salt))
                        return false;
        return true;
}

/* A section with a patterned block, frozen. */
struct frozen {
        lsashm_section_t *s;
        uint8_t *block;
        uint8_t *snapshot; /* every byte of the section after the freeze */
        size_t size;
};

static struct frozen make_frozen(uint32_t flags)
{
        struct frozen f = { .s = make(SIZE, 4 * KiB, flags) };
        void *p;
        assert_int_equal(lsashm_section_alloc(f.s, BLOCK, &p), 0);
        f.block = p;
        fill_pattern(f.block, BLOCK, 7);
        assert_int_equal(lsashm_section_freeze(f.s), 0);
        f.size = stats_of(f.s).committed;
        assert_int_equal(f.size, SIZE); /* committed in full first */
        f.snapshot = malloc(f.size);
        assert_non_null(f.snapshot);
        memcpy(f.snapshot, lsashm_section_base(f.s), f.size);
        assert_true(has_pattern(f.block, BLOCK, 7)); /* the owner still reads what it wrote */
        return f;
}

static void frozen_done(struct frozen *f)
{
        assert_int_equal(lsashm_section_delete(f->s), 0);
        free(f->snapshot);
}

static unsigned seals_of(int fd)
{
        int seals = fcntl(fd, F_GET_SEALS);
        assert_true(seals >= 0);
        return (unsigned)seals;
}

static bool same_bytes(int fd, const uint8_t *want, size_t size)
{
        uint8_t *now = malloc(size);
        bool same = now && pread(fd, now, size, 0) == (ssize_t)size && memcmp(now, want, size) == 0;
        free(now);
        return same;
}

/*
 * Try every way to change the file behind fd (and behind the mapping at
 * base, when not NULL) without crashing; return the name of the first one
 * that was not refused, or NULL. proc_pid/proc_fd name a descriptor of the
 * file in some process, reopened through /proc (O_RDWR, which may itself be
 * refused). Runs in the owner and in children.
 */
static const char *every_write_route(int fd, uint8_t *base, size_t size, pid_t proc_pid, int proc_fd)
{
        const size_t page = tu_page_size();
        unsigned seals_before = (unsigned)fcntl(fd, F_GET_SEALS);

        /* A writable shared mapping. */
        void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED)
                return "mmap PROT_WRITE MAP_SHARED";
        /* A read-only view made writable. */
        m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED)
                return NULL == base ? "mmap PROT_READ failed (cannot test mprotect)" : "mmap PROT_READ failed";
        bool turned = mprotect(m, size, PROT_READ | PROT_WRITE) == 0;
        bool removed = madvise(m, page, MADV_REMOVE) == 0;
        munmap(m, size);
        if (turned)
                return "mprotect of a read-only view";
        if (removed)
                return "madvise MADV_REMOVE";
        /* The mapping we have. */
        if (base && mprotect(base, size, PROT_READ | PROT_WRITE) == 0)
                return "mprotect of the existing mapping";
        /* A private mapping may be written, but only ever privately. */
        m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
                memset(m, 0xee, size);
                munmap(m, size);
        }
        /* System calls on the descriptor. */
        if (lseek(fd, 0, SEEK_SET) == 0 && write(fd, "X", 1) >= 0)
                return "write";
        if (pwrite(fd, "X", 1, 0) >= 0)
                return "pwrite";
        if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)page) == 0)
                return "fallocate PUNCH_HOLE";
        if (fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, (off_t)page) == 0)
                return "fallocate ZERO_RANGE";
        if (ftruncate(fd, (off_t)(size - page)) == 0)
                return "ftruncate shrink";
        if (ftruncate(fd, (off_t)(size + page)) == 0)
                return "ftruncate grow";
        if (ftruncate(fd, 0) == 0)
                return "ftruncate 0";
        /* Seals only ever get added; none can be, now (F_SEAL_SEAL). */
        static const int each_seal[] = { F_SEAL_SEAL,  F_SEAL_SHRINK,       F_SEAL_GROW,
                                         F_SEAL_WRITE, F_SEAL_FUTURE_WRITE, 0x20 /* F_SEAL_EXEC */ };
        for (size_t i = 0; i < sizeof(each_seal) / sizeof(each_seal[0]); i++)
                if (fcntl(fd, F_ADD_SEALS, each_seal[i]) == 0 && !(seals_before & (unsigned)each_seal[i]))
                        return "F_ADD_SEALS";
        if ((unsigned)fcntl(fd, F_GET_SEALS) != seals_before)
                return "the seals changed";
        /* Reopened for writing through /proc. */
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)proc_pid, proc_fd);
        int rw = open(path, O_RDWR | O_CLOEXEC);
        if (rw >= 0) {
                const char *route = NULL;
                m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
                if (m != MAP_FAILED)
                        route = "/proc reopen, then mmap PROT_WRITE";
                else if (pwrite(rw, "X", 1, 0) >= 0)
                        route = "/proc reopen, then pwrite";
                else if (fallocate(rw, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)page) == 0)
                        route = "/proc reopen, then punch";
                else if (ftruncate(rw, 0) == 0)
                        route = "/proc reopen, then ftruncate";
                else if (fcntl(rw, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == 0)
                        route = "/proc reopen, then F_ADD_SEALS";
                close(rw);
                if (route)
                        return route;
        }
        /* Through the process's memory, as a debugger writes (FOLL_FORCE). */
        if (base) {
                int mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
                if (mem >= 0) {
                        ssize_t n = pwrite(mem, "X", 1, (off_t)(uintptr_t)base);
                        close(mem);
                        if (n == 1)
                                return "/proc/self/mem";
                }
                struct iovec local = { .iov_base = "X", .iov_len = 1 }, remote = { .iov_base = base, .iov_len = 1 };
                if (process_vm_writev(getpid(), &local, 1, &remote, 1, 0) == 1)
                        return "process_vm_writev";
        }
        return NULL;
}

/* ---- the write routes ---- */

static void test_freeze_owner_cannot_write(void **state)
{
        (void)state;
        struct frozen f = make_frozen(0);
        int fd = owner_fd(f.s);
        unsigned seals = seals_of(fd);
        assert_true((seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) ==
                    (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
        char perms[5];
        assert_true(tu_maps_perms(lsashm_section_base(f.s), perms));
        assert_string_equal(perms, "r--s");

        const char *route = every_write_route(fd, lsashm_section_base(f.s), f.size, getpid(), fd);
        if (route)
                fail_msg("the owner changed a frozen section through: %s", route);
        assert_true(same_bytes(fd, f.snapshot, f.size));
        assert_memory_equal(lsashm_section_base(f.s), f.snapshot, f.size);
        assert_int_equal(seals_of(fd), seals);
        frozen_done(&f);
}

/* The owner's own pointer: a store faults (in a copy of the owner). */
static void test_freeze_owner_store_faults(void **state)
{
        (void)state;
        struct frozen f = make_frozen(0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                f.block[0] = 0;
                _exit(0);
        }
        int status = tu_wait(pid, 30, NULL);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
        assert_true(same_bytes(owner_fd(f.s), f.snapshot, f.size));
        frozen_done(&f);
}

struct attacker {
        struct frozen *f;
        int fd;      /* a descriptor the attacker holds */
        pid_t owner; /* whose descriptor to reopen through /proc */
        int owner_fd;
};

static void attack(void *arg)
{
        struct attacker *a = arg;
        /* The child inherited the owner's read-only mapping. */
        const char *route = every_write_route(a->fd, lsashm_section_base(a->f->s), a->f->size, a->owner, a->owner_fd);
        if (route) {
                fprintf(stderr, "child %d (uid %u): wrote through %s\n", (int)getpid(), (unsigned)getuid(), route);
                _exit(101);
        }
        /* And its own copy of the owner's descriptor, through /proc/self. */
        route = every_write_route(a->fd, NULL, a->f->size, getpid(), a->fd);
        if (route) {
                fprintf(stderr, "child %d (uid %u): wrote through %s\n", (int)getpid(), (unsigned)getuid(), route);
                _exit(102);
        }
        CHILD_CHECK(same_bytes(a->fd, a->f->snapshot, a->f->size));
}

static void run_attacker(struct frozen *f, int fd, const struct tu_creds *cr)
{
        struct attacker a = { .f = f, .fd = fd, .owner = getpid(), .owner_fd = owner_fd(f->s) };
        char why[128];
        int status = tu_run_child(attack, &a, cr, 60, why, sizeof(why));
        if (!tu_exited_ok(status))
                fail_msg("attacker (uid %u): %s", cr ? (unsigned)cr->uid : (unsigned)getuid(), why);
        assert_true(same_bytes(owner_fd(f->s), f->snapshot, f->size));
        assert_memory_equal(lsashm_section_base(f->s), f->snapshot, f->size);
}

static void test_freeze_root_cannot_write(void **state)
{
        (void)state;
        if (geteuid() != 0)
                skip();
        struct frozen f = make_frozen(0);
        /* With the owner's own (writable) descriptor, and with a read-only share. */
        run_attacker(&f, owner_fd(f.s), NULL);
        struct section_share sh;
        assert_int_equal(section_share(f.s, id_of(f.s), false, &sh), 0);
        run_attacker(&f, sh.fd, NULL);
        close(sh.fd);
        frozen_done(&f);
}

static void test_freeze_other_uid_cannot_write(void **state)
{
        (void)state;
        if (geteuid() != 0)
                skip();
        struct frozen f = make_frozen(0);
        const struct tu_creds nobody = { .uid = NOBODY, .gid = NOBODY };
        /* Even a writable descriptor that leaked to another uid is useless. */
        run_attacker(&f, owner_fd(f.s), &nobody);
        struct section_share sh;
        assert_int_equal(section_share(f.s, id_of(f.s), true, &sh), 0);
        assert_false(sh.writable); /* asked for writing: frozen, so read-only */
        assert_int_equal(fcntl(sh.fd, F_GETFL) & O_ACCMODE, O_RDONLY);
        run_attacker(&f, sh.fd, &nobody);
        close(sh.fd);
        frozen_done(&f);
}

static void test_freeze_readers_only_section(void **state)
{
        (void)state;
        struct frozen f = make_frozen(LSASHM_SECTION_READERS_ONLY);
        assert_true(seals_of(owner_fd(f.s)) & F_SEAL_WRITE);
        const char *route = every_write_route(owner_fd(f.s), lsashm_section_base(f.s), f.size, getpid(), owner_fd(f.s));
        if (route)
                fail_msg("changed through: %s", route);
        assert_true(same_bytes(owner_fd(f.s), f.snapshot, f.size));
        frozen_done(&f);
}

/* ---- what the API answers after a freeze ---- */

static void test_freeze_alloc_free_refused(void **state)
{
        (void)state;
        struct frozen f = make_frozen(0);
        struct lsashm_section_stats before = stats_of(f.s);
        void *p = (void *)1;
        assert_int_equal(lsashm_section_alloc(f.s, 16, &p), -EROFS);
        assert_ptr_equal(p, (void *)1);
        assert_int_equal(lsashm_section_free(f.s, f.block), -EROFS);
        assert_int_equal(lsashm_section_free(f.s, f.block + 16), -EROFS);
        assert_int_equal(lsashm_section_free(f.s, NULL), 0);
        struct lsashm_section_stats after = stats_of(f.s);
        assert_int_equal(after.failed_allocs, before.failed_allocs + 1);
        assert_int_equal(after.refused_frees, before.refused_frees + 2);
        assert_int_equal(after.live_blocks, before.live_blocks);
        assert_int_equal(lsashm_section_check(f.s), 0);
        /* Again: still frozen, nothing changes. */
        assert_int_equal(lsashm_section_freeze(f.s), 0);
        assert_true(has_pattern(f.block, BLOCK, 7));
        frozen_done(&f);
}

static void test_freeze_bad_handles(void **state)
{
        (void)state;
        assert_int_equal(lsashm_section_freeze(NULL), -EINVAL);
        lsashm_section_t *s = make(SIZE, SIZE, 0);
        assert_int_equal(lsashm_section_delete(s), 0);
        assert_int_equal(lsashm_section_freeze(s), -ESTALE);
        int local;
        assert_int_equal(lsashm_shared_memory_freeze(NULL), -ENOENT);
        assert_int_equal(lsashm_shared_memory_freeze(&local), -ENOENT);
}

/* Shared after the freeze: read-only whatever is asked, the seals say so,
 * and a reader sees what the owner wrote. */
static void test_freeze_share_and_delete(void **state)
{
        (void)state;
        struct frozen f = make_frozen(0);
        struct section_share sh;
        assert_int_equal(section_share(f.s, id_of(f.s), false, &sh), 0);
        assert_false(sh.writable);
        assert_true(sh.seals & F_SEAL_WRITE);
        assert_int_equal(sh.size, f.size);
        uint8_t *view = mmap(NULL, sh.size, PROT_READ, MAP_SHARED, sh.fd, 0);
        assert_true(view != MAP_FAILED);
        assert_memory_equal(view, f.snapshot, f.size);

        /* Deleting works, and does not (cannot) wipe: the view still reads
         * the data. Frozen sections are for public data only. */
        int crash_before = (int)crash_wipe_count();
        assert_int_equal(lsashm_section_delete(f.s), 0);
        assert_int_equal((int)crash_wipe_count(), crash_before);
        assert_memory_equal(view, f.snapshot, f.size);
        assert_true(same_bytes(sh.fd, f.snapshot, f.size));
        munmap(view, sh.size);
        close(sh.fd);
        free(f.snapshot);
}

/* The crash wipe would write through the owner's mapping: a frozen section
 * leaves its table, and a wipe after the freeze does not fault. */
static void test_freeze_leaves_crash_wipe(void **state)
{
        (void)state;
        unsigned before = crash_wipe_count();
        lsashm_section_t *s = make(SIZE, SIZE, 0);
        assert_int_equal(crash_wipe_count(), before + 1);
        void *p;
        assert_int_equal(lsashm_section_alloc(s, 64, &p), 0);
        memcpy(p, "public", 7);
        assert_int_equal(lsashm_section_freeze(s), 0);
        assert_int_equal(crash_wipe_count(), before);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                crash_wipe_all();
                _exit(0);
        }
        int status = tu_wait(pid, 30, NULL);
        assert_true(tu_exited_ok(status));
        assert_string_equal(p, "public");
        assert_int_equal(lsashm_section_delete(s), 0);
        assert_int_equal(crash_wipe_count(), before);
}

/* ---- freezes that must be refused ---- */

static void test_freeze_refused_after_writable_descriptor(void **state)
{
        (void)state;
        /* A writable share. */
        lsashm_section_t *s = make(SIZE, 4 * KiB, 0);
        struct section_share sh;
        assert_int_equal(section_share(s, id_of(s), true, &sh), 0);
        assert_true(sh.writable);
        close(sh.fd); /* closed or not: its holder was promised the seals */
        assert_int_equal(lsashm_section_freeze(s), -EBUSY);
        void *p;
        assert_int_equal(lsashm_section_alloc(s, 64, &p), 0);
        memset(p, 1, 64); /* the owner still writes */
        assert_false(seals_of(owner_fd(s)) & F_SEAL_WRITE);
        assert_int_equal(lsashm_section_delete(s), 0);

        /* The owner's descriptor handed out. */
        s = make(SIZE, 4 * KiB, 0);
        assert_true(lsashm_section_fd(s) >= 0);
        assert_int_equal(lsashm_section_freeze(s), -EBUSY);
        assert_int_equal(lsashm_section_alloc(s, 64, &p), 0);
        memset(p, 1, 64);
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* A child forked before the freeze holds a writable copy of the owner's
 * mapping: the kernel refuses F_SEAL_WRITE; the owner is back where it was
 * and may retry once the child is gone. */
static void test_freeze_refused_while_forked_child_maps(void **state)
{
        (void)state;
        unsigned crash_before = crash_wipe_count();
        lsashm_section_t *s = make(SIZE, SIZE, 0);
        void *p;
        assert_int_equal(lsashm_section_alloc(s, 64, &p), 0);
        int go[2];
        assert_int_equal(pipe(go), 0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(go[1]);
                char c;
                (void)read(go[0], &c, 1);
                _exit(0);
        }
        close(go[0]);
        assert_int_equal(lsashm_section_freeze(s), -EBUSY);
        char perms[5];
        assert_true(tu_maps_perms(p, perms));
        assert_string_equal(perms, "rw-s");
        memcpy(p, "still mine", 11);
        assert_int_equal(crash_wipe_count(), crash_before + 1);
        void *q;
        assert_int_equal(lsashm_section_alloc(s, 64, &q), 0);
        assert_int_equal(lsashm_section_free(s, q), 0);

        close(go[1]);
        assert_true(tu_exited_ok(tu_wait(pid, 30, NULL)));
        assert_int_equal(lsashm_section_freeze(s), 0);
        assert_true(tu_maps_perms(p, perms));
        assert_string_equal(perms, "r--s");
        assert_string_equal(p, "still mine");
        assert_int_equal(crash_wipe_count(), crash_before);
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* Readers-only: the owner cannot map it writable again, so a refused
 * freeze leaves its mapping read-only (alloc and free refused) until a
 * retry completes it. */
static void test_freeze_readers_only_refused_then_completed(void **state)
{
        (void)state;
        lsashm_section_t *s = make(SIZE, SIZE, LSASHM_SECTION_READERS_ONLY);
        void *p;
        assert_int_equal(lsashm_section_alloc(s, 64, &p), 0);
        memcpy(p, "data", 5);
        int go[2];
        assert_int_equal(pipe(go), 0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(go[1]);
                char c;
                (void)read(go[0], &c, 1);
                _exit(0);
        }
        close(go[0]);
        assert_int_equal(lsashm_section_freeze(s), -EBUSY);
        void *q;
        assert_int_equal(lsashm_section_alloc(s, 64, &q), -EROFS);
        assert_int_equal(lsashm_section_free(s, p), -EROFS);
        assert_false(seals_of(owner_fd(s)) & F_SEAL_WRITE);
        close(go[1]);
        assert_true(tu_exited_ok(tu_wait(pid, 30, NULL)));
        assert_int_equal(lsashm_section_freeze(s), 0);
        assert_true(seals_of(owner_fd(s)) & F_SEAL_WRITE);
        assert_string_equal(p, "data");
        assert_int_equal(lsashm_section_delete(s), 0);
}

static int (*real_commit)(int fd, uint64_t offset, uint64_t len);

static int refusing_commit(int fd, uint64_t offset, uint64_t len)
{
        (void)fd;
        (void)offset;
        (void)len;
        return -ENOSPC;
}

/* No memory for the rest of the section: refused, nothing changed. */
static void test_freeze_refused_without_memory(void **state)
{
        (void)state;
        lsashm_section_t *s = make(SIZE, 4 * KiB, 0);
        void *p;
        assert_int_equal(lsashm_section_alloc(s, 64, &p), 0);
        real_commit = memfd_section_commit;
        memfd_section_commit = refusing_commit;
        int r = lsashm_section_freeze(s);
        memfd_section_commit = real_commit;
        assert_int_equal(r, -ENOSPC);
        assert_int_equal(stats_of(s).committed, 4 * KiB);
        assert_false(seals_of(owner_fd(s)) & F_SEAL_WRITE);
        memcpy(p, "writable", 9);
        void *q;
        assert_int_equal(lsashm_section_alloc(s, 64, &q), 0);
        /* With memory, it goes through. */
        assert_int_equal(lsashm_section_freeze(s), 0);
        assert_string_equal(p, "writable");
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* ---- the Windows extension ---- */

static void test_freeze_windows_without_host(void **state)
{
        (void)state;
        int local;
        assert_int_equal(LsashmFreezeSection(NULL), STATUS_NOT_FOUND);
        assert_int_equal(LsashmFreezeSection(&local), STATUS_NOT_FOUND);
        PVOID sm = LsaCreateSharedMemory(SIZE, 4 * KiB);
        assert_non_null(sm);
        char *block = LsaAllocateSharedMemory(sm, 256);
        assert_non_null(block);
        strcpy(block, "published");
        char *second = LsaAllocateSharedMemory(sm, 256);
        assert_non_null(second);
        assert_true(second != sm);
        /* Blocks, not the section (the first block may sit at its base). */
        assert_int_equal(LsashmFreezeSection(second), STATUS_NOT_FOUND);
        assert_int_equal(LsashmFreezeSection(block + 16), STATUS_NOT_FOUND);
        assert_int_equal(LsashmFreezeSection(sm), STATUS_SUCCESS);
        assert_int_equal(LsashmFreezeSection(sm), STATUS_SUCCESS);
        assert_null(LsaAllocateSharedMemory(sm, 16));
        struct lsashm_section_stats st;
        assert_int_equal(lsashm_shared_memory_stats(sm, &st), 0);
        uint64_t refused = st.refused_frees;
        LsaFreeSharedMemory(sm, block);
        assert_int_equal(lsashm_shared_memory_stats(sm, &st), 0);
        assert_int_equal(st.refused_frees, refused + 1);
        assert_string_equal(block, "published");
        assert_true(LsaDeleteSharedMemory(sm));
        assert_int_equal(LsashmFreezeSection(sm), STATUS_NOT_FOUND); /* stale */
}

static struct {
        char dir[64];
        char sock[100];
        struct host *host;
        pthread_t thread;
} H;

static void host_log(void *ctx, const char *line)
{
        (void)ctx;
        if (getenv("TEST_VERBOSE"))
                fprintf(stderr, "host: %s\n", line);
}

static void *host_thread(void *arg)
{
        (void)arg;
        host_run(H.host);
        return NULL;
}

static int host_setup(void **state)
{
        (void)state;
        snprintf(H.dir, sizeof(H.dir), "/tmp/lsashm-freeze-XXXXXX");
        if (!mkdtemp(H.dir) || chmod(H.dir, 0755) < 0)
                return -1;
        snprintf(H.sock, sizeof(H.sock), "%s/lsashm.sock", H.dir);
        setenv("LSASHM_SOCKET", H.sock, 1);
        struct host_config cfg = { .socket_path = H.sock,
                                   .listen_fd = -1,
                                   .socket_mode = 0666,
                                   .logon_gid = (gid_t)-1,
                                   .admin_gid = (gid_t)-1,
                                   .log = host_log };
        if (host_create(&cfg, &H.host) < 0)
                return -1;
        return pthread_create(&H.thread, NULL, host_thread, NULL) == 0 ? 0 : -1;
}

static int host_teardown(void **state)
{
        (void)state;
        host_stop(H.host);
        pthread_join(H.thread, NULL);
        host_destroy(H.host);
        H.host = NULL;
        rmdir(H.dir);
        return 0;
}

/* A client maps the section (only if frozen, when asked) and reports: 'r'
 * read-only view, 'w' writable view, 'm' not frozen, 'e' another error. It
 * keeps the view until told to go. */
static void client_maps(ULONGLONG id, bool frozen_only, int report, int go)
{
        HANDLE h;
        CHILD_CHECK(LsaConnectUntrusted(&h) == STATUS_SUCCESS);
        PVOID view;
        ULONG size;
        char verdict = 'e';
        NTSTATUS st = frozen_only ? LsashmMapFrozenSection(h, id, &view, &size) : LsashmMapSection(h, id, &view, &size);
        if (st == STATUS_OBJECT_TYPE_MISMATCH) {
                CHILD_CHECK(view == NULL && size == 0);
                verdict = 'm';
        }
        if (st == STATUS_SUCCESS) {
                char perms[5];
                CHILD_CHECK(tu_maps_perms(view, perms));
                verdict = perms[1] == 'w' ? 'w' : 'r';
        }
        CHILD_CHECK(write(report, &verdict, 1) == 1);
        char c;
        (void)read(go, &c, 1);
        _exit(0);
}

struct client {
        pid_t pid;
        int go;
        char verdict;
};

static struct client client_start_as(ULONGLONG id, void *owner_mapping, bool frozen_only)
{
        int rep[2], go[2];
        assert_int_equal(pipe(rep), 0);
        assert_int_equal(pipe(go), 0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* Nothing of the parent's, such as other clients' pipes. */
                tu_close_fds_except(rep[1], go[0]);
                /* A client is another program: no copy of the owner's
                 * (writable) mapping, which fork gave us. */
                CHILD_CHECK(munmap(owner_mapping, SIZE) == 0);
                tu_become(&(struct tu_creds){ .uid = NOBODY, .gid = NOBODY });
                client_maps(id, frozen_only, rep[1], go[0]);
        }
        close(rep[1]);
        close(go[0]);
        struct client c = { .pid = pid, .go = go[1], .verdict = '?' };
        assert_int_equal(read(rep[0], &c.verdict, 1), 1);
        close(rep[0]);
        return c;
}

static struct client client_start(ULONGLONG id, void *owner_mapping)
{
        return client_start_as(id, owner_mapping, false);
}

static void client_stop(struct client *c)
{
        close(c->go);
        int status = tu_wait(c->pid, 30, NULL);
        char why[128];
        if (!tu_exited_ok(status))
                fail_msg("client: %s", tu_describe_status(status, why, sizeof(why)));
}

static void test_freeze_windows_in_host(void **state)
{
        (void)state;
        if (geteuid() != 0)
                skip();
        assert_int_equal(LsashmFreezeSection(NULL), STATUS_NOT_FOUND);
        /* A section the host does not know (LsaCreateSharedMemory directly). */
        PVOID direct = LsaCreateSharedMemory(SIZE, SIZE);
        assert_non_null(direct);
        assert_int_equal(LsashmFreezeSection(direct), STATUS_NOT_FOUND);
        assert_true(LsaDeleteSharedMemory(direct));

        /* Another package's section: refused; its owner may. */
        struct host_package *here = host_active_package;
        struct host_package *other = (struct host_package *)&H; /* an identity, never dereferenced */
        host_active_package = other;
        PVOID theirs = host_CreateSharedMemory(SIZE, 4 * KiB);
        host_active_package = here;
        assert_non_null(theirs);
        assert_int_equal(LsashmFreezeSection(theirs), STATUS_ACCESS_DENIED);
        host_active_package = other;
        assert_int_equal(LsashmFreezeSection(theirs), STATUS_SUCCESS);
        host_active_package = here;
        assert_true(host_DeleteSharedMemory(theirs));
        assert_int_equal(LsashmFreezeSection(theirs), STATUS_NOT_FOUND); /* stale */

        /* A read-only client mapping it meanwhile is no obstacle; after the
         * freeze even a READ_WRITE share gives read-only views. */
        PVOID sm = host_CreateSharedMemory(SIZE, 4 * KiB);
        assert_non_null(sm);
        char *block = host_AllocateSharedMemory(sm, 64);
        assert_non_null(block);
        strcpy(block, "public");
        assert_int_equal(LsashmShareSection(sm, LSASHM_SHARE_READ), STATUS_SUCCESS);
        ULONGLONG id = LsashmSectionId(sm);
        struct client reader = client_start(id, sm);
        assert_int_equal(reader.verdict, 'r');
        /* A reader that relies on the freeze is refused a section that is
         * not frozen yet, and the host takes the mapping back. */
        struct client careful = client_start_as(id, sm, true);
        assert_int_equal(careful.verdict, 'm');
        client_stop(&careful);
        assert_int_equal(LsashmFreezeSection(sm), STATUS_SUCCESS);
        careful = client_start_as(id, sm, true);
        assert_int_equal(careful.verdict, 'r');
        client_stop(&careful);
        assert_int_equal(LsashmShareSection(sm, LSASHM_SHARE_READ_WRITE), STATUS_SUCCESS);
        struct client late = client_start(id, sm);
        assert_int_equal(late.verdict, 'r');
        client_stop(&reader);
        client_stop(&late);
        assert_null(host_AllocateSharedMemory(sm, 16));
        host_FreeSharedMemory(sm, block); /* ignored */
        assert_string_equal(block, "public");
        assert_true(host_DeleteSharedMemory(sm));

        /* A client with a writable view: refused, while it maps and after. */
        sm = host_CreateSharedMemory(SIZE, 4 * KiB);
        assert_non_null(sm);
        block = host_AllocateSharedMemory(sm, 64);
        assert_int_equal(LsashmShareSection(sm, LSASHM_SHARE_READ_WRITE), STATUS_SUCCESS);
        struct client writer = client_start(LsashmSectionId(sm), sm);
        assert_int_equal(writer.verdict, 'w');
        assert_int_equal(LsashmFreezeSection(sm), STATUS_SHARING_VIOLATION);
        strcpy(block, "still writable");
        client_stop(&writer);
        assert_int_equal(LsashmFreezeSection(sm), STATUS_SHARING_VIOLATION);
        assert_non_null(host_AllocateSharedMemory(sm, 16));
        assert_true(host_DeleteSharedMemory(sm));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_freeze_owner_cannot_write),
                cmocka_unit_test(test_freeze_owner_store_faults),
                cmocka_unit_test(test_freeze_root_cannot_write),
                cmocka_unit_test(test_freeze_other_uid_cannot_write),
                cmocka_unit_test(test_freeze_readers_only_section),
                cmocka_unit_test(test_freeze_alloc_free_refused),
                cmocka_unit_test(test_freeze_bad_handles),
                cmocka_unit_test(test_freeze_share_and_delete),
                cmocka_unit_test(test_freeze_leaves_crash_wipe),
                cmocka_unit_test(test_freeze_refused_after_writable_descriptor),
                cmocka_unit_test(test_freeze_refused_while_forked_child_maps),
                cmocka_unit_test(test_freeze_readers_only_refused_then_completed),
                cmocka_unit_test(test_freeze_refused_without_memory),
                cmocka_unit_test(test_freeze_windows_without_host),
                cmocka_unit_test_setup_teardown(test_freeze_windows_in_host, host_setup, host_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
