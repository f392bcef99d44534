/* SPDX-License-Identifier: MIT */
/* The listening socket and peer credentials both servers use. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "share/listener.h"

/* NGROUPS_MAX on Linux: more is not a group list but a lie. */
#define MAX_GROUPS 65536u

int listener_bind(const char *path, mode_t mode, int *ret_fd)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (!path || !*path || strlen(path) >= sizeof(sa.sun_path))
                return -EINVAL;
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* Replace a socket file only when nobody answers on it: starting a
         * second server must not steal the first one's clients. */
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
                int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                if (probe >= 0) {
                        int live = connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;
                        close(probe);
                        if (live) {
                                close(fd);
                                return -EADDRINUSE;
                        }
                }
                unlink(path);
        }
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, mode ? mode : 0666) < 0 ||
            listen(fd, 128) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int listener_adopt(int fd)
{
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;
        return 0;
}

void listener_raise_fd_limit(void)
{
        struct rlimit nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
                nofile.rlim_cur = nofile.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &nofile);
        }
}

int listener_peer_groups(int fd, gid_t **ret, uint32_t *ret_n)
{
        socklen_t len = 64 * sizeof(gid_t);
        for (;;) {
                gid_t *g = malloc(len ? len : sizeof(gid_t));
                if (!g)
                        return -ENOMEM;
                socklen_t got = len;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &got) == 0) {
                        *ret = g;
                        *ret_n = got / sizeof(gid_t);
                        return 0;
                }
                int e = errno;
                free(g);
                if (e != ERANGE || got <= len || got > MAX_GROUPS * sizeof(gid_t))
                        return -e;
                len = got;
        }
}
