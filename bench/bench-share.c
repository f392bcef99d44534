/* SPDX-License-Identifier: MIT */
/*
 * bench-share: what sharing a section costs a client, beside the ways a
 * client would otherwise reach the same data, measured in one run.
 *
 *   open     connect + open + map a 1 MiB section, against shm_open + fstat +
 *            mmap of the same size, and against one request/response round
 *            trip on the same kind of socket
 *   read     64-byte records at random offsets through the view (resolve and
 *            copy), against asking the server for each record over a socket
 *   fan-out  1000 clients each holding a view: server memory and descriptors
 *            per client
 *
 * The owner runs in a child process: an lsashm server, and beside it a plain
 * SEQPACKET server that answers record requests, the peer for "read".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lsashm/section.h"
#include "lsashm/share.h"

#define SECTION_SIZE (1u << 20)
#define RECORD 64u
#define FANOUT 1000

static bool quick;

static double now_ns(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static uint64_t rng_state = 42;
static uint64_t rng(void)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

static _Noreturn void die(const char *what, int err)
{
        fprintf(stderr, "bench-share: %s: %s\n", what, strerror(err));
        exit(1);
}

/* ---- the owner, in a child process ---- */

static int listen_at(const char *path)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        unlink(path);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1024) < 0)
                die("rpc listen", errno);
        return fd;
}

static int connect_to(const char *path)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
                die("connect", errno);
        return fd;
}

/* Serve both sockets until killed. The record server answers an 8-byte
 * offset with the 64 bytes there, as a per-lookup service would. */
static void owner(const char *lsashm_path, const char *rpc_path, int ready_fd)
{
        struct lsashm_section_config cfg = { .max_size = SECTION_SIZE, .initial_size = SECTION_SIZE,
                                             .flags = LSASHM_SECTION_NO_WIPE, .name = "bench-share" };
        lsashm_section_t *s;
        void *data;
        if (lsashm_section_create(&cfg, &s) < 0 || lsashm_section_alloc(s, SECTION_SIZE, &data) < 0)
                die("section", ENOMEM);
        for (size_t i = 0; i < SECTION_SIZE; i++)
                ((uint8_t *)data)[i] = (uint8_t)(i * 131u);

        struct lsashm_server_config scfg = { .path = lsashm_path, .listen_fd = -1,
                                             .limits = { .connections_per_uid = 2 * FANOUT } };
        lsashm_server_t *srv;
        int r = lsashm_server_create(&scfg, &srv);
        const struct lsashm_rule all[] = { { LSASHM_RULE_ANYONE, 0, LSASHM_ACCESS_READ } };
        if (r == 0)
                r = lsashm_server_publish(srv, "records", s, &(struct lsashm_policy){ all, 1 });
        if (r < 0)
                die("server", -r);

        int rpc = listen_at(rpc_path);
        struct pollfd pfd[64] = { { .fd = lsashm_server_fd(srv), .events = POLLIN },
                                  { .fd = rpc, .events = POLLIN } };
        int n = 2;
        (void)!write(ready_fd, "r", 1);
        for (;;) {
                if (poll(pfd, (nfds_t)n, -1) < 0)
                        continue;
                if (pfd[0].revents)
                        lsashm_server_dispatch(srv);
                if (pfd[1].revents && n < 64) {
                        int c = accept4(rpc, NULL, NULL, SOCK_CLOEXEC);
                        if (c >= 0)
                                pfd[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
                }
                for (int i = 2; i < n; i++) {
                        if (!pfd[i].revents)
                                continue;
                        uint64_t off;
                        ssize_t got = recv(pfd[i].fd, &off, sizeof(off), 0);
                        if (got != (ssize_t)sizeof(off) || off > SECTION_SIZE - RECORD) {
                                close(pfd[i].fd);
                                pfd[i--] = pfd[--n];
                                continue;
                        }
                        (void)!send(pfd[i].fd, (uint8_t *)data + off, RECORD, MSG_NOSIGNAL);
                }
        }
}

static long fd_count(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
        DIR *d = opendir(path);
        long n = 0;
        for (struct dirent *e; d && (e = readdir(d));)
                n += e->d_name[0] != '.';
        if (d)
                closedir(d);
        return n;
}

static long rss_kib(pid_t pid)
{
        char path[64], line[256];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "r");
        long kib = -1;
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

/* ---- rows ---- */

struct row {
        const char *workload, *impl;
        double per_op_ns;
        const char *note;
};

static struct row rows[16];
static int n_rows;

static void add_row(const char *workload, const char *impl, double ns, const char *note)
{
        rows[n_rows++] = (struct row){ workload, impl, ns, note };
}

int main(int argc, char **argv)
{
        bool json = false;
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--quick"))
                        quick = true;
                else if (!strcmp(argv[i], "--json"))
                        json = true;
                else {
                        fprintf(stderr, "usage: %s [--quick] [--json]\n", argv[0]);
                        return 2;
                }
        }
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        signal(SIGPIPE, SIG_IGN);

        char dir[] = "/tmp/lsashm-bench-XXXXXX";
        if (!mkdtemp(dir))
                die("mkdtemp", errno);
        char lpath[64], rpath[64];
        snprintf(lpath, sizeof(lpath), "%s/lsashm.sock", dir);
        snprintf(rpath, sizeof(rpath), "%s/rpc.sock", dir);
        int ready[2];
        if (pipe(ready) < 0)
                die("pipe", errno);
        pid_t pid = fork();
        if (pid == 0) {
                close(ready[0]);
                owner(lpath, rpath, ready[1]);
                _exit(0);
        }
        close(ready[1]);
        char c;
        if (read(ready[0], &c, 1) != 1)
                die("owner did not start", EIO);
        close(ready[0]);

        int opens = quick ? 200 : 2000;
        /* open: the whole path a client takes to see the data */
        double t = now_ns();
        volatile uint8_t sink = 0;
        for (int i = 0; i < opens; i++) {
                lsashm_client_t *cl;
                lsashm_view_t *v;
                if (lsashm_client_connect(lpath, &cl) < 0 || lsashm_client_open(cl, "records", &v) < 0)
                        die("open", EIO);
                sink ^= *(const uint8_t *)lsashm_view_ptr(v, 0, 1);
                lsashm_view_close(v);
                lsashm_client_close(cl);
        }
        add_row("open", "lsashm connect+open+map", (now_ns() - t) / opens, "1 MiB, incl. close");

        int shm = shm_open("/lsashm-bench-share", O_CREAT | O_RDWR, 0600);
        if (shm < 0 || ftruncate(shm, SECTION_SIZE) < 0)
                die("shm_open", errno);
        close(shm);
        t = now_ns();
        for (int i = 0; i < opens; i++) {
                int fd = shm_open("/lsashm-bench-share", O_RDONLY, 0);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0)
                        die("shm_open", errno);
                void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
                if (p == MAP_FAILED)
                        die("mmap", errno);
                sink ^= *(const uint8_t *)p;
                munmap(p, (size_t)st.st_size);
                close(fd);
        }
        add_row("open", "shm_open+fstat+mmap", (now_ns() - t) / opens, "no access control, no revocation");
        shm_unlink("/lsashm-bench-share");

        int rpc = connect_to(rpath);
        int trips = quick ? 20000 : 200000;
        uint8_t rec[RECORD];
        t = now_ns();
        for (int i = 0; i < trips; i++) {
                uint64_t off = (rng() % (SECTION_SIZE / RECORD)) * RECORD;
                if (send(rpc, &off, sizeof(off), 0) != (ssize_t)sizeof(off) ||
                    recv(rpc, rec, sizeof(rec), 0) != (ssize_t)sizeof(rec))
                        die("rpc", errno);
        }
        double rtt = (now_ns() - t) / trips;
        add_row("open", "one socket round trip", rtt, "SEQPACKET request + reply");

        /* read: the same lookups, through the mapping and through the socket */
        lsashm_client_t *cl;
        lsashm_view_t *v;
        if (lsashm_client_connect(lpath, &cl) < 0 || lsashm_client_open(cl, "records", &v) < 0)
                die("open", EIO);
        long lookups = quick ? 1000000 : 10000000;
        t = now_ns();
        for (long i = 0; i < lookups; i++) {
                uint64_t off = (rng() % (SECTION_SIZE / RECORD)) * RECORD;
                const void *p = lsashm_view_ptr(v, off, RECORD);
                memcpy(rec, p, RECORD);
                sink ^= rec[i & 63];
        }
        double view_ns = (now_ns() - t) / (double)lookups;
        add_row("read", "lsashm view (resolve+copy)", view_ns, "64-byte records, random offsets");
        add_row("read", "ask the server each time", rtt, "same records over the socket");
        lsashm_view_close(v);
        lsashm_client_close(cl);
        close(rpc);

        /* fan-out: what each connected client with a view costs the server */
        int fan = quick ? 200 : FANOUT;
        long fd0 = fd_count(pid), rss0 = rss_kib(pid);
        lsashm_client_t **cls = calloc((size_t)fan, sizeof(*cls));
        lsashm_view_t **vs = calloc((size_t)fan, sizeof(*vs));
        for (int i = 0; i < fan; i++)
                if (lsashm_client_connect(lpath, &cls[i]) < 0 || lsashm_client_open(cls[i], "records", &vs[i]) < 0)
                        die("fan-out open", EIO);
        long fd1 = fd_count(pid), rss1 = rss_kib(pid);
        for (int i = 0; i < fan; i++) {
                lsashm_view_close(vs[i]);
                lsashm_client_close(cls[i]);
        }
        free(cls);
        free(vs);
        double rss_per = (double)(rss1 - rss0) * 1024.0 / fan;
        double fds_per = (double)(fd1 - fd0) / fan;

        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        unlink(lpath);
        unlink(rpath);
        rmdir(dir);

        double speedup = rtt / view_ns;
        if (json) {
                printf("{\"rows\":[");
                for (int i = 0; i < n_rows; i++)
                        printf("%s{\"workload\":\"%s\",\"impl\":\"%s\",\"ns_per_op\":%.1f,\"ops_per_s\":%.0f}",
                               i ? "," : "", rows[i].workload, rows[i].impl, rows[i].per_op_ns,
                               1e9 / rows[i].per_op_ns);
                printf("],\"read_speedup\":%.1f,\"fanout_clients\":%d,\"server_rss_bytes_per_client\":%.0f,"
                       "\"server_fds_per_client\":%.2f}\n",
                       speedup, fan, rss_per, fds_per);
                return sink == 255 ? 3 : 0;
        }
        printf("%-8s %-28s %12s %14s  %s\n", "workload", "implementation", "ns/op", "ops/s", "note");
        for (int i = 0; i < n_rows; i++)
                printf("%-8s %-28s %12.1f %14.0f  %s\n", rows[i].workload, rows[i].impl, rows[i].per_op_ns,
                       1e9 / rows[i].per_op_ns, rows[i].note);
        printf("%-8s %-28s %12.0f %14s  server RSS bytes per client (%d clients, each with a view)\n",
               "fan-out", "lsashm server", rss_per, "-", fan);
        printf("%-8s %-28s %12.2f %14s  server fds per client: the socket and its pidfd, none per view\n",
               "fan-out", "lsashm server", fds_per, "-");
        printf("\ntargets\n");
        printf("  read through the view >= 50x the lookups/s of asking the server: %.0fx  %s\n", speedup,
               speedup >= 50 ? "PASS" : "MISS");
        printf("  server RSS per client <= 16 KiB: %.1f KiB  %s\n", rss_per / 1024,
               rss_per <= 16384 ? "PASS" : "MISS");
        printf("  no server fd kept per view: %.2f fds per client  %s\n", fds_per,
               fds_per <= 2.05 ? "PASS" : "MISS");
        return sink == 255 ? 3 : 0;
}
