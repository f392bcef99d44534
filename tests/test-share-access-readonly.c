/* SPDX-License-Identifier: MIT */
/*
 * Sharing sections across real processes (the fixture:
 * tests/share-access-fixture.h).
 *
 * Write routes: a client of another uid holding a read-only descriptor
 * tries every route to write; a readers-only section resists even root
 * reopening it for writing.
 *
 * Run as "--attack-readonly ..." this program is the exec'd client of the
 * read-only test, not a test suite.
 */

#include "share-access-fixture.h"

/* ======================================================================
 * 2. A read-only client cannot write
 * ====================================================================== */

/* Each field: 0 when the call succeeded, else the errno it failed with. */
struct attack_report {
        int32_t fetch;          /* getting the descriptor: 0 or -errno */
        int32_t uid, accmode, st_uid, st_mode;
        int32_t read_ok;        /* the canary, read through a PROT_READ mapping */
        int32_t mmap_shared_write;
        int32_t mprotect_write;
        int32_t reopen_rdwr;    /* /proc/self/fd/N, O_RDWR */
        int32_t reopen_rdonly;  /* /proc/self/fd/N, O_RDONLY: the mode forbids that too */
        int32_t reopen_control; /* /proc/self/fd/OUR_MEMFD: reopening as such works */
        int32_t fchmod;
        int32_t write;
        int32_t pwrite;
        int32_t ftruncate;
        int32_t fallocate;
        int32_t punch_hole;
        int32_t add_seals;
        int32_t setfl_then_mmap;
        int32_t reopen_owner;   /* /proc/OWNER/fd/MEMFD, O_RDWR */
        int32_t owner_mem;      /* /proc/OWNER/mem, O_RDWR */
        int32_t private_write;  /* a MAP_PRIVATE copy may be written: it reaches nobody */
};

static int32_t outcome(bool ok)
{
        return ok ? 0 : (errno ? errno : -1);
}

/* argv: SOCKET NAME TEXT OWNER_PID OWNER_MEMFD; reports on CHILD_OUT. */
static int attack_readonly(char **argv)
{
        const char *path = argv[0], *name = argv[1], *text = argv[2];
        struct attack_report rep;
        memset(&rep, 0xff, sizeof(rep));
        rep.uid = (int32_t)getuid();
        int sock = -1, fd = -1;
        struct wire_open_reply reply;
        rep.fetch = raw_fetch(path, name, 0, &sock, &reply, &fd);
        if (rep.fetch == 0 && (reply.status != 0 || reply.access != LSASHM_ACCESS_READ || fd < 0))
                rep.fetch = reply.status ? reply.status : -EPROTO;
        if (rep.fetch < 0)
                return tu_write_all(CHILD_OUT, &rep, sizeof(rep)) ? 0 : 1;
        size_t size = (size_t)reply.size;
        struct stat st = { 0 };
        if (fstat(fd, &st) == 0) {
                rep.st_uid = (int32_t)st.st_uid;
                rep.st_mode = (int32_t)(st.st_mode & 07777);
        }
        rep.accmode = fcntl(fd, F_GETFL) & O_ACCMODE;

        char *ro = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
        rep.read_ok = ro != MAP_FAILED && reply.root < size && strnlen(ro + reply.root, size - reply.root) ==
                      strlen(text) && strcmp(ro + reply.root, text) == 0;

        errno = 0;
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        rep.mmap_shared_write = outcome(p != MAP_FAILED);
        if (p != MAP_FAILED)
                munmap(p, size);
        errno = 0;
        rep.mprotect_write = ro == MAP_FAILED ? -1 : outcome(mprotect(ro, size, PROT_READ | PROT_WRITE) == 0);

        char proc[96];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        errno = 0;
        int r = open(proc, O_RDWR | O_CLOEXEC);
        rep.reopen_rdwr = outcome(r >= 0);
        if (r >= 0)
                close(r);
        errno = 0;
        r = open(proc, O_RDONLY | O_CLOEXEC);
        rep.reopen_rdonly = outcome(r >= 0);
        if (r >= 0)
                close(r);
        /* control: a memfd of our own, as private as the section's (0600),
         * reopens for writing through the same path */
        int own = memfd_create("attacker", MFD_CLOEXEC);
        if (own >= 0 && fchmod(own, 0600) == 0) {
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", own);
                errno = 0;
                r = open(proc, O_RDWR | O_CLOEXEC);
                rep.reopen_control = outcome(r >= 0);
                if (r >= 0)
                        close(r);
        }
        if (own >= 0)
                close(own);

        errno = 0;
        rep.fchmod = outcome(fchmod(fd, 0666) == 0);
        errno = 0;
        rep.write = outcome(write(fd, "X", 1) == 1);
        errno = 0;
        rep.pwrite = outcome(pwrite(fd, "X", 1, (off_t)reply.root) == 1);
        errno = 0;
        rep.ftruncate = outcome(ftruncate(fd, st.st_size) == 0);
        errno = 0;
        rep.fallocate = outcome(fallocate(fd, 0, 0, (off_t)size) == 0);
        errno = 0;
        rep.punch_hole = outcome(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)size) == 0);
        errno = 0;
        rep.add_seals = outcome(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
        (void)fcntl(fd, F_SETFL, O_RDWR); /* cannot change the access mode */
        errno = 0;
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        rep.setfl_then_mmap = outcome(p != MAP_FAILED);
        if (p != MAP_FAILED)
                munmap(p, size);

        snprintf(proc, sizeof(proc), "/proc/%s/fd/%s", argv[3], argv[4]);
        errno = 0;
        r = open(proc, O_RDWR | O_CLOEXEC);
        rep.reopen_owner = outcome(r >= 0);
        if (r >= 0)
                close(r);
        snprintf(proc, sizeof(proc), "/proc/%s/mem", argv[3]);
        errno = 0;
        r = open(proc, O_RDWR | O_CLOEXEC);
        rep.owner_mem = outcome(r >= 0);
        if (r >= 0)
                close(r);

        errno = 0;
        char *q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        rep.private_write = outcome(q != MAP_FAILED);
        if (q != MAP_FAILED) {
                memset(q, 'X', size);
                munmap(q, size);
        }
        if (ro != MAP_FAILED)
                munmap(ro, size);
        close(fd);
        close(sock);
        return tu_write_all(CHILD_OUT, &rep, sizeof(rep)) ? 0 : 1;
}

static void test_readonly_other_uid_cannot_write(void **state)
{
        (void)state;
        if (!am_root())
                skip();
        server_start(NULL, 0);
        lsashm_section_t *s = section_make(64 * KiB, 16 * KiB, 0);
        static char canary[] = "canary: the owner's data, not to be changed";
        static char name[] = "ro";
        static const struct lsashm_rule nobody_reads[] = { { LSASHM_RULE_UID, 65534, R } };
        uint64_t root = publish_text("ro", s, nobody_reads, 1, canary);
        for (int i = 0; i < 8; i++) { /* some heap structure worth checking */
                uint64_t off;
                put_text(s, "filler block", &off);
        }
        /* Handing out the owner's own descriptor commits the whole section:
         * before the snapshot, which must see nothing change after. */
        const int owner_fd = lsashm_section_fd(s);
        assert_true(owner_fd >= 0);
        struct lsashm_section_stats before;
        assert_int_equal(lsashm_section_stats(s, &before), 0);
        const uint8_t *base = lsashm_section_base(s);
        uint8_t *snapshot = malloc(before.committed);
        assert_non_null(snapshot);
        memcpy(snapshot, base, before.committed);

        int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        assert_true(exe >= 0);
        char pid_s[16], fd_s[16];
        snprintf(pid_s, sizeof(pid_s), "%d", (int)getpid());
        snprintf(fd_s, sizeof(fd_s), "%d", owner_fd);
        char *argv[] = { "test-share-access", "--attack-readonly", T.path, name, canary, pid_s, fd_s, NULL };
        struct child c = child_start(&AS_NOBODY, exec_child, argv, exe);
        close(exe);
        struct attack_report rep;
        child_get(&c, &rep, sizeof(rep));
        child_finish(&c);

        assert_int_equal(rep.fetch, 0);
        assert_int_equal(rep.uid, 65534);
        assert_int_equal(rep.accmode, O_RDONLY);
        assert_int_equal(rep.st_uid, 0);
        assert_int_equal(rep.st_mode, 0600);
        assert_true(rep.read_ok);
        assert_int_equal(rep.mmap_shared_write, EACCES);
        assert_int_equal(rep.mprotect_write, EACCES);
        assert_int_equal(rep.reopen_rdwr, EACCES);
        assert_int_equal(rep.reopen_rdonly, EACCES);
        assert_int_equal(rep.reopen_control, 0); /* so the refusals above are the memfd's mode */
        assert_int_equal(rep.fchmod, EPERM);
        assert_int_equal(rep.write, EBADF);
        assert_int_equal(rep.pwrite, EBADF);
        assert_true(rep.ftruncate == EINVAL || rep.ftruncate == EBADF || rep.ftruncate == EPERM);
        assert_int_equal(rep.fallocate, EBADF);
        assert_int_equal(rep.punch_hole, EBADF);
        assert_int_equal(rep.add_seals, EPERM);
        assert_int_equal(rep.setfl_then_mmap, EACCES);
        assert_int_equal(rep.reopen_owner, EACCES);
        assert_int_equal(rep.owner_mem, EACCES);
        assert_int_equal(rep.private_write, 0);

        /* the owner's heap and every committed byte are as they were */
        assert_int_equal(lsashm_section_check(s), 0);
        struct lsashm_section_stats after;
        assert_int_equal(lsashm_section_stats(s, &after), 0);
        assert_int_equal(after.committed, before.committed);
        assert_int_equal(after.live_blocks, before.live_blocks);
        assert_int_equal(after.in_use, before.in_use);
        assert_memory_equal(base, snapshot, before.committed);
        assert_string_equal((const char *)base + root, canary);
        free(snapshot);

        server_stop();
        section_drop(s);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/* A readers-only section: even root, reopening the descriptor O_RDWR, cannot
 * write it. */
struct sealed_report {
        int32_t fetch, seals, reopen_rdwr, mmap_shared_write, write, pwrite, punch_hole, mprotect_write;
        int32_t lib_open, lib_writable;
};

static int sealed_child(void *arg)
{
        (void)arg;
        struct sealed_report rep;
        memset(&rep, 0xff, sizeof(rep));
        int sock = -1, fd = -1;
        struct wire_open_reply reply;
        rep.fetch = raw_fetch(T.path, "sealed", 0, &sock, &reply, &fd);
        if (rep.fetch == 0 && (reply.status != 0 || fd < 0))
                rep.fetch = reply.status ? reply.status : -EPROTO;
        if (rep.fetch == 0) {
                size_t size = (size_t)reply.size;
                rep.seals = fcntl(fd, F_GET_SEALS);
                char proc[64];
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                errno = 0;
                int rw = open(proc, O_RDWR | O_CLOEXEC);
                rep.reopen_rdwr = outcome(rw >= 0);
                if (rw >= 0) {
                        errno = 0;
                        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
                        rep.mmap_shared_write = outcome(p != MAP_FAILED);
                        if (p != MAP_FAILED)
                                munmap(p, size);
                        errno = 0;
                        rep.write = outcome(write(rw, "X", 1) == 1);
                        errno = 0;
                        rep.pwrite = outcome(pwrite(rw, "X", 1, (off_t)reply.root) == 1);
                        errno = 0;
                        rep.punch_hole = outcome(
                                fallocate(rw, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)size) == 0);
                        p = mmap(NULL, size, PROT_READ, MAP_SHARED, rw, 0);
                        errno = 0;
                        rep.mprotect_write =
                                p == MAP_FAILED ? -1 : outcome(mprotect(p, size, PROT_READ | PROT_WRITE) == 0);
                        if (p != MAP_FAILED)
                                munmap(p, size);
                        close(rw);
                }
                close(fd);
                close(sock);
        }
        /* and through the library: a read-only view */
        lsashm_client_t *c;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        lsashm_view_t *v = NULL;
        rep.lib_open = lsashm_client_open(c, "sealed", &v);
        rep.lib_writable = lsashm_view_writable(v);
        lsashm_view_close(v);
        lsashm_client_close(c);
        CHILD_SEND(rep);
        return 0;
}

static void test_readers_only_same_uid(void **state)
{
        (void)state;
        server_start(NULL, 0);
        lsashm_section_t *s = section_make(64 * KiB, 8 * KiB, LSASHM_SECTION_READERS_ONLY);
        const char *canary = "sealed canary";
        uint64_t root = publish_text("sealed", s, rules_anyone, 1, canary);
        struct child c = child_start(&AS_OWNER, sealed_child, NULL, -1);
        struct sealed_report rep;
        child_get(&c, &rep, sizeof(rep));
        child_finish(&c);
        assert_int_equal(rep.fetch, 0);
        assert_true(rep.seals & F_SEAL_FUTURE_WRITE);
        assert_int_equal(rep.reopen_rdwr, 0); /* root may reopen it for writing ... */
        assert_int_equal(rep.mmap_shared_write, EPERM); /* ... and still cannot write */
        assert_int_equal(rep.write, EPERM);
        assert_int_equal(rep.pwrite, EPERM);
        assert_int_equal(rep.punch_hole, EPERM);
        assert_int_equal(rep.mprotect_write, EACCES);
        assert_int_equal(rep.lib_open, 0);
        assert_false(rep.lib_writable);
        /* the owner's data is intact, and its own mapping still writes */
        assert_string_equal((const char *)lsashm_section_ptr(s, root, strlen(canary) + 1), canary);
        assert_int_equal(lsashm_section_check(s), 0);
        uint64_t off;
        char *p = put_text(s, "the owner still writes", &off);
        assert_string_equal(p, "the owner still writes");
        server_stop();
        section_drop(s);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

/*
 * A readers-only section published with a read-write rule: F_SEAL_FUTURE_WRITE
 * means no client can ever map it writable, so the open must give a read-only
 * view (or be refused); it must not fail as a protocol error that marks every
 * other view of the connection stale.
 */
struct sealed_rw_report {
        int32_t other_r, r, writable, other_state;
};

static int sealed_rw_child(void *arg)
{
        (void)arg;
        struct sealed_rw_report rep = { 0 };
        lsashm_client_t *c;
        CHILD_CHECK(lsashm_client_connect(T.path, &c) == 0);
        lsashm_view_t *other = NULL, *v = NULL;
        rep.other_r = lsashm_client_open(c, "plain", &other);
        rep.r = lsashm_client_open(c, "sealed-rw", &v);
        rep.writable = lsashm_view_writable(v);
        rep.other_state = other ? lsashm_view_state(other) : -1;
        lsashm_view_close(v);
        lsashm_view_close(other);
        lsashm_client_close(c);
        CHILD_SEND(rep);
        return 0;
}

static void test_readers_only_with_rw_rule(void **state)
{
        (void)state;
        server_start(NULL, 0);
        lsashm_section_t *plain = section_make(16 * KiB, 4 * KiB, 0);
        lsashm_section_t *sealed = section_make(16 * KiB, 4 * KiB, LSASHM_SECTION_READERS_ONLY);
        static const struct lsashm_rule anyone_rw[] = { { LSASHM_RULE_ANYONE, 0, W } };
        publish_text("plain", plain, rules_anyone, 1, "plain");
        publish_text("sealed-rw", sealed, anyone_rw, 1, "sealed");
        struct child c = child_start(&AS_OWNER, sealed_rw_child, NULL, -1);
        struct sealed_rw_report rep;
        child_get(&c, &rep, sizeof(rep));
        child_finish(&c);
        assert_int_equal(rep.other_r, 0);
        if (rep.r != 0 && rep.r != -EACCES)
                fail_msg("opening a readers-only section with a read-write rule: %d (%s)", rep.r, strerror(-rep.r));
        if (rep.r == 0)
                assert_false(rep.writable);
        assert_int_equal(rep.other_state, 0);
        server_stop();
        section_drop(plain);
        section_drop(sealed);
        assert_int_equal(tu_count_fds(), T.fds_before);
}

int main(int argc, char **argv)
{
        if (argc == 7 && strcmp(argv[1], "--attack-readonly") == 0)
                return attack_readonly(argv + 2);
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_readonly_other_uid_cannot_write, setup, teardown),
                cmocka_unit_test_setup_teardown(test_readers_only_same_uid, setup, teardown),
                cmocka_unit_test_setup_teardown(test_readers_only_with_rw_rule, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
