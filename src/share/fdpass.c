/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "share/fdpass.h"

/* Room for more descriptors than we ever accept, so that a peer sending a
 * handful gets them all received (and closed) instead of silently dropped. */
#define FDS_ROOM 16

int fdpass_send(int sock, const void *buf, size_t len, int fd, bool nonblocking)
{
        struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (fd >= 0) {
                memset(&control, 0, sizeof(control));
                msg.msg_control = control.buf;
                msg.msg_controllen = sizeof(control.buf);
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        ssize_t n;
        do
                n = sendmsg(sock, &msg, MSG_NOSIGNAL | (nonblocking ? MSG_DONTWAIT : 0));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return (size_t)n == len ? 0 : -EMSGSIZE;
}

/* recvmsg() returns 0 both at the end of the stream and for a zero-length
 * packet; only the former leaves the socket shut down for reading. */
static bool peer_gone(int sock)
{
        struct pollfd p = { .fd = sock, .events = POLLRDHUP };
        return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP));
}

static ssize_t recv_packet(int sock, void *buf, size_t cap, int *ret_fd, bool allow_fd, int flags, bool retry_eintr)
{
        struct iovec iov = { .iov_base = buf, .iov_len = cap };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(FDS_ROOM * sizeof(int))];
        } control;
        struct msghdr msg = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof(control.buf),
        };
        ssize_t n;
        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
        while (n < 0 && errno == EINTR && retry_eintr);
        if (n < 0)
                return -errno;

        int got[FDS_ROOM], n_got = 0;
        bool foreign = false;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
                        foreign = true;
                        continue;
                }
                size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < count && n_got < FDS_ROOM; i++)
                        memcpy(&got[n_got++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        }
        bool bad = foreign || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || n_got > 1 ||
                   (n_got == 1 && !allow_fd) || (n == 0 && (n_got > 0 || !peer_gone(sock)));
        if (bad) {
                for (int i = 0; i < n_got; i++)
                        close(got[i]);
                return -EBADMSG;
        }
        *ret_fd = n_got ? got[0] : -1;
        return n;
}

ssize_t fdpass_recv(int sock, void *buf, size_t cap, int *ret_fd, bool allow_fd, bool nonblocking)
{
        return recv_packet(sock, buf, cap, ret_fd, allow_fd, nonblocking ? MSG_DONTWAIT : 0, true);
}

ssize_t fdpass_recv_wait(int sock, void *buf, size_t cap, int *ret_fd, bool allow_fd)
{
        return recv_packet(sock, buf, cap, ret_fd, allow_fd, 0, false);
}
