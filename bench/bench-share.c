/* SPDX-License-Identifier: MIT */
/*
 * bench-share: what sharing a section costs a client, beside the ways a
 * client would otherwise reach the same data, measured in one run.
 *
 *   open     open + map + close of a published 1 MiB section on a connected
 *            client, against its floor: one SEQPACKET round trip whose reply
 *            carries a memfd (SCM_RIGHTS), then fstat + mmap + munmap + close,
 *            served by a bare blocking loop. Both servers run on the client's
 *            CPU, then on the other one (a switch versus a cross-CPU wake-up).
 *            Connect + open + map + close is reported beside it, and
 *            shm_open + fstat + mmap for scale.
 *   read     a 64-byte record at a random offset through a view (checked
 *            pointer + copy), against a bare memcpy from a plain mapping, and
 *            against asking a server for each record over a socket
 *   fan-out  1000 clients each holding a view: server memory and descriptors
 *            per client
 *
 * Each ratio is taken from rounds that alternate the two sides, median of
 * the rounds. The owner runs in a child process: an lsashm server and a plain
 * SEQPACKET server that answers record requests; the floor server is another.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lsashm/section.h"
#include "lsashm/share.h"
#include "bench-results.h"

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

/* ---- the open floor: a bare server that answers with a memfd ---- */

#define FLOOR_REQUEST 28u /* an OPEN of "records" */
#define FLOOR_REPLY 48u   /* an OPEN_REPLY */

static void pin(pid_t pid, int cpu)
{
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(pid, sizeof(set), &set) < 0)
                die("sched_setaffinity", errno);
}

static void unpin(pid_t pid)
{
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int i = 0; i < CPU_SETSIZE; i++)
                CPU_SET(i, &set);
        (void)sched_setaffinity(pid, sizeof(set), &set);
}

/* One connection at a time, blocking: nothing between the request and the
 * reply but the two system calls. Always the same sealed memfd, no access
 * check, no bookkeeping: what any descriptor-passing open costs at least. */
static _Noreturn void floor_server(const char *path, int ready_fd)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int mfd = memfd_create("bench-share-floor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0 || ftruncate(mfd, SECTION_SIZE) < 0)
                die("floor memfd", errno);
        /* Filled like the published section: a mapping's first touch maps
         * the pages around it that are present (fault-around), so an empty
         * file would be a cheaper floor than the same data. */
        uint8_t page[4096];
        for (size_t off = 0; off < SECTION_SIZE; off += sizeof(page)) {
                for (size_t i = 0; i < sizeof(page); i++)
                        page[i] = (uint8_t)((off + i) * 131u);
                if (pwrite(mfd, page, sizeof(page), (off_t)off) != (ssize_t)sizeof(page))
                        die("floor memfd", errno);
        }
        if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
                die("floor memfd", errno);
        int l = listen_at(path);
        int fl = fcntl(l, F_GETFL);
        fcntl(l, F_SETFL, fl & ~O_NONBLOCK);
        (void)!write(ready_fd, "r", 1);
        close(ready_fd);
        for (;;) {
                int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        continue;
                uint8_t req[64], rep[FLOOR_REPLY] = { 0 };
                union {
                        struct cmsghdr align;
                        char buf[CMSG_SPACE(sizeof(int))];
                } control;
                while (recv(c, req, sizeof(req), 0) > 0) {
                        struct iovec iov = { .iov_base = rep, .iov_len = sizeof(rep) };
                        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                                              .msg_controllen = sizeof(control.buf) };
                        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
                        cm->cmsg_level = SOL_SOCKET;
                        cm->cmsg_type = SCM_RIGHTS;
                        cm->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(cm), &mfd, sizeof(int));
                        if (sendmsg(c, &msg, MSG_NOSIGNAL) < 0)
                                break;
                }
                close(c);
        }
}

static volatile uint8_t sink;

/* One open through the floor: request, reply with the descriptor, then what
 * the client does with it. */
static void floor_open(int sock)
{
        uint8_t req[FLOOR_REQUEST] = { 3 }, rep[FLOOR_REPLY + 1];
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        struct iovec iov = { .iov_base = rep, .iov_len = sizeof(rep) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                              .msg_controllen = sizeof(control.buf) };
        if (send(sock, req, sizeof(req), 0) != (ssize_t)sizeof(req) ||
            recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != FLOOR_REPLY)
                die("floor round trip", errno);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        int fd;
        if (!cm || cm->cmsg_type != SCM_RIGHTS)
                die("floor descriptor", EPROTO);
        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        struct stat st;
        if (fstat(fd, &st) < 0)
                die("fstat", errno);
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
                die("mmap", errno);
        sink ^= *(const uint8_t *)p;
        munmap(p, (size_t)st.st_size);
        close(fd);
}

static void lsashm_open_once(lsashm_client_t *cl)
{
        lsashm_view_t *v;
        if (lsashm_client_open(cl, "records", &v) < 0)
                die("open", EIO);
        sink ^= *(const uint8_t *)lsashm_view_ptr(v, 0, 1);
        lsashm_view_close(v);
}

static void lsashm_connect_open_once(const char *lpath)
{
        lsashm_client_t *cl;
        if (lsashm_client_connect(lpath, &cl) < 0)
                die("connect", EIO);
        lsashm_open_once(cl);
        lsashm_client_close(cl);
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct open_result {
        double floor_ns, open_ns, connect_ns;
};

#define MAX_ROUNDS 15

/* The servers on server_cpu, this process on cpu 0; rounds alternate the
 * floor, the open on a connected client and the whole connect. */
static void measure_open(const char *lpath, const char *fpath, pid_t owner_pid, pid_t floor_pid, int server_cpu,
                         struct open_result *res)
{
        pin(0, 0);
        pin(owner_pid, server_cpu);
        pin(floor_pid, server_cpu);
        int rounds = quick ? 9 : MAX_ROUNDS, n = quick ? 200 : 1000;
        int fsock = connect_to(fpath);
        lsashm_client_t *cl;
        if (lsashm_client_connect(lpath, &cl) < 0)
                die("connect", EIO);
        /* warm up both paths (page cache of the binary, the server's tables) */
        for (int i = 0; i < 50; i++) {
                floor_open(fsock);
                lsashm_open_once(cl);
        }
        double f[MAX_ROUNDS], o[MAX_ROUNDS], c[MAX_ROUNDS];
        for (int r = 0; r < rounds; r++) {
                double t = now_ns();
                for (int i = 0; i < n; i++)
                        floor_open(fsock);
                f[r] = (now_ns() - t) / n;
                t = now_ns();
                for (int i = 0; i < n; i++)
                        lsashm_open_once(cl);
                o[r] = (now_ns() - t) / n;
                t = now_ns();
                for (int i = 0; i < n / 4; i++)
                        lsashm_connect_open_once(lpath);
                c[r] = (now_ns() - t) / (n / 4);
        }
        lsashm_client_close(cl);
        close(fsock);
        res->floor_ns = median(f, rounds);
        res->open_ns = median(o, rounds);
        res->connect_ns = median(c, rounds);
        unpin(0);
        unpin(owner_pid);
        unpin(floor_pid);
}

/* ---- read: a view against a bare mapping ---- */

#define OFFSETS 4096u
#define BATCH 64

static uint64_t offsets[OFFSETS];

static double read_view(const lsashm_view_t *v, long lookups, uint64_t *lat, size_t n_lat)
{
        uint8_t rec[RECORD];
        size_t k = 0;
        double t = now_ns();
        for (long i = 0; i < lookups; i += BATCH) {
                double b = k < n_lat ? now_ns() : 0;
                for (long j = i; j < i + BATCH; j++) {
                        const void *p = lsashm_view_span_ptr(v, offsets[j % OFFSETS], RECORD);
                        memcpy(rec, p, RECORD);
                        sink ^= rec[j & 63];
                }
                if (k < n_lat)
                        lat[k++] = (uint64_t)((now_ns() - b) / BATCH + 0.5);
        }
        return (now_ns() - t) / (double)lookups;
}

static double read_memcpy(const uint8_t *base, long lookups, uint64_t *lat, size_t n_lat)
{
        uint8_t rec[RECORD];
        size_t k = 0;
        double t = now_ns();
        for (long i = 0; i < lookups; i += BATCH) {
                double b = k < n_lat ? now_ns() : 0;
                for (long j = i; j < i + BATCH; j++) {
                        memcpy(rec, base + offsets[j % OFFSETS], RECORD);
                        sink ^= rec[j & 63];
                }
                if (k < n_lat)
                        lat[k++] = (uint64_t)((now_ns() - b) / BATCH + 0.5);
        }
        return (now_ns() - t) / (double)lookups;
}

/* The same through the out-of-line lsashm_view_ptr(), for the report. */
static double read_view_call(const lsashm_view_t *v, long lookups)
{
        uint8_t rec[RECORD];
        double t = now_ns();
        for (long j = 0; j < lookups; j++) {
                memcpy(rec, lsashm_view_ptr(v, offsets[j % OFFSETS], RECORD), RECORD);
                sink ^= rec[j & 63];
        }
        return (now_ns() - t) / (double)lookups;
}

/* ---- rows ---- */

struct row {
        const char *workload, *impl;
        double per_op_ns;
        const char *note;
};

static struct row rows[32];
static int n_rows;

static void add_row(const char *workload, const char *impl, double ns, const char *note)
{
        rows[n_rows++] = (struct row){ workload, impl, ns, note };
}

static const char *verdict(bool pass)
{
        return pass ? "PASS" : "MISS";
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
        char lpath[64], rpath[64], fpath[64];
        snprintf(lpath, sizeof(lpath), "%s/lsashm.sock", dir);
        snprintf(rpath, sizeof(rpath), "%s/rpc.sock", dir);
        snprintf(fpath, sizeof(fpath), "%s/floor.sock", dir);
        int ready[2];
        if (pipe(ready) < 0)
                die("pipe", errno);
        pid_t pid = fork();
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(ready[0]);
                owner(lpath, rpath, ready[1]);
                _exit(0);
        }
        pid_t floor_pid = fork();
        if (floor_pid == 0) {
                close(ready[0]);
                floor_server(fpath, ready[1]);
        }
        close(ready[1]);
        char c[2];
        if (read(ready[0], &c[0], 1) != 1 || read(ready[0], &c[1], 1) != 1)
                die("owner did not start", EIO);
        close(ready[0]);

        /* open, in both placements */
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        struct open_result same, two = { NAN, NAN, NAN };
        measure_open(lpath, fpath, pid, floor_pid, 0, &same);
        if (ncpu >= 2)
                measure_open(lpath, fpath, pid, floor_pid, 1, &two);
        add_row("open", "floor: round trip+memfd+mmap", same.floor_ns, "one CPU; bare blocking server");
        add_row("open", "lsashm open+map+close", same.open_ns, "one CPU; connected client");
        add_row("open", "lsashm connect+open+close", same.connect_ns, "one CPU; new client each time");
        add_row("open", "floor: round trip+memfd+mmap", two.floor_ns, "two CPUs");
        add_row("open", "lsashm open+map+close", two.open_ns, "two CPUs");
        add_row("open", "lsashm connect+open+close", two.connect_ns, "two CPUs");

        int opens = quick ? 200 : 2000;
        int shm = shm_open("/lsashm-bench-share", O_CREAT | O_RDWR, 0600);
        if (shm < 0 || ftruncate(shm, SECTION_SIZE) < 0)
                die("shm_open", errno);
        close(shm);
        double t = now_ns();
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
        close(rpc);

        /* read: the same random records through the view and through a bare
         * mapping of a memfd of the same size, rounds alternating */
        for (unsigned i = 0; i < OFFSETS; i++)
                offsets[i] = (rng() % (SECTION_SIZE / RECORD)) * RECORD;
        lsashm_client_t *cl;
        lsashm_view_t *v;
        if (lsashm_client_connect(lpath, &cl) < 0 || lsashm_client_open(cl, "records", &v) < 0)
                die("open", EIO);
        int mfd = memfd_create("bench-share-read", MFD_CLOEXEC);
        if (mfd < 0 || ftruncate(mfd, SECTION_SIZE) < 0)
                die("memfd", errno);
        uint8_t *bare = mmap(NULL, SECTION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
        if (bare == MAP_FAILED)
                die("mmap", errno);
        close(mfd);
        for (size_t i = 0; i < SECTION_SIZE; i++)
                bare[i] = (uint8_t)(i * 131u);
        pin(0, 0);
        long lookups = quick ? 1 << 20 : 1 << 23;
        size_t n_lat = (size_t)(lookups / BATCH);
        uint64_t *lat_view = calloc(n_lat, sizeof(uint64_t)), *lat_bare = calloc(n_lat, sizeof(uint64_t));
        if (!lat_view || !lat_bare)
                die("calloc", ENOMEM);
        int rounds = quick ? 5 : MAX_ROUNDS;
        double rv[MAX_ROUNDS], rb[MAX_ROUNDS], rc[MAX_ROUNDS];
        (void)read_view(v, lookups, NULL, 0); /* fault every page in, both sides */
        (void)read_memcpy(bare, lookups, NULL, 0);
        for (int r = 0; r < rounds; r++) {
                /* the latencies of the last round are the ones recorded */
                bool last = r == rounds - 1;
                rb[r] = read_memcpy(bare, lookups, lat_bare, last ? n_lat : 0);
                rv[r] = read_view(v, lookups, lat_view, last ? n_lat : 0);
                rc[r] = read_view_call(v, lookups / 4);
        }
        unpin(0);
        double view_ns = median(rv, rounds), bare_ns = median(rb, rounds), call_ns = median(rc, rounds);
        add_row("read", "memcpy floor (bare mapping)", bare_ns, "64-byte records, random offsets");
        add_row("read", "lsashm view (span_ptr+copy)", view_ns, "inline checked pointer");
        add_row("read", "lsashm view (view_ptr+copy)", call_ns, "the out-of-line call");
        add_row("read", "ask the server each time", rtt, "SEQPACKET request + reply");
        lsashm_view_close(v);
        lsashm_client_close(cl);
        munmap(bare, SECTION_SIZE);

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
        kill(floor_pid, SIGKILL);
        waitpid(pid, NULL, 0);
        waitpid(floor_pid, NULL, 0);
        unlink(lpath);
        unlink(rpath);
        unlink(fpath);
        rmdir(dir);

        double speedup = rtt / view_ns;
        double open_same = same.open_ns / same.floor_ns, open_two = two.open_ns / two.floor_ns;
        double read_ratio = view_ns / bare_ns;

        bench_target(&(struct bench_target){
                .id = "read-memcpy", .what = "zero-copy read of a 64-byte record through a view",
                .figure = view_ns, .unit = "ns/read", .ref_name = "bare memcpy from a mapping",
                .ref_figure = bare_ns, .op = BENCH_AT_MOST, .limit = 1.5 });
        bench_target(&(struct bench_target){
                .id = "open-floor", .what = "open+map+close on a connected client, server on the client's CPU",
                .figure = same.open_ns, .unit = "ns/open",
                .ref_name = "SEQPACKET round trip + memfd + fstat + mmap", .ref_figure = same.floor_ns,
                .op = BENCH_AT_MOST, .limit = 1.2 });
        bench_target(&(struct bench_target){
                .id = "open-connect", .what = "connect+open+map+close, server on the client's CPU",
                .figure = same.connect_ns, .unit = "ns/open",
                .ref_name = "SEQPACKET round trip + memfd + fstat + mmap", .ref_figure = same.floor_ns,
                .op = BENCH_NO_LIMIT });
        bench_target(&(struct bench_target){
                .id = "open-floor-two-cpus", .what = "open+map+close on a connected client, server on the other CPU",
                .figure = two.open_ns, .unit = "ns/open",
                .ref_name = "SEQPACKET round trip + memfd + fstat + mmap", .ref_figure = two.floor_ns,
                .op = BENCH_AT_MOST, .limit = 1.2 });
        bench_target(&(struct bench_target){
                .id = "open-connect-two-cpus", .what = "connect+open+map+close, server on the other CPU",
                .figure = two.connect_ns, .unit = "ns/open",
                .ref_name = "SEQPACKET round trip + memfd + fstat + mmap", .ref_figure = two.floor_ns,
                .op = BENCH_NO_LIMIT });
        bench_series_latencies_note("read-latency", "lsashm view", "mean of 64 reads", lat_view, n_lat);
        bench_series_latencies_note("read-latency", "memcpy floor", "mean of 64 reads", lat_bare, n_lat);
        free(lat_view);
        free(lat_bare);

        if (json) {
                printf("{\"rows\":[");
                for (int i = 0; i < n_rows; i++)
                        printf("%s{\"workload\":\"%s\",\"impl\":\"%s\",\"note\":\"%s\",\"ns_per_op\":%.1f,"
                               "\"ops_per_s\":%.0f}",
                               i ? "," : "", rows[i].workload, rows[i].impl, rows[i].note, rows[i].per_op_ns,
                               1e9 / rows[i].per_op_ns);
                printf("],\"open_floor_ratio\":%.3f,\"open_floor_ratio_two_cpus\":%.3f,\"read_memcpy_ratio\":%.3f,"
                       "\"read_speedup\":%.1f,\"fanout_clients\":%d,\"server_rss_bytes_per_client\":%.0f,"
                       "\"server_fds_per_client\":%.2f}\n",
                       open_same, open_two, read_ratio, speedup, fan, rss_per, fds_per);
                return 0;
        }
        printf("%-8s %-30s %12s %14s  %s\n", "workload", "implementation", "ns/op", "ops/s", "note");
        for (int i = 0; i < n_rows; i++)
                printf("%-8s %-30s %12.1f %14.0f  %s\n", rows[i].workload, rows[i].impl, rows[i].per_op_ns,
                       1e9 / rows[i].per_op_ns, rows[i].note);
        printf("%-8s %-30s %12.0f %14s  server RSS bytes per client (%d clients, each with a view)\n",
               "fan-out", "lsashm server", rss_per, "-", fan);
        printf("%-8s %-30s %12.2f %14s  server fds per client: the socket and its pidfd, none per view\n",
               "fan-out", "lsashm server", fds_per, "-");
        printf("\ntargets\n");
        printf("  open on a connected client <= 1.2x the floor, one CPU:  %.2fx  %s\n", open_same,
               verdict(open_same <= 1.2));
        printf("  open on a connected client <= 1.2x the floor, two CPUs: %.2fx  %s\n", open_two,
               ncpu < 2 ? "n/a" : verdict(open_two <= 1.2));
        printf("  connect+open+map+close, vs the floor (no limit): %.2fx one CPU, %.2fx two CPUs\n",
               same.connect_ns / same.floor_ns, two.connect_ns / two.floor_ns);
        printf("  read through the view <= 1.5x a bare memcpy: %.2fx  %s\n", read_ratio, verdict(read_ratio <= 1.5));
        printf("  read through the view >= 50x the lookups/s of asking the server: %.0fx  %s\n", speedup,
               verdict(speedup >= 50));
        printf("  server RSS per client <= 16 KiB: %.1f KiB  %s\n", rss_per / 1024, verdict(rss_per <= 16384));
        printf("  no server fd kept per view: %.2f fds per client  %s\n", fds_per, verdict(fds_per <= 2.05));
        return 0;
}
