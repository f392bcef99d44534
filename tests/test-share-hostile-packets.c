/* SPDX-License-Identifier: MIT */
/*
 * Hostile and dying peers of the sharing protocol, with real processes
 * (the fixture: tests/share-hostile-fixture.h).
 *
 * Clients that send descriptors or malformed packets: descriptors sent to
 * the server, truncated control data, oversized, short, empty and malformed
 * packets, messages out of sequence, unknown versions and features, bad
 * names.
 */

#include "share-hostile-fixture.h"

/* ---- 1, 2: clients that send descriptors or malformed packets ----------- */

enum hostile_kind {
        H_FD1, H_FD3, H_FD_IN_HELLO, H_FD_ON_CLOSE, H_CTRUNC,
        H_BIG513, H_BIG4096, H_BIG_BEFORE_HELLO,
        H_EMPTY, H_SHORT3, H_HEADER_ONLY, H_GARBLED,
        H_LEN_LONG, H_LEN_SHORT, H_LEN_OPEN,
        H_RESERVED_HEADER, H_RESERVED_HELLO, H_RESERVED_OPEN, H_RESERVED_CLOSE,
        H_TYPE_UNKNOWN, H_TYPE_ZERO, H_TYPE_HIGH, H_TYPE_HELLO_REPLY, H_TYPE_OPEN_REPLY, H_TYPE_REVOKED,
        H_OPEN_BEFORE_HELLO, H_CLOSE_BEFORE_HELLO, H_HELLO_TWICE,
        H_VERSION_2, H_VERSION_0, H_VERSION_MAX, H_FEATURES_UNKNOWN, H_FEATURES_HIGH,
        H_NAME_EMPTY, H_NAME_SLASH, H_NAME_CONTROL, H_NAME_SPACE, H_NAME_DEL, H_NAME_HIGH, H_NAME_NUL,
        H_NAME_LEN_LONG, H_NAME_LEN_SHORT, H_NAME_TOO_LONG_PACKET, H_OPEN_FLAGS,
        H_OPEN_CLOSED_TOO_MANY, H_OPEN_CLOSED_SHORT, H_CLOSE_MORE_TOO_MANY, H_CLOSE_MORE_SHORT,
};

struct hostile {
        const char *name;
        enum hostile_kind kind;
        bool hello; /* greet properly first */
        int nfds;   /* descriptors (a pipe's write end) sent with the packet */
};

/* Build the hostile packet into pkt (4096 bytes). */
static size_t build_hostile(enum hostile_kind kind, uint8_t *pkt)
{
        uint8_t buf[WIRE_MAX_MESSAGE];
        size_t len;
        memset(pkt, 0, 4096);
        switch (kind) {
        case H_FD1:
        case H_FD3:
        case H_CTRUNC:
        case H_OPEN_BEFORE_HELLO:
                len = enc_open(buf, 7, 0, "good");
                break;
        case H_FD_IN_HELLO:
        case H_HELLO_TWICE:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                break;
        case H_FD_ON_CLOSE:
        case H_CLOSE_BEFORE_HELLO:
                len = enc_close(buf, 1);
                break;
        case H_BIG513:
                len = enc_open(buf, 7, 0, "good");
                memcpy(pkt, buf, len);
                put32le(pkt + 4, 513);
                return 513;
        case H_BIG4096:
                len = enc_open(buf, 7, 0, "good");
                memcpy(pkt, buf, len);
                put32le(pkt + 4, 4096);
                return 4096;
        case H_BIG_BEFORE_HELLO:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                memcpy(pkt, buf, len);
                put32le(pkt + 4, 1000);
                return 1000;
        case H_EMPTY:
                return 0;
        case H_SHORT3:
                pkt[0] = WIRE_HELLO;
                return 3;
        case H_HEADER_ONLY:
                pkt[0] = WIRE_HELLO;
                put32le(pkt + 4, WIRE_HEADER_SIZE);
                return WIRE_HEADER_SIZE;
        case H_GARBLED:
                memset(pkt, 0xa5, 16);
                return 16;
        case H_LEN_LONG:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                memcpy(pkt, buf, len);
                put32le(pkt + 4, (uint32_t)len + 1);
                return len;
        case H_LEN_SHORT:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                memcpy(pkt, buf, len);
                put32le(pkt + 4, WIRE_HEADER_SIZE);
                return len;
        case H_LEN_OPEN:
                len = enc_open(buf, 7, 0, "good");
                memcpy(pkt, buf, len);
                put32le(pkt + 4, (uint32_t)len - 1);
                return len;
        case H_RESERVED_HEADER:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                buf[3] = 0x80;
                break;
        case H_RESERVED_HELLO:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                buf[WIRE_HEADER_SIZE + 2] = 1;
                break;
        case H_RESERVED_OPEN:
                len = enc_open(buf, 7, 0, "good");
                buf[WIRE_HEADER_SIZE + 11] = 1;
                break;
        case H_RESERVED_CLOSE:
                len = enc_close(buf, 1);
                buf[WIRE_HEADER_SIZE + 7] = 1;
                break;
        case H_TYPE_UNKNOWN:
        case H_TYPE_ZERO:
        case H_TYPE_HIGH:
                len = enc_hello(buf, WIRE_VERSION, WIRE_FEATURES);
                buf[0] = kind == H_TYPE_UNKNOWN ? 99 : kind == H_TYPE_ZERO ? 0 : 0xff;
                buf[1] = kind == H_TYPE_HIGH ? 0xff : 0;
                break;
        case H_TYPE_HELLO_REPLY: {
                struct wire_message m = { .type = WIRE_HELLO_REPLY };
                m.hello_reply.version = WIRE_VERSION;
                len = wire_encode(&m, buf);
                break;
        }
        case H_TYPE_OPEN_REPLY: {
                struct wire_message m = { .type = WIRE_OPEN_REPLY };
                m.open_reply.access = LSASHM_ACCESS_READ;
                m.open_reply.size = 4096;
                len = wire_encode(&m, buf);
                break;
        }
        case H_TYPE_REVOKED: {
                struct wire_message m = { .type = WIRE_REVOKED };
                m.revoked.view = 1;
                len = wire_encode(&m, buf);
                break;
        }
        case H_VERSION_2:
                len = enc_hello(buf, WIRE_VERSION + 1, WIRE_FEATURES);
                break;
        case H_VERSION_0:
                len = enc_hello(buf, 0, WIRE_FEATURES);
                break;
        case H_VERSION_MAX:
                len = enc_hello(buf, 0xffff, WIRE_FEATURES);
                break;
        case H_FEATURES_UNKNOWN:
                /* the lowest bit this server does not know */
                len = enc_hello(buf, WIRE_VERSION, (WIRE_FEATURES + 1) & ~WIRE_FEATURES);
                break;
        case H_FEATURES_HIGH:
                len = enc_hello(buf, WIRE_VERSION, 0x80000000u);
                break;
        case H_NAME_EMPTY:
                len = enc_open(buf, 7, 0, "");
                break;
        case H_NAME_SLASH:
                len = enc_open(buf, 7, 0, "go/od");
                break;
        case H_NAME_CONTROL:
                len = enc_open(buf, 7, 0, "go\x01od");
                break;
        case H_NAME_SPACE:
                len = enc_open(buf, 7, 0, "go od");
                break;
        case H_NAME_DEL:
                len = enc_open(buf, 7, 0, "go\x7fod");
                break;
        case H_NAME_HIGH:
                len = enc_open(buf, 7, 0, "g\xc3\xb6od");
                break;
        case H_NAME_NUL:
                /* "good\0x": the name the server would see is "good" */
                len = enc_open(buf, 7, 0, "goodxx");
                buf[WIRE_HEADER_SIZE + 12 + 4] = '\0';
                break;
        case H_NAME_LEN_LONG:
                /* name_len says 6, the packet carries 4 name bytes */
                len = enc_open(buf, 7, 0, "good");
                buf[WIRE_HEADER_SIZE + 8] = 6;
                break;
        case H_NAME_LEN_SHORT:
                /* name_len says 2, the packet carries 4 name bytes */
                len = enc_open(buf, 7, 0, "good");
                buf[WIRE_HEADER_SIZE + 8] = 2;
                break;
        case H_NAME_TOO_LONG_PACKET:
                /* name_len 255 and 255 bytes, plus trailing junk */
                memset(pkt, 0, 4096);
                pkt[0] = WIRE_OPEN;
                put32le(pkt + 4, 20 + 255 + 8);
                put32le(pkt + 8, 7);
                pkt[16] = 255;
                memset(pkt + 20, 'a', 255 + 8);
                return 20 + 255 + 8;
        case H_OPEN_CLOSED_TOO_MANY:
        case H_OPEN_CLOSED_SHORT: {
                /* WIRE_MAX_CLOSED + 1 closed ids, all there; or 2 announced
                 * and 1 there */
                uint32_t n = kind == H_OPEN_CLOSED_TOO_MANY ? WIRE_MAX_CLOSED + 1 : 1;
                pkt[0] = WIRE_OPEN;
                put32le(pkt + 4, 20 + 4 + 4 * n);
                put32le(pkt + 8, 7);
                pkt[16] = 4;
                pkt[17] = (uint8_t)(kind == H_OPEN_CLOSED_TOO_MANY ? n : 2);
                memcpy(pkt + 20, "good", 4);
                for (uint32_t i = 0; i < n; i++)
                        put32le(pkt + 24 + 4 * i, i + 1);
                return 20 + 4 + 4 * n;
        }
        case H_CLOSE_MORE_TOO_MANY:
        case H_CLOSE_MORE_SHORT: {
                uint32_t n = kind == H_CLOSE_MORE_TOO_MANY ? WIRE_MAX_CLOSED + 1 : 1;
                pkt[0] = WIRE_CLOSE;
                put32le(pkt + 4, 16 + 4 * n);
                put32le(pkt + 8, 1);
                pkt[12] = (uint8_t)(kind == H_CLOSE_MORE_TOO_MANY ? n : 2);
                for (uint32_t i = 0; i < n; i++)
                        put32le(pkt + 16 + 4 * i, i + 2);
                return 16 + 4 * n;
        }
        case H_OPEN_FLAGS:
                len = enc_open(buf, 7, 1u << 1, "good");
                break;
        default:
                return 0;
        }
        memcpy(pkt, buf, len);
        return len;
}

static void hostile_child(const struct hostile *k, int life)
{
        tu_close_fds_except(life, -1);
        int s = raw_connect();
        if (s < 0)
                _exit(HC_SETUP);
        set_timeouts(s, 10);
        if (k->hello && raw_hello(s) < 0)
                _exit(HC_SETUP);
        static uint8_t pkt[4096];
        size_t len = build_hostile(k->kind, pkt);
        int fds[32], keep = -1;
        if (k->nfds) {
                int p[2];
                if (pipe2(p, O_CLOEXEC) < 0)
                        _exit(HC_SETUP);
                keep = p[0];
                fds[0] = p[1];
                for (int i = 1; i < k->nfds; i++)
                        if ((fds[i] = dup(p[1])) < 0)
                                _exit(HC_SETUP);
        }
        int r = tu_send_fds(s, pkt, len, fds, k->nfds, 0);
        for (int i = 0; i < k->nfds; i++)
                close(fds[i]);
        if (r < 0)
                _exit(HC_SEND);
        if (wait_hangup(s, 10000, NULL) != 1)
                _exit(HC_NO_HANGUP);
        if (keep >= 0) {
                /* Every copy of the write end the server received is closed:
                 * the read end sees end of file. */
                char c;
                if (tu_read_byte(keep, 10000, &c) != 0)
                        _exit(HC_FDS_KEPT);
        }
        _exit(HC_OK);
}

static void run_hostile(struct fixture *f, const struct hostile *k)
{
        int fds_before = tu_count_fds();
        struct lsashm_server_stats st0, st1;
        assert_int_equal(lsashm_server_stats(f->srv, &st0), 0);
        unsigned log0 = logbuf.n;
        int life[2];
        assert_int_equal(pipe2(life, O_CLOEXEC), 0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0)
                hostile_child(k, life[1]);
        close(life[1]);
        bool done = serve_until(f->srv, life[0], POLLIN, STEP_MS);
        if (!done)
                kill(pid, SIGKILL);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        close(life[0]);
        char why[64];
        if (!done || !WIFEXITED(status) || WEXITSTATUS(status) != HC_OK) {
                dump_log(log0);
                fail_msg("%s: hostile client %s (2: not disconnected, 3: its descriptors stayed open, "
                         "4: setup, 5: send)", k->name, tu_describe_status(done ? status : -1, why, sizeof(why)));
        }
        assert_one_log_line(log0, pid, getuid(), k->name);
        assert_int_equal(lsashm_server_stats(f->srv, &st1), 0);
        assert_int_equal(st1.connections, st0.connections);
        assert_int_equal(st1.dropped, st0.dropped + 1);
        assert_int_equal(st1.views, st0.views);
        int fds_after = tu_count_fds();
        if (fds_after != fds_before)
                fail_msg("%s: the server holds %d descriptors more than before", k->name, fds_after - fds_before);
        /* The client connected all along is still served. */
        good_open(f, "good");
}

static void test_descriptors_refused(void **state)
{
        struct fixture *f = *state;
        static const struct hostile cases[] = {
                { "OPEN with 1 fd", H_FD1, true, 1 },
                { "OPEN with 3 fds", H_FD3, true, 3 },
                { "HELLO with 1 fd", H_FD_IN_HELLO, false, 1 },
                { "CLOSE with 2 fds", H_FD_ON_CLOSE, true, 2 },
                { "OPEN with 20 fds (MSG_CTRUNC)", H_CTRUNC, true, 20 },
                { "empty packet with 1 fd", H_EMPTY, true, 1 },
        };
        good_open(f, "good");
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                run_hostile(f, &cases[i]);
}

static void test_malformed_refused(void **state)
{
        struct fixture *f = *state;
        static const struct hostile cases[] = {
                { "513-byte packet", H_BIG513, true, 0 },
                { "4096-byte packet", H_BIG4096, true, 0 },
                { "1000-byte packet before HELLO", H_BIG_BEFORE_HELLO, false, 0 },
                { "3-byte packet", H_SHORT3, false, 0 },
                { "header only", H_HEADER_ONLY, false, 0 },
                { "garbage", H_GARBLED, false, 0 },
                { "length field too long", H_LEN_LONG, false, 0 },
                { "length field too short", H_LEN_SHORT, false, 0 },
                { "OPEN length field off by one", H_LEN_OPEN, true, 0 },
                { "reserved header bytes", H_RESERVED_HEADER, false, 0 },
                { "reserved HELLO bytes", H_RESERVED_HELLO, false, 0 },
                { "reserved OPEN bytes", H_RESERVED_OPEN, true, 0 },
                { "reserved CLOSE bytes", H_RESERVED_CLOSE, true, 0 },
                { "unknown type 99", H_TYPE_UNKNOWN, false, 0 },
                { "type 0", H_TYPE_ZERO, true, 0 },
                { "type 0xffff", H_TYPE_HIGH, true, 0 },
                { "HELLO_REPLY sent to the server", H_TYPE_HELLO_REPLY, false, 0 },
                { "OPEN_REPLY sent to the server", H_TYPE_OPEN_REPLY, true, 0 },
                { "REVOKED sent to the server", H_TYPE_REVOKED, true, 0 },
                { "OPEN before HELLO", H_OPEN_BEFORE_HELLO, false, 0 },
                { "CLOSE before HELLO", H_CLOSE_BEFORE_HELLO, false, 0 },
                { "second HELLO", H_HELLO_TWICE, true, 0 },
                { "version 2", H_VERSION_2, false, 0 },
                { "version 0", H_VERSION_0, false, 0 },
                { "version 0xffff", H_VERSION_MAX, false, 0 },
                { "unknown feature bit", H_FEATURES_UNKNOWN, false, 0 },
                { "feature bit 31", H_FEATURES_HIGH, false, 0 },
                { "empty name", H_NAME_EMPTY, true, 0 },
                { "name with '/'", H_NAME_SLASH, true, 0 },
                { "name with a control byte", H_NAME_CONTROL, true, 0 },
                { "name with a space", H_NAME_SPACE, true, 0 },
                { "name with DEL", H_NAME_DEL, true, 0 },
                { "name with non-ASCII bytes", H_NAME_HIGH, true, 0 },
                { "name with a NUL", H_NAME_NUL, true, 0 },
                { "name_len longer than the packet", H_NAME_LEN_LONG, true, 0 },
                { "name_len shorter than the packet", H_NAME_LEN_SHORT, true, 0 },
                { "255-byte name and junk after it", H_NAME_TOO_LONG_PACKET, true, 0 },
                { "unknown OPEN flag", H_OPEN_FLAGS, true, 0 },
                { "OPEN closing one view too many", H_OPEN_CLOSED_TOO_MANY, true, 0 },
                { "OPEN closing fewer views than it says", H_OPEN_CLOSED_SHORT, true, 0 },
                { "CLOSE of one view too many", H_CLOSE_MORE_TOO_MANY, true, 0 },
                { "CLOSE of fewer views than it says", H_CLOSE_MORE_SHORT, true, 0 },
        };
        good_open(f, "good");
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                run_hostile(f, &cases[i]);
}

/* A zero-length packet is a malformed message like any other (recvmsg()
 * returns 0 for it, as at end of stream, but the peer is still there). */
static void test_empty_packet_refused(void **state)
{
        struct fixture *f = *state;
        static const struct hostile empty = { "empty packet", H_EMPTY, true, 0 };
        static const struct hostile empty_first = { "empty packet before HELLO", H_EMPTY, false, 0 };
        good_open(f, "good");
        run_hostile(f, &empty);
        run_hostile(f, &empty_first);
}

int main(void)
{
        share_hostile_prepare();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_descriptors_refused, setup_default, teardown_fixture),
                cmocka_unit_test_setup_teardown(test_malformed_refused, setup_default, teardown_fixture),
                cmocka_unit_test_setup_teardown(test_empty_packet_refused, setup_default, teardown_fixture),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
