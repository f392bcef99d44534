/* SPDX-License-Identifier: MIT */
/*
 * The client side of ntsecapi.h (src/lsa/client-api.c) against a fake
 * package host.
 *
 * The fake host is a thread of this process: it accepts one connection on a
 * SOCK_SEQPACKET listener at $LSASHM_SOCKET, decodes each request with
 * lsa_wire_decode and answers with replies built by lsa_wire_encode, honest
 * or, as a test asks, hostile. Its reply section is a sealed memfd that it
 * writes through its own read-write descriptor and hands over reopened
 * O_RDONLY. Everything it sees is recorded; the test thread checks the
 * record after joining it (cmocka's assertions run on the test thread only).
 * A test may also read the record, or change what the fake should do next,
 * between two of its own calls: the fake touches both only while answering
 * a request, and each call waits for its reply.
 *
 * Each test counts this process's descriptors before and after, and runs
 * with SIGPIPE at its default action: a client that wrote to a dead host
 * without MSG_NOSIGNAL would kill the whole run.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsa/lsa-wire.h"
#include "lsashm/ntsecapi.h"
#include "share/fdpass.h"
#include "test-util.h"

#define KiB 1024u
#define MiB (1024u * KiB)
#define REQUIRED_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
/* What client-api.c reserves, and what the fake host uses of it by default. */
#define CLIENT_RESERVE (16u * MiB)
#define FAKE_REPLY_SIZE (1u * MiB)
#define MAP_SECTION_SIZE (8u * KiB)

/* Section ids the fake host knows (LsashmMapSection). */
enum {
        SECTION_RO = 1,
        SECTION_RW = 2,
        SECTION_DENIED = 3,
        SECTION_WRONG_ACCESS = 4, /* announced read-only, descriptor read-write */
        SECTION_COUNT
};

/* How the fake host misbehaves. */
enum misbehave {
        M_NONE,
        M_WRITABLE_FD,       /* reply section descriptor opened read-write */
        M_WRONG_SIZE,        /* reply section one page larger than announced */
        M_UNSEALED,          /* reply section without seals */
        M_PAST_END,          /* return buffer crosses the end of the region */
        M_PAST_FILE,         /* return buffer inside the region, past the end of the file */
        M_ZERO_LENGTH,       /* HAS_BUFFER with return_length 0 */
        M_FD_NO_FLAG,        /* descriptor without LSA_WIRE_REPLY_SECTION */
        M_FLAG_NO_FD,        /* LSA_WIRE_REPLY_SECTION without descriptor */
        M_SECOND_SECTION,    /* the section again on the second reply */
        M_MALFORMED,         /* a CALL_REPLY whose header length lies */
        M_WRONG_TYPE,        /* a LOOKUP_REPLY to a CALL */
        M_CLOSE_IN_CALL,     /* hang up instead of answering a CALL */
        M_CLOSE_AFTER_CONNECT,
        M_COUNT
};

static const char *const misbehave_names[M_COUNT] = {
        "none", "writable fd", "wrong size", "unsealed", "past end", "past the file", "zero length", "fd without flag",
        "flag without fd", "second section", "malformed", "wrong type", "close in call",
        "close after connect",
};

#define MAX_RECORD 1024

struct fake {
        /* What the test asks for. */
        enum misbehave how;
        int32_t connect_status;
        uint32_t security_mode;
        uint64_t reply_size;      /* CONNECT_REPLY's, when reply_size_given */
        bool reply_size_given;
        int32_t call_status;
        int32_t protocol_status;
        bool no_buffer;           /* CALL replies carry no return buffer */
        bool wipe_on_close;       /* zero the reply section at hangup, as lsashmd does */
        unsigned hangup_at_call;  /* hang up instead of answering this CALL (1: the first) */

        /* What it saw. */
        struct lsa_wire_connect connect;
        unsigned n_requests;
        unsigned count[LSA_WIRE_STATUS_REPLY + 1];
        struct lsa_wire_call last_call;   /* data points into last_submit */
        uint8_t last_submit[256];
        uint64_t frees[MAX_RECORD];
        unsigned n_frees;         /* atomic: every free, however it came */
        unsigned n_call_frees;    /* atomic: those that came in a CALL */
        unsigned n_free_packets;  /* atomic: FREE packets */
        uint64_t unmaps[64];
        unsigned n_unmaps;
        char error[256];          /* the fake's own failures, for the test to report */

        /* Its resources: reply_rw and section_fd stay open after the thread
         * ends, so that the test can read what the client wrote. */
        int conn;
        int reply_rw;
        bool announced;
        uint64_t next_offset;
        int section_fd[SECTION_COUNT];
        pthread_t thread;
        bool running;
};

static char sock_dir[64];
static char sock_path[128];
static int listen_fd = -1;
static struct fake *current; /* for the teardown of a test that failed midway */

static void fake_fail(struct fake *f, const char *what)
{
        if (!f->error[0])
                snprintf(f->error, sizeof(f->error), "%s: %s", what, strerror(errno));
}

/* A sealed memfd of size bytes, read-write; -1 on failure. */
static int make_memfd(uint64_t size, bool seal)
{
        int fd = memfd_create("fake-lsa", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -1;
        if (ftruncate(fd, (off_t)size) < 0 || (seal && fcntl(fd, F_ADD_SEALS, REQUIRED_SEALS) < 0)) {
                close(fd);
                return -1;
        }
        return fd;
}

/* The same file opened anew, read-only. */
static int reopen_ro(int fd)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        return open(path, O_RDONLY | O_CLOEXEC);
}

static uint64_t fake_reply_size(const struct fake *f)
{
        return f->reply_size_given ? f->reply_size : FAKE_REPLY_SIZE;
}

static bool fake_send(struct fake *f, const struct lsa_wire_message *m, int fd)
{
        uint8_t buf[LSA_WIRE_MAX_MESSAGE];
        size_t len = lsa_wire_encode(m, buf);
        if (len == 0) {
                snprintf(f->error, sizeof(f->error), "cannot encode type %d", (int)m->type);
                return false;
        }
        if (f->how == M_MALFORMED && m->type == LSA_WIRE_CALL_REPLY)
                buf[4]++; /* total length one more than the packet */
        if (fdpass_send(f->conn, buf, len, fd, false) < 0) {
                fake_fail(f, "send");
                return false;
        }
        return true;
}

/* The descriptor that goes with the first CALL_REPLY (or -1), as f->how wants. */
static int reply_section_fd(struct fake *f, uint64_t size)
{
        switch (f->how) {
        case M_WRITABLE_FD:
                return fcntl(f->reply_rw, F_DUPFD_CLOEXEC, 0);
        case M_WRONG_SIZE: {
                int big = make_memfd(size + 4096, true);
                int ro = big >= 0 ? reopen_ro(big) : -1;
                if (big >= 0)
                        close(big);
                return ro;
        }
        case M_PAST_FILE: {
                /* as lsashmd's: the region reserved, half of it committed */
                int half = make_memfd(size / 2, true);
                int ro = half >= 0 ? reopen_ro(half) : -1;
                if (half >= 0)
                        close(half);
                return ro;
        }
        case M_UNSEALED: {
                int loose = make_memfd(size, false);
                int ro = loose >= 0 ? reopen_ro(loose) : -1;
                if (loose >= 0)
                        close(loose);
                return ro;
        }
        default:
                return reopen_ro(f->reply_rw);
        }
}

/*
 * A CALL: the return buffer is [u64 pointer to its own data][u64 length]
 * [the submit bytes], the pointer being the client's address, as a package
 * computes it from ClientBufferBase.
 */
static void fake_record_free(struct fake *f, uint64_t offset)
{
        if (f->n_frees < MAX_RECORD) {
                f->frees[f->n_frees] = offset;
                __atomic_store_n(&f->n_frees, f->n_frees + 1, __ATOMIC_RELEASE);
        }
}

static bool fake_call(struct fake *f, const struct lsa_wire_call *call)
{
        /* The frees it carries come first, as lsashmd applies them. */
        for (uint32_t i = 0; i < call->frees.n; i++)
                fake_record_free(f, call->frees.offset[i]);
        __atomic_add_fetch(&f->n_call_frees, call->frees.n, __ATOMIC_RELEASE);
        uint64_t size = fake_reply_size(f);
        struct lsa_wire_message m = { .type = LSA_WIRE_CALL_REPLY };
        int fd = -1;

        f->last_call = *call;
        memcpy(f->last_submit, call->data ? call->data : (const uint8_t *)"",
               call->length < sizeof(f->last_submit) ? call->length : sizeof(f->last_submit));
        f->last_call.data = f->last_submit;
        if (f->how == M_CLOSE_IN_CALL || f->count[LSA_WIRE_CALL] == f->hangup_at_call)
                return false;
        if (f->how == M_WRONG_TYPE) {
                m.type = LSA_WIRE_LOOKUP_REPLY;
                return fake_send(f, &m, -1);
        }
        m.call_reply.status = f->call_status;
        m.call_reply.protocol_status = f->protocol_status;
        if (f->no_buffer)
                return fake_send(f, &m, -1);

        if (f->reply_rw < 0 && (f->reply_rw = make_memfd(size, true)) < 0) {
                fake_fail(f, "memfd");
                return false;
        }
        uint64_t off = f->next_offset;
        uint64_t hdr[2] = { f->connect.reply_base + off + 16, call->length };
        if (pwrite(f->reply_rw, hdr, sizeof(hdr), (off_t)off) != (ssize_t)sizeof(hdr) ||
            (call->length && pwrite(f->reply_rw, call->data, call->length, (off_t)(off + 16)) != (ssize_t)call->length)) {
                fake_fail(f, "pwrite");
                return false;
        }
        f->next_offset = tu_round_up(off + 16 + call->length + 1, 64);
        m.call_reply.return_offset = off;
        m.call_reply.return_length = 16 + call->length;
        m.call_reply.flags = LSA_WIRE_REPLY_HAS_BUFFER;
        if (f->how == M_PAST_END) {
                m.call_reply.return_offset = size - 8;
                m.call_reply.return_length = 16;
        }
        if (f->how == M_PAST_FILE)
                m.call_reply.return_offset = size / 2 + 4096;
        if (f->how == M_ZERO_LENGTH)
                m.call_reply.return_length = 0;

        if (!f->announced || f->how == M_SECOND_SECTION || f->how == M_FD_NO_FLAG) {
                if (f->how != M_FLAG_NO_FD && (fd = reply_section_fd(f, size)) < 0) {
                        fake_fail(f, "reply section fd");
                        return false;
                }
                if (f->how != M_FD_NO_FLAG)
                        m.call_reply.flags |= LSA_WIRE_REPLY_SECTION;
                f->announced = true;
        }
        bool ok = fake_send(f, &m, fd);
        if (fd >= 0)
                close(fd);
        return ok;
}

static bool fake_map(struct fake *f, uint64_t id)
{
        struct lsa_wire_message m = { .type = LSA_WIRE_MAP_REPLY };
        int fd = -1;

        if (id == SECTION_DENIED || id >= SECTION_COUNT) {
                m.map_reply.status = id == SECTION_DENIED ? STATUS_ACCESS_DENIED : STATUS_NOT_FOUND;
                return fake_send(f, &m, -1);
        }
        if (f->section_fd[id] < 0) {
                static const char text[] = "a section the package made";
                f->section_fd[id] = make_memfd(MAP_SECTION_SIZE, true);
                if (f->section_fd[id] < 0 || pwrite(f->section_fd[id], text, sizeof(text), 0) != (ssize_t)sizeof(text)) {
                        fake_fail(f, "section memfd");
                        return false;
                }
        }
        m.map_reply.writable = id == SECTION_RW;
        m.map_reply.size = MAP_SECTION_SIZE;
        m.map_reply.seals = (uint32_t)fcntl(f->section_fd[id], F_GET_SEALS);
        fd = id == SECTION_RO ? reopen_ro(f->section_fd[id]) : fcntl(f->section_fd[id], F_DUPFD_CLOEXEC, 0);
        if (fd < 0) {
                fake_fail(f, "section fd");
                return false;
        }
        bool ok = fake_send(f, &m, fd);
        close(fd);
        return ok;
}

/* FREE and UNMAP are notices the host does not answer: the fake counts them
 * on its own thread, a moment after the call returns. Wait (bounded) until
 * it has seen want of them, then report what it saw. */
static unsigned seen(const unsigned *counter, unsigned want)
{
        for (int i = 0; i < 2000 && __atomic_load_n(counter, __ATOMIC_ACQUIRE) < want; i++)
                usleep(1000);
        return __atomic_load_n(counter, __ATOMIC_ACQUIRE);
}

/* One request; false to hang up. */
static bool fake_answer(struct fake *f, const struct lsa_wire_message *req)
{
        struct lsa_wire_message m = { .type = lsa_wire_reply_type(req->type) };

        f->n_requests++;
        f->count[req->type]++;
        switch (req->type) {
        case LSA_WIRE_CONNECT:
                f->connect = req->connect;
                m.connect_reply.status = f->connect_status;
                m.connect_reply.security_mode = f->security_mode;
                m.connect_reply.reply_size = fake_reply_size(f);
                return fake_send(f, &m, -1) && f->how != M_CLOSE_AFTER_CONNECT;
        case LSA_WIRE_LOOKUP:
                if (strcmp(req->lookup.name, "pkg") == 0)
                        m.lookup_reply.package = 7;
                else
                        m.lookup_reply.status = STATUS_NO_SUCH_PACKAGE;
                return fake_send(f, &m, -1);
        case LSA_WIRE_CALL:
                return fake_call(f, &req->call);
        case LSA_WIRE_FREE: /* a notice: no reply */
                fake_record_free(f, req->free.offset);
                for (uint32_t i = 0; i < req->free.more.n; i++)
                        fake_record_free(f, req->free.more.offset[i]);
                __atomic_add_fetch(&f->n_free_packets, 1, __ATOMIC_RELEASE);
                return true;
        case LSA_WIRE_MAP:
                return fake_map(f, req->map.section_id);
        case LSA_WIRE_UNMAP:
                if (f->n_unmaps < 64) {
                        f->unmaps[f->n_unmaps] = req->unmap.section_id;
                        __atomic_store_n(&f->n_unmaps, f->n_unmaps + 1, __ATOMIC_RELEASE);
                }
                return true;
        default:
                snprintf(f->error, sizeof(f->error), "unexpected request %d", (int)req->type);
                return false;
        }
}

static void *fake_main(void *arg)
{
        struct fake *f = arg;
        uint8_t *buf = malloc(LSA_WIRE_MAX_MESSAGE);
        if (!buf) {
                fake_fail(f, "malloc");
                return NULL;
        }
        int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) {
                fake_fail(f, "accept");
                free(buf);
                return NULL;
        }
        __atomic_store_n(&f->conn, conn, __ATOMIC_RELEASE);
        for (;;) {
                int fd = -1;
                ssize_t n = fdpass_recv(conn, buf, LSA_WIRE_MAX_MESSAGE, &fd, false, false);
                if (n == 0 || n == -ECONNRESET)
                        break;
                struct lsa_wire_message req;
                if (n < 0 || lsa_wire_decode(buf, (size_t)n, 1, &req) < 0) {
                        snprintf(f->error, sizeof(f->error), "bad request from the client (%zd)", n);
                        break;
                }
                if (!fake_answer(f, &req))
                        break;
        }
        if (f->wipe_on_close && f->reply_rw >= 0) {
                uint64_t size = fake_reply_size(f);
                static const uint8_t zero[4096];
                for (uint64_t off = 0; off < size; off += sizeof(zero))
                        if (pwrite(f->reply_rw, zero, sizeof(zero), (off_t)off) != (ssize_t)sizeof(zero))
                                fake_fail(f, "wipe");
        }
        __atomic_store_n(&f->conn, -1, __ATOMIC_RELEASE);
        close(conn);
        free(buf);
        return NULL;
}

static struct fake *fake_start(enum misbehave how)
{
        struct fake *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->how = how;
        f->conn = -1;
        f->reply_rw = -1;
        for (int i = 0; i < SECTION_COUNT; i++)
                f->section_fd[i] = -1;
        assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
        f->running = true;
        current = f;
        return f;
}

/* Wait for the fake host to hang up (the client deregistered, or the fake
 * chose to), and check that it had nothing to complain about. */
static void fake_join(struct fake *f)
{
        if (f->running)
                assert_int_equal(pthread_join(f->thread, NULL), 0);
        f->running = false;
        if (f->error[0])
                fail_msg("fake host: %s", f->error);
}

/* Release what the fake host kept for inspection. */
static void fake_free(struct fake *f)
{
        if (!f)
                return;
        if (f->running) {
                /* A test failed with the fake still serving: wake it. */
                shutdown(listen_fd, SHUT_RDWR);
                int conn = __atomic_load_n(&f->conn, __ATOMIC_ACQUIRE);
                if (conn >= 0)
                        shutdown(conn, SHUT_RDWR);
                pthread_join(f->thread, NULL);
        }
        if (f->reply_rw >= 0)
                close(f->reply_rw);
        for (int i = 0; i < SECTION_COUNT; i++)
                if (f->section_fd[i] >= 0)
                        close(f->section_fd[i]);
        if (current == f)
                current = NULL;
        free(f);
}

/* ---- fixture ---- */

static int setup(void **state)
{
        (void)state;
        snprintf(sock_dir, sizeof(sock_dir), "/tmp/lsashm-client-XXXXXX");
        if (!mkdtemp(sock_dir))
                return -1;
        snprintf(sock_path, sizeof(sock_path), "%s/lsashm.sock", sock_dir);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        strcpy(addr.sun_path, sock_path);
        listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
            listen(listen_fd, 8) < 0)
                return -1;
        return setenv("LSASHM_SOCKET", sock_path, 1);
}

static int teardown(void **state)
{
        (void)state;
        fake_free(current);
        if (listen_fd >= 0)
                close(listen_fd);
        listen_fd = -1;
        unlink(sock_path);
        rmdir(sock_dir);
        unsetenv("LSASHM_SOCKET");
        return 0;
}

static void lsa_string(LSA_STRING *s, const char *text)
{
        s->Buffer = (PCHAR)(uintptr_t)text;
        s->Length = (USHORT)strlen(text);
        s->MaximumLength = s->Length;
}

static HANDLE connect_ok(void)
{
        HANDLE h = (HANDLE)(uintptr_t)1;
        assert_int_equal(LsaConnectUntrusted(&h), STATUS_SUCCESS);
        assert_non_null(h);
        return h;
}

/* ---- arguments, checked before anything is sent ---- */

static void test_client_args_refused(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        HANDLE h = (HANDLE)(uintptr_t)1;
        ULONG mode = 99, pkg = 99, len = 99;
        PVOID buf = &mode, base = &mode;
        NTSTATUS proto = 99;
        LSA_STRING name;
        char long_name[129];
        memset(long_name, 'a', 128);
        long_name[128] = '\0';

        /* Nobody listens: every refusal below happens before connecting. */
        setenv("LSASHM_SOCKET", "/nonexistent/lsashm.sock", 1);

        assert_int_equal(LsaConnectUntrusted(NULL), STATUS_INVALID_PARAMETER);
        lsa_string(&name, "winlogon");
        assert_int_equal(LsaRegisterLogonProcess(NULL, &h, &mode), STATUS_INVALID_PARAMETER);
        assert_null(h);
        assert_int_equal(mode, 0);
        mode = 99;
        assert_int_equal(LsaRegisterLogonProcess(&name, NULL, &mode), STATUS_INVALID_PARAMETER);
        assert_int_equal(mode, 0);
        h = (HANDLE)(uintptr_t)1;
        assert_int_equal(LsaRegisterLogonProcess(&name, &h, NULL), STATUS_INVALID_PARAMETER);
        assert_null(h);

        name.Length = 9;
        name.MaximumLength = 8;
        assert_int_equal(LsaRegisterLogonProcess(&name, &h, &mode), STATUS_INVALID_PARAMETER);
        name = (LSA_STRING){ .Length = 3, .MaximumLength = 3, .Buffer = NULL };
        assert_int_equal(LsaRegisterLogonProcess(&name, &h, &mode), STATUS_INVALID_PARAMETER);
        name = (LSA_STRING){ .Length = 3, .MaximumLength = 3, .Buffer = (PCHAR)(uintptr_t)"a\0b" };
        assert_int_equal(LsaRegisterLogonProcess(&name, &h, &mode), STATUS_INVALID_PARAMETER);
        lsa_string(&name, long_name);
        assert_int_equal(LsaRegisterLogonProcess(&name, &h, &mode), STATUS_NAME_TOO_LONG);
        assert_null(h);

        /* A NULL handle, and pointers that were never handles. */
        HANDLE bogus[] = { NULL, &mode, (HANDLE)(uintptr_t)0x1000 };
        for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
                lsa_string(&name, "pkg");
                pkg = 99;
                assert_int_equal(LsaLookupAuthenticationPackage(bogus[i], &name, &pkg), STATUS_INVALID_HANDLE);
                assert_int_equal(pkg, 0);
                buf = &mode;
                len = 99;
                assert_int_equal(LsaCallAuthenticationPackage(bogus[i], 7, NULL, 0, &buf, &len, &proto),
                                 STATUS_INVALID_HANDLE);
                assert_null(buf);
                assert_int_equal(len, 0);
                assert_int_equal(proto, STATUS_INVALID_HANDLE);
                assert_int_equal(LsaDeregisterLogonProcess(bogus[i]), STATUS_INVALID_HANDLE);
                base = &mode;
                len = 99;
                assert_int_equal(LsashmMapSection(bogus[i], 1, &base, &len), STATUS_INVALID_HANDLE);
                assert_null(base);
                assert_int_equal(len, 0);
        }

        assert_int_equal(LsaFreeReturnBuffer(NULL), STATUS_SUCCESS);
        assert_int_equal(LsaFreeReturnBuffer(&mode), STATUS_INVALID_PARAMETER);
        assert_int_equal(LsashmUnmapSection(NULL), STATUS_NOT_MAPPED_VIEW);
        assert_int_equal(LsashmUnmapSection(&mode), STATUS_NOT_MAPPED_VIEW);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_client_no_host(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        HANDLE h = (HANDLE)(uintptr_t)1;
        ULONG mode = 99;
        LSA_STRING name;
        lsa_string(&name, "winlogon");

        setenv("LSASHM_SOCKET", "/nonexistent/lsashm.sock", 1);
        assert_int_equal(LsaConnectUntrusted(&h), STATUS_OBJECT_NAME_NOT_FOUND);
        assert_null(h);
        h = (HANDLE)(uintptr_t)1;
        assert_int_equal(LsaRegisterLogonProcess(&name, &h, &mode), STATUS_OBJECT_NAME_NOT_FOUND);
        assert_null(h);
        assert_int_equal(mode, 0);

        char too_long[200];
        memset(too_long, 'x', sizeof(too_long) - 1);
        too_long[0] = '/';
        too_long[sizeof(too_long) - 1] = '\0';
        setenv("LSASHM_SOCKET", too_long, 1);
        assert_int_equal(LsaConnectUntrusted(&h), STATUS_OBJECT_NAME_NOT_FOUND);

        /* A socket file nobody listens on any more. */
        close(listen_fd);
        listen_fd = -1;
        setenv("LSASHM_SOCKET", sock_path, 1);
        assert_int_equal(LsaConnectUntrusted(&h), STATUS_PORT_DISCONNECTED);
        assert_null(h);
        assert_int_equal(tu_count_fds(), fds - 1);
}

/* ---- connect ---- */

static void test_client_connect_refused(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        struct fake *f = fake_start(M_NONE);
        f->connect_status = STATUS_PORT_CONNECTION_REFUSED;
        HANDLE h = (HANDLE)(uintptr_t)1;
        ULONG mode = 99;
        LSA_STRING name;
        lsa_string(&name, "winlogon");

        assert_int_equal(LsaRegisterLogonProcess(&name, &h, &mode), STATUS_PORT_CONNECTION_REFUSED);
        assert_null(h);
        assert_int_equal(mode, 0);
        fake_join(f);
        assert_int_equal(f->connect.mode, LSA_WIRE_MODE_LOGON);
        assert_string_equal(f->connect.name, "winlogon");
        /* Its reply region went with it. */
        char perms[5];
        assert_false(tu_maps_perms((void *)(uintptr_t)f->connect.reply_base, perms));
        fake_free(f);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_client_connect_logon(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        struct fake *f = fake_start(M_NONE);
        f->security_mode = 0x5;
        HANDLE h = NULL;
        ULONG mode = 99;
        LSA_STRING name;
        lsa_string(&name, "");

        assert_int_equal(LsaRegisterLogonProcess(&name, &h, &mode), STATUS_SUCCESS);
        assert_non_null(h);
        assert_int_equal(mode, 0x5);
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        fake_join(f);
        assert_int_equal(f->connect.mode, LSA_WIRE_MODE_LOGON);
        assert_int_equal(f->connect.name_len, 0);
        fake_free(f);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_client_connect_bad_reply_size(void **state)
{
        (void)state;
        static const uint64_t sizes[] = { 0, 4096 + 1, CLIENT_RESERVE + 4096, UINT64_MAX & ~4095ull };
        int fds = tu_count_fds();

        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                struct fake *f = fake_start(M_NONE);
                f->reply_size = sizes[i];
                f->reply_size_given = true;
                HANDLE h = (HANDLE)(uintptr_t)1;
                assert_int_equal(LsaConnectUntrusted(&h), STATUS_PORT_DISCONNECTED);
                assert_null(h);
                fake_join(f);
                fake_free(f);
        }
        assert_int_equal(tu_count_fds(), fds);
}

/* ---- handles and lookup ---- */

static void test_client_handles_and_lookup(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        struct fake *f = fake_start(M_NONE);
        HANDLE h = connect_ok();
        LSA_STRING name;
        ULONG pkg = 99;
        char perms[5];

        lsa_string(&name, "pkg");
        assert_int_equal(LsaLookupAuthenticationPackage(h, &name, &pkg), STATUS_SUCCESS);
        assert_int_equal(pkg, 7);
        lsa_string(&name, "nope");
        assert_int_equal(LsaLookupAuthenticationPackage(h, &name, &pkg), STATUS_NO_SUCH_PACKAGE);
        assert_int_equal(pkg, 0);

        /* Answered without asking the host. */
        unsigned asked = f->n_requests;
        lsa_string(&name, "");
        assert_int_equal(LsaLookupAuthenticationPackage(h, &name, &pkg), STATUS_NO_SUCH_PACKAGE);
        char long_name[129];
        memset(long_name, 'p', 128);
        long_name[128] = '\0';
        lsa_string(&name, long_name);
        assert_int_equal(LsaLookupAuthenticationPackage(h, &name, &pkg), STATUS_NAME_TOO_LONG);
        name.Length = 127;
        assert_int_equal(LsaLookupAuthenticationPackage(h, &name, &pkg), STATUS_NO_SUCH_PACKAGE);
        asked++;
        assert_int_equal(LsaLookupAuthenticationPackage(h, NULL, &pkg), STATUS_INVALID_PARAMETER);
        lsa_string(&name, "pkg");
        assert_int_equal(LsaLookupAuthenticationPackage(h, &name, NULL), STATUS_INVALID_PARAMETER);
        name.Length = 4;
        assert_int_equal(LsaLookupAuthenticationPackage(h, &name, &pkg), STATUS_INVALID_PARAMETER);

        /* A well-placed, untouched reservation. */
        assert_int_equal(f->n_requests, asked);
        assert_int_equal(f->connect.mode, LSA_WIRE_MODE_UNTRUSTED);
        assert_int_equal(f->connect.reply_size, CLIENT_RESERVE);
        assert_int_equal(f->connect.reply_base % LSA_WIRE_REPLY_ALIGN, 0);
        assert_true(tu_maps_perms((void *)(uintptr_t)f->connect.reply_base, perms));
        assert_string_equal(perms, "---p");

        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        fake_join(f);
        /* Stale: refused without being touched. */
        lsa_string(&name, "pkg");
        assert_int_equal(LsaLookupAuthenticationPackage(h, &name, &pkg), STATUS_INVALID_HANDLE);
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_INVALID_HANDLE);
        PVOID buf;
        ULONG len;
        NTSTATUS proto;
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, NULL, 0, &buf, &len, &proto), STATUS_INVALID_HANDLE);
        assert_false(tu_maps_perms((void *)(uintptr_t)f->connect.reply_base, perms));
        fake_free(f);
        assert_int_equal(tu_count_fds(), fds);
}

/* ---- calls and return buffers ---- */

/* What fake_call puts in a return buffer, checked through its embedded pointer. */
static void assert_echo(PVOID buf, ULONG len, const char *submit)
{
        uint64_t hdr[2];
        assert_non_null(buf);
        assert_int_equal(len, 16 + strlen(submit));
        memcpy(hdr, buf, sizeof(hdr));
        assert_int_equal(hdr[0], (uint64_t)(uintptr_t)buf + 16);
        assert_int_equal(hdr[1], strlen(submit));
        assert_memory_equal((const void *)(uintptr_t)hdr[0], submit, strlen(submit));
}

static void test_client_call_return_buffer(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        struct fake *f = fake_start(M_NONE);
        HANDLE h = connect_ok();
        char submit1[] = "first message", submit2[] = "second";
        PVOID b1 = NULL, b2 = NULL;
        ULONG l1 = 0, l2 = 0;
        NTSTATUS proto = 99;
        char perms[5];

        assert_int_equal(LsaCallAuthenticationPackage(h, 7, submit1, (ULONG)strlen(submit1), &b1, &l1, &proto),
                         STATUS_SUCCESS);
        assert_int_equal(proto, STATUS_SUCCESS);
        assert_echo(b1, l1, submit1);
        assert_int_equal(f->last_call.package, 7);
        assert_int_equal(f->last_call.submit_base, (uint64_t)(uintptr_t)submit1);
        assert_int_equal(f->last_call.thread_id, (uint32_t)gettid());
        assert_int_equal(f->last_call.length, strlen(submit1));
        assert_memory_equal(f->last_submit, submit1, strlen(submit1));
        /* Read-only, where the host put it. */
        uintptr_t base = (uintptr_t)f->connect.reply_base;
        assert_true((uintptr_t)b1 >= base && (uintptr_t)b1 + l1 <= base + FAKE_REPLY_SIZE);
        assert_true(tu_maps_perms(b1, perms));
        assert_string_equal(perms, "r--s");
        /* Past the host's part, the reservation is untouched. */
        assert_true(tu_maps_perms((void *)(base + FAKE_REPLY_SIZE), perms));
        assert_string_equal(perms, "---p");

        assert_int_equal(LsaCallAuthenticationPackage(h, 7, submit2, (ULONG)strlen(submit2), &b2, &l2, &proto),
                         STATUS_SUCCESS);
        assert_echo(b2, l2, submit2);
        assert_ptr_not_equal(b1, b2);
        /* Bytes the host writes later show through: the region is the host's section. */
        static const char later[] = "written later";
        assert_int_equal(pwrite(f->reply_rw, later, sizeof(later), (off_t)((uintptr_t)b1 - base + 16)),
                         (ssize_t)sizeof(later));
        assert_memory_equal((const char *)b1 + 16, later, sizeof(later));

        /* An empty submit buffer is fine, and a NULL one with it. */
        PVOID b3 = NULL;
        ULONG l3 = 0;
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, NULL, 0, &b3, &l3, &proto), STATUS_SUCCESS);
        assert_echo(b3, l3, "");
        assert_int_equal(f->last_call.submit_base, 0);

        assert_int_equal(LsaFreeReturnBuffer(b1), STATUS_SUCCESS);
        /* Freed already, interior, or never handed out. */
        assert_int_equal(LsaFreeReturnBuffer(b1), STATUS_INVALID_PARAMETER);
        assert_int_equal(LsaFreeReturnBuffer((char *)b2 + 1), STATUS_INVALID_PARAMETER);
        assert_int_equal(LsaFreeReturnBuffer((void *)(base + FAKE_REPLY_SIZE - 64)), STATUS_INVALID_PARAMETER);
        assert_int_equal(LsaFreeReturnBuffer(b2), STATUS_SUCCESS);
        /* Held back: nothing went to the host yet. */
        assert_int_equal(__atomic_load_n(&f->n_frees, __ATOMIC_ACQUIRE), 0);
        /* The next CALL carries them, ahead of itself. */
        PVOID b4 = NULL;
        ULONG l4 = 0;
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, submit2, (ULONG)strlen(submit2), &b4, &l4, &proto),
                         STATUS_SUCCESS);
        assert_int_equal(seen(&f->n_frees, 2), 2);
        assert_int_equal(__atomic_load_n(&f->n_call_frees, __ATOMIC_ACQUIRE), 2);
        assert_int_equal(__atomic_load_n(&f->n_free_packets, __ATOMIC_ACQUIRE), 0);
        assert_int_equal(f->frees[0], (uintptr_t)b1 - base);
        assert_int_equal(f->frees[1], (uintptr_t)b2 - base);
        assert_int_equal(LsaFreeReturnBuffer(b3), STATUS_SUCCESS);
        assert_int_equal(LsaFreeReturnBuffer(b4), STATUS_SUCCESS);
        /* Any other request sends them first, in one FREE. */
        LSA_STRING name;
        ULONG pkg;
        lsa_string(&name, "pkg");
        (void)LsaLookupAuthenticationPackage(h, &name, &pkg);
        assert_int_equal(seen(&f->n_frees, 4), 4);
        assert_int_equal(__atomic_load_n(&f->n_free_packets, __ATOMIC_ACQUIRE), 1);
        assert_int_equal(f->count[LSA_WIRE_CALL], 4);

        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        fake_join(f);
        /* No buffer outstanding: the region is gone with the handle. */
        assert_false(tu_maps_perms((void *)base, perms));
        fake_free(f);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_client_call_args(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        struct fake *f = fake_start(M_NONE);
        HANDLE h = connect_ok();
        PVOID buf = &buf;
        ULONG len = 99;
        NTSTATUS proto = 0;
        uint8_t *big = calloc(1, LSA_WIRE_MAX_SUBMIT + 1);
        assert_non_null(big);

        /* Past anything a host may take (the host refuses what is past its
         * own max-submit-size): refused before anything is read or sent. */
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, big, LSA_WIRE_MAX_SUBMIT_MEMFD + 1u, &buf, &len, &proto),
                         STATUS_INVALID_BUFFER_SIZE);
        assert_null(buf);
        assert_int_equal(len, 0);
        assert_int_equal(proto, STATUS_INVALID_BUFFER_SIZE);
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, NULL, 1, &buf, &len, &proto), STATUS_INVALID_PARAMETER);
        assert_int_equal(proto, STATUS_INVALID_PARAMETER);
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, big, 1, NULL, &len, &proto), STATUS_INVALID_PARAMETER);
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, big, 1, &buf, NULL, &proto), STATUS_INVALID_PARAMETER);
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, big, 1, &buf, &len, NULL), STATUS_INVALID_PARAMETER);
        assert_int_equal(f->count[LSA_WIRE_CALL], 0);

        /* The largest submit buffer goes through whole. */
        for (uint32_t i = 0; i < LSA_WIRE_MAX_SUBMIT; i++)
                big[i] = (uint8_t)(i * 7);
        f->no_buffer = true;
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, big, LSA_WIRE_MAX_SUBMIT, &buf, &len, &proto),
                         STATUS_SUCCESS);
        assert_null(buf);
        assert_int_equal(f->last_call.length, LSA_WIRE_MAX_SUBMIT);
        assert_memory_equal(f->last_submit, big, sizeof(f->last_submit));

        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        fake_join(f);
        fake_free(f);
        free(big);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_client_two_level_status(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        struct fake *f = fake_start(M_NONE);
        HANDLE h = connect_ok();
        PVOID buf = &buf;
        ULONG len = 99;
        NTSTATUS proto = 0;

        /* Delivered, and the package said no. */
        f->no_buffer = true;
        f->protocol_status = STATUS_LOGON_FAILURE;
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, "x", 1, &buf, &len, &proto), STATUS_SUCCESS);
        assert_int_equal(proto, STATUS_LOGON_FAILURE);
        assert_null(buf);
        assert_int_equal(len, 0);

        /* Not delivered: the host's own status, passed through. */
        f->call_status = STATUS_NO_SUCH_PACKAGE;
        f->protocol_status = STATUS_SUCCESS;
        assert_int_equal(LsaCallAuthenticationPackage(h, 99, "x", 1, &buf, &len, &proto), STATUS_NO_SUCH_PACKAGE);

        /* A buffer with a failing protocol status is still the caller's to free. */
        f->call_status = STATUS_SUCCESS;
        f->protocol_status = STATUS_BUFFER_TOO_SMALL;
        f->no_buffer = false;
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, "abc", 3, &buf, &len, &proto), STATUS_SUCCESS);
        assert_int_equal(proto, STATUS_BUFFER_TOO_SMALL);
        assert_echo(buf, len, "abc");
        assert_int_equal(LsaFreeReturnBuffer(buf), STATUS_SUCCESS);

        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        fake_join(f);
        fake_free(f);
        assert_int_equal(tu_count_fds(), fds);
}

/* ---- hostile hosts ---- */

static void test_client_hostile_replies(void **state)
{
        (void)state;
        int fds = tu_count_fds();

        for (int how = M_NONE + 1; how < M_COUNT; how++) {
                print_message("hostile host: %s\n", misbehave_names[how]);
                struct fake *f = fake_start((enum misbehave)how);
                HANDLE h = connect_ok();
                uintptr_t base = (uintptr_t)f->connect.reply_base;
                PVOID good = NULL, buf = &buf;
                ULONG len = 99;
                NTSTATUS proto = 0;
                char perms[5];

                if (how == M_SECOND_SECTION) {
                        /* The first reply is a fine one. */
                        assert_int_equal(LsaCallAuthenticationPackage(h, 7, "ok", 2, &good, &len, &proto),
                                         STATUS_SUCCESS);
                        assert_echo(good, len, "ok");
                }
                if (how == M_CLOSE_AFTER_CONNECT)
                        fake_join(f); /* the next send meets a closed socket */
                assert_int_equal(LsaCallAuthenticationPackage(h, 7, "hi", 2, &buf, &len, &proto),
                                 STATUS_PORT_DISCONNECTED);
                assert_null(buf);
                assert_int_equal(len, 0);
                assert_int_equal(proto, STATUS_PORT_DISCONNECTED);
                /* Nothing was mapped from a refused descriptor. */
                assert_true(tu_maps_perms((void *)base, perms));
                assert_string_equal(perms, how == M_SECOND_SECTION || how == M_PAST_END || how == M_PAST_FILE ||
                                                           how == M_ZERO_LENGTH
                                                   ? "r--s" : "---p");
                /* Broken for good, without another word to the host. */
                LSA_STRING name;
                ULONG pkg;
                lsa_string(&name, "pkg");
                assert_int_equal(LsaLookupAuthenticationPackage(h, &name, &pkg), STATUS_PORT_DISCONNECTED);
                fake_join(f);
                assert_int_equal(f->count[LSA_WIRE_LOOKUP], 0);
                assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
                if (good) {
                        /* A zombie now: still readable, then freed without the host. */
                        assert_echo(good, 18, "ok");
                        assert_int_equal(LsaFreeReturnBuffer(good), STATUS_SUCCESS);
                        assert_int_equal(seen(&f->n_frees, 0), 0);
                }
                assert_false(tu_maps_perms((void *)base, perms));
                fake_free(f);
                assert_int_equal(tu_count_fds(), fds);
        }
}

static void test_client_host_dies_with_buffer(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        struct fake *f = fake_start(M_NONE);
        f->hangup_at_call = 2;
        HANDLE h = connect_ok();
        PVOID buf = NULL, lost = NULL;
        ULONG len = 0;
        NTSTATUS proto = 0;

        assert_int_equal(LsaCallAuthenticationPackage(h, 7, "keep", 4, &buf, &len, &proto), STATUS_SUCCESS);
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, "die", 3, &lost, &len, &proto),
                         STATUS_PORT_DISCONNECTED);
        fake_join(f);
        /* The live but broken connection frees locally and says so. */
        assert_echo(buf, 20, "keep");
        assert_int_equal(LsaFreeReturnBuffer(buf), STATUS_PORT_DISCONNECTED);
        assert_int_equal(LsaFreeReturnBuffer(buf), STATUS_INVALID_PARAMETER);
        PVOID base = NULL;
        ULONG size = 0;
        assert_int_equal(LsashmMapSection(h, SECTION_RO, &base, &size), STATUS_PORT_DISCONNECTED);
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        fake_free(f);
        assert_int_equal(tu_count_fds(), fds);
}

/* ---- zombies ---- */

static void test_client_zombie_buffer(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        struct fake *f = fake_start(M_NONE);
        f->wipe_on_close = true;
        HANDLE h = connect_ok();
        PVOID b1 = NULL, b2 = NULL;
        ULONG len = 0;
        NTSTATUS proto = 0;
        char perms[5];

        assert_int_equal(LsaCallAuthenticationPackage(h, 7, "one", 3, &b1, &len, &proto), STATUS_SUCCESS);
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, "two", 3, &b2, &len, &proto), STATUS_SUCCESS);
        assert_echo(b2, len, "two");
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        fake_join(f);

        /* The host wiped its section at hangup: still mapped, reads zeros. */
        assert_true(tu_all_zero(b1, 19));
        assert_true(tu_all_zero(b2, 19));
        assert_int_equal(LsaFreeReturnBuffer(b1), STATUS_SUCCESS);
        assert_true(tu_maps_perms(b2, perms));
        assert_int_equal(LsaFreeReturnBuffer(b1), STATUS_INVALID_PARAMETER);
        assert_int_equal(LsaFreeReturnBuffer(b2), STATUS_SUCCESS);
        assert_int_equal(seen(&f->n_frees, 0), 0);
        /* The last one took the region with it. */
        assert_false(tu_maps_perms(b2, perms));
        assert_int_equal(LsaFreeReturnBuffer(b2), STATUS_INVALID_PARAMETER);
        /* The handle was gone all along. */
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_INVALID_HANDLE);
        fake_free(f);
        assert_int_equal(tu_count_fds(), fds);
}

/* ---- sections ---- */

static void test_client_map_sections(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        struct fake *f = fake_start(M_NONE);
        HANDLE h = connect_ok();
        PVOID ro = NULL, rw = NULL, base = &base;
        ULONG ro_size = 0, rw_size = 0, size = 99;
        char perms[5];

        assert_int_equal(LsashmMapSection(h, SECTION_RO, &ro, &ro_size), STATUS_SUCCESS);
        assert_int_equal(ro_size, MAP_SECTION_SIZE);
        assert_string_equal((const char *)ro, "a section the package made");
        assert_true(tu_maps_perms(ro, perms));
        assert_string_equal(perms, "r--s");

        assert_int_equal(LsashmMapSection(h, SECTION_RW, &rw, &rw_size), STATUS_SUCCESS);
        assert_int_equal(rw_size, MAP_SECTION_SIZE);
        assert_true(tu_maps_perms(rw, perms));
        assert_string_equal(perms, "rw-s");
        static const char mine[] = "written by the client";
        memcpy((char *)rw + 100, mine, sizeof(mine));

        /* Refusals from the host, passed through; the connection goes on. */
        assert_int_equal(LsashmMapSection(h, SECTION_DENIED, &base, &size), STATUS_ACCESS_DENIED);
        assert_null(base);
        assert_int_equal(size, 0);
        assert_int_equal(LsashmMapSection(h, 77, &base, &size), STATUS_NOT_FOUND);
        /* Refusals of our own. */
        unsigned asked = f->n_requests;
        base = &base;
        size = 99;
        assert_int_equal(LsashmMapSection(h, 0, &base, &size), STATUS_INVALID_PARAMETER);
        assert_null(base);
        assert_int_equal(size, 0);
        assert_int_equal(LsashmMapSection(h, SECTION_RO, NULL, &size), STATUS_INVALID_PARAMETER);
        assert_int_equal(LsashmMapSection(h, SECTION_RO, &base, NULL), STATUS_INVALID_PARAMETER);
        assert_int_equal(f->n_requests, asked);
        assert_int_equal(LsashmUnmapSection((char *)ro + 4096), STATUS_NOT_MAPPED_VIEW);

        assert_int_equal(LsashmUnmapSection(rw), STATUS_SUCCESS);
        assert_int_equal(LsashmUnmapSection(rw), STATUS_NOT_MAPPED_VIEW);
        assert_int_equal(seen(&f->n_unmaps, 1), 1);
        assert_int_equal(f->unmaps[0], SECTION_RW);

        /* A view outlives its handle; unmapping it then needs no host. */
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        fake_join(f);
        assert_string_equal((const char *)ro, "a section the package made");
        assert_int_equal(LsashmUnmapSection(ro), STATUS_SUCCESS);
        assert_int_equal(seen(&f->n_unmaps, 1), 1);
        assert_false(tu_maps_perms(ro, perms));

        char seen[sizeof(mine)];
        assert_int_equal(pread(f->section_fd[SECTION_RW], seen, sizeof(seen), 100), (ssize_t)sizeof(seen));
        assert_memory_equal(seen, mine, sizeof(mine));
        fake_free(f);
        assert_int_equal(tu_count_fds(), fds);
}

static void test_client_map_wrong_access_refused(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        struct fake *f = fake_start(M_NONE);
        HANDLE h = connect_ok();
        PVOID base = &base;
        ULONG size = 99;

        assert_int_equal(LsashmMapSection(h, SECTION_WRONG_ACCESS, &base, &size), STATUS_PORT_DISCONNECTED);
        assert_null(base);
        assert_int_equal(size, 0);
        assert_int_equal(LsashmMapSection(h, SECTION_RO, &base, &size), STATUS_PORT_DISCONNECTED);
        fake_join(f);
        assert_int_equal(f->count[LSA_WIRE_MAP], 1);
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        fake_free(f);
        assert_int_equal(tu_count_fds(), fds);
}

/* LsaFreeReturnBuffer holds at most LSA_WIRE_MAX_FREES frees: the one
 * after them sends them all with itself, in one FREE; a free on a broken
 * connection is the broken connection's. */
static void test_client_frees_held_at_most_16(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        struct fake *f = fake_start(M_NONE);
        HANDLE h = connect_ok();
        enum { N = LSA_WIRE_MAX_FREES + 1 };
        PVOID b[N];
        char submit[] = "x";
        NTSTATUS proto;
        for (int i = 0; i < N; i++) {
                ULONG len = 0;
                assert_int_equal(LsaCallAuthenticationPackage(h, 7, submit, 1, &b[i], &len, &proto), STATUS_SUCCESS);
        }
        uintptr_t base = (uintptr_t)f->connect.reply_base;
        for (int i = 0; i < N - 1; i++)
                assert_int_equal(LsaFreeReturnBuffer(b[i]), STATUS_SUCCESS);
        assert_int_equal(__atomic_load_n(&f->n_frees, __ATOMIC_ACQUIRE), 0);
        assert_int_equal(LsaFreeReturnBuffer(b[N - 1]), STATUS_SUCCESS);
        assert_int_equal(seen(&f->n_frees, N), N);
        assert_int_equal(__atomic_load_n(&f->n_free_packets, __ATOMIC_ACQUIRE), 1);
        /* Each exactly once. */
        for (int i = 0; i < N; i++) {
                int found = 0;
                for (int k = 0; k < N; k++)
                        found += f->frees[k] == (uintptr_t)b[i] - base;
                assert_int_equal(found, 1);
        }
        /* None held now: a call carries nothing. */
        ULONG len = 0;
        assert_int_equal(LsaCallAuthenticationPackage(h, 7, submit, 1, &b[0], &len, &proto), STATUS_SUCCESS);
        assert_int_equal(__atomic_load_n(&f->n_call_frees, __ATOMIC_ACQUIRE), 0);
        assert_int_equal(LsaFreeReturnBuffer(b[0]), STATUS_SUCCESS);
        /* Held when the handle goes: the socket's close releases it. */
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        fake_join(f);
        assert_int_equal(__atomic_load_n(&f->n_frees, __ATOMIC_ACQUIRE), N);
        fake_free(f);
        assert_int_equal(tu_count_fds(), fds);
}

/* ---- threads ---- */

#define THREADS 4
#define CALLS_PER_THREAD 50

struct caller {
        HANDLE h;
        int index;
        int failures;
};

static void *caller_main(void *arg)
{
        struct caller *c = arg;
        for (int i = 0; i < CALLS_PER_THREAD; i++) {
                char submit[32];
                int n = snprintf(submit, sizeof(submit), "thread %d call %d", c->index, i);
                PVOID buf = NULL;
                ULONG len = 0;
                NTSTATUS proto = 0;
                NTSTATUS st = LsaCallAuthenticationPackage(c->h, 7, submit, (ULONG)n, &buf, &len, &proto);
                uint64_t hdr[2];
                if (st != STATUS_SUCCESS || !buf || len != 16u + (ULONG)n) {
                        c->failures++;
                        continue;
                }
                memcpy(hdr, buf, sizeof(hdr));
                if (hdr[0] != (uintptr_t)buf + 16 || memcmp((const void *)(uintptr_t)hdr[0], submit, (size_t)n))
                        c->failures++;
                if (LsaFreeReturnBuffer(buf) != STATUS_SUCCESS)
                        c->failures++;
        }
        return NULL;
}

static void test_client_threads_share_handle(void **state)
{
        (void)state;
        int fds = tu_count_fds();
        struct fake *f = fake_start(M_NONE);
        HANDLE h = connect_ok();
        pthread_t t[THREADS];
        struct caller c[THREADS];

        for (int i = 0; i < THREADS; i++) {
                c[i] = (struct caller){ .h = h, .index = i };
                assert_int_equal(pthread_create(&t[i], NULL, caller_main, &c[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
                pthread_join(t[i], NULL);
                assert_int_equal(c[i].failures, 0);
        }
        /* The frees still held go out ahead of a lookup. */
        LSA_STRING name;
        ULONG pkg;
        lsa_string(&name, "pkg");
        (void)LsaLookupAuthenticationPackage(h, &name, &pkg);
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        fake_join(f);
        assert_int_equal(f->count[LSA_WIRE_CALL], THREADS * CALLS_PER_THREAD);
        assert_int_equal(seen(&f->n_frees, THREADS * CALLS_PER_THREAD), THREADS * CALLS_PER_THREAD);
        fake_free(f);
        assert_int_equal(tu_count_fds(), fds);
}

int main(void)
{
        /* A client that wrote to a dead host without MSG_NOSIGNAL dies here. */
        signal(SIGPIPE, SIG_DFL);

        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_client_args_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_no_host, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_connect_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_connect_logon, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_connect_bad_reply_size, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_handles_and_lookup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_call_return_buffer, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_call_args, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_two_level_status, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_hostile_replies, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_host_dies_with_buffer, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_zombie_buffer, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_map_sections, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_map_wrong_access_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_frees_held_at_most_16, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_threads_share_handle, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
