/* SPDX-License-Identifier: MIT */
/*
 * Nobody but the owner decides how much memory a section costs.
 *
 * A section reserves address space for its whole maximum size but commits
 * (allocates) only a prefix. A client that gets a descriptor, or a view it
 * can mremap, may map far more than that prefix. Touching such a page must
 * not allocate it: the memfd is only as large as the commit, so the touch
 * is a SIGBUS in the client alone, and the file's blocks never exceed what
 * the owner committed. A writable descriptor could extend the file, so it
 * is handed out only for a section committed in full and sealed against
 * growing. Each path a section takes to a client is tried from real
 * processes running as other uids: the section API's own shares, the
 * sharing server, and the package host (a package section and a reply
 * section).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/host-internal.h"
#include "lsashm/ntsecapi.h"
#include "lsashm/ntsecpkg.h"
#include "lsashm/section.h"
#include "lsashm/share.h"
#include "packages/test-package-protocol.h"
#include "section/section-internal.h"
#include "share/fdpass.h"
#include "share/wire.h"
#include "test-util.h"

#ifndef TEST_PACKAGE_DIR
#error "TEST_PACKAGE_DIR: where tests/packages built test-pkg-*.so"
#endif

#define KiB 1024u
#define MiB (1024u * KiB)
#define NOBODY 65534u
#define WRITER 65533u

#define RESERVE (4u * MiB)
#define INITIAL (64u * KiB)

/* ---- probes ---------------------------------------------------------- */

/* Touch addr in a forked child; the signal that killed it, or 0. */
static void read_one_byte(void *addr)
{
        (void)*(volatile unsigned char *)addr;
}

static void write_one_byte(void *addr)
{
        *(volatile unsigned char *)addr = 0x5a;
}

static int touch_signal(volatile unsigned char *addr, bool write)
{
        char why[96];
        int st = tu_run_child(write ? write_one_byte : read_one_byte, (void *)(uintptr_t)addr, NULL, 30, why,
                              sizeof(why));
        return st != -1 && WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

/* The whole attack from a mapping of len bytes whose first committed bytes
 * are backed: every page past them, read (and written when writable), is a
 * SIGBUS. Whether a page was allocated is asked of the file's owner
 * (assert_file_bounded): mincore() pretends every page of a file the caller
 * cannot write is resident. */
static bool attack_past_commit(unsigned char *map, size_t len, size_t committed, bool writable)
{
        const size_t pg = tu_page_size();
        const size_t offsets[] = { committed, committed + pg, committed + 17 * pg, len / 2, len - 1 };
        for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
                if (offsets[i] < committed || offsets[i] >= len)
                        continue;
                if (touch_signal(map + offsets[i], false) != SIGBUS) {
                        fprintf(stderr, "read at %#zx of %#zx (committed %#zx): no SIGBUS\n", offsets[i], len,
                                committed);
                        return false;
                }
                if (writable && touch_signal(map + offsets[i], true) != SIGBUS) {
                        fprintf(stderr, "write at %#zx: no SIGBUS\n", offsets[i]);
                        return false;
                }
        }
        return true;
}

/* The file's size is the commit and its blocks never exceed it. */
static void assert_file_bounded(int fd, uint64_t committed)
{
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal((uint64_t)st.st_size, committed);
        if ((uint64_t)st.st_blocks * 512u > committed)
                fail_msg("the memfd holds %" PRIu64 " bytes, %" PRIu64 " committed", (uint64_t)st.st_blocks * 512u,
                         committed);
}

static void become(uid_t uid)
{
        tu_become(&(struct tu_creds){ .uid = uid, .gid = uid });
}

/* The parent's ends of the two pipes, so that a child that dies is seen
 * as an end of file, never waited for. */
static void keep_parent_ends(int to_child[2], int to_parent[2])
{
        close(to_child[0]);
        close(to_parent[1]);
        to_child[0] = to_parent[1] = -1;
}

static void close_pipes(int to_child[2], int to_parent[2])
{
        for (int i = 0; i < 2; i++) {
                if (to_child[i] >= 0)
                        close(to_child[i]);
                if (to_parent[i] >= 0)
                        close(to_parent[i]);
        }
}

static void assert_child_ok(pid_t pid, const char *what)
{
        char why[64];
        int st = tu_wait(pid, 60, NULL);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail_msg("%s: child %s", what, tu_describe_status(st, why, sizeof(why)));
}

static struct lsashm_section *make(uint64_t max, uint64_t initial, uint32_t flags)
{
        struct lsashm_section_config cfg = { .max_size = max, .initial_size = initial, .flags = flags,
                                             .name = "commit-bound" };
        lsashm_section_t *s = NULL;
        assert_int_equal(lsashm_section_create(&cfg, &s), 0);
        return s;
}

/* Create commits nothing: the first allocation commits initial_size. Grow a
 * section as that first allocation would, and leave no block behind. */
static void first_growth(lsashm_section_t *s)
{
        void *p = NULL;
        assert_int_equal(lsashm_section_alloc(s, 1, &p), 0);
        assert_int_equal(lsashm_section_free(s, p), 0);
}

static struct lsashm_section_stats stats_of(lsashm_section_t *s)
{
        struct lsashm_section_stats st;
        assert_int_equal(lsashm_section_stats(s, &st), 0);
        return st;
}

/* The owner's descriptor, without lsashm_section_fd (which commits all). */
static int owner_fd(struct lsashm_section *s)
{
        section_lock(s);
        int fd = s->fd;
        section_lock_release(s);
        return fd;
}

static unsigned seals_of(int fd)
{
        int seals = fcntl(fd, F_GET_SEALS);
        assert_true(seals >= 0);
        return (unsigned)seals;
}

/* ---- the section API ------------------------------------------------- */

static void test_file_is_the_commit(void **state)
{
        (void)state;
        struct lsashm_section *s = make(RESERVE, INITIAL, 0);
        int fd = owner_fd(s);
        /* Created: an empty file, already sealed against shrinking; the
         * first allocation commits initial_size. */
        assert_file_bounded(fd, 0);
        assert_true(seals_of(fd) & F_SEAL_SHRINK);
        first_growth(s);
        assert_file_bounded(fd, INITIAL);
        unsigned seals = seals_of(fd);
        assert_true(seals & F_SEAL_SHRINK);
        assert_false(seals & (F_SEAL_GROW | F_SEAL_SEAL));

        /* Growth extends the file by exactly what it commits. */
        void *p;
        assert_int_equal(lsashm_section_alloc(s, 300 * KiB, &p), 0);
        memset(p, 1, 300 * KiB);
        uint64_t committed = stats_of(s).committed;
        assert_true(committed > INITIAL && committed < RESERVE);
        assert_file_bounded(fd, committed);

        /* Full: sealed against growing at once, no writable share needed.
         * The seals stay open (a freeze still needs F_SEAL_WRITE) until a
         * writable descriptor leaves. */
        assert_int_equal(lsashm_section_alloc(s, RESERVE - committed, &p), 0);
        assert_int_equal(stats_of(s).committed, RESERVE);
        assert_true((seals_of(fd) & (F_SEAL_GROW | F_SEAL_SEAL)) == F_SEAL_GROW);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);

        /* Asked full at create: sealed against growing by the first
         * allocation, which commits it all; created empty: an empty file. */
        s = make(RESERVE, RESERVE, 0);
        assert_false(seals_of(owner_fd(s)) & F_SEAL_GROW);
        assert_file_bounded(owner_fd(s), 0);
        first_growth(s);
        assert_int_equal(stats_of(s).committed, RESERVE);
        assert_true((seals_of(owner_fd(s)) & (F_SEAL_GROW | F_SEAL_SEAL)) == F_SEAL_GROW);
        assert_int_equal(lsashm_section_delete(s), 0);
        s = make(RESERVE, 0, LSASHM_SECTION_READERS_ONLY);
        assert_file_bounded(owner_fd(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* A read-only share to another uid: it maps the whole reserve, touches past
 * the commit, tries every way to grow the file; then the owner grows the
 * section and the client sees the new bytes through its existing mapping. */
static void read_only_share(uint32_t flags)
{
        struct lsashm_section *s = make(RESERVE, INITIAL, flags);
        uint64_t id;
        assert_int_equal(section_identity(s, &id), 0);
        struct section_share sh;
        assert_int_equal(section_share(s, id, false, &sh), 0);
        assert_false(sh.writable);
        assert_int_equal(sh.size, INITIAL);
        assert_false(sh.seals & F_SEAL_GROW);
        int to_child[2], to_parent[2];
        assert_int_equal(pipe(to_child), 0);
        assert_int_equal(pipe(to_parent), 0);

        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                become(NOBODY);
                unsigned char *map = mmap(NULL, RESERVE, PROT_READ, MAP_SHARED, sh.fd, 0);
                CHILD_CHECK(map != MAP_FAILED);
                CHILD_CHECK(attack_past_commit(map, RESERVE, INITIAL, false));
                errno = 0;
                CHILD_CHECK(ftruncate(sh.fd, RESERVE) < 0 && (errno == EINVAL || errno == EBADF));
                CHILD_CHECK(fallocate(sh.fd, 0, 0, RESERVE) < 0 && errno == EBADF);
                CHILD_CHECK(fcntl(sh.fd, F_ADD_SEALS, F_SEAL_SEAL) < 0 && errno == EPERM);
                /* the mode keeps another uid from reopening it writable */
                char path[64];
                snprintf(path, sizeof(path), "/proc/self/fd/%d", sh.fd);
                CHILD_CHECK(open(path, O_RDWR) < 0 && errno == EACCES);
                CHILD_CHECK(tu_pipe_send(to_parent[1]));
                CHILD_CHECK(tu_pipe_recv(to_child[0]));
                /* grown by the owner: the old mapping shows the new bytes */
                struct stat st;
                CHILD_CHECK(fstat(sh.fd, &st) == 0 && (uint64_t)st.st_size > INITIAL);
                CHILD_CHECK(map[st.st_size - 1] == 0xa5);
                CHILD_CHECK(attack_past_commit(map, RESERVE, (size_t)st.st_size, false));
                _exit(0);
        }
        keep_parent_ends(to_child, to_parent);
        if (!tu_pipe_recv(to_parent[0]))
                assert_child_ok(pid, "client before its report");
        assert_file_bounded(owner_fd(s), INITIAL);
        assert_int_equal(stats_of(s).committed, INITIAL);

        unsigned char *p;
        assert_int_equal(lsashm_section_alloc(s, INITIAL + 100 * KiB, (void **)&p), 0);
        uint64_t committed = stats_of(s).committed;
        assert_true(committed > INITIAL && committed < RESERVE);
        memset((unsigned char *)lsashm_section_base(s) + committed - 4096, 0xa5, 4096);
        assert_true(tu_pipe_send(to_child[1]));
        assert_child_ok(pid, "read-only client");
        assert_file_bounded(owner_fd(s), committed);
        close_pipes(to_child, to_parent);
        close(sh.fd);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_read_only_share_bounded(void **state)
{
        (void)state;
        read_only_share(0);
}

static void test_readers_only_share_bounded(void **state)
{
        (void)state;
        read_only_share(LSASHM_SECTION_READERS_ONLY);
}

/* What a client that holds a writable descriptor tries. */
static bool cannot_grow(int fd, uint64_t size)
{
        const uint64_t pg = tu_page_size();
        struct stat st;
        if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != size)
                return false;
        if (ftruncate(fd, (off_t)(size + pg)) == 0 || errno != EPERM)
                return false;
        if (fallocate(fd, 0, (off_t)size, (off_t)pg) == 0 || errno != EPERM)
                return false;
        if (fallocate(fd, 0, 0, (off_t)(size + pg)) == 0 || errno != EPERM)
                return false;
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0 || errno != EPERM)
                return false;
        return fstat(fd, &st) == 0 && (uint64_t)st.st_size == size;
}

static void test_writable_share_committed_in_full(void **state)
{
        (void)state;
        struct lsashm_section *s = make(RESERVE, INITIAL, 0);
        uint64_t id;
        assert_int_equal(section_identity(s, &id), 0);
        struct section_share sh;
        assert_int_equal(section_share(s, id, true, &sh), 0);
        assert_true(sh.writable);
        assert_int_equal(sh.size, RESERVE);
        assert_int_equal(stats_of(s).committed, RESERVE);
        assert_true((sh.seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) ==
                    (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));

        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                become(WRITER);
                CHILD_CHECK(cannot_grow(sh.fd, RESERVE));
                unsigned char *map = mmap(NULL, 2 * RESERVE, PROT_READ | PROT_WRITE, MAP_SHARED, sh.fd, 0);
                CHILD_CHECK(map != MAP_FAILED);
                map[RESERVE - 1] = 1;
                CHILD_CHECK(attack_past_commit(map, 2 * RESERVE, RESERVE, true));
                _exit(0);
        }
        assert_child_ok(pid, "read-write client");
        assert_file_bounded(owner_fd(s), RESERVE);
        close(sh.fd);
        /* The owner still allocates all of it. */
        void *p;
        assert_int_equal(lsashm_section_alloc(s, RESERVE - 4096, &p), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* The owner's own descriptor is writable too. */
static void test_owner_fd_committed_in_full(void **state)
{
        (void)state;
        struct lsashm_section *s = make(RESERVE, INITIAL, 0);
        int fd = lsashm_section_fd(s);
        assert_true(fd >= 0);
        assert_int_equal(stats_of(s).committed, RESERVE);
        assert_true(cannot_grow(fd, RESERVE));
        assert_int_equal(lsashm_section_delete(s), 0);

        PVOID base = LsaCreateSharedMemory(RESERVE, INITIAL);
        assert_non_null(base);
        fd = lsashm_shared_memory_fd(base);
        assert_true(fd >= 0);
        assert_true(cannot_grow(fd, RESERVE));
        assert_int_equal(LsaDeleteSharedMemory(base), TRUE);
}

static int (*real_commit)(int, uint64_t, uint64_t);
static int refusing_commit(int fd, uint64_t offset, uint64_t len)
{
        (void)fd;
        (void)offset;
        (void)len;
        return -ENOSPC;
}

/* No memory for the rest: the writable share fails cleanly, nothing leaks,
 * the section is as it was, and read-only shares still work. */
static void test_writable_share_fails_without_memory(void **state)
{
        (void)state;
        struct lsashm_section *s = make(RESERVE, INITIAL, 0);
        first_growth(s);
        uint64_t id;
        assert_int_equal(section_identity(s, &id), 0);
        int fds = tu_count_fds();
        real_commit = memfd_section_commit;
        memfd_section_commit = refusing_commit;
        struct section_share sh = { .fd = -1 };
        int r = section_share(s, id, true, &sh);
        int fd_r = lsashm_section_fd(s);
        memfd_section_commit = real_commit;
        assert_int_equal(r, -ENOSPC);
        assert_int_equal(fd_r, -ENOSPC);
        assert_int_equal(sh.fd, -1);
        assert_int_equal(tu_count_fds(), fds);
        assert_int_equal(stats_of(s).committed, INITIAL);
        assert_file_bounded(owner_fd(s), INITIAL);
        assert_false(seals_of(owner_fd(s)) & F_SEAL_GROW);
        assert_int_equal(section_share(s, id, false, &sh), 0);
        close(sh.fd);
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* ---- the sharing server ---------------------------------------------- */

static struct {
        char dir[64];
        char path[100];
        lsashm_server_t *srv;
        pthread_t thread;
} S;

static void quiet_log(void *ctx, const char *line)
{
        (void)ctx;
        (void)line;
}

static void *server_thread(void *arg)
{
        (void)arg;
        lsashm_server_run(S.srv);
        return NULL;
}

static void server_start(void)
{
        snprintf(S.dir, sizeof(S.dir), "/tmp/lsashm-commit-XXXXXX");
        assert_non_null(mkdtemp(S.dir));
        assert_int_equal(chmod(S.dir, 0711), 0);
        snprintf(S.path, sizeof(S.path), "%s/share.sock", S.dir);
        struct lsashm_server_config cfg = { .path = S.path, .listen_fd = -1, .log = quiet_log };
        assert_int_equal(lsashm_server_create(&cfg, &S.srv), 0);
        assert_int_equal(pthread_create(&S.thread, NULL, server_thread, NULL), 0);
}

static void server_stop(void)
{
        if (!S.srv)
                return;
        lsashm_server_stop(S.srv);
        pthread_join(S.thread, NULL);
        lsashm_server_destroy(S.srv);
        S.srv = NULL;
        rmdir(S.dir);
}

/* Also after a failed assertion, so that the next test starts clean. */
static int server_teardown(void **state)
{
        (void)state;
        server_stop();
        return 0;
}

/* OPEN on the client's socket by hand, to get the descriptor itself; the
 * reply is checked as the library checks it. */
static int raw_open(lsashm_client_t *c, const char *name, bool readonly, struct wire_open_reply *ret)
{
        struct wire_message req = { .type = WIRE_OPEN };
        req.open.request = 777;
        req.open.flags = readonly ? WIRE_OPEN_READONLY : 0;
        req.open.name_len = (uint8_t)strlen(name);
        memcpy(req.open.name, name, req.open.name_len);
        uint8_t buf[WIRE_MAX_MESSAGE];
        int sock = lsashm_client_fd(c);
        if (fdpass_send(sock, buf, wire_encode(&req, buf), -1, false) < 0)
                return -1;
        int fd = -1;
        struct wire_message m;
        ssize_t n = fdpass_recv(sock, buf, sizeof(buf), &fd, true, false);
        if (n <= 0 || wire_decode(buf, (size_t)n, 0, &m) < 0 || m.type != WIRE_OPEN_REPLY ||
            m.open_reply.status != 0) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        *ret = m.open_reply;
        return fd;
}

static void test_published_section_bounded(void **state)
{
        (void)state;
        server_start();
        struct lsashm_section *ro = make(RESERVE, INITIAL, 0);
        struct lsashm_section *rw = make(RESERVE, INITIAL, 0);
        static const struct lsashm_rule readers[] = { { LSASHM_RULE_UID, NOBODY, LSASHM_ACCESS_READ },
                                                      { LSASHM_RULE_UID, WRITER, LSASHM_ACCESS_READ_WRITE } };
        struct lsashm_policy policy = { readers, 2 };
        assert_int_equal(lsashm_server_publish(S.srv, "ro", ro, &policy), 0);
        assert_int_equal(lsashm_server_publish(S.srv, "rw", rw, &policy), 0);
        int to_child[2], to_parent[2];
        assert_int_equal(pipe(to_child), 0);
        assert_int_equal(pipe(to_parent), 0);

        /* A reader: the view (mremapped past its end) and the raw descriptor. */
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                become(NOBODY);
                lsashm_client_t *c;
                CHILD_CHECK(lsashm_client_connect(S.path, &c) == 0);
                lsashm_view_t *v;
                CHILD_CHECK(lsashm_client_open(c, "ro", &v) == 0);
                CHILD_CHECK(!lsashm_view_writable(v) && lsashm_view_size(v) == INITIAL);
                /* the library's mapping, taken over: the view is never closed */
                void *view = lsashm_view_ptr_mut(v, 0, 1);
                if (!view)
                        view = (void *)(uintptr_t)lsashm_view_ptr(v, 0, 1);
                unsigned char *big = mremap(view, INITIAL, RESERVE, MREMAP_MAYMOVE);
                CHILD_CHECK(big != MAP_FAILED);
                CHILD_CHECK(attack_past_commit(big, RESERVE, INITIAL, false));
                struct wire_open_reply r;
                int fd = raw_open(c, "ro", false, &r);
                CHILD_CHECK(fd >= 0 && r.access == LSASHM_ACCESS_READ && r.size == INITIAL);
                unsigned char *map = mmap(NULL, RESERVE, PROT_READ, MAP_SHARED, fd, 0);
                CHILD_CHECK(map != MAP_FAILED);
                CHILD_CHECK(attack_past_commit(map, RESERVE, INITIAL, false));
                CHILD_CHECK(fallocate(fd, 0, 0, RESERVE) < 0 && errno == EBADF);
                CHILD_CHECK(tu_pipe_send(to_parent[1]));
                CHILD_CHECK(tu_pipe_recv(to_child[0]));
                /* the owner grew it since: the same mapping sees the growth */
                struct stat st;
                CHILD_CHECK(fstat(fd, &st) == 0 && (uint64_t)st.st_size > INITIAL);
                CHILD_CHECK(map[st.st_size - 1] == 0xa5);
                CHILD_CHECK(attack_past_commit(map, RESERVE, (size_t)st.st_size, false));
                _exit(0);
        }
        keep_parent_ends(to_child, to_parent);
        if (!tu_pipe_recv(to_parent[0]))
                assert_child_ok(pid, "client before its report");
        assert_int_equal(stats_of(ro).committed, INITIAL);
        assert_file_bounded(owner_fd(ro), INITIAL);
        void *p;
        assert_int_equal(lsashm_section_alloc(ro, INITIAL + 100 * KiB, &p), 0);
        uint64_t committed = stats_of(ro).committed;
        memset((unsigned char *)lsashm_section_base(ro) + committed - 4096, 0xa5, 4096);
        assert_true(tu_pipe_send(to_child[1]));
        assert_child_ok(pid, "published, reader");
        assert_file_bounded(owner_fd(ro), committed);

        /* A writer: a fully committed section it cannot grow. */
        pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                become(WRITER);
                lsashm_client_t *c;
                CHILD_CHECK(lsashm_client_connect(S.path, &c) == 0);
                lsashm_view_t *v;
                CHILD_CHECK(lsashm_client_open(c, "rw", &v) == 0);
                CHILD_CHECK(lsashm_view_writable(v) && lsashm_view_size(v) == RESERVE);
                struct wire_open_reply r;
                int fd = raw_open(c, "rw", false, &r);
                CHILD_CHECK(fd >= 0 && r.access == LSASHM_ACCESS_READ_WRITE && r.size == RESERVE);
                CHILD_CHECK(cannot_grow(fd, RESERVE));
                unsigned char *map = mmap(NULL, 2 * RESERVE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                CHILD_CHECK(map != MAP_FAILED);
                CHILD_CHECK(attack_past_commit(map, 2 * RESERVE, RESERVE, true));
                _exit(0);
        }
        assert_child_ok(pid, "published, writer");

        /* No memory to commit the rest: the writable open is refused. */
        struct lsashm_section *full = make(RESERVE, INITIAL, 0);
        first_growth(full);
        assert_int_equal(lsashm_server_publish(S.srv, "full", full, &policy), 0);
        real_commit = memfd_section_commit;
        memfd_section_commit = refusing_commit;
        pid = tu_fork();
        if (pid == 0) {
                become(WRITER);
                lsashm_client_t *c;
                CHILD_CHECK(lsashm_client_connect(S.path, &c) == 0);
                lsashm_view_t *v;
                CHILD_CHECK(lsashm_client_open(c, "full", &v) == -ENOSPC);
                CHILD_CHECK(lsashm_client_open_readonly(c, "full", &v) == 0);
                _exit(0);
        }
        int status = tu_wait(pid, 60, NULL);
        memfd_section_commit = real_commit;
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(stats_of(full).committed, INITIAL);
        assert_int_equal(stats_of(rw).committed, RESERVE);
        assert_file_bounded(owner_fd(rw), RESERVE);

        close_pipes(to_child, to_parent);
        server_stop();
        assert_int_equal(lsashm_section_delete(ro), 0);
        assert_int_equal(lsashm_section_delete(rw), 0);
        assert_int_equal(lsashm_section_delete(full), 0);
}

/* ---- the package host -------------------------------------------------- */

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

static void host_start(void)
{
        snprintf(H.dir, sizeof(H.dir), "/tmp/lsashm-commit-host-XXXXXX");
        assert_non_null(mkdtemp(H.dir));
        assert_int_equal(chmod(H.dir, 0755), 0);
        snprintf(H.sock, sizeof(H.sock), "%s/lsashm.sock", H.dir);
        setenv("LSASHM_SOCKET", H.sock, 1);
        struct host_config cfg = { .socket_path = H.sock, .listen_fd = -1, .socket_mode = 0666,
                                   .logon_gid = (gid_t)-1, .admin_gid = (gid_t)-1, .log = host_log };
        assert_int_equal(host_create(&cfg, &H.host), 0);
        char path[512];
        snprintf(path, sizeof(path), "%s/test-pkg-ok.so", TEST_PACKAGE_DIR);
        assert_int_equal(host_load_package(H.host, path), 0);
        assert_int_equal(pthread_create(&H.thread, NULL, host_thread, NULL), 0);
}

static void host_finish(void)
{
        if (!H.host)
                return;
        host_stop(H.host);
        pthread_join(H.thread, NULL);
        host_destroy(H.host);
        H.host = NULL;
        rmdir(H.dir);
}

static int host_teardown(void **state)
{
        (void)state;
        host_finish();
        return 0;
}

static int section_fd_at(PVOID base)
{
        struct lsashm_section *sec = registry_acquire(base);
        assert_non_null(sec);
        int fd = sec->fd;
        section_lock_release(sec);
        return fd;
}

static void child_maps_package_section(ULONGLONG id, bool writable)
{
        HANDLE h;
        CHILD_CHECK(LsaConnectUntrusted(&h) == STATUS_SUCCESS);
        PVOID view;
        ULONG size;
        CHILD_CHECK(LsashmMapSection(h, id, &view, &size) == STATUS_SUCCESS);
        CHILD_CHECK(size == (writable ? RESERVE : INITIAL));
        /* The view's own length is all a client is given; it asks for more. */
        unsigned char *big = mremap(view, size, 2 * RESERVE, MREMAP_MAYMOVE);
        CHILD_CHECK(big != MAP_FAILED);
        CHILD_CHECK(attack_past_commit(big, 2 * RESERVE, size, writable));
}

static void test_host_package_section_bounded(void **state)
{
        (void)state;
        host_start();
        /* Made here, outside any package, as a package would make it. */
        PVOID ro = host_CreateSharedMemory(RESERVE, INITIAL), rw = host_CreateSharedMemory(RESERVE, INITIAL);
        assert_non_null(ro);
        assert_non_null(rw);
        assert_int_equal(LsashmShareSection(ro, LSASHM_SHARE_READ), STATUS_SUCCESS);
        assert_int_equal(LsashmShareSection(rw, LSASHM_SHARE_READ_WRITE), STATUS_SUCCESS);
        ULONGLONG ro_id = LsashmSectionId(ro), rw_id = LsashmSectionId(rw);

        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                become(NOBODY);
                child_maps_package_section(ro_id, false);
                child_maps_package_section(rw_id, true);
                _exit(0);
        }
        assert_child_ok(pid, "package sections");

        /* No memory to commit the rest: the writable view is refused. */
        PVOID full = host_CreateSharedMemory(RESERVE, INITIAL);
        assert_non_null(full);
        /* Grown to initial_size by a first allocation (create commits nothing). */
        PVOID first = LsaAllocateSharedMemory(full, 1);
        assert_non_null(first);
        LsaFreeSharedMemory(full, first);
        assert_int_equal(LsashmShareSection(full, LSASHM_SHARE_READ_WRITE), STATUS_SUCCESS);
        ULONGLONG full_id = LsashmSectionId(full);
        real_commit = memfd_section_commit;
        memfd_section_commit = refusing_commit;
        pid = tu_fork();
        if (pid == 0) {
                become(NOBODY);
                HANDLE h;
                CHILD_CHECK(LsaConnectUntrusted(&h) == STATUS_SUCCESS);
                PVOID view;
                ULONG size;
                CHILD_CHECK(LsashmMapSection(h, full_id, &view, &size) == STATUS_NO_MEMORY);
                _exit(0);
        }
        int status = tu_wait(pid, 60, NULL);
        memfd_section_commit = real_commit;
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        struct lsashm_section_stats full_st;
        assert_int_equal(lsashm_shared_memory_stats(full, &full_st), 0);
        assert_int_equal(full_st.committed, INITIAL);
        assert_true(host_DeleteSharedMemory(full));
        struct lsashm_section_stats st;
        assert_int_equal(lsashm_shared_memory_stats(ro, &st), 0);
        assert_int_equal(st.committed, INITIAL);
        assert_file_bounded(section_fd_at(ro), INITIAL);
        assert_int_equal(lsashm_shared_memory_stats(rw, &st), 0);
        assert_int_equal(st.committed, RESERVE);
        assert_file_bounded(section_fd_at(rw), RESERVE);
        assert_true(host_DeleteSharedMemory(ro));
        assert_true(host_DeleteSharedMemory(rw));
        host_finish();
}

/* The host's reply sections, found through our own descriptor table. */
static int reply_section_fds(int *fds, int max)
{
        int n = 0;
        for (int fd = 3; fd < 1024 && n < max; fd++) {
                char path[64], link[256];
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                ssize_t len = readlink(path, link, sizeof(link) - 1);
                if (len <= 0)
                        continue;
                link[len] = '\0';
                if (strncmp(link, "/memfd:lsashm-reply", 19) == 0)
                        fds[n++] = fd;
        }
        return n;
}

/* The mapping around addr in /proc/self/maps. */
static bool mapping_around(const void *addr, uintptr_t *ret_start, uintptr_t *ret_end)
{
        FILE *f = fopen("/proc/self/maps", "re");
        if (!f)
                return false;
        char line[512];
        bool found = false;
        while (!found && fgets(line, sizeof(line), f)) {
                uintptr_t a, b;
                if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &a, &b) == 2 && a <= (uintptr_t)addr &&
                    (uintptr_t)addr < b) {
                        *ret_start = a;
                        *ret_end = b;
                        found = true;
                }
        }
        fclose(f);
        return found;
}

static void test_host_reply_section_bounded(void **state)
{
        (void)state;
        host_start();
        int to_child[2], to_parent[2];
        assert_int_equal(pipe(to_child), 0);
        assert_int_equal(pipe(to_parent), 0);

        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                become(NOBODY);
                HANDLE h;
                CHILD_CHECK(LsaConnectUntrusted(&h) == STATUS_SUCCESS);
                CHAR name[] = TP_NAME_OK;
                LSA_STRING ls = { sizeof(name) - 1, sizeof(name), name };
                ULONG pkg;
                CHILD_CHECK(LsaLookupAuthenticationPackage(h, &ls, &pkg) == STATUS_SUCCESS);
                TP_REQUEST m = { .MessageType = TpEcho };
                PVOID buf = NULL;
                ULONG len = 0;
                NTSTATUS proto;
                CHILD_CHECK(LsaCallAuthenticationPackage(h, pkg, &m, sizeof(m), &buf, &len, &proto) ==
                            STATUS_SUCCESS);
                CHILD_CHECK(buf && len == sizeof(m) && memcmp(buf, &m, sizeof(m)) == 0);
                /* Our mapping covers the whole part the host may use; the
                 * host committed only the start of it. */
                uintptr_t start, end;
                CHILD_CHECK(mapping_around(buf, &start, &end));
                CHILD_CHECK(end - start > INITIAL);
                CHILD_CHECK(attack_past_commit((unsigned char *)start, end - start, INITIAL, false));
                CHILD_CHECK(tu_pipe_send(to_parent[1]));
                CHILD_CHECK(tu_pipe_recv(to_child[0]));
                CHILD_CHECK(LsaFreeReturnBuffer(buf) == STATUS_SUCCESS);
                CHILD_CHECK(LsaDeregisterLogonProcess(h) == STATUS_SUCCESS);
                _exit(0);
        }
        keep_parent_ends(to_child, to_parent);
        if (!tu_pipe_recv(to_parent[0]))
                assert_child_ok(pid, "client before its report");
        int fds[4];
        assert_int_equal(reply_section_fds(fds, 4), 1);
        assert_file_bounded(fds[0], INITIAL);
        assert_true(tu_pipe_send(to_child[1]));
        assert_child_ok(pid, "reply section");
        close_pipes(to_child, to_parent);
        host_finish();
}

int main(void)
{
        if (geteuid() != 0) {
                fprintf(stderr, "test-commit-bound: needs root (clients of other uids)\n");
                return 77;
        }
        /* A client that dies of SIGPIPE would look like a bounded one. */
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_file_is_the_commit),
                cmocka_unit_test(test_read_only_share_bounded),
                cmocka_unit_test(test_readers_only_share_bounded),
                cmocka_unit_test(test_writable_share_committed_in_full),
                cmocka_unit_test(test_owner_fd_committed_in_full),
                cmocka_unit_test(test_writable_share_fails_without_memory),
                cmocka_unit_test_teardown(test_published_section_bounded, server_teardown),
                cmocka_unit_test_teardown(test_host_package_section_bounded, host_teardown),
                cmocka_unit_test_teardown(test_host_reply_section_bounded, host_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
