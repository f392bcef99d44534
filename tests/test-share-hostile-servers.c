/* SPDX-License-Identifier: MIT */
/*
 * Hostile and dying peers of the sharing protocol, with real processes
 * (the fixture: tests/share-hostile-fixture.h).
 *
 * Hostile and dying servers: a fake server answers a client of the real
 * library with hostile replies, which it refuses without mapping anything
 * or leaking a descriptor; servers that die mid-exchange leave the client
 * with -ECONNRESET, stale views and no SIGPIPE.
 */

#include "share-hostile-fixture.h"

/* ---- 5, 6: hostile and dying servers ------------------------------------ */

#define FAKE_NAME "lsashm-hostile-fake"
#define FAKE_MAP "memfd:" FAKE_NAME
#define FAKE_SIZE 8192u
#define FAKE_ROOT 128u
#define FAKE_TEXT "fake!"

static int fake_listen(void)
{
        int s = tu_seqpacket_listen(sock_path, 8);
        assert_true(s >= 0);
        return s;
}

static int fake_memfd(unsigned seals, bool allow_sealing)
{
        int fd = memfd_create(FAKE_NAME, MFD_CLOEXEC | (allow_sealing ? MFD_ALLOW_SEALING : 0));
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, FAKE_SIZE), 0);
        assert_int_equal(pwrite(fd, FAKE_TEXT, sizeof(FAKE_TEXT), FAKE_ROOT), (ssize_t)sizeof(FAKE_TEXT));
        if (seals)
                assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
        return fd;
}

static int reopen(int fd, int flags)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        int r = open(path, flags | O_CLOEXEC);
        assert_true(r >= 0);
        return r;
}

/* Wait for one packet on conn; its length, 0 at hangup, -1 on timeout. */
static ssize_t fake_recv(int conn, uint8_t *buf, size_t cap)
{
        struct pollfd p = { .fd = conn, .events = POLLIN };
        if (poll(&p, 1, STEP_MS) != 1)
                return -1;
        ssize_t n = recv_discard(conn, buf, cap, MSG_DONTWAIT, NULL);
        return n < 0 ? (n == -ECONNRESET ? 0 : -1) : n;
}

static int fake_accept(int lfd)
{
        struct pollfd p = { .fd = lfd, .events = POLLIN };
        if (poll(&p, 1, STEP_MS) != 1)
                return -1;
        return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

static void fake_hello_reply(int conn, uint16_t version)
{
        struct wire_message m = { .type = WIRE_HELLO_REPLY };
        m.hello_reply.version = version;
        m.hello_reply.max_views = 16;
        uint8_t buf[WIRE_MAX_MESSAGE];
        (void)tu_send_fds(conn, buf, wire_encode(&m, buf), NULL, 0, 0);
}

/* Read the client's OPEN; its request id, or 0 when none came. */
static uint32_t fake_read_open(int conn)
{
        uint8_t buf[WIRE_MAX_MESSAGE + 1];
        ssize_t n = fake_recv(conn, buf, sizeof(buf));
        struct wire_message m;
        if (n <= 0 || wire_decode(buf, (size_t)n, 1, &m) < 0 || m.type != WIRE_OPEN)
                return 0;
        return m.open.request;
}

struct reply_spec {
        int32_t status;
        uint32_t access;
        uint64_t size, root;
        uint32_t seals;
        uint32_t request;
        uint32_t view;
        int fds[2];
        int nfds;
};

static void fake_send_reply(int conn, const struct reply_spec *r)
{
        uint8_t buf[WIRE_MAX_MESSAGE];
        /* wire_encode does not validate, so any status or access goes. */
        struct wire_message m = { .type = WIRE_OPEN_REPLY };
        m.open_reply.request = r->request;
        m.open_reply.status = r->status;
        m.open_reply.view = r->view;
        m.open_reply.access = r->access;
        m.open_reply.size = r->size;
        m.open_reply.root = r->root;
        m.open_reply.seals = r->seals;
        (void)tu_send_fds(conn, buf, wire_encode(&m, buf), r->fds, r->nfds, 0);
}

/* A correct reply for a read-write view of a fresh sealed memfd. */
static struct reply_spec good_reply(uint32_t request, int *memfd)
{
        *memfd = fake_memfd(REQUIRED_SEALS, true);
        return (struct reply_spec){ .status = 0, .access = LSASHM_ACCESS_READ_WRITE, .size = FAKE_SIZE,
                                    .root = FAKE_ROOT, .seals = REQUIRED_SEALS, .request = request, .view = 1,
                                    .fds = { *memfd }, .nfds = 1 };
}

enum hello_kind {
        HK_OK, HK_VERSION, HK_FEATURES, HK_RESERVED, HK_FD, HK_WRONG_TYPE, HK_GARBAGE, HK_EMPTY, HK_EMPTY_FD,
        HK_HANGUP, HK_HANGUP_AT_ONCE,
};

enum reply_kind {
        RK_OK_RW, RK_OK_RO, RK_OK_RO_FUTURE_WRITE, RK_OK_STATUS_EACCES, RK_OK_SMALLER_SIZE,
        RK_NO_FD, RK_PIPE, RK_SOCKET, RK_DEV_ZERO, RK_DISK_FILE, RK_UNSEALED, RK_UNSEALED_ANNOUNCED,
        RK_SEALS_MORE, RK_SEALS_LESS, RK_SIZE_TOO_BIG, RK_SIZE_0, RK_SIZE_HUGE, RK_ROOT_PAST_SIZE,
        RK_ROOT_HUGE, RK_RW_ON_RDONLY, RK_RO_ON_RDWR, RK_RW_FUTURE_WRITE, RK_STATUS_POSITIVE,
        RK_STATUS_ERROR_WITH_FD, RK_STATUS_HUGE, RK_WRONG_REQUEST, RK_TWO_FDS, RK_ACCESS_NONE, RK_ACCESS_3,
        RK_SHORT, RK_OVERSIZED, RK_HELLO_REPLY, RK_CLIENT_TYPE, RK_NOTICE_WITH_FD, RK_RESERVED,
        RK_EMPTY, RK_EMPTY_FD, RK_O_PATH, RK_RW_WRITE_SEALED, RK_HANGUP,
};

#define ANY_ERROR INT32_MIN

struct client_case {
        const char *name;
        enum hello_kind hello;
        enum reply_kind reply;
        int want_connect; /* 0, -errno, or ANY_ERROR */
        int want_open;
};

static bool rc_matches(int got, int want)
{
        return want == ANY_ERROR ? got < 0 : got == want;
}

#define CCHECK(k, cond, ...)                                                                            \
        do {                                                                                             \
                if (!(cond)) {                                                                           \
                        fprintf(stderr, "client child (%s) line %d: %s: ", (k)->name, __LINE__, #cond); \
                        fprintf(stderr, __VA_ARGS__);                                                    \
                        fputc('\n', stderr);                                                             \
                        fflush(stderr);                                                                  \
                        _exit(100);                                                                      \
                }                                                                                        \
        } while (0)

static void client_child(const struct client_case *k)
{
        tu_close_fds_except(-1, -1);
        signal(SIGPIPE, SIG_DFL); /* a SIGPIPE must kill us, visibly */
        int base = tu_count_fds();
        lsashm_client_t *c = NULL;
        int r = lsashm_client_connect(sock_path, &c);
        CCHECK(k, rc_matches(r, k->want_connect), "connect returned %d (%s)", r, strerror(-r));
        if (r < 0) {
                CCHECK(k, c == NULL, "ret set on failure");
                CCHECK(k, tu_count_fds() == base, "%d descriptors leaked", tu_count_fds() - base);
                CCHECK(k, maps_count(FAKE_MAP) == 0, "something mapped");
                _exit(0);
        }
        lsashm_view_t *v = NULL;
        r = lsashm_client_open(c, "sec", &v);
        CCHECK(k, rc_matches(r, k->want_open), "open returned %d (%s)", r, strerror(-r));
        if (r == 0) {
                CCHECK(k, maps_count(FAKE_MAP) == 1, "the view is not mapped");
                const char *text = lsashm_view_ptr(v, lsashm_view_root(v), sizeof(FAKE_TEXT));
                CCHECK(k, text && memcmp(text, FAKE_TEXT, sizeof(FAKE_TEXT)) == 0, "wrong data");
                CCHECK(k, lsashm_view_state(v) == 0, "stale");
                CCHECK(k, tu_count_fds() == base + 1, "a descriptor kept per view");
                lsashm_view_close(v);
        } else {
                CCHECK(k, v == NULL, "ret set on failure");
                CCHECK(k, tu_count_fds() == base + 1, "%d descriptors leaked", tu_count_fds() - base - 1);
        }
        CCHECK(k, maps_count(FAKE_MAP) == 0, "a mapping of the fake memfd is left");
        lsashm_client_close(c);
        CCHECK(k, tu_count_fds() == base, "%d descriptors leaked after close", tu_count_fds() - base);
        _exit(0);
}

/* The fake server's side of one client case. Descriptors it makes are put
 * in keep[] for the caller to close once the client is done. */
static void fake_serve(int conn, const struct client_case *k, int *keep, int *n_keep)
{
        uint8_t buf[4096];
        if (k->hello == HK_HANGUP_AT_ONCE)
                return;
        if (fake_recv(conn, buf, sizeof(buf)) <= 0)
                return;
        switch (k->hello) {
        case HK_OK:
                fake_hello_reply(conn, WIRE_VERSION);
                break;
        case HK_VERSION:
                fake_hello_reply(conn, WIRE_VERSION + 1);
                return;
        case HK_FEATURES:
        case HK_RESERVED: {
                struct wire_message m = { .type = WIRE_HELLO_REPLY };
                m.hello_reply.version = WIRE_VERSION;
                m.hello_reply.max_views = 16;
                if (k->hello == HK_FEATURES)
                        m.hello_reply.features = 1u << 7; /* a feature the client never offered */
                size_t len = wire_encode(&m, buf);
                if (k->hello == HK_RESERVED)
                        buf[len - 1] = 1;
                (void)tu_send_fds(conn, buf, len, NULL, 0, 0);
                return;
        }
        case HK_EMPTY:
                (void)tu_send_fds(conn, buf, 0, NULL, 0, 0);
                return;
        case HK_EMPTY_FD: {
                int fd = keep[(*n_keep)++] = fake_memfd(REQUIRED_SEALS, true);
                (void)tu_send_fds(conn, buf, 0, &fd, 1, 0);
                return;
        }
        case HK_FD: {
                struct wire_message m = { .type = WIRE_HELLO_REPLY };
                m.hello_reply.version = WIRE_VERSION;
                int fd = keep[(*n_keep)++] = fake_memfd(REQUIRED_SEALS, true);
                (void)tu_send_fds(conn, buf, wire_encode(&m, buf), &fd, 1, 0);
                return;
        }
        case HK_WRONG_TYPE: {
                int memfd;
                struct reply_spec r = good_reply(1, &memfd);
                keep[(*n_keep)++] = memfd;
                r.nfds = 0;
                fake_send_reply(conn, &r);
                return;
        }
        case HK_GARBAGE:
                memset(buf, 0x5a, 24);
                (void)tu_send_fds(conn, buf, 24, NULL, 0, 0);
                return;
        default:
                return; /* HK_HANGUP */
        }
        uint32_t request = fake_read_open(conn);
        if (request == 0 || k->reply == RK_HANGUP)
                return;
        int memfd;
        struct reply_spec r = good_reply(request, &memfd);
        keep[(*n_keep)++] = memfd;
        switch (k->reply) {
        case RK_OK_RW:
                break;
        case RK_OK_RO:
                r.access = LSASHM_ACCESS_READ;
                r.fds[0] = keep[(*n_keep)++] = reopen(memfd, O_RDONLY);
                break;
        case RK_OK_RO_FUTURE_WRITE:
                r.fds[0] = keep[(*n_keep)++] = fake_memfd(REQUIRED_SEALS | F_SEAL_FUTURE_WRITE, true);
                r.fds[0] = keep[(*n_keep)++] = reopen(r.fds[0], O_RDONLY);
                r.access = LSASHM_ACCESS_READ;
                r.seals = REQUIRED_SEALS | F_SEAL_FUTURE_WRITE;
                break;
        case RK_OK_STATUS_EACCES:
                r.status = -EACCES;
                r.nfds = 0;
                break;
        case RK_OK_SMALLER_SIZE:
                r.size = FAKE_SIZE / 2;
                break;
        case RK_NO_FD:
                r.nfds = 0;
                break;
        case RK_PIPE: {
                int p[2];
                assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                keep[(*n_keep)++] = p[0];
                keep[(*n_keep)++] = p[1];
                r.fds[0] = p[0];
                break;
        }
        case RK_SOCKET: {
                int sv[2];
                assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
                keep[(*n_keep)++] = sv[0];
                keep[(*n_keep)++] = sv[1];
                r.fds[0] = sv[0];
                break;
        }
        case RK_DEV_ZERO:
                r.fds[0] = keep[(*n_keep)++] = open("/dev/zero", O_RDWR | O_CLOEXEC);
                assert_true(r.fds[0] >= 0);
                break;
        case RK_DISK_FILE: {
                char path[160];
                snprintf(path, sizeof(path), "%s/file", sock_dir);
                int fd = keep[(*n_keep)++] = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                assert_true(fd >= 0);
                unlink(path);
                assert_int_equal(ftruncate(fd, FAKE_SIZE), 0);
                r.fds[0] = fd;
                break;
        }
        case RK_UNSEALED:
                r.fds[0] = keep[(*n_keep)++] = fake_memfd(0, false);
                break;
        case RK_UNSEALED_ANNOUNCED:
                r.fds[0] = keep[(*n_keep)++] = fake_memfd(0, true);
                r.seals = 0;
                break;
        case RK_SEALS_MORE:
                r.seals = REQUIRED_SEALS | F_SEAL_WRITE;
                break;
        case RK_SEALS_LESS:
                r.fds[0] = keep[(*n_keep)++] = fake_memfd(REQUIRED_SEALS | F_SEAL_FUTURE_WRITE, true);
                r.fds[0] = keep[(*n_keep)++] = reopen(r.fds[0], O_RDONLY);
                r.access = LSASHM_ACCESS_READ;
                break;
        case RK_SIZE_TOO_BIG:
                r.size = FAKE_SIZE + 4096;
                break;
        case RK_SIZE_0:
                r.size = 0;
                r.root = 0;
                break;
        case RK_SIZE_HUGE:
                r.size = UINT64_MAX;
                break;
        case RK_ROOT_PAST_SIZE:
                r.root = FAKE_SIZE + 1;
                break;
        case RK_ROOT_HUGE:
                r.root = UINT64_MAX;
                break;
        case RK_RW_ON_RDONLY:
                r.fds[0] = keep[(*n_keep)++] = reopen(memfd, O_RDONLY);
                break;
        case RK_RO_ON_RDWR:
                r.access = LSASHM_ACCESS_READ;
                break;
        case RK_RW_FUTURE_WRITE:
                r.fds[0] = keep[(*n_keep)++] = fake_memfd(REQUIRED_SEALS | F_SEAL_FUTURE_WRITE, true);
                r.seals = REQUIRED_SEALS | F_SEAL_FUTURE_WRITE;
                break;
        case RK_STATUS_POSITIVE:
                r.status = 5;
                break;
        case RK_STATUS_ERROR_WITH_FD:
                r.status = -EACCES;
                break;
        case RK_STATUS_HUGE:
                r.status = -100000;
                r.nfds = 0;
                break;
        case RK_WRONG_REQUEST:
                r.request = request + 1;
                break;
        case RK_TWO_FDS:
                r.fds[1] = memfd;
                r.nfds = 2;
                break;
        case RK_ACCESS_NONE:
                r.access = LSASHM_ACCESS_NONE;
                break;
        case RK_ACCESS_3:
                r.access = 3;
                break;
        case RK_SHORT:
                buf[0] = WIRE_OPEN_REPLY;
                (void)tu_send_fds(conn, buf, 3, &memfd, 1, 0);
                return;
        case RK_OVERSIZED: {
                struct wire_message m = { .type = WIRE_OPEN_REPLY };
                m.open_reply.request = request;
                m.open_reply.access = LSASHM_ACCESS_READ_WRITE;
                m.open_reply.size = FAKE_SIZE;
                m.open_reply.seals = REQUIRED_SEALS;
                memset(buf, 0, sizeof(buf));
                wire_encode(&m, buf);
                put32le(buf + 4, 600);
                (void)tu_send_fds(conn, buf, 600, &memfd, 1, 0);
                return;
        }
        case RK_HELLO_REPLY:
                fake_hello_reply(conn, WIRE_VERSION);
                return;
        case RK_CLIENT_TYPE:
                (void)tu_send_fds(conn, buf, enc_open(buf, request, 0, "sec"), &memfd, 1, 0);
                return;
        case RK_NOTICE_WITH_FD: {
                struct wire_message m = { .type = WIRE_REVOKED };
                m.revoked.view = 1;
                (void)tu_send_fds(conn, buf, wire_encode(&m, buf), &memfd, 1, 0);
                break; /* then the good reply */
        }
        case RK_RESERVED: {
                struct wire_message m = { .type = WIRE_OPEN_REPLY };
                m.open_reply = (struct wire_open_reply){ .request = request, .access = LSASHM_ACCESS_READ_WRITE,
                                                         .size = FAKE_SIZE, .root = FAKE_ROOT,
                                                         .seals = REQUIRED_SEALS, .view = 1 };
                size_t len = wire_encode(&m, buf);
                buf[len - 1] = 1;
                (void)tu_send_fds(conn, buf, len, &memfd, 1, 0);
                return;
        }
        case RK_EMPTY:
                (void)tu_send_fds(conn, buf, 0, NULL, 0, 0);
                return;
        case RK_EMPTY_FD:
                (void)tu_send_fds(conn, buf, 0, &memfd, 1, 0);
                return;
        case RK_O_PATH:
                r.fds[0] = keep[(*n_keep)++] = reopen(memfd, O_PATH);
                break;
        case RK_RW_WRITE_SEALED:
                r.fds[0] = keep[(*n_keep)++] = fake_memfd(REQUIRED_SEALS | F_SEAL_WRITE, true);
                r.seals = REQUIRED_SEALS | F_SEAL_WRITE;
                break;
        case RK_HANGUP:
                return;
        }
        fake_send_reply(conn, &r);
}

/* Runs one case; false (with the reason printed) when the client misbehaved. */
static bool run_client_case(const struct client_case *k)
{
        int fds0 = tu_count_fds();
        int lfd = fake_listen();
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0)
                client_child(k);
        int keep[8], n_keep = 0;
        int conn = fake_accept(lfd);
        if (conn >= 0)
                fake_serve(conn, k, keep, &n_keep);
        if (conn >= 0 && (k->hello == HK_HANGUP || k->hello == HK_HANGUP_AT_ONCE || k->reply == RK_HANGUP)) {
                close(conn);
                conn = -1;
        }
        bool timed_out;
        int status = tu_wait(pid, 30, &timed_out);
        if (conn >= 0)
                close(conn);
        for (int i = 0; i < n_keep; i++)
                close(keep[i]);
        close(lfd);
        unlink(sock_path);
        char why[64];
        bool ok = !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!ok)
                print_message("  case \"%s\": client %s\n", k->name, tu_describe_status(status, why, sizeof(why)));
        assert_int_equal(tu_count_fds(), fds0);
        return ok;
}

static void test_client_refuses_hostile_replies(void **state)
{
        (void)state;
        static const struct client_case cases[] = {
                /* controls: the fake server can do it right */
                { "valid read-write reply", HK_OK, RK_OK_RW, 0, 0 },
                { "valid read-only reply", HK_OK, RK_OK_RO, 0, 0 },
                { "valid read-only reply, future-write sealed", HK_OK, RK_OK_RO_FUTURE_WRITE, 0, 0 },
                { "valid reply, size below the file's", HK_OK, RK_OK_SMALLER_SIZE, 0, 0 },
                { "valid refusal", HK_OK, RK_OK_STATUS_EACCES, 0, -EACCES },
                /* hellos */
                { "HELLO_REPLY with an unknown version", HK_VERSION, RK_OK_RW, -EPROTO, 0 },
                { "HELLO_REPLY with a descriptor", HK_FD, RK_OK_RW, -EPROTO, 0 },
                { "OPEN_REPLY instead of HELLO_REPLY", HK_WRONG_TYPE, RK_OK_RW, -EPROTO, 0 },
                { "garbage instead of HELLO_REPLY", HK_GARBAGE, RK_OK_RW, -EPROTO, 0 },
                { "HELLO_REPLY with nonzero reserved bytes", HK_RESERVED, RK_OK_RW, -EPROTO, 0 },
                { "HELLO_REPLY with a feature bit the client never offered", HK_FEATURES, RK_OK_RW, -EPROTO, 0 },
                { "empty packet instead of HELLO_REPLY", HK_EMPTY, RK_OK_RW, -EPROTO, 0 },
                { "empty packet with a descriptor instead of HELLO_REPLY", HK_EMPTY_FD, RK_OK_RW, -EPROTO, 0 },
                /* replies */
                { "status 0 without a descriptor", HK_OK, RK_NO_FD, 0, -EPROTO },
                { "a pipe", HK_OK, RK_PIPE, 0, -EPROTO },
                { "a socket", HK_OK, RK_SOCKET, 0, -EPROTO },
                { "/dev/zero", HK_OK, RK_DEV_ZERO, 0, -EPROTO },
                { "a regular file, not a memfd", HK_OK, RK_DISK_FILE, 0, -EPROTO },
                { "a memfd without sealing", HK_OK, RK_UNSEALED, 0, -EPROTO },
                { "a memfd without seals, announced so", HK_OK, RK_UNSEALED_ANNOUNCED, 0, -EPROTO },
                { "announced seals the memfd lacks", HK_OK, RK_SEALS_MORE, 0, -EPROTO },
                { "seals the announcement lacks", HK_OK, RK_SEALS_LESS, 0, -EPROTO },
                { "size larger than the file", HK_OK, RK_SIZE_TOO_BIG, 0, -EPROTO },
                { "size 0", HK_OK, RK_SIZE_0, 0, -EPROTO },
                { "size 2^64-1", HK_OK, RK_SIZE_HUGE, 0, -EPROTO },
                { "root past the size", HK_OK, RK_ROOT_PAST_SIZE, 0, -EPROTO },
                { "root 2^64-1", HK_OK, RK_ROOT_HUGE, 0, -EPROTO },
                { "read-write announced, O_RDONLY descriptor", HK_OK, RK_RW_ON_RDONLY, 0, -EPROTO },
                { "read-only announced, O_RDWR descriptor", HK_OK, RK_RO_ON_RDWR, 0, -EPROTO },
                { "read-write announced, future-write sealed", HK_OK, RK_RW_FUTURE_WRITE, 0, -EPROTO },
                { "status > 0", HK_OK, RK_STATUS_POSITIVE, 0, -EPROTO },
                { "an error status with a descriptor", HK_OK, RK_STATUS_ERROR_WITH_FD, 0, -EPROTO },
                { "status -100000", HK_OK, RK_STATUS_HUGE, 0, -EPROTO },
                { "mismatched request id", HK_OK, RK_WRONG_REQUEST, 0, -EPROTO },
                { "two descriptors", HK_OK, RK_TWO_FDS, 0, -EPROTO },
                { "access NONE with status 0", HK_OK, RK_ACCESS_NONE, 0, -EPROTO },
                { "access 3", HK_OK, RK_ACCESS_3, 0, -EPROTO },
                { "3-byte reply with a descriptor", HK_OK, RK_SHORT, 0, -EPROTO },
                { "600-byte reply with a descriptor", HK_OK, RK_OVERSIZED, 0, -EPROTO },
                { "HELLO_REPLY instead of OPEN_REPLY", HK_OK, RK_HELLO_REPLY, 0, -EPROTO },
                { "a client's OPEN with a descriptor", HK_OK, RK_CLIENT_TYPE, 0, -EPROTO },
                { "a notice carrying a descriptor", HK_OK, RK_NOTICE_WITH_FD, 0, -EPROTO },
                { "nonzero reserved bytes", HK_OK, RK_RESERVED, 0, -EPROTO },
                { "empty packet instead of OPEN_REPLY", HK_OK, RK_EMPTY, 0, -EPROTO },
                { "empty packet with a descriptor instead of OPEN_REPLY", HK_OK, RK_EMPTY_FD, 0, -EPROTO },
                { "an O_PATH descriptor of the memfd", HK_OK, RK_O_PATH, 0, -EPROTO },
                { "read-write announced, write-sealed memfd", HK_OK, RK_RW_WRITE_SEALED, 0, -EPROTO },
                /* servers that go away */
                { "server hangs up at once", HK_HANGUP_AT_ONCE, RK_OK_RW, -ECONNRESET, 0 },
                { "server hangs up after reading HELLO", HK_HANGUP, RK_OK_RW, -ECONNRESET, 0 },
                { "server hangs up after reading OPEN", HK_OK, RK_HANGUP, 0, -ECONNRESET },
        };
        int fds0 = tu_count_fds();
        unsigned failed = 0;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                failed += !run_client_case(&cases[i]);
        assert_int_equal(tu_count_fds(), fds0);
        if (failed)
                fail_msg("%u of %zu hostile replies were not refused as they should be", failed,
                         sizeof(cases) / sizeof(cases[0]));
}

/* A client that opened a good view, then sees its server die. */
enum death_kind {
        DK_KILLED_MID_OPEN,   /* the server process is SIGKILLed after reading the second OPEN */
        DK_GONE_BEFORE_CLOSE, /* the server hangs up; the client closes its view, then opens */
        DK_UNSOLICITED,       /* the server sends a reply nobody asked for, with a descriptor */
};

static void death_child(enum death_kind kind, int sync)
{
        tu_close_fds_except(sync, -1);
        signal(SIGPIPE, SIG_DFL);
        int base = tu_count_fds();
        lsashm_client_t *c = NULL;
        CHILD_CHECK(lsashm_client_connect(sock_path, &c) == 0);
        lsashm_view_t *v = NULL, *w = NULL;
        CHILD_CHECK(lsashm_client_open(c, "first", &v) == 0);
        const char *text = lsashm_view_ptr(v, lsashm_view_root(v), sizeof(FAKE_TEXT));
        CHILD_CHECK(text && memcmp(text, FAKE_TEXT, sizeof(FAKE_TEXT)) == 0);
        CHILD_CHECK(maps_count(FAKE_MAP) == 1);
        switch (kind) {
        case DK_KILLED_MID_OPEN: {
                int r = lsashm_client_open(c, "second", &w);
                if (r != -ECONNRESET)
                        fprintf(stderr, "open after the server died: %d\n", r);
                CHILD_CHECK(r == -ECONNRESET);
                CHILD_CHECK(w == NULL);
                CHILD_CHECK(lsashm_view_state(v) == -ESTALE);
                /* The mapping stays valid. */
                CHILD_CHECK(memcmp(text, FAKE_TEXT, sizeof(FAKE_TEXT)) == 0);
                CHILD_CHECK(lsashm_client_open(c, "third", &w) == -ECONNRESET);
                CHILD_CHECK(lsashm_client_dispatch(c) == -ECONNRESET);
                break;
        }
        case DK_GONE_BEFORE_CLOSE: {
                char b;
                CHILD_CHECK(write_byte(sync, 'o'));
                CHILD_CHECK(tu_read_byte(sync, 30000, &b) == 1); /* the server has hung up */
                /* Closing sends CLOSE into a dead socket: no SIGPIPE. */
                lsashm_view_close(v);
                v = NULL;
                int r = lsashm_client_open(c, "second", &w);
                if (r != -ECONNRESET)
                        fprintf(stderr, "open after the server hung up: %d\n", r);
                CHILD_CHECK(r == -ECONNRESET);
                CHILD_CHECK(lsashm_client_dispatch(c) == -ECONNRESET);
                break;
        }
        case DK_UNSOLICITED: {
                struct pollfd p = { .fd = lsashm_client_fd(c), .events = POLLIN };
                CHILD_CHECK(poll(&p, 1, 30000) == 1);
                CHILD_CHECK(lsashm_client_dispatch(c) == -EPROTO);
                CHILD_CHECK(tu_count_fds() == base + 1);
                CHILD_CHECK(maps_count(FAKE_MAP) == 1);
                CHILD_CHECK(lsashm_view_state(v) == -ESTALE);
                CHILD_CHECK(memcmp(text, FAKE_TEXT, sizeof(FAKE_TEXT)) == 0);
                break;
        }
        }
        CHILD_CHECK(tu_count_fds() == base + 1);
        if (v)
                lsashm_view_close(v);
        CHILD_CHECK(maps_count(FAKE_MAP) == 0);
        lsashm_client_close(c);
        CHILD_CHECK(tu_count_fds() == base);
        _exit(0);
}

/* Fake server process for DK_KILLED_MID_OPEN: answers the hello and the
 * first open, reads the second open, reports 'k' and waits to be killed. */
static void doomed_server(int lfd, int report)
{
        tu_close_fds_except(lfd, report);
        int conn = fake_accept(lfd);
        CHILD_CHECK(conn >= 0);
        uint8_t buf[WIRE_MAX_MESSAGE + 1];
        CHILD_CHECK(fake_recv(conn, buf, sizeof(buf)) > 0);
        fake_hello_reply(conn, WIRE_VERSION);
        uint32_t request = fake_read_open(conn);
        CHILD_CHECK(request != 0);
        int memfd = memfd_create(FAKE_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        CHILD_CHECK(memfd >= 0 && ftruncate(memfd, FAKE_SIZE) == 0);
        CHILD_CHECK(pwrite(memfd, FAKE_TEXT, sizeof(FAKE_TEXT), FAKE_ROOT) == (ssize_t)sizeof(FAKE_TEXT));
        CHILD_CHECK(fcntl(memfd, F_ADD_SEALS, REQUIRED_SEALS) == 0);
        struct reply_spec r = { .status = 0, .access = LSASHM_ACCESS_READ_WRITE, .size = FAKE_SIZE,
                                .root = FAKE_ROOT, .seals = REQUIRED_SEALS, .request = request, .view = 1,
                                .fds = { memfd }, .nfds = 1 };
        fake_send_reply(conn, &r);
        CHILD_CHECK(fake_read_open(conn) != 0);
        CHILD_CHECK(write_byte(report, 'k'));
        park();
}

static void run_death(enum death_kind kind)
{
        int fds0 = tu_count_fds();
        int lfd = fake_listen();
        int sync[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync), 0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0)
                death_child(kind, sync[1]);
        close(sync[1]);
        int memfd = -1, conn = -1;
        if (kind == DK_KILLED_MID_OPEN) {
                /* A real server process, killed while the client waits for
                 * the answer to its second open. */
                int report[2];
                assert_int_equal(pipe2(report, O_CLOEXEC), 0);
                pid_t server = tu_fork();
                assert_true(server >= 0);
                if (server == 0)
                        doomed_server(lfd, report[1]);
                close(report[1]);
                char c = 0;
                int got = tu_read_byte(report[0], STEP_MS, &c);
                kill(server, SIGKILL);
                int status;
                while (waitpid(server, &status, 0) < 0 && errno == EINTR)
                        ;
                close(report[0]);
                if (got != 1) {
                        kill(pid, SIGKILL);
                        char why[64];
                        fail_msg("fake server process %s", tu_describe_status(status, why, sizeof(why)));
                }
        } else {
                conn = fake_accept(lfd);
                assert_true(conn >= 0);
                uint8_t buf[WIRE_MAX_MESSAGE + 1];
                assert_true(fake_recv(conn, buf, sizeof(buf)) > 0);
                fake_hello_reply(conn, WIRE_VERSION);
                uint32_t request = fake_read_open(conn);
                assert_true(request != 0);
                struct reply_spec r = good_reply(request, &memfd);
                fake_send_reply(conn, &r);
                if (kind == DK_GONE_BEFORE_CLOSE) {
                        char c;
                        assert_int_equal(tu_read_byte(sync[0], STEP_MS, &c), 1);
                        close(conn);
                        conn = -1;
                        assert_true(write_byte(sync[0], 'g'));
                } else {
                        r.request = request + 1;
                        r.view = 2;
                        fake_send_reply(conn, &r);
                }
        }
        bool timed_out;
        int status = tu_wait(pid, 30, &timed_out);
        if (conn >= 0)
                close(conn);
        if (memfd >= 0)
                close(memfd);
        close(sync[0]);
        close(lfd);
        unlink(sock_path);
        char why[64];
        if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("death case %d: client %s", kind, tu_describe_status(status, why, sizeof(why)));
        assert_int_equal(tu_count_fds(), fds0);
}

static void test_server_dies_mid_open(void **state)
{
        (void)state;
        run_death(DK_KILLED_MID_OPEN);
}

static void test_server_gone_no_sigpipe(void **state)
{
        (void)state;
        run_death(DK_GONE_BEFORE_CLOSE);
}

static void test_unsolicited_reply(void **state)
{
        (void)state;
        run_death(DK_UNSOLICITED);
}

int main(void)
{
        share_hostile_prepare();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_client_refuses_hostile_replies),
                cmocka_unit_test(test_server_dies_mid_open),
                cmocka_unit_test(test_server_gone_no_sigpipe),
                cmocka_unit_test(test_unsolicited_reply),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
