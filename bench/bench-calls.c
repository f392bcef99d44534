/* SPDX-License-Identifier: MIT */
/*
 * The package host under many clients: calls per second, and every call's
 * latency, with N client processes at once (N = 1, 2, 4, ... 64), each on its
 * own LsaConnectUntrusted connection in a closed loop of
 * LsaCallAuthenticationPackage (a record looked up by the sample records
 * package), the reply read through its embedded pointers, and
 * LsaFreeReturnBuffer.
 *
 * The floor is what the socket alone allows with the same clients: a bare
 * SOCK_SEQPACKET echo server, the clients sending 64-byte requests in the
 * same closed loop. Two forms of it are measured, and the target is bound
 * to the stronger: the minimal one, one thread with epoll; and one epoll
 * thread per CPU, since lsashmd serves calls with a pool of worker threads.
 *
 * lsashmd and the echo servers run as processes of their own, started
 * here and left unpinned, as are the clients: on a machine with fewer
 * CPUs than clients the scheduler's choices are part of what is measured,
 * for the floor as for lsashmd.
 *
 * Each figure is a median over repeated runs, the three servers measured
 * back to back for each N; the ratio is lsashm's median calls/s over the
 * stronger floor's. Beside them, what explains them once the CPUs are
 * saturated: the CPU time a call costs the server process (all its
 * threads, from /proc), the part of it in the kernel, the server's context
 * switches, and the clients' CPU time (each client's own clock).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lsashm/ntsecapi.h>

#include "../examples/records-protocol.h"
#include "bench-records.h"
#include "bench-results.h"

#ifndef LSASHMD_PATH
#error "LSASHMD_PATH must name the lsashmd binary"
#endif
#ifndef RECORDS_PACKAGE_PATH
#error "RECORDS_PACKAGE_PATH must name the records package"
#endif

#define RECORDS      200
#define MAX_CLIENTS  64
/* Latencies kept per client and run; calls beyond are counted, not timed. */
#define LAT_CAP      (1u << 18)
#define ECHO_SIZE    64
/* The targets: calls/s at these client counts against the floor's. */
#define TARGET_RATIO 0.8

enum server {
        SRV_LSASHM,
        SRV_ECHO1,
        SRV_ECHON,
        NSERVERS
};

enum phase {
        PHASE_WARM,
        PHASE_MEASURE,
        PHASE_STOP
};

/* Shared with the clients: the phase they run in, and what they counted. */
struct board {
        _Atomic int phase;
        struct {
                uint64_t calls;  /* completed while measuring */
                uint64_t timed;  /* of those, latencies kept */
                uint64_t cpu_ns; /* the client's CPU time while measuring */
        } slot[MAX_CLIENTS];
};

struct run {
        double calls_per_s;
        uint64_t p50, p99; /* ns */
        /* The server process's cost per call over the window, all its threads:
         * CPU time, the part of it in the kernel, context switches. */
        double cpu_ns, sys_share, switches;
        /* The clients' CPU time per call, all of them. */
        double client_cpu_ns;
};

struct options {
        bool quick, json, selftest, verbose;
        unsigned worker_threads; /* lsashmd's; 0: its default */
        unsigned repeats;
        double warm_s, window_s;
        unsigned clients[8];
        unsigned nclients;
};

static struct board *board;
static uint64_t *latencies; /* MAX_CLIENTS * LAT_CAP, shared */
static char sockets[NSERVERS][108];
static pid_t server_pids[NSERVERS];
static char run_dir[64];
static pid_t main_pid;
static pid_t client_pids[MAX_CLIENTS];
static unsigned nclient_pids;
static unsigned echo_threads;
static bool records_added;
/* Where the values read end up, so the compiler cannot drop the reads. */
static volatile int bench_sink;

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_s(double s)
{
        struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

/* In a child: should this program be killed outright, its servers and
 * clients go too (lsashmd with a SIGTERM, to unlink its socket). */
static void end_with_parent(int sig)
{
        if (prctl(PR_SET_PDEATHSIG, sig) < 0 || getppid() != main_pid)
                _exit(1);
}

/* The servers stopped and their directory removed; lsashmd's exit status
 * (-1: killed or not running). */
static int stop_servers(void)
{
        int host_status = -1;
        for (int s = 0; s < NSERVERS; s++) {
                if (server_pids[s] <= 0)
                        continue;
                kill(server_pids[s], SIGTERM);
                int status = 0;
                if (waitpid(server_pids[s], &status, 0) == server_pids[s] && s == SRV_LSASHM)
                        host_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                server_pids[s] = 0;
        }
        if (run_dir[0]) {
                for (int s = 0; s < NSERVERS; s++)
                        unlink(sockets[s]);
                char conf[160];
                snprintf(conf, sizeof(conf), "%s/lsashmd.conf", run_dir);
                unlink(conf);
                rmdir(run_dir);
                run_dir[0] = '\0';
        }
        return host_status;
}

/* A client reports and leaves; the main process also takes its clients
 * and servers down with it, so that nothing is left running. */
static void die(const char *what, long code)
{
        /* code: an errno, an NTSTATUS (0xC...), or 0 */
        if (code > 0 && code < 4096)
                fprintf(stderr, "bench-calls: %s: %s\n", what, strerror((int)code));
        else
                fprintf(stderr, "bench-calls: %s: 0x%08X\n", what, (unsigned)code);
        if (getpid() != main_pid)
                _exit(1);
        for (unsigned i = 0; i < nclient_pids; i++)
                kill(client_pids[i], SIGKILL);
        while (nclient_pids)
                waitpid(client_pids[--nclient_pids], NULL, 0);
        stop_servers();
        exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
        qsort(v, n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Each figure's median over n runs, on its own. */
static struct run median_run(const struct run *runs, unsigned n)
{
        double v[7][15];
        for (unsigned i = 0; i < n; i++) {
                v[0][i] = runs[i].calls_per_s;
                v[1][i] = (double)runs[i].p50;
                v[2][i] = (double)runs[i].p99;
                v[3][i] = runs[i].cpu_ns;
                v[4][i] = runs[i].sys_share;
                v[5][i] = runs[i].switches;
                v[6][i] = runs[i].client_cpu_ns;
        }
        return (struct run){ median(v[0], n), (uint64_t)median(v[1], n), (uint64_t)median(v[2], n),
                             median(v[3], n), median(v[4], n),           median(v[5], n),
                             median(v[6], n) };
}

/* ---- lsashmd and the records package ---- */

static ULONG lookup_package(HANDLE h)
{
        char pname[] = RECORDS_PACKAGE_NAME;
        LSA_STRING pn = { sizeof(pname) - 1, sizeof(pname), pname };
        ULONG pkg;
        NTSTATUS st = LsaLookupAuthenticationPackage(h, &pn, &pkg);
        if (st != STATUS_SUCCESS)
                die("lookup package", st);
        return pkg;
}

/* Adding is for trusted callers (a logon process: root). Without them the
 * lookups still make the whole round trip, and answer "not found". */
static void add_records(void)
{
        if (geteuid() != 0)
                return;
        char name[] = "bench-calls";
        LSA_STRING ln = { sizeof(name) - 1, sizeof(name), name };
        HANDLE h;
        LSA_OPERATIONAL_MODE mode;
        NTSTATUS st = LsaRegisterLogonProcess(&ln, &h, &mode);
        if (st != STATUS_SUCCESS)
                die("LsaRegisterLogonProcess", st);
        ULONG pkg = lookup_package(h);
        st = bench_records_add(h, pkg, RECORDS);
        if (st != STATUS_SUCCESS)
                die("add", st);
        LsaDeregisterLogonProcess(h);
        records_added = true;
}

/* One lookup, its reply read through the return buffer's embedded pointer,
 * and the buffer freed. 0, or the NTSTATUS (as unsigned) that failed. */
static long lookup_once(HANDLE h, ULONG pkg, unsigned i, int *sink)
{
        NTSTATUS proto;
        int v;
        NTSTATUS st = bench_records_lookup(h, pkg, i, &proto, &v);
        if (st != STATUS_SUCCESS || (records_added && proto != STATUS_SUCCESS))
                return (long)(uint32_t)(st != STATUS_SUCCESS ? st : proto);
        *sink += v;
        return 0;
}

static bool wait_for_socket(const char *path)
{
        for (int i = 0; i < 500; i++) {
                struct stat st;
                if (stat(path, &st) == 0)
                        return true;
                usleep(10000);
        }
        return false;
}

/* lsashmd as in production but for one line of configuration: room for
 * every client of this one uid, with the connections of the last run's
 * clients perhaps not yet reaped. */
static pid_t start_lsashmd(const char *dir, unsigned worker_threads)
{
        char conf[160];
        snprintf(conf, sizeof(conf), "%s/lsashmd.conf", dir);
        FILE *f = fopen(conf, "we");
        if (!f)
                die("config file", errno);
        fprintf(f, "max-connections-per-uid %d\n", 4 * MAX_CLIENTS);
        if (worker_threads)
                fprintf(f, "worker-threads %u\n", worker_threads);
        fclose(f);
        pid_t pid = fork();
        if (pid < 0)
                die("fork", errno);
        if (pid == 0) {
                end_with_parent(SIGTERM);
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (null >= 0)
                        dup2(null, 2);
                execl(LSASHMD_PATH, "lsashmd", "--config", conf, "--socket", sockets[SRV_LSASHM], "--package",
                      RECORDS_PACKAGE_PATH, (char *)NULL);
                _exit(127);
        }
        if (!wait_for_socket(sockets[SRV_LSASHM])) {
                kill(pid, SIGKILL);
                die("lsashmd did not start", 0);
        }
        return pid;
}

/* ---- the floor: a bare SEQPACKET echo server ---- */

struct echo_thread {
        int epfd;
        int listen_fd; /* thread 0's; -1 for the others */
        struct echo_thread *all;
        unsigned nthreads, next;
};

/* Each thread serves the connections in its own epoll set; thread 0 also
 * accepts, and hands connections out in turn. Replies are sent without
 * blocking, as lsashmd sends its. */
static void *echo_thread_main(void *arg)
{
        struct echo_thread *t = arg;
        struct epoll_event evs[64];
        for (;;) {
                int n = epoll_wait(t->epfd, evs, 64, -1);
                if (n < 0 && errno != EINTR)
                        _exit(1);
                for (int i = 0; i < n; i++) {
                        int fd = evs[i].data.fd;
                        if (fd == t->listen_fd) {
                                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                                if (c < 0)
                                        continue;
                                struct echo_thread *to = &t->all[t->next++ % t->nthreads];
                                struct epoll_event ev = { .events = EPOLLIN, .data.fd = c };
                                if (epoll_ctl(to->epfd, EPOLL_CTL_ADD, c, &ev) < 0)
                                        close(c);
                                continue;
                        }
                        char buf[ECHO_SIZE];
                        ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                        if (r < 0 && (errno == EAGAIN || errno == EINTR))
                                continue;
                        if (r <= 0 || send(fd, buf, (size_t)r, MSG_DONTWAIT | MSG_NOSIGNAL) != r)
                                close(fd); /* leaves the epoll set with its last descriptor */
                }
        }
        return NULL;
}

static int listen_on(const char *path)
{
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 128) < 0)
                die("echo server socket", errno);
        return fd;
}

static pid_t start_echo(const char *path, unsigned nthreads)
{
        int lfd = listen_on(path);
        pid_t pid = fork();
        if (pid < 0)
                die("fork", errno);
        if (pid > 0) {
                close(lfd);
                return pid;
        }
        end_with_parent(SIGKILL);
        struct echo_thread *t = calloc(nthreads, sizeof(*t));
        if (!t)
                _exit(1);
        for (unsigned i = 0; i < nthreads; i++) {
                t[i] = (struct echo_thread){
                        .epfd = epoll_create1(EPOLL_CLOEXEC), .listen_fd = i ? -1 : lfd, .all = t, .nthreads = nthreads
                };
                if (t[i].epfd < 0)
                        _exit(1);
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
        if (epoll_ctl(t[0].epfd, EPOLL_CTL_ADD, lfd, &ev) < 0)
                _exit(1);
        for (unsigned i = 1; i < nthreads; i++) {
                pthread_t th;
                if (pthread_create(&th, NULL, echo_thread_main, &t[i]) != 0)
                        _exit(1);
        }
        echo_thread_main(&t[0]);
        _exit(0);
}

static int echo_connect(const char *path)
{
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
                return -1;
        return fd;
}

/* 0, or an errno. */
static long echo_once(int fd)
{
        char buf[ECHO_SIZE] = { 1 };
        ssize_t n = write(fd, buf, sizeof(buf));
        if (n == (ssize_t)sizeof(buf))
                n = read(fd, buf, sizeof(buf));
        return n == (ssize_t)sizeof(buf) ? 0 : n < 0 ? errno : EPROTO;
}

/* ---- what a server process spends ---- */

struct proc_cost {
        uint64_t cpu_ns;       /* run time, every thread (schedstat) */
        uint64_t utime, stime; /* clock ticks, the whole process */
        uint64_t switches;     /* voluntary and not, every thread */
};

static void read_task(const char *dir, struct proc_cost *c)
{
        char path[400], line[128];
        snprintf(path, sizeof(path), "%s/schedstat", dir);
        FILE *f = fopen(path, "re");
        if (f) {
                unsigned long long ns;
                if (fscanf(f, "%llu", &ns) == 1)
                        c->cpu_ns += ns;
                fclose(f);
        }
        snprintf(path, sizeof(path), "%s/status", dir);
        if (!(f = fopen(path, "re")))
                return;
        while (fgets(line, sizeof(line), f)) {
                unsigned long long v;
                if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1 ||
                    sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
                        c->switches += v;
        }
        fclose(f);
}

static struct proc_cost proc_cost(pid_t pid)
{
        struct proc_cost c = { 0 };
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
        DIR *d = opendir(path);
        if (d) {
                struct dirent *e;
                while ((e = readdir(d)))
                        if (e->d_name[0] != '.') {
                                char task[340];
                                snprintf(task, sizeof(task), "%s/%s", path, e->d_name);
                                read_task(task, &c);
                        }
                closedir(d);
        }
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "re");
        if (f) {
                char buf[1024];
                size_t n = fread(buf, 1, sizeof(buf) - 1, f);
                buf[n] = '\0';
                /* After the command's name, which may hold anything: field 3 on. */
                const char *p = strrchr(buf, ')');
                unsigned long long ut, st;
                if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2) {
                        c.utime = ut;
                        c.stime = st;
                }
                fclose(f);
        }
        return c;
}

/* ---- the clients ---- */

/* One client process: connect, warm up, wait for the start, then call in a
 * closed loop until told to stop; a call is counted (and its latency kept)
 * when it completes while the board says "measure". */
static void client_main(enum server srv, unsigned idx, int ready_fd, int go_fd)
{
        HANDLE h = NULL;
        ULONG pkg = 0;
        int fd = -1, sink = 0;
        if (srv == SRV_LSASHM) {
                NTSTATUS st = LsaConnectUntrusted(&h);
                if (st != STATUS_SUCCESS)
                        die("LsaConnectUntrusted", st);
                pkg = lookup_package(h);
        } else if ((fd = echo_connect(sockets[srv])) < 0) {
                die("connect to the echo server", errno);
        }
        unsigned key = idx * 7919u;
        for (int i = 0; i < 20; i++) {
                long r = srv == SRV_LSASHM ? lookup_once(h, pkg, key++ % RECORDS, &sink) : echo_once(fd);
                if (r)
                        die("warm-up call", r);
        }
        char b = 1;
        if (write(ready_fd, &b, 1) != 1 || read(go_fd, &b, 1) != 0)
                _exit(1);
        uint64_t *lat = latencies + (size_t)idx * LAT_CAP;
        uint64_t calls = 0, cpu0 = 0;
        while (atomic_load_explicit(&board->phase, memory_order_relaxed) != PHASE_STOP) {
                uint64_t t0 = now_ns();
                long r = srv == SRV_LSASHM ? lookup_once(h, pkg, key++ % RECORDS, &sink) : echo_once(fd);
                uint64_t t1 = now_ns();
                if (r)
                        die(srv == SRV_LSASHM ? "LsaCallAuthenticationPackage" : "echo", r);
                if (atomic_load_explicit(&board->phase, memory_order_relaxed) == PHASE_MEASURE) {
                        if (!cpu0)
                                cpu0 = cpu_now_ns();
                        if (calls < LAT_CAP)
                                lat[calls] = t1 - t0;
                        calls++;
                }
        }
        board->slot[idx].calls = calls;
        board->slot[idx].cpu_ns = cpu0 ? cpu_now_ns() - cpu0 : 0;
        board->slot[idx].timed = calls < LAT_CAP ? calls : LAT_CAP;
        if (srv == SRV_LSASHM)
                LsaDeregisterLogonProcess(h);
        else
                close(fd);
        bench_sink = sink;
        _exit(0);
}

/* n clients against srv: calls/s over the window, every kept latency's
 * p50 and p99. */
static struct run measure(enum server srv, unsigned n, const struct options *o)
{
        int ready[2], go[2];
        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
                die("pipe", errno);
        atomic_store(&board->phase, PHASE_WARM);
        memset(board->slot, 0, sizeof(board->slot));
        pid_t *pids = client_pids;
        for (unsigned i = 0; i < n; i++) {
                pids[i] = fork();
                if (pids[i] < 0)
                        die("fork", errno);
                if (pids[i] > 0)
                        nclient_pids = i + 1;
                if (pids[i] == 0) {
                        end_with_parent(SIGKILL);
                        close(ready[0]);
                        close(go[1]);
                        client_main(srv, i, ready[1], go[0]);
                }
        }
        close(ready[1]);
        close(go[0]);
        for (unsigned i = 0; i < n; i++) {
                /* A client that fails to connect exits; the others wait. */
                struct pollfd p = { .fd = ready[0], .events = POLLIN };
                char b;
                if (poll(&p, 1, 60000) != 1 || read(ready[0], &b, 1) != 1)
                        die("a client did not start", 0);
        }
        close(ready[0]);
        close(go[1]); /* everyone starts */
        sleep_s(o->warm_s);
        struct proc_cost c0 = proc_cost(server_pids[srv]);
        atomic_store(&board->phase, PHASE_MEASURE);
        uint64_t t0 = now_ns();
        sleep_s(o->window_s);
        atomic_store(&board->phase, PHASE_STOP);
        uint64_t t1 = now_ns();
        struct proc_cost c1 = proc_cost(server_pids[srv]);
        for (unsigned i = 0; i < n; i++) {
                int status;
                if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        pids[i] = pids[--nclient_pids];
                        pids[nclient_pids] = 0;
                        die("a client failed", 0);
                }
        }
        nclient_pids = 0;
        uint64_t calls = 0, timed = 0, client_cpu = 0;
        for (unsigned i = 0; i < n; i++) {
                calls += board->slot[i].calls;
                timed += board->slot[i].timed;
                client_cpu += board->slot[i].cpu_ns;
        }
        struct run r = { .calls_per_s = (double)calls * 1e9 / (double)(t1 - t0) };
        if (calls) {
                r.cpu_ns = (double)(c1.cpu_ns - c0.cpu_ns) / (double)calls;
                r.switches = (double)(c1.switches - c0.switches) / (double)calls;
                r.client_cpu_ns = (double)client_cpu / (double)calls;
        }
        uint64_t ticks = (c1.utime - c0.utime) + (c1.stime - c0.stime);
        r.sys_share = ticks ? (double)(c1.stime - c0.stime) / (double)ticks : 0;
        if (!timed)
                return r;
        uint64_t *all = malloc(timed * sizeof(*all));
        if (!all)
                die("malloc", ENOMEM);
        size_t k = 0;
        for (unsigned i = 0; i < n; i++) {
                memcpy(all + k, latencies + (size_t)i * LAT_CAP, board->slot[i].timed * sizeof(*all));
                k += board->slot[i].timed;
        }
        qsort(all, timed, sizeof(*all), cmp_u64);
        r.p50 = all[timed / 2];
        r.p99 = all[(timed * 99 + 99) / 100 - 1];
        free(all);
        return r;
}

/* ---- the report ---- */

struct row {
        unsigned clients;
        struct run med[NSERVERS];
        double floor_calls_per_s; /* the stronger floor's, median */
        double ratio;             /* lsashm's median / the stronger floor's median */
};

static void load_average(double la[3])
{
        la[0] = la[1] = la[2] = -1;
        FILE *f = fopen("/proc/loadavg", "re");
        if (f) {
                if (fscanf(f, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
                        la[0] = la[1] = la[2] = -1;
                fclose(f);
        }
}

static const char *verdict(double ratio)
{
        return ratio >= TARGET_RATIO ? "PASS" : "MISS";
}

static void print_table(const struct row *rows, unsigned nrows, const struct options *o, const double la0[3],
                        const double la1[3])
{
        printf("Calls per second with N client processes at once, each on its own LsaConnectUntrusted\n"
               "connection in a closed loop of LsaCallAuthenticationPackage (a record of the sample records\n"
               "package looked up%s), its reply read, LsaFreeReturnBuffer. Floor: a bare 64-byte SEQPACKET\n"
               "echo server with the same clients in the same loop, with one epoll thread and with one per\n"
               "CPU (%u); the ratio is lsashm's median to the stronger floor's. Median of %u run%s of %.1f s each "
               "(after\n"
               "%.2f s of warm-up); latencies are every timed call's, all clients together.\n"
               "Load average %.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end.\n\n",
               records_added ? "" : ", not found: not root, no records added", echo_threads, o->repeats,
               o->repeats == 1 ? "" : "s", o->window_s, o->warm_s, la0[0], la0[1], la0[2], la1[0], la1[1], la1[2]);
        printf("| N | lsashm calls/s | p50 us | p99 us | floor calls/s, 1 thread | floor calls/s, %u threads | "
               "floor p50 us (stronger) | ratio to the stronger floor |\n"
               "|---|---|---|---|---|---|---|---|\n",
               echo_threads);
        for (unsigned i = 0; i < nrows; i++) {
                const struct row *r = &rows[i];
                const struct run *fl = r->med[SRV_ECHON].calls_per_s > r->med[SRV_ECHO1].calls_per_s
                        ? &r->med[SRV_ECHON]
                        : &r->med[SRV_ECHO1];
                printf("| %u | %.0f | %.1f | %.1f | %.0f | %.0f | %.1f | %.2f |\n", r->clients,
                       r->med[SRV_LSASHM].calls_per_s, (double)r->med[SRV_LSASHM].p50 / 1e3,
                       (double)r->med[SRV_LSASHM].p99 / 1e3, r->med[SRV_ECHO1].calls_per_s,
                       r->med[SRV_ECHON].calls_per_s, (double)fl->p50 / 1e3, r->ratio);
        }
        printf("\nWhat a call costs in CPU time (medians): the server process, all its threads, and the part\n"
               "of it in the kernel; its context switches; the client processes, all of them together.\n\n"
               "| N | server | server CPU us/call | in the kernel | server switches/call | clients' CPU us/call |\n"
               "|---|---|---|---|---|---|\n");
        for (unsigned i = 0; i < nrows; i++)
                for (int s = 0; s < NSERVERS; s++) {
                        const struct run *m = &rows[i].med[s];
                        printf("| %u | %s | %.1f | %.0f%% | %.2f | %.1f |\n", rows[i].clients,
                               s == SRV_LSASHM          ? "lsashmd"
                                       : s == SRV_ECHO1 ? "echo, 1 thread"
                                                        : "echo, 1 thread per CPU",
                               m->cpu_ns / 1e3, m->sys_share * 100, m->switches, m->client_cpu_ns / 1e3);
                }
        printf("\n");
        for (unsigned i = 0; i < nrows; i++)
                if (rows[i].clients == 16 || rows[i].clients == 64)
                        printf("target: calls/s with %u clients >= %.1fx the bare SEQPACKET echo server's: "
                               "%.2fx  %s\n",
                               rows[i].clients, TARGET_RATIO, rows[i].ratio, verdict(rows[i].ratio));
}

static void print_json(const struct row *rows, unsigned nrows, const struct options *o, const double la0[3],
                       const double la1[3])
{
        printf("{\"repeats\":%u,\"window_s\":%.3f,\"echo_threads_per_cpu\":%u,\"records_found\":%s,"
               "\"loadavg_start\":[%.2f,%.2f,%.2f],\"loadavg_end\":[%.2f,%.2f,%.2f],\"rows\":[",
               o->repeats, o->window_s, echo_threads, records_added ? "true" : "false", la0[0], la0[1], la0[2], la1[0],
               la1[1], la1[2]);
        static const char *names[NSERVERS] = { "lsashm", "echo_1_thread", "echo_per_cpu" };
        for (unsigned i = 0; i < nrows; i++) {
                printf("%s{\"clients\":%u", i ? "," : "", rows[i].clients);
                for (int s = 0; s < NSERVERS; s++)
                        printf(",\"%s\":{\"calls_per_s\":%.0f,\"p50_ns\":%llu,\"p99_ns\":%llu,"
                               "\"server_cpu_ns_per_call\":%.0f,\"server_kernel_share\":%.3f,"
                               "\"server_switches_per_call\":%.3f,\"clients_cpu_ns_per_call\":%.0f}",
                               names[s], rows[i].med[s].calls_per_s, (unsigned long long)rows[i].med[s].p50,
                               (unsigned long long)rows[i].med[s].p99, rows[i].med[s].cpu_ns, rows[i].med[s].sys_share,
                               rows[i].med[s].switches, rows[i].med[s].client_cpu_ns);
                printf(",\"floor_calls_per_s\":%.0f,\"ratio\":%.3f}", rows[i].floor_calls_per_s, rows[i].ratio);
        }
        printf("],\"targets\":[");
        bool first = true;
        for (unsigned i = 0; i < nrows; i++)
                if (rows[i].clients == 16 || rows[i].clients == 64) {
                        printf("%s{\"clients\":%u,\"ratio\":%.3f,\"min_ratio\":%.1f,\"pass\":%s}", first ? "" : ",",
                               rows[i].clients, rows[i].ratio, TARGET_RATIO,
                               rows[i].ratio >= TARGET_RATIO ? "true" : "false");
                        first = false;
                }
        printf("]}\n");
}

/* For the final report of scripts/bench (bench-results.h): the targets at
 * 16 and 64 clients, and the calls/s-by-clients curves. */
static void record_results(const struct row *rows, unsigned nrows)
{
        static const char *labels[NSERVERS] = { "lsashm", "bare SEQPACKET echo, 1 epoll thread",
                                                "bare SEQPACKET echo, 1 epoll thread per CPU" };
        double x[8], y[8];
        for (int s = 0; s < NSERVERS; s++) {
                for (unsigned i = 0; i < nrows; i++) {
                        x[i] = rows[i].clients;
                        y[i] = rows[i].med[s].calls_per_s;
                }
                bench_series_xy("calls-by-clients", labels[s], "clients", "calls/s", x, y, nrows);
        }
        for (unsigned i = 0; i < nrows; i++) {
                if (rows[i].clients != 16 && rows[i].clients != 64)
                        continue;
                const struct run *m = rows[i].med;
                bool per_cpu = m[SRV_ECHON].calls_per_s > m[SRV_ECHO1].calls_per_s;
                char id[16], what[96], ref[96];
                snprintf(id, sizeof(id), "calls-%u", rows[i].clients);
                snprintf(what, sizeof(what), "calls/s with %u concurrent clients (lookup + free)", rows[i].clients);
                if (per_cpu)
                        snprintf(ref, sizeof(ref), "bare SEQPACKET echo, %u epoll threads", echo_threads);
                else
                        snprintf(ref, sizeof(ref), "bare SEQPACKET echo, 1 epoll thread");
                bench_target(&(struct bench_target){ .id = id,
                                                     .what = what,
                                                     .figure = m[SRV_LSASHM].calls_per_s,
                                                     .unit = "calls/s",
                                                     .ref_name = ref,
                                                     .ref_figure = rows[i].floor_calls_per_s,
                                                     .op = BENCH_AT_LEAST,
                                                     .limit = TARGET_RATIO });
        }
}

/* ---- main ---- */

static int parse_clients(const char *s, struct options *o)
{
        o->nclients = 0;
        while (*s) {
                char *end;
                unsigned long v = strtoul(s, &end, 10);
                if (end == s || v == 0 || v > MAX_CLIENTS || o->nclients == 8)
                        return -1;
                o->clients[o->nclients++] = (unsigned)v;
                s = *end == ',' ? end + 1 : end;
                if (*end && *end != ',')
                        return -1;
        }
        return o->nclients ? 0 : -1;
}

static void usage(const char *argv0)
{
        fprintf(stderr,
                "usage: %s [--quick] [--json] [--selftest] [--verbose] [--repeats R] [--seconds S]\n"
                "       [--clients 1,2,...] [--worker-threads W]\n"
                "  --quick     one run of 0.2 s per figure instead of the median of 3 of 0.4 s\n"
                "  --selftest  2 clients for 0.2 s against each server; checks that calls were made\n"
                "  --verbose   the servers' pids on stderr (to profile them)\n"
                "  --worker-threads W  lsashmd's worker-threads (default: its own default)\n",
                argv0);
        exit(2);
}

int main(int argc, char **argv)
{
        struct options o = {
                .repeats = 3, .warm_s = 0.05, .window_s = 0.4, .clients = { 1, 2, 4, 8, 16, 32, 64 }, .nclients = 7
        };
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--quick"))
                        o.quick = true;
                else if (!strcmp(argv[i], "--json"))
                        o.json = true;
                else if (!strcmp(argv[i], "--verbose"))
                        o.verbose = true;
                else if (!strcmp(argv[i], "--selftest"))
                        o.selftest = true;
                else if (!strcmp(argv[i], "--worker-threads") && i + 1 < argc)
                        o.worker_threads = (unsigned)strtoul(argv[++i], NULL, 10);
                else if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
                        o.repeats = (unsigned)strtoul(argv[++i], NULL, 10);
                else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
                        o.window_s = strtod(argv[++i], NULL);
                else if (!strcmp(argv[i], "--clients") && i + 1 < argc) {
                        if (parse_clients(argv[++i], &o) < 0)
                                usage(argv[0]);
                } else
                        usage(argv[0]);
        }
        if (o.quick) {
                o.repeats = 1;
                o.window_s = 0.2;
        }
        if (o.selftest) {
                o.repeats = 1;
                o.window_s = 0.2;
                o.warm_s = 0.02;
                o.clients[0] = 2;
                o.nclients = 1;
        }
        if (o.repeats == 0 || o.repeats > 15 || !(o.window_s > 0 && o.window_s <= 60))
                usage(argv[0]);

        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        echo_threads = cpus > 1 ? (unsigned)cpus : 1;
        board = mmap(NULL, sizeof(*board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        latencies = mmap(NULL, (size_t)MAX_CLIENTS * LAT_CAP * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (board == MAP_FAILED || latencies == MAP_FAILED)
                die("mmap", errno);

        main_pid = getpid();
        char dir[] = "/tmp/lsashm-bench-calls-XXXXXX";
        if (!mkdtemp(dir))
                die("mkdtemp", errno);
        snprintf(run_dir, sizeof(run_dir), "%s", dir);
        static const char *names[NSERVERS] = { "lsashm.sock", "echo1.sock", "echon.sock" };
        for (int s = 0; s < NSERVERS; s++)
                snprintf(sockets[s], sizeof(sockets[s]), "%s/%s", dir, names[s]);
        double la0[3], la1[3];
        load_average(la0);

        pid_t *servers = server_pids;
        servers[SRV_LSASHM] = start_lsashmd(dir, o.worker_threads);
        setenv("LSASHM_SOCKET", sockets[SRV_LSASHM], 1);
        add_records();
        servers[SRV_ECHO1] = start_echo(sockets[SRV_ECHO1], 1);
        servers[SRV_ECHON] = start_echo(sockets[SRV_ECHON], echo_threads);

        if (o.verbose)
                fprintf(stderr, "bench-calls: lsashmd %d, echo servers %d (1 thread) and %d (%u threads)\n",
                        (int)servers[SRV_LSASHM], (int)servers[SRV_ECHO1], (int)servers[SRV_ECHON], echo_threads);
        struct row rows[8];
        struct run(*runs)[NSERVERS][15] = calloc(o.nclients, sizeof(*runs));
        if (!runs)
                die("calloc", ENOMEM);
        memset(rows, 0, sizeof(rows));
        /* Repeats outermost, and the three servers back to back for each N:
         * a ratio compares figures taken close together, and a change in
         * the machine's load shifts each median alike. */
        for (unsigned rep = 0; rep < o.repeats; rep++)
                for (unsigned c = 0; c < o.nclients; c++) {
                        for (int s = 0; s < NSERVERS; s++)
                                runs[c][s][rep] = measure((enum server)s, o.clients[c], &o);
                }
        for (unsigned c = 0; c < o.nclients; c++) {
                rows[c].clients = o.clients[c];
                for (int s = 0; s < NSERVERS; s++)
                        rows[c].med[s] = median_run(runs[c][s], o.repeats);
                rows[c].floor_calls_per_s = rows[c].med[SRV_ECHON].calls_per_s > rows[c].med[SRV_ECHO1].calls_per_s
                        ? rows[c].med[SRV_ECHON].calls_per_s
                        : rows[c].med[SRV_ECHO1].calls_per_s;
                rows[c].ratio = rows[c].floor_calls_per_s > 0
                        ? rows[c].med[SRV_LSASHM].calls_per_s / rows[c].floor_calls_per_s
                        : 0;
        }
        load_average(la1);

        int host_status = stop_servers();

        if (o.selftest) {
                bool ok = host_status == 0;
                for (int s = 0; s < NSERVERS; s++)
                        ok = ok && rows[0].med[s].calls_per_s > 0 && rows[0].med[s].p50 > 0 &&
                                rows[0].med[s].p50 <= rows[0].med[s].p99;
                printf("bench-calls selftest: lsashm %.0f calls/s, floors %.0f and %.0f; lsashmd exited with %d: "
                       "%s\n",
                       rows[0].med[SRV_LSASHM].calls_per_s, rows[0].med[SRV_ECHO1].calls_per_s,
                       rows[0].med[SRV_ECHON].calls_per_s, host_status, ok ? "ok" : "FAILED");
                free(runs);
                return ok ? 0 : 1;
        }
        record_results(rows, o.nclients);
        if (o.json)
                print_json(rows, o.nclients, &o, la0, la1);
        else {
                print_table(rows, o.nclients, &o, la0, la1);
                printf("lsashmd exited with %d.\n", host_status);
        }
        free(runs);
        return host_status == 0 ? 0 : 1;
}
