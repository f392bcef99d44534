/* SPDX-License-Identifier: MIT */
/*
 * Both clients (the sharing client of share.h, the LSA client of
 * ntsecapi.h) against servers that accept and never answer, or never
 * accept: connect, open, lookup and map give up within the timeout; a call
 * waits as long as the package takes and ends as soon as the server dies.
 *
 * The fake server is a child process serving one listener this process
 * bound; it reads every packet and answers only those its mode says. Times
 * are measured around each call on the monotonic clock. A deadline never
 * fires early, so the lower bound is the timeout itself; the upper bound is
 * three times the timeout, room for a loaded machine. Every test arms an
 * alarm: a client that waits for ever kills the run instead of hanging it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsa/lsa-wire.h"
#include "lsashm/ntsecapi.h"
#include "lsashm/share.h"
#include "share/fdpass.h"
#include "share/wire.h"
#include "test-util.h"

/* Short enough to keep the suite fast, long enough that scheduling noise on
 * a loaded machine stays well inside the bounds. */
#define TIMEOUT_MS 300
/* How long a slow or dying server keeps a call waiting: beyond three
 * timeouts, so a call that timed out would be caught. */
#define CALL_DELAY_MS (4 * TIMEOUT_MS)
/* How soon after the server's death a waiting call must return. */
#define PROMPT_MS 2000
#define GUARD_SECONDS 60
#define PROTOCOL_STATUS_OF_FAKE ((NTSTATUS)0x00001234)

enum fake_mode {
        FAKE_SILENT,        /* accept, read, answer nothing */
        FAKE_NO_ACCEPT,     /* never accept: the backlog fills */
        FAKE_SHARE_HELLO,   /* answer HELLO, nothing else */
        FAKE_SHARE_DEAF,    /* answer HELLO and the first OPEN, then read nothing more */
        FAKE_LSA_CONNECT,   /* answer CONNECT, nothing else */
        FAKE_LSA_SLOW_CALL, /* answer CONNECT; answer a CALL after CALL_DELAY_MS */
        FAKE_LSA_DIE_IN_CALL, /* answer CONNECT; die CALL_DELAY_MS into a CALL */
};

static char sock_dir[64];
static char sock_path[128];
static pid_t fake_pid;
static int fillers[16]; /* connections that fill a backlog */
static int n_fillers;

/* ---- the fake server (child process: no cmocka here) ---- */

/* A page of sealed memfd, and a read-only descriptor of it, as a sharing
 * server hands out. */
static int fake_section(uint32_t *ret_seals)
{
        int rw = memfd_create("fake-section", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        CHILD_CHECK(rw >= 0 && ftruncate(rw, 4096) == 0);
        CHILD_CHECK(fcntl(rw, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0);
        int seals = fcntl(rw, F_GET_SEALS);
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", rw);
        int ro = open(path, O_RDONLY | O_CLOEXEC);
        CHILD_CHECK(seals >= 0 && ro >= 0);
        close(rw);
        *ret_seals = (uint32_t)seals;
        return ro;
}

/* The reply to a sharing client's packet; false once this connection is
 * to be read no more. */
static bool fake_reply_share(int conn, enum fake_mode mode, const uint8_t *buf, size_t n)
{
        struct wire_message req, rep = { .type = WIRE_HELLO_REPLY };
        uint8_t out[WIRE_MAX_MESSAGE];
        int fd = -1;

        CHILD_CHECK(wire_decode(buf, n, 1, &req) == 0);
        if (req.type == WIRE_HELLO) {
                rep.hello_reply.version = WIRE_VERSION;
                rep.hello_reply.features = 0;
                rep.hello_reply.max_views = 256;
        } else if (req.type == WIRE_OPEN && mode == FAKE_SHARE_DEAF) {
                rep.type = WIRE_OPEN_REPLY;
                rep.open_reply.request = req.open.request;
                rep.open_reply.view = 1;
                rep.open_reply.access = LSASHM_ACCESS_READ;
                rep.open_reply.size = 4096;
                fd = fake_section(&rep.open_reply.seals);
        } else {
                return true; /* never answered */
        }
        CHILD_CHECK(fdpass_send(conn, out, wire_encode(&rep, out), fd, false) == 0);
        if (fd >= 0)
                close(fd);
        return fd < 0;
}

static void fake_reply_lsa(int conn, enum fake_mode mode, const uint8_t *buf, size_t n)
{
        struct lsa_wire_message req, rep;
        uint8_t *out = malloc(LSA_WIRE_MAX_MESSAGE);

        CHILD_CHECK(out != NULL);
        CHILD_CHECK(lsa_wire_decode(buf, n, 1, &req) == 0);
        memset(&rep, 0, sizeof(rep));
        if (req.type == LSA_WIRE_CONNECT) {
                rep.type = LSA_WIRE_CONNECT_REPLY;
                rep.connect_reply.status = STATUS_SUCCESS;
                rep.connect_reply.reply_size = req.connect.reply_size;
        } else if (req.type == LSA_WIRE_CALL && mode == FAKE_LSA_SLOW_CALL) {
                tu_sleep_ms(CALL_DELAY_MS);
                rep.type = LSA_WIRE_CALL_REPLY;
                rep.call_reply.status = STATUS_SUCCESS;
                rep.call_reply.protocol_status = PROTOCOL_STATUS_OF_FAKE;
        } else if (req.type == LSA_WIRE_CALL && mode == FAKE_LSA_DIE_IN_CALL) {
                tu_sleep_ms(CALL_DELAY_MS);
                _exit(0);
        } else {
                free(out);
                return; /* LOOKUP, MAP, notices: never answered */
        }
        size_t len = lsa_wire_encode(&rep, out);
        CHILD_CHECK(len > 0 && fdpass_send(conn, out, len, -1, false) == 0);
        free(out);
}

static _Noreturn void fake_serve(int listener, enum fake_mode mode)
{
        struct pollfd p[32] = { { .fd = listener, .events = POLLIN } };
        int n = 1;
        uint8_t *buf = malloc(LSA_WIRE_MAX_MESSAGE);

        CHILD_CHECK(buf != NULL);
        if (mode == FAKE_NO_ACCEPT)
                for (;;)
                        pause();
        for (;;) {
                if (poll(p, (nfds_t)n, -1) < 0)
                        continue;
                if ((p[0].revents & POLLIN) && n < 32) {
                        int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
                        if (c >= 0)
                                p[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
                }
                for (int i = 1; i < n; i++) {
                        if (!p[i].revents)
                                continue;
                        int fd = -1;
                        /* A deaf connection reports only its hangup. */
                        ssize_t len = p[i].events ? fdpass_recv(p[i].fd, buf, LSA_WIRE_MAX_MESSAGE, &fd, false, false)
                                                  : 0;
                        if (len <= 0) {
                                close(p[i].fd);
                                p[i--] = p[--n];
                                continue;
                        }
                        if (mode == FAKE_SHARE_HELLO || mode == FAKE_SHARE_DEAF) {
                                /* Deaf: the connection stays open, unread. */
                                if (!fake_reply_share(p[i].fd, mode, buf, (size_t)len))
                                        p[i].events = 0;
                        } else if (mode != FAKE_SILENT)
                                fake_reply_lsa(p[i].fd, mode, buf, (size_t)len);
                }
        }
}

/* A helper process dies with the test: one that the alarm killed must not
 * leave its servers behind. */
static pid_t fork_helper(void)
{
        pid_t parent = getpid();
        pid_t pid = tu_fork();
        if (pid == 0 && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent))
                _exit(1);
        return pid;
}

/* Start the fake server on a new listener at sock_path. */
static void fake_start(enum fake_mode mode, int backlog)
{
        int listener = tu_seqpacket_listen(sock_path, backlog);
        assert_true(listener >= 0);
        pid_t pid = fork_helper();
        assert_true(pid >= 0);
        if (pid == 0)
                fake_serve(listener, mode);
        close(listener);
        fake_pid = pid;
}

/* Connect until the fake's backlog (listen(fd, 0), never accepted) is full:
 * the next connect would wait for room. */
static void fill_backlog(void)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        strcpy(addr.sun_path, sock_path);
        for (;;) {
                assert_true(n_fillers < (int)(sizeof(fillers) / sizeof(fillers[0])));
                int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                assert_true(fd >= 0);
                if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                        assert_int_equal(errno, EAGAIN);
                        close(fd);
                        return;
                }
                fillers[n_fillers++] = fd;
        }
}

/* ---- fixture ---- */

static int group_setup(void **state)
{
        (void)state;
        snprintf(sock_dir, sizeof(sock_dir), "/tmp/lsashm-timeouts-XXXXXX");
        if (!mkdtemp(sock_dir))
                return -1;
        snprintf(sock_path, sizeof(sock_path), "%s/server.sock", sock_dir);
        /* A client writing to a dead server must get EPIPE, not die of it. */
        signal(SIGPIPE, SIG_DFL);
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        rmdir(sock_dir);
        return 0;
}

static int setup(void **state)
{
        (void)state;
        alarm(GUARD_SECONDS);
        setenv("LSASHM_SOCKET", sock_path, 1);
        setenv("LSASHM_TIMEOUT_MS", "300", 1);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        alarm(0);
        tu_kill_and_reap(fake_pid);
        fake_pid = 0;
        while (n_fillers > 0)
                close(fillers[--n_fillers]);
        unlink(sock_path);
        unsetenv("LSASHM_SOCKET");
        unsetenv("LSASHM_TIMEOUT_MS");
        return 0;
}

/* Gave up no sooner than the timeout, and not much later. */
static void assert_timed_out_after(const char *what, int64_t elapsed, int timeout_ms)
{
        printf("# %s gave up after %lld ms (timeout %d ms)\n", what, (long long)elapsed, timeout_ms);
        if (elapsed < timeout_ms - 1 || elapsed > 3 * (int64_t)timeout_ms)
                fail_msg("%s gave up after %lld ms, timeout %d ms", what, (long long)elapsed, timeout_ms);
}

/* ---- the sharing client ---- */

static void test_share_connect_silent_server_times_out(void **state)
{
        (void)state;
        fake_start(FAKE_SILENT, 8);
        int fds = tu_count_fds();
        lsashm_client_t *c = NULL;

        int64_t t0 = tu_now_ms();
        assert_int_equal(lsashm_client_connect_timeout(sock_path, TIMEOUT_MS, &c), -ETIMEDOUT);
        assert_timed_out_after("lsashm_client_connect_timeout", tu_now_ms() - t0, TIMEOUT_MS);
        assert_null(c);

        /* The same through $LSASHM_TIMEOUT_MS. */
        t0 = tu_now_ms();
        assert_int_equal(lsashm_client_connect(sock_path, &c), -ETIMEDOUT);
        assert_timed_out_after("lsashm_client_connect ($LSASHM_TIMEOUT_MS=300)", tu_now_ms() - t0, TIMEOUT_MS);
        assert_null(c);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_share_connect_full_backlog_times_out(void **state)
{
        (void)state;
        fake_start(FAKE_NO_ACCEPT, 0);
        fill_backlog();
        int fds = tu_count_fds();

        /* Several in a row: a connect that gave up leaves nothing behind that
         * would make the next one fail sooner or later. */
        for (int i = 0; i < 3; i++) {
                lsashm_client_t *c = NULL;
                int64_t t0 = tu_now_ms();
                assert_int_equal(lsashm_client_connect_timeout(sock_path, TIMEOUT_MS, &c), -ETIMEDOUT);
                assert_timed_out_after("connect to a full backlog", tu_now_ms() - t0, TIMEOUT_MS);
                assert_null(c);
        }
        assert_int_equal(tu_count_fds(), fds);
}

static void test_share_open_silent_server_times_out(void **state)
{
        (void)state;
        fake_start(FAKE_SHARE_HELLO, 8);
        int fds = tu_count_fds();
        lsashm_client_t *c;

        assert_int_equal(lsashm_client_connect_timeout(sock_path, 60 * 1000, &c), 0);
        assert_int_equal(lsashm_client_get_timeout(c), 60 * 1000);
        assert_int_equal(lsashm_client_set_timeout(c, TIMEOUT_MS), 0);
        assert_int_equal(lsashm_client_get_timeout(c), TIMEOUT_MS);

        lsashm_view_t *v = NULL;
        int64_t t0 = tu_now_ms();
        assert_int_equal(lsashm_client_open(c, "never-answered", &v), -ETIMEDOUT);
        assert_timed_out_after("lsashm_client_open", tu_now_ms() - t0, TIMEOUT_MS);
        assert_null(v);
        /* Given up: a late answer could not be told from the next one. */
        t0 = tu_now_ms();
        assert_int_equal(lsashm_client_open_readonly(c, "never-answered", &v), -ECONNRESET);
        assert_true(tu_now_ms() - t0 < TIMEOUT_MS);
        assert_int_equal(lsashm_client_dispatch(c), -ECONNRESET);
        lsashm_client_close(c);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_share_view_close_to_deaf_server_times_out(void **state)
{
        (void)state;
        fake_start(FAKE_SHARE_DEAF, 8);
        int fds = tu_count_fds();
        lsashm_client_t *c;
        lsashm_view_t *v;

        assert_int_equal(lsashm_client_connect_timeout(sock_path, TIMEOUT_MS, &c), 0);
        assert_int_equal(lsashm_client_open(c, "deaf", &v), 0);
        /* The server reads nothing any more: fill its queue, so that the
         * CLOSE notice finds no room. */
        static const uint8_t junk[64];
        int sent = 0;
        while (send(lsashm_client_fd(c), junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
                assert_true(++sent < 100000);
        assert_int_equal(errno, EAGAIN);

        int64_t t0 = tu_now_ms();
        lsashm_view_close(v);
        assert_timed_out_after("lsashm_view_close", tu_now_ms() - t0, TIMEOUT_MS);
        /* Given up. */
        assert_int_equal(lsashm_client_open(c, "deaf", &v), -ECONNRESET);
        lsashm_client_close(c);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_share_timeout_default_and_environment(void **state)
{
        (void)state;
        static const struct {
                const char *value; /* NULL: unset */
                int want;
        } cases[] = {
                { NULL, LSASHM_DEFAULT_TIMEOUT_MS },
                { "1234", 1234 },
                { "1", 1 },
                { "2147483647", INT_MAX },
                /* Anything but a whole number of milliseconds in range is ignored. */
                { "", LSASHM_DEFAULT_TIMEOUT_MS },
                { "0", LSASHM_DEFAULT_TIMEOUT_MS },
                { "-5", LSASHM_DEFAULT_TIMEOUT_MS },
                { "+5", LSASHM_DEFAULT_TIMEOUT_MS },
                { " 5", LSASHM_DEFAULT_TIMEOUT_MS },
                { "5s", LSASHM_DEFAULT_TIMEOUT_MS },
                { "abc", LSASHM_DEFAULT_TIMEOUT_MS },
                { "2147483648", LSASHM_DEFAULT_TIMEOUT_MS },
                { "99999999999999999999999", LSASHM_DEFAULT_TIMEOUT_MS },
        };

        assert_int_equal(LSASHM_DEFAULT_TIMEOUT_MS, 5000);
        fake_start(FAKE_SHARE_HELLO, 8);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                if (cases[i].value)
                        setenv("LSASHM_TIMEOUT_MS", cases[i].value, 1);
                else
                        unsetenv("LSASHM_TIMEOUT_MS");
                lsashm_client_t *c;
                assert_int_equal(lsashm_client_connect(sock_path, &c), 0);
                if (lsashm_client_get_timeout(c) != cases[i].want)
                        fail_msg("LSASHM_TIMEOUT_MS=\"%s\": timeout %d, want %d",
                                 cases[i].value ? cases[i].value : "(unset)", lsashm_client_get_timeout(c),
                                 cases[i].want);
                lsashm_client_close(c);
        }
}

static void test_share_timeout_arguments_refused(void **state)
{
        (void)state;
        lsashm_client_t *c = (lsashm_client_t *)&c;

        /* Refused before anything is tried: nobody listens at sock_path. */
        assert_int_equal(lsashm_client_connect_timeout(sock_path, 0, &c), -EINVAL);
        assert_int_equal(lsashm_client_connect_timeout(sock_path, -1, &c), -EINVAL);
        assert_int_equal(lsashm_client_connect_timeout(NULL, TIMEOUT_MS, &c), -EINVAL);
        assert_int_equal(lsashm_client_connect_timeout(sock_path, TIMEOUT_MS, NULL), -EINVAL);
        assert_ptr_equal(c, (lsashm_client_t *)&c);
        assert_int_equal(lsashm_client_set_timeout(NULL, TIMEOUT_MS), -EINVAL);
        assert_int_equal(lsashm_client_get_timeout(NULL), -EINVAL);

        fake_start(FAKE_SHARE_HELLO, 8);
        assert_int_equal(lsashm_client_connect_timeout(sock_path, TIMEOUT_MS, &c), 0);
        assert_int_equal(lsashm_client_set_timeout(c, 0), -EINVAL);
        assert_int_equal(lsashm_client_set_timeout(c, -1), -EINVAL);
        assert_int_equal(lsashm_client_get_timeout(c), TIMEOUT_MS);
        lsashm_client_close(c);
}

/* Signals arrive all through the wait; each only interrupts a sleep, which
 * resumes with the time left: the wait neither ends early nor lasts longer. */
static volatile sig_atomic_t interruptions;

static void count_interruption(int sig)
{
        (void)sig;
        interruptions++;
}

static pid_t start_interrupter(void)
{
        struct sigaction sa = { .sa_handler = count_interruption }; /* no SA_RESTART */
        sigemptyset(&sa.sa_mask);
        assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
        interruptions = 0;
        pid_t parent = getpid();
        pid_t pid = fork_helper();
        assert_true(pid >= 0);
        if (pid == 0) {
                for (;;) {
                        kill(parent, SIGUSR1);
                        tu_sleep_ms(10);
                }
        }
        return pid;
}

static void stop_interrupter(pid_t pid)
{
        tu_kill_and_reap(pid);
        signal(SIGUSR1, SIG_IGN);
}

static void test_share_signals_do_not_shorten_the_wait(void **state)
{
        (void)state;
        lsashm_client_t *c = NULL;

        /* The wait for a reply (poll). */
        fake_start(FAKE_SILENT, 8);
        pid_t irq = start_interrupter();
        int64_t t0 = tu_now_ms();
        int r = lsashm_client_connect_timeout(sock_path, TIMEOUT_MS, &c);
        int64_t elapsed = tu_now_ms() - t0;
        stop_interrupter(irq);
        assert_int_equal(r, -ETIMEDOUT);
        assert_timed_out_after("connect to a silent server, interrupted", elapsed, TIMEOUT_MS);
        assert_true(interruptions > 0);
        tu_kill_and_reap(fake_pid);
        fake_pid = 0;

        /* The wait for room in the backlog (connect). */
        fake_start(FAKE_NO_ACCEPT, 0);
        fill_backlog();
        irq = start_interrupter();
        t0 = tu_now_ms();
        r = lsashm_client_connect_timeout(sock_path, TIMEOUT_MS, &c);
        elapsed = tu_now_ms() - t0;
        stop_interrupter(irq);
        assert_int_equal(r, -ETIMEDOUT);
        assert_timed_out_after("connect to a full backlog, interrupted", elapsed, TIMEOUT_MS);
        assert_true(interruptions > 0);
}

/* ---- the LSA client ---- */

static void test_lsa_status_io_timeout_value(void **state)
{
        (void)state;
        /* Windows' number; an error, unlike STATUS_TIMEOUT (0x102). */
        assert_int_equal((uint32_t)STATUS_IO_TIMEOUT, 0xC00000B5u);
        assert_false(NT_SUCCESS(STATUS_IO_TIMEOUT));
}

static void lsa_string(LSA_STRING *s, const char *text)
{
        s->Buffer = (PCHAR)(uintptr_t)text;
        s->Length = (USHORT)strlen(text);
        s->MaximumLength = s->Length;
}

static void test_lsa_connect_silent_server_times_out(void **state)
{
        (void)state;
        fake_start(FAKE_SILENT, 8);
        int fds = tu_count_fds();
        HANDLE h = (HANDLE)&h;

        int64_t t0 = tu_now_ms();
        assert_int_equal(LsaConnectUntrusted(&h), STATUS_IO_TIMEOUT);
        assert_timed_out_after("LsaConnectUntrusted", tu_now_ms() - t0, TIMEOUT_MS);
        assert_null(h);

        LSA_STRING name;
        LSA_OPERATIONAL_MODE mode = 7;
        lsa_string(&name, "timeouts");
        h = (HANDLE)&h;
        t0 = tu_now_ms();
        assert_int_equal(LsaRegisterLogonProcess(&name, &h, &mode), STATUS_IO_TIMEOUT);
        assert_timed_out_after("LsaRegisterLogonProcess", tu_now_ms() - t0, TIMEOUT_MS);
        assert_null(h);
        assert_int_equal(mode, 0);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_lsa_connect_full_backlog_times_out(void **state)
{
        (void)state;
        fake_start(FAKE_NO_ACCEPT, 0);
        fill_backlog();
        int fds = tu_count_fds();

        for (int i = 0; i < 3; i++) {
                HANDLE h = (HANDLE)&h;
                int64_t t0 = tu_now_ms();
                assert_int_equal(LsaConnectUntrusted(&h), STATUS_IO_TIMEOUT);
                assert_timed_out_after("LsaConnectUntrusted to a full backlog", tu_now_ms() - t0, TIMEOUT_MS);
                assert_null(h);
        }
        assert_int_equal(tu_count_fds(), fds);
}

static void test_lsa_map_and_lookup_silent_server_time_out(void **state)
{
        (void)state;
        fake_start(FAKE_LSA_CONNECT, 8);
        int fds = tu_count_fds();
        HANDLE h;

        /* MAP never answered. */
        assert_int_equal(LsaConnectUntrusted(&h), STATUS_SUCCESS);
        PVOID base = (PVOID)&base;
        ULONG size = 7;
        int64_t t0 = tu_now_ms();
        assert_int_equal(LsashmMapSection(h, 42, &base, &size), STATUS_IO_TIMEOUT);
        assert_timed_out_after("LsashmMapSection", tu_now_ms() - t0, TIMEOUT_MS);
        assert_null(base);
        assert_int_equal(size, 0);
        /* The handle is broken, at once, and still deregisters. */
        PVOID out = NULL;
        ULONG out_len = 0;
        NTSTATUS protocol = 0;
        t0 = tu_now_ms();
        assert_int_equal(LsaCallAuthenticationPackage(h, 1, NULL, 0, &out, &out_len, &protocol),
                         STATUS_PORT_DISCONNECTED);
        assert_true(tu_now_ms() - t0 < TIMEOUT_MS);
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);

        /* LOOKUP never answered. */
        assert_int_equal(LsaConnectUntrusted(&h), STATUS_SUCCESS);
        LSA_STRING name;
        ULONG package = 7;
        lsa_string(&name, "some-package");
        t0 = tu_now_ms();
        assert_int_equal(LsaLookupAuthenticationPackage(h, &name, &package), STATUS_IO_TIMEOUT);
        assert_timed_out_after("LsaLookupAuthenticationPackage", tu_now_ms() - t0, TIMEOUT_MS);
        assert_int_equal(package, 0);
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_lsa_slow_call_succeeds(void **state)
{
        (void)state;
        fake_start(FAKE_LSA_SLOW_CALL, 8);
        HANDLE h;
        assert_int_equal(LsaConnectUntrusted(&h), STATUS_SUCCESS);

        PVOID out = NULL;
        ULONG out_len = 0;
        NTSTATUS protocol = 0;
        char submit[] = "slow";
        int64_t t0 = tu_now_ms();
        NTSTATUS st = LsaCallAuthenticationPackage(h, 1, submit, sizeof(submit), &out, &out_len, &protocol);
        int64_t elapsed = tu_now_ms() - t0;
        printf("# a call the package answered after %d ms returned after %lld ms (timeout %d ms)\n",
               CALL_DELAY_MS, (long long)elapsed, TIMEOUT_MS);
        assert_int_equal(st, STATUS_SUCCESS);
        assert_int_equal(protocol, PROTOCOL_STATUS_OF_FAKE);
        assert_null(out);
        assert_true(elapsed >= CALL_DELAY_MS - 1);
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
}

static void test_lsa_server_dying_in_call_ends_it(void **state)
{
        (void)state;
        fake_start(FAKE_LSA_DIE_IN_CALL, 8);
        int fds = tu_count_fds();
        HANDLE h;
        assert_int_equal(LsaConnectUntrusted(&h), STATUS_SUCCESS);

        /* The fake neither answers nor hangs up for four timeouts, then dies:
         * the call must still be waiting then, and end at once. */
        PVOID out = NULL;
        ULONG out_len = 0;
        NTSTATUS protocol = 0;
        int64_t t0 = tu_now_ms();
        NTSTATUS st = LsaCallAuthenticationPackage(h, 1, NULL, 0, &out, &out_len, &protocol);
        int64_t elapsed = tu_now_ms() - t0;
        printf("# a call whose server died after %d ms returned after %lld ms\n", CALL_DELAY_MS,
               (long long)elapsed);
        assert_int_equal(st, STATUS_PORT_DISCONNECTED);
        assert_int_equal(protocol, STATUS_PORT_DISCONNECTED);
        if (elapsed < CALL_DELAY_MS - 1 || elapsed > CALL_DELAY_MS + PROMPT_MS)
                fail_msg("the call returned after %lld ms; the server died after %d ms", (long long)elapsed,
                         CALL_DELAY_MS);
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        assert_int_equal(tu_count_fds(), fds);
}

struct waiting_call {
        HANDLE h;
        NTSTATUS status;
        int64_t returned_at;
};

static void *waiting_call_main(void *arg)
{
        struct waiting_call *w = arg;
        PVOID out = NULL;
        ULONG out_len = 0;
        NTSTATUS protocol = 0;

        w->status = LsaCallAuthenticationPackage(w->h, 1, NULL, 0, &out, &out_len, &protocol);
        w->returned_at = tu_now_ms();
        return NULL;
}

static void test_lsa_deregister_wakes_a_waiting_call(void **state)
{
        (void)state;
        fake_start(FAKE_LSA_CONNECT, 8); /* never answers the CALL, never hangs up */
        int fds = tu_count_fds();
        struct waiting_call w = { .status = STATUS_SUCCESS };
        assert_int_equal(LsaConnectUntrusted(&w.h), STATUS_SUCCESS);

        pthread_t t;
        int64_t t0 = tu_now_ms();
        assert_int_equal(pthread_create(&t, NULL, waiting_call_main, &w), 0);
        /* Still waiting well past the timeout: a call has none. */
        tu_sleep_ms(CALL_DELAY_MS);
        int64_t deregistered_at = tu_now_ms();
        assert_int_equal(LsaDeregisterLogonProcess(w.h), STATUS_SUCCESS);
        assert_int_equal(pthread_join(t, NULL), 0);
        printf("# a call waited %lld ms, and returned %lld ms after its handle was deregistered\n",
               (long long)(w.returned_at - t0), (long long)(w.returned_at - deregistered_at));
        assert_int_equal(w.status, STATUS_PORT_DISCONNECTED);
        assert_true(w.returned_at >= deregistered_at);
        assert_true(w.returned_at - deregistered_at <= PROMPT_MS);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_lsa_default_timeout_is_5s(void **state)
{
        (void)state;
        unsetenv("LSASHM_TIMEOUT_MS");
        fake_start(FAKE_SILENT, 8);
        HANDLE h = (HANDLE)&h;

        int64_t t0 = tu_now_ms();
        assert_int_equal(LsaConnectUntrusted(&h), STATUS_IO_TIMEOUT);
        assert_timed_out_after("LsaConnectUntrusted (default timeout)", tu_now_ms() - t0,
                               LSASHM_DEFAULT_TIMEOUT_MS);
        assert_null(h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_share_connect_silent_server_times_out, setup, teardown),
                cmocka_unit_test_setup_teardown(test_share_connect_full_backlog_times_out, setup, teardown),
                cmocka_unit_test_setup_teardown(test_share_open_silent_server_times_out, setup, teardown),
                cmocka_unit_test_setup_teardown(test_share_view_close_to_deaf_server_times_out, setup, teardown),
                cmocka_unit_test_setup_teardown(test_share_timeout_default_and_environment, setup, teardown),
                cmocka_unit_test_setup_teardown(test_share_timeout_arguments_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_share_signals_do_not_shorten_the_wait, setup, teardown),
                cmocka_unit_test(test_lsa_status_io_timeout_value),
                cmocka_unit_test_setup_teardown(test_lsa_connect_silent_server_times_out, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lsa_connect_full_backlog_times_out, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lsa_map_and_lookup_silent_server_time_out, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lsa_slow_call_succeeds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lsa_server_dying_in_call_ends_it, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lsa_deregister_wakes_a_waiting_call, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lsa_default_timeout_is_5s, setup, teardown),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
