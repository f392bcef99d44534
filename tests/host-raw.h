/* SPDX-License-Identifier: MIT */
/*
 * Raw clients for the host tests that speak the wire by hand (after
 * host-fixture.h): packets built with the codec, descriptors passed or not,
 * replies read while the host in this process is pumped; and memfds sealed
 * or sized wrongly on purpose.
 */
#ifndef LSASHM_TEST_HOST_RAW_H
#define LSASHM_TEST_HOST_RAW_H

#include "host-fixture.h"

static uint8_t g_pkt[LSA_WIRE_MAX_MESSAGE + 256];

static inline void raw_send(int s, const struct lsa_wire_message *m, int fd)
{
        size_t len = lsa_wire_encode(m, g_pkt);
        assert_true(len > 0);
        assert_int_equal(tu_send_fds(s, g_pkt, len, &fd, fd >= 0 ? 1 : 0, 0), 0);
}

/* The next packet on s, serving the host meanwhile; its fd closed. */
static inline struct lsa_wire_message raw_reply(int s)
{
        int64_t end = tu_now_ms() + STEP_MS;
        for (;;) {
                int got = -1;
                ssize_t n = fdpass_recv(s, g_pkt, sizeof(g_pkt), &got, true, true);
                if (n > 0) {
                        struct lsa_wire_message m;
                        assert_int_equal(lsa_wire_decode(g_pkt, (size_t)n, 0, &m), 0);
                        if (got >= 0)
                                close(got);
                        return m;
                }
                assert_int_equal(n, -EAGAIN);
                assert_true(tu_now_ms() < end);
                pump(5);
        }
}

static inline void raw_expect_hangup(int s)
{
        int64_t end = tu_now_ms() + STEP_MS;
        for (;;) {
                int got = -1;
                ssize_t n = fdpass_recv(s, g_pkt, sizeof(g_pkt), &got, true, true);
                if (n == 0 || n == -ECONNRESET)
                        return;
                if (got >= 0)
                        close(got);
                assert_int_equal(n, -EAGAIN);
                assert_true(tu_now_ms() < end);
                pump(5);
        }
}

enum bad_memfd {
        MEMFD_UNSEALED,      /* no seal at all */
        MEMFD_WRITE_ONLY,    /* sealed against writing, but may shrink or grow */
        MEMFD_NO_WRITE_SEAL, /* may still be written */
        MEMFD_SHORT,         /* one byte less than the call says */
        MEMFD_LONG,          /* one byte more */
        MEMFD_GOOD,
};

static inline int make_memfd(const void *req, size_t req_len, uint32_t size, enum bad_memfd how)
{
        int fd = memfd_create("test-submit", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        assert_true(fd >= 0);
        uint32_t file = how == MEMFD_SHORT ? size - 1 : how == MEMFD_LONG ? size + 1 : size;
        assert_int_equal(ftruncate(fd, file), 0);
        assert_int_equal(pwrite(fd, req, req_len, 0), (ssize_t)req_len);
        int seals = how == MEMFD_UNSEALED    ? 0
                : how == MEMFD_WRITE_ONLY    ? F_SEAL_WRITE
                : how == MEMFD_NO_WRITE_SEAL ? F_SEAL_SHRINK | F_SEAL_GROW
                                             : F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW;
        if (seals)
                assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
        return fd;
}

#endif
