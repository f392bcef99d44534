/* SPDX-License-Identifier: MIT */
/*
 * lsashm: the administrator's command. `lsashm status` asks lsashmd, on an
 * admin connection (root or the admin group only), for its report: the
 * packages, every section with its owner and use, and the connections.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lsa/lsa-wire.h"
#include "lsashm/share.h"
#include "lsashm/wintypes.h"
#include "share/fdpass.h"

#define MAX_REPORT (64u << 20)

static void usage(FILE *f)
{
        fprintf(f, "usage: lsashm [--socket PATH] status [--json]\n"
                   "       lsashm --help | --version\n"
                   "Shows what lsashmd holds: loaded packages, sections, connections.\n"
                   "  --socket PATH  lsashmd's socket (default: $LSASHM_SOCKET, else " LSASHM_DEFAULT_SOCKET ")\n"
                   "  --json         the report as one JSON object, for scripts\n"
                   "Needs root or the admin group of lsashmd.conf (see lsashm(1)).\n");
}

static int request(int fd, const struct lsa_wire_message *m, struct lsa_wire_message *reply, int *ret_fd)
{
        uint8_t buf[LSA_WIRE_MAX_MESSAGE];
        size_t len = lsa_wire_encode(m, buf);
        if (!len || fdpass_send(fd, buf, len, -1, false) < 0) {
                fprintf(stderr, "lsashm: lsashmd closed the connection\n");
                return -1;
        }
        int got = -1;
        ssize_t n = fdpass_recv(fd, buf, sizeof(buf), &got, ret_fd != NULL, false);
        if (n == 0) {
                fprintf(stderr, "lsashm: lsashmd closed the connection\n");
                return -1;
        }
        if (n < 0 || lsa_wire_decode(buf, (size_t)n, 0, reply) < 0 ||
            reply->type != lsa_wire_reply_type(m->type)) {
                if (got >= 0)
                        close(got);
                fprintf(stderr, "lsashm: malformed reply from lsashmd\n");
                return -1;
        }
        if (ret_fd)
                *ret_fd = got;
        return 0;
}

static int status(const char *path, int json)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "lsashm: socket path too long\n");
                return 1;
        }
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                fprintf(stderr, "lsashm: no lsashmd at %s: %s\n", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return 1;
        }
        struct lsa_wire_message m = { .type = LSA_WIRE_CONNECT }, r;
        m.connect.mode = LSA_WIRE_MODE_ADMIN;
        if (request(fd, &m, &r, NULL) < 0)
                goto fail;
        if (r.connect_reply.status != STATUS_SUCCESS) {
                fprintf(stderr, "lsashm: not allowed: status needs root or the admin group (NTSTATUS 0x%08X)\n",
                        (unsigned)r.connect_reply.status);
                goto fail;
        }
        m = (struct lsa_wire_message){ .type = LSA_WIRE_STATUS };
        m.status.format = json ? LSA_WIRE_STATUS_JSON : LSA_WIRE_STATUS_TEXT;
        int rfd = -1;
        if (request(fd, &m, &r, &rfd) < 0)
                goto fail;
        if (r.status_reply.status != STATUS_SUCCESS || rfd < 0) {
                fprintf(stderr, "lsashm: lsashmd could not make its report (NTSTATUS 0x%08X)\n",
                        (unsigned)r.status_reply.status);
                if (rfd >= 0)
                        close(rfd);
                goto fail;
        }
        struct stat st;
        if (fstat(rfd, &st) < 0 || !S_ISREG(st.st_mode) || r.status_reply.length > MAX_REPORT ||
            (uint64_t)st.st_size < r.status_reply.length) {
                fprintf(stderr, "lsashm: malformed report from lsashmd\n");
                close(rfd);
                goto fail;
        }
        char buf[65536];
        for (uint64_t off = 0; off < r.status_reply.length;) {
                size_t want = r.status_reply.length - off < sizeof(buf) ? (size_t)(r.status_reply.length - off)
                                                                          : sizeof(buf);
                ssize_t n = pread(rfd, buf, want, (off_t)off);
                if (n <= 0 || fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
                        fprintf(stderr, "lsashm: could not read the report\n");
                        close(rfd);
                        goto fail;
                }
                off += (uint64_t)n;
        }
        close(rfd);
        close(fd);
        return fflush(stdout) == 0 ? 0 : 1;
fail:
        close(fd);
        return 1;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },         { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 },
        };
        const char *path = getenv("LSASHM_SOCKET");
        if (!path || !*path)
                path = LSASHM_DEFAULT_SOCKET;
        int json = 0, o;
        while ((o = getopt_long(argc, argv, "s:jhV", opts, NULL)) != -1) {
                switch (o) {
                case 's': path = optarg; break;
                case 'j': json = 1; break;
                case 'h': usage(stdout); return 0;
                case 'V': printf("lsashm %s\n", LSASHM_VERSION); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind >= argc || strcmp(argv[optind], "status") != 0 || optind + 1 != argc) {
                usage(stderr);
                return 2;
        }
        return status(path, json);
}
