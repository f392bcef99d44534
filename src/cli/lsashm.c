/* SPDX-License-Identifier: MIT */
/*
 * lsashm: the administrator's command. `lsashm status` asks lsashmd, on an
 * admin connection (root or the admin group only), for its report: the
 * packages, every section with its owner and use, and the connections.
 * `lsashm sessions` asks, the same way, for the logon sessions.
 *
 * Exit status: 0 ok, 1 error (no lsashmd, refused, malformed reply), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
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
#include "share/deadline.h"
#include "share/fdpass.h"

/* Far more than any report lsashmd writes; a larger claim is not believed. */
#define MAX_REPORT (64u << 20)

static void usage(FILE *f)
{
        fprintf(f, "usage: lsashm [--socket PATH] status [--json]\n"
                   "       lsashm [--socket PATH] sessions [--json]\n"
                   "       lsashm --help | --version\n"
                   "Shows what lsashmd holds: loaded packages, sections, connections (status);\n"
                   "the logon sessions: id, package, user, logon type, start, uid (sessions).\n"
                   "  --socket PATH  lsashmd's socket (default: $LSASHM_SOCKET, else " LSASHM_DEFAULT_SOCKET ")\n"
                   "  --json         the report as one JSON object, for scripts\n"
                   "Needs root or the admin group of lsashmd.conf (see lsashm(1)).\n");
}

/* One deadline for the whole command: a lsashmd that accepts and never
 * answers must not hang an administrator's shell ($LSASHM_TIMEOUT_MS, 5 s). */
static int64_t deadline;

static int connect_host(const char *path)
{
        if (!*path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
                fprintf(stderr, "lsashm: %s: empty or longer than a socket path can be\n", path);
                return -1;
        }
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                fprintf(stderr, "lsashm: socket: %s\n", strerror(errno));
                return -1;
        }
        int c = deadline_connect(fd, path, deadline);
        if (c < 0) {
                int e = -c;
                if (e == ETIMEDOUT)
                        fprintf(stderr, "lsashm: cannot connect: lsashmd at %s did not answer in time\n", path);
                else if (e == ENOENT)
                        fprintf(stderr, "lsashm: cannot connect: no lsashmd socket at %s\n", path);
                else if (e == ECONNREFUSED)
                        fprintf(stderr, "lsashm: cannot connect: no lsashmd listening at %s\n", path);
                else
                        fprintf(stderr, "lsashm: cannot connect to %s: %s\n", path, strerror(e));
                close(fd);
                return -1;
        }
        return fd;
}

/* Send m, receive its reply (with a descriptor when ret_fd). 0 or -1, said. */
static int request(int fd, const struct lsa_wire_message *m, struct lsa_wire_message *reply, int *ret_fd)
{
        uint8_t buf[LSA_WIRE_MAX_MESSAGE];
        size_t len = lsa_wire_encode(m, buf);
        if (len == 0) {
                fprintf(stderr, "lsashm: cannot encode the request\n"); /* our bug */
                return -1;
        }
        int r = deadline_send(fd, buf, len, deadline);
        if (r < 0) {
                if (r == -ETIMEDOUT)
                        fprintf(stderr, "lsashm: lsashmd did not take the request in time\n");
                else if (r == -EPIPE || r == -ECONNRESET)
                        fprintf(stderr, "lsashm: lsashmd closed the connection\n");
                else
                        fprintf(stderr, "lsashm: sending to lsashmd: %s\n", strerror(-r));
                return -1;
        }
        int got = -1;
        ssize_t n = deadline_recv(fd, buf, sizeof(buf), &got, ret_fd != NULL, deadline);
        if (n == -ETIMEDOUT) {
                fprintf(stderr, "lsashm: lsashmd did not answer in time\n");
                return -1;
        }
        if (n == 0 || n == -ECONNRESET) {
                fprintf(stderr, "lsashm: lsashmd closed the connection\n");
                return -1;
        }
        if (n < 0 && n != -EBADMSG) {
                fprintf(stderr, "lsashm: receiving from lsashmd: %s\n", strerror((int)-n));
                return -1;
        }
        int d = n < 0 ? -EBADMSG : lsa_wire_decode(buf, (size_t)n, 0, reply);
        if (d < 0 || reply->type != lsa_wire_reply_type(m->type)) {
                if (got >= 0)
                        close(got);
                if (d == -EPROTONOSUPPORT)
                        fprintf(stderr, "lsashm: lsashmd answered in a protocol this lsashm does not speak\n");
                else
                        fprintf(stderr, "lsashm: malformed reply from lsashmd\n");
                return -1;
        }
        if (ret_fd)
                *ret_fd = got;
        return 0;
}

/*
 * Write the report out. lsashmd already shows unprintable bytes of names as
 * '?', but the bytes come from another process: no control character other
 * than newline and tab reaches the terminal, whoever sent them.
 */
static int report_copy(int rfd, uint64_t length)
{
        char buf[65536];
        for (uint64_t off = 0; off < length;) {
                size_t want = length - off < sizeof(buf) ? (size_t)(length - off) : sizeof(buf);
                ssize_t n = pread(rfd, buf, want, (off_t)off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        fprintf(stderr, "lsashm: reading the report: %s\n", n < 0 ? strerror(errno) : "truncated");
                        return -1;
                }
                for (ssize_t i = 0; i < n; i++) {
                        unsigned char c = (unsigned char)buf[i];
                        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                                buf[i] = '?';
                }
                if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
                        fprintf(stderr, "lsashm: writing the report: %s\n", strerror(errno));
                        return -1;
                }
                off += (uint64_t)n;
        }
        if (fflush(stdout) != 0) {
                fprintf(stderr, "lsashm: writing the report: %s\n", strerror(errno));
                return -1;
        }
        return 0;
}

static int status(const char *path, bool json, bool sessions)
{
        deadline = deadline_after_ms(deadline_default_timeout_ms());
        int fd = connect_host(path);
        if (fd < 0)
                return 1;
        int rfd = -1, ret = 1;
        struct lsa_wire_message m = { .type = LSA_WIRE_CONNECT }, r;
        m.connect.mode = LSA_WIRE_MODE_ADMIN; /* no reply region, no name */
        if (request(fd, &m, &r, NULL) < 0)
                goto out;
        if (r.connect_reply.status == STATUS_ACCESS_DENIED) {
                fprintf(stderr, "lsashm: not allowed: %s needs root or the admin group (NTSTATUS 0x%08X)\n",
                        sessions ? "sessions" : "status", (unsigned)r.connect_reply.status);
                goto out;
        }
        if (r.connect_reply.status != STATUS_SUCCESS) {
                fprintf(stderr, "lsashm: lsashmd refused the connection (NTSTATUS 0x%08X)\n",
                        (unsigned)r.connect_reply.status);
                goto out;
        }

        m = (struct lsa_wire_message){ .type = LSA_WIRE_STATUS };
        if (sessions)
                m.status.format = json ? LSA_WIRE_STATUS_SESSIONS_JSON : LSA_WIRE_STATUS_SESSIONS_TEXT;
        else
                m.status.format = json ? LSA_WIRE_STATUS_JSON : LSA_WIRE_STATUS_TEXT;
        if (request(fd, &m, &r, &rfd) < 0)
                goto out;
        if (r.status_reply.status != STATUS_SUCCESS) {
                fprintf(stderr, "lsashm: lsashmd could not make its report (NTSTATUS 0x%08X)\n",
                        (unsigned)r.status_reply.status);
                goto out;
        }
        struct stat st;
        if (rfd < 0 || fstat(rfd, &st) < 0 || !S_ISREG(st.st_mode) || r.status_reply.length > MAX_REPORT ||
            (uint64_t)st.st_size < r.status_reply.length) {
                fprintf(stderr, "lsashm: malformed reply from lsashmd: %s\n",
                        rfd < 0                                  ? "no report attached"
                        : r.status_reply.length > MAX_REPORT     ? "report too large"
                                                                 : "report is not a file of its size");
                goto out;
        }
        if (report_copy(rfd, r.status_reply.length) == 0)
                ret = 0;
out:
        if (rfd >= 0)
                close(rfd);
        close(fd);
        return ret;
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
        bool json = false;
        int o;
        while ((o = getopt_long(argc, argv, "s:jhV", opts, NULL)) != -1) {
                switch (o) {
                case 's': path = optarg; break;
                case 'j': json = true; break;
                case 'h': usage(stdout); return 0;
                case 'V': printf("lsashm %s\n", LSASHM_VERSION); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "lsashm: which command? (status, sessions)\n");
                usage(stderr);
                return 2;
        }
        bool known = strcmp(argv[optind], "status") == 0 || strcmp(argv[optind], "sessions") == 0;
        if (!known || optind + 1 != argc) {
                fprintf(stderr, "lsashm: unknown command or extra argument '%s'\n",
                        !known ? argv[optind] : argv[optind + 1]);
                usage(stderr);
                return 2;
        }
        return status(path, json, strcmp(argv[optind], "sessions") == 0);
}
