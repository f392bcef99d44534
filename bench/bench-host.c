/* SPDX-License-Identifier: MIT */
/*
 * The package host, measured from a client's side: one
 * LsaCallAuthenticationPackage round trip (a record looked up by the sample
 * records package, the reply read through its return buffer, then
 * LsaFreeReturnBuffer) beside one zero-copy read of the same record from
 * the package's section mapped with LsashmMapSection; with, as the floor
 * every round trip stands on, a bare SOCK_SEQPACKET request and reply
 * between two processes.
 *
 * lsashmd runs as a separate process with the sample package, as it does in
 * production; this program is the client and uses only ntsecapi.h.
 *
 * The slow-package figure: with a package whose call can sleep
 * (bench-slow-package.c), the 99th percentile of CROWD client processes'
 * calls, quiet and while one other client's call sleeps 2 s; with the
 * default pool of worker threads and with one (how lsashmd served before
 * the pool: one call at a time). The same while one other client's
 * LsaLogonUser sleeps 2 s in the package's LogonUser (needs root: a logon
 * process).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
#ifndef SLOW_PACKAGE_PATH
#error "SLOW_PACKAGE_PATH must name the bench's slow package"
#endif

#define CROWD 100
#define SLOW_MS 2000u

#define RECORDS 200

static bool quick, json;
/* Where the values read end up, so the compiler cannot drop the reads. */
static volatile int bench_sink;

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, NTSTATUS st)
{
        fprintf(stderr, "bench-host: %s: 0x%08X\n", what, (unsigned)st);
        exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static void add_records(HANDLE h, ULONG pkg)
{
        NTSTATUS st = bench_records_add(h, pkg, RECORDS);
        if (st != STATUS_SUCCESS)
                die("add", st);
}

/* One lookup through the package: the round trip a client pays per read
 * without a shared section. Returns the value's first byte (so the read
 * cannot be optimised away). */
static int lookup_once(HANDLE h, ULONG pkg, unsigned i)
{
        NTSTATUS proto;
        int v;
        NTSTATUS st = bench_records_lookup(h, pkg, i, &proto, &v);
        if (st != STATUS_SUCCESS || proto != STATUS_SUCCESS)
                die("lookup", st ? st : proto);
        return v;
}

struct table_view {
        PVOID view;            /* as LsashmMapSection gave it, for the unmap */
        const uint8_t *base;
        ULONG size;
        ULONG table_offset, records_offset, capacity, record_size;
};

/* One zero-copy read: the count with an acquire load, the slot bounds
 * checked against what we mapped, the record copied out of the shared
 * view before it is looked at (a writer may change it meanwhile). */
static int read_once(const struct table_view *t, unsigned i)
{
        const RECORDS_TABLE_HEADER *hdr = (const void *)(t->base + t->table_offset);
        ULONG count = __atomic_load_n(&hdr->Count, __ATOMIC_ACQUIRE);
        if (count > t->capacity || i >= count)
                return -1;
        RECORDS_RECORD rec;
        memcpy(&rec, t->base + t->records_offset + (size_t)i * t->record_size, sizeof(rec));
        if (rec.ValueLength > RECORDS_MAX_VALUE)
                return -1;
        return rec.ValueLength ? rec.Value[0] : 0;
}

static void map_table(HANDLE h, ULONG pkg, struct table_view *t)
{
        RECORDS_GET_TABLE_REQUEST q = { .MessageType = RecordsGetTableMessage };
        PVOID ret = NULL;
        ULONG ret_len = 0;
        NTSTATUS proto;
        NTSTATUS st = LsaCallAuthenticationPackage(h, pkg, &q, sizeof(q), &ret, &ret_len, &proto);
        if (st != STATUS_SUCCESS || proto != STATUS_SUCCESS || ret_len < sizeof(RECORDS_GET_TABLE_RESPONSE))
                die("get table", st ? st : proto);
        RECORDS_GET_TABLE_RESPONSE r;
        memcpy(&r, ret, sizeof(r));
        LsaFreeReturnBuffer(ret);
        PVOID base;
        ULONG size;
        st = LsashmMapSection(h, r.SectionId, &base, &size);
        if (st != STATUS_SUCCESS)
                die("map", st);
        if (r.RecordSize != sizeof(RECORDS_RECORD) || r.TableOffset > size - sizeof(RECORDS_TABLE_HEADER) ||
            r.RecordsOffset > size || (uint64_t)r.Capacity * r.RecordSize > size - r.RecordsOffset)
                die("table layout", STATUS_INTERNAL_ERROR);
        *t = (struct table_view){ base, base, size, r.TableOffset, r.RecordsOffset, r.Capacity, r.RecordSize };
}

/* The floor: a 64-byte request and reply between two processes over a
 * SEQPACKET socketpair, nothing decoded. */
static void pin(int cpu)
{
        if (cpu < 0)
                return;
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof(set), &set);
}

/* Each trip is timed on its own, as the calls are, so that the two means
 * carry the same clock reads; the samples go to the final report's plot. */
static double socket_floor(long trips, int server_cpu, uint64_t *lat)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                die("socketpair", STATUS_UNSUCCESSFUL);
        pid_t pid = fork();
        if (pid == 0) {
                pin(server_cpu);
                close(sv[0]);
                char buf[64];
                while (read(sv[1], buf, sizeof(buf)) == (ssize_t)sizeof(buf))
                        if (write(sv[1], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
                                break;
                _exit(0);
        }
        close(sv[1]);
        char buf[64] = { 0 };
        uint64_t t0 = now_ns();
        for (long i = 0; i < trips; i++) {
                uint64_t a = now_ns();
                if (write(sv[0], buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
                    read(sv[0], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
                        die("echo", STATUS_UNSUCCESSFUL);
                lat[i] = now_ns() - a;
        }
        uint64_t t1 = now_ns();
        close(sv[0]);
        waitpid(pid, NULL, 0);
        return (double)(t1 - t0) / (double)trips;
}

static pid_t start_host(const char *sock, int cpu)
{
        pid_t pid = fork();
        if (pid == 0) {
                pin(cpu);
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (null >= 0)
                        dup2(null, 2);
                execl(LSASHMD_PATH, "lsashmd", "--socket", sock, "--package", RECORDS_PACKAGE_PATH,
                      (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 200; i++) {
                struct stat st;
                if (stat(sock, &st) == 0)
                        return pid;
                usleep(10000);
        }
        kill(pid, SIGKILL);
        die("lsashmd did not start", STATUS_UNSUCCESSFUL);
        return -1;
}

struct result {
        const char *placement;
        const char *series; /* the final report's latency plot */
        double call_ns, read_ns, floor_ns, connect_ns;
        uint64_t p50, p99;
        int host_status;
};

/* One run: lsashmd (and the echo peer) on server_cpu, this process on
 * client_cpu. A round trip costs very different amounts when the two
 * processes share a CPU (a switch) and when they do not (a wake-up across
 * CPUs, which a VM makes expensive), so both are measured. */
static int measure(int client_cpu, int server_cpu, struct result *res)
{
        pin(client_cpu);
        char dir[] = "/tmp/lsashm-bench-XXXXXX";
        if (!mkdtemp(dir))
                die("mkdtemp", STATUS_UNSUCCESSFUL);
        char sock[64];
        snprintf(sock, sizeof(sock), "%s/lsashm.sock", dir);
        pid_t host = start_host(sock, server_cpu);
        setenv("LSASHM_SOCKET", sock, 1);

        HANDLE h;
        LSA_OPERATIONAL_MODE mode;
        char name[] = "bench-host";
        LSA_STRING ln = { sizeof(name) - 1, sizeof(name), name };
        NTSTATUS st = geteuid() == 0 ? LsaRegisterLogonProcess(&ln, &h, &mode) : LsaConnectUntrusted(&h);
        if (st != STATUS_SUCCESS)
                die("connect", st);
        char pname[] = RECORDS_PACKAGE_NAME;
        LSA_STRING pn = { sizeof(pname) - 1, sizeof(pname), pname };
        ULONG pkg;
        if ((st = LsaLookupAuthenticationPackage(h, &pn, &pkg)) != STATUS_SUCCESS)
                die("lookup package", st);
        if (geteuid() == 0)
                add_records(h, pkg);

        long trips = quick ? 2000 : 20000;
        long reads = quick ? 1000000 : 10000000;
        int sink = 0;

        /* Round trips, each timed, for the percentiles too. */
        uint64_t *lat = calloc((size_t)trips, sizeof(*lat));
        if (!lat)
                die("calloc", STATUS_NO_MEMORY);
        for (long i = 0; i < 200; i++)
                sink += lookup_once(h, pkg, (unsigned)(i % RECORDS));
        uint64_t t0 = now_ns();
        for (long i = 0; i < trips; i++) {
                uint64_t a = now_ns();
                sink += lookup_once(h, pkg, (unsigned)((i * 7919) % RECORDS));
                lat[i] = now_ns() - a;
        }
        res->call_ns = (double)(now_ns() - t0) / (double)trips;
        qsort(lat, (size_t)trips, sizeof(*lat), cmp_u64);
        res->p50 = lat[trips / 2];
        res->p99 = lat[trips * 99 / 100];
        bench_series_latencies(res->series, "lsashm: LsaCallAuthenticationPackage + LsaFreeReturnBuffer", lat,
                               (size_t)trips);

        struct table_view t;
        map_table(h, pkg, &t);
        for (long i = 0; i < 1000; i++)
                sink += read_once(&t, (unsigned)(i % RECORDS));
        t0 = now_ns();
        for (long i = 0; i < reads; i++)
                sink += read_once(&t, (unsigned)((i * 7919) % RECORDS));
        res->read_ns = (double)(now_ns() - t0) / (double)reads;

        res->floor_ns = socket_floor(trips, server_cpu, lat);
        bench_series_latencies(res->series, "floor: bare SEQPACKET request + reply", lat, (size_t)trips);
        free(lat);

        /* Connecting, for a client that would connect per lookup. */
        long conns = quick ? 200 : 2000;
        t0 = now_ns();
        for (long i = 0; i < conns; i++) {
                HANDLE c;
                if ((st = LsaConnectUntrusted(&c)) != STATUS_SUCCESS)
                        die("connect", st);
                LsaDeregisterLogonProcess(c);
        }
        res->connect_ns = (double)(now_ns() - t0) / (double)conns;

        LsashmUnmapSection(t.view);
        LsaDeregisterLogonProcess(h);
        kill(host, SIGTERM);
        int status = 0;
        waitpid(host, &status, 0);
        res->host_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        rmdir(dir);
        return sink;
}

/* ---- the slow-package figure ---- */

/* lsashmd with the slow package and a configuration that lets CROWD
 * clients of one uid in, with worker-threads workers (0: the default). */
static pid_t start_slow_host(const char *dir, const char *sock, unsigned workers)
{
        char conf[96];
        snprintf(conf, sizeof(conf), "%s/lsashmd.conf", dir);
        FILE *f = fopen(conf, "we");
        if (!f)
                die("config file", STATUS_UNSUCCESSFUL);
        fprintf(f, "max-connections-per-uid %d\n", 4 * CROWD);
        if (workers)
                fprintf(f, "worker-threads %u\n", workers);
        fclose(f);
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (null >= 0)
                        dup2(null, 2);
                execl(LSASHMD_PATH, "lsashmd", "--config", conf, "--socket", sock, "--package", SLOW_PACKAGE_PATH,
                      (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 200; i++) {
                struct stat st;
                if (stat(sock, &st) == 0)
                        return pid;
                usleep(10000);
        }
        kill(pid, SIGKILL);
        die("lsashmd did not start", STATUS_UNSUCCESSFUL);
        return -1;
}

static HANDLE slow_connect(ULONG *ret_pkg)
{
        HANDLE h;
        NTSTATUS st = LsaConnectUntrusted(&h);
        if (st != STATUS_SUCCESS)
                die("connect", st);
        char pname[] = "BenchSlow";
        LSA_STRING pn = { sizeof(pname) - 1, sizeof(pname), pname };
        if ((st = LsaLookupAuthenticationPackage(h, &pn, ret_pkg)) != STATUS_SUCCESS)
                die("lookup BenchSlow", st);
        return h;
}

static void slow_call(HANDLE h, ULONG pkg, ULONG ms)
{
        PVOID ret = NULL;
        ULONG len = 0;
        NTSTATUS proto;
        NTSTATUS st = LsaCallAuthenticationPackage(h, pkg, &ms, sizeof(ms), &ret, &len, &proto);
        if (st != STATUS_SUCCESS || proto != STATUS_SUCCESS)
                die("call BenchSlow", st != STATUS_SUCCESS ? st : proto);
        LsaFreeReturnBuffer(ret);
}

/* CROWD processes, connected before a common start, then calls calls each:
 * the 99th percentile of every call's latency, ns. */
static uint64_t crowd_p99(int calls)
{
        int ready[2], go[2], res[2];
        if (pipe(ready) < 0 || pipe(go) < 0 || pipe(res) < 0)
                die("pipe", STATUS_UNSUCCESSFUL);
        for (int i = 0; i < CROWD; i++) {
                pid_t pid = fork();
                if (pid < 0)
                        die("fork", STATUS_UNSUCCESSFUL);
                if (pid > 0)
                        continue;
                close(go[1]);
                ULONG pkg;
                HANDLE h = slow_connect(&pkg);
                char b = 1;
                if (write(ready[1], &b, 1) != 1 || read(go[0], &b, 1) != 0)
                        _exit(1);
                uint64_t lat[64];
                for (int k = 0; k < calls; k++) {
                        uint64_t t0 = now_ns();
                        slow_call(h, pkg, 0);
                        lat[k] = now_ns() - t0;
                }
                _exit(write(res[1], lat, (size_t)calls * sizeof(lat[0])) == (ssize_t)((size_t)calls * sizeof(lat[0]))
                              ? 0
                              : 1);
        }
        close(ready[1]);
        close(go[0]);
        close(res[1]);
        for (int i = 0; i < CROWD; i++) {
                char b;
                if (read(ready[0], &b, 1) != 1)
                        die("a client did not connect", STATUS_UNSUCCESSFUL);
        }
        close(go[1]);
        size_t n = (size_t)CROWD * (size_t)calls;
        uint64_t *lat = calloc(n, sizeof(*lat));
        if (!lat)
                die("calloc", STATUS_NO_MEMORY);
        size_t got = 0;
        while (got < n * sizeof(*lat)) {
                ssize_t r = read(res[0], (char *)lat + got, n * sizeof(*lat) - got);
                if (r <= 0)
                        die("a client failed", STATUS_UNSUCCESSFUL);
                got += (size_t)r;
        }
        for (int i = 0; i < CROWD; i++)
                wait(NULL);
        close(ready[0]);
        close(res[0]);
        qsort(lat, n, sizeof(*lat), cmp_u64);
        uint64_t p99 = lat[(n * 99 + 99) / 100 - 1];
        free(lat);
        return p99;
}

struct slow_result {
        unsigned workers; /* 0: the default */
        bool logon;       /* what sleeps: LsaLogonUser, else a call */
        uint64_t quiet_p99, loaded_p99;
};

/* One LsaLogonUser whose LogonUser sleeps ms; the token closed. */
static void slow_logon(ULONG ms)
{
        char name[] = "bench-host";
        LSA_STRING n = { sizeof(name) - 1, sizeof(name), name };
        HANDLE h;
        LSA_OPERATIONAL_MODE mode;
        NTSTATUS st = LsaRegisterLogonProcess(&n, &h, &mode);
        if (st != STATUS_SUCCESS)
                die("LsaRegisterLogonProcess", st);
        char pname[] = "BenchSlow";
        LSA_STRING pn = { sizeof(pname) - 1, sizeof(pname), pname };
        ULONG pkg;
        if ((st = LsaLookupAuthenticationPackage(h, &pn, &pkg)) != STATUS_SUCCESS)
                die("lookup BenchSlow", st);
        TOKEN_SOURCE source = { .SourceName = "bench" };
        PVOID profile = NULL;
        ULONG profile_len = 0;
        LUID id;
        HANDLE token = NULL;
        QUOTA_LIMITS q;
        NTSTATUS sub;
        st = LsaLogonUser(h, &n, Network, pkg, &ms, sizeof(ms), NULL, &source, &profile, &profile_len, &id, &token, &q,
                          &sub);
        if (st != STATUS_SUCCESS)
                die("LsaLogonUser BenchSlow", st);
        LsaFreeReturnBuffer(profile);
        LsashmCloseToken(token);
        LsaDeregisterLogonProcess(h);
}

static void measure_slow(struct slow_result *res)
{
        char dir[] = "/tmp/lsashm-bench-XXXXXX";
        if (!mkdtemp(dir))
                die("mkdtemp", STATUS_UNSUCCESSFUL);
        char sock[64];
        snprintf(sock, sizeof(sock), "%s/lsashm.sock", dir);
        pid_t host = start_slow_host(dir, sock, res->workers);
        setenv("LSASHM_SOCKET", sock, 1);
        int calls = quick ? 5 : 20;
        res->quiet_p99 = crowd_p99(calls);

        int started[2];
        if (pipe(started) < 0)
                die("pipe", STATUS_UNSUCCESSFUL);
        pid_t sleeper = fork();
        if (sleeper == 0) {
                char b = 1;
                if (res->logon) {
                        if (write(started[1], &b, 1) != 1)
                                _exit(1);
                        slow_logon(SLOW_MS);
                        _exit(0);
                }
                ULONG pkg;
                HANDLE h = slow_connect(&pkg);
                if (write(started[1], &b, 1) != 1)
                        _exit(1);
                slow_call(h, pkg, SLOW_MS);
                _exit(0);
        }
        char b;
        if (read(started[0], &b, 1) != 1)
                die("the sleeping client did not start", STATUS_UNSUCCESSFUL);
        close(started[0]);
        close(started[1]);
        usleep(100000); /* its call reaches the package */
        res->loaded_p99 = crowd_p99(calls);
        waitpid(sleeper, NULL, 0);

        kill(host, SIGTERM);
        waitpid(host, NULL, 0);
        char conf[96];
        snprintf(conf, sizeof(conf), "%s/lsashmd.conf", dir);
        unlink(conf);
        rmdir(dir);
}

/* For the final report of scripts/bench (bench-results.h). A machine with
 * one CPU has no second placement: that target shows n/a. */
static void record_targets(const struct result *r, int runs)
{
        static const char *const ids[2] = { "call-same-cpu", "call-two-cpus" };
        static const char *const whats[2] = { "call round trip, lsashmd on the client's CPU",
                                              "call round trip, lsashmd on another CPU" };
        for (int i = 0; i < 2; i++)
                bench_target(&(struct bench_target){ .id = ids[i],
                                                     .what = whats[i],
                                                     .figure = i < runs ? r[i].call_ns : NAN,
                                                     .unit = "ns",
                                                     .ref_name = "bare SEQPACKET round trip",
                                                     .ref_figure = i < runs ? r[i].floor_ns : NAN,
                                                     .op = BENCH_AT_MOST,
                                                     .limit = 1.3 });
}

int main(int argc, char **argv)
{
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
        struct result r[2] = { { .placement = "same CPU", .series = "call-latency-same-cpu" },
                               { .placement = "two CPUs", .series = "call-latency-two-cpus" } };
        int sink = measure(0, 0, &r[0]);
        int runs = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
        if (runs == 2)
                sink += measure(0, 1, &r[1]);
        /* Unpinned: lsashmd's workers and the clients go where they may. */
        cpu_set_t all;
        CPU_ZERO(&all);
        for (int i = 0; i < CPU_SETSIZE; i++)
                CPU_SET(i, &all);
        sched_setaffinity(0, sizeof(all), &all);
        struct slow_result slow[4] = { { .workers = 0 },
                                       { .workers = 1 },
                                       { .workers = 0, .logon = true },
                                       { .workers = 1, .logon = true } };
        /* LsaLogonUser is a logon process's: root here. */
        int nslow = geteuid() == 0 ? 4 : 2;
        for (int i = 0; i < nslow; i++)
                measure_slow(&slow[i]);

        record_targets(r, runs);

        if (json) {
                printf("[");
                for (int i = 0; i < runs; i++)
                        printf("%s{\"placement\":\"%s\",\"call_round_trip_ns\":%.1f,\"call_p50_ns\":%llu,"
                               "\"call_p99_ns\":%llu,\"zero_copy_read_ns\":%.2f,\"socket_floor_ns\":%.1f,"
                               "\"connect_ns\":%.1f,\"ratio\":%.0f}",
                               i ? "," : "", r[i].placement, r[i].call_ns, (unsigned long long)r[i].p50,
                               (unsigned long long)r[i].p99, r[i].read_ns, r[i].floor_ns, r[i].connect_ns,
                               r[i].call_ns / r[i].read_ns);
                for (int i = 0; i < nslow; i++)
                        printf(",{\"slow_package\":{\"clients\":%d,\"sleep_ms\":%u,\"sleeps_in\":\"%s\","
                               "\"worker_threads\":\"%s\",\"quiet_p99_ns\":%llu,\"loaded_p99_ns\":%llu}}",
                               CROWD, SLOW_MS, slow[i].logon ? "LogonUser" : "CallPackage",
                               slow[i].workers ? "1" : "default",
                               (unsigned long long)slow[i].quiet_p99, (unsigned long long)slow[i].loaded_p99);
                printf("]\n");
                bench_sink = sink;
                return 0;
        }
        printf("Package host: one record of the sample records package (%d records), client and lsashmd\n"
               "in separate processes (%s connection), lsashmd on the client's CPU and on another\n\n",
               RECORDS, geteuid() == 0 ? "logon process" : "untrusted");
        printf("| workload | %s ns | %s ns |\n|---|---|---|\n", r[0].placement, runs == 2 ? r[1].placement : "-");
        printf("| LsaCallAuthenticationPackage lookup, reply read through its embedded pointers, LsaFreeReturnBuffer |");
        for (int i = 0; i < 2; i++)
                printf(i < runs ? " %.0f (p50 %llu, p99 %llu) |" : " - |", r[i].call_ns, (unsigned long long)r[i].p50,
                       (unsigned long long)r[i].p99);
        printf("\n| zero-copy read of the same record through the mapped section |");
        for (int i = 0; i < 2; i++)
                printf(i < runs ? " %.1f |" : " - |", r[i].read_ns);
        printf("\n| floor: bare 64-byte SEQPACKET request + reply between two processes |");
        for (int i = 0; i < 2; i++)
                printf(i < runs ? " %.0f |" : " - |", r[i].floor_ns);
        printf("\n| LsaConnectUntrusted + LsaDeregisterLogonProcess |");
        for (int i = 0; i < 2; i++)
                printf(i < runs ? " %.0f |" : " - |", r[i].connect_ns);
        printf("\n\n");
        for (int i = 0; i < runs; i++)
                printf("%s: a read through the section is %.0fx faster than asking the package; the round\n"
                       "trip costs %.2fx the bare socket floor; lsashmd exited with %d.\n",
                       r[i].placement, r[i].call_ns / r[i].read_ns, r[i].call_ns / r[i].floor_ns, r[i].host_status);
        printf("\nSlow package: p99 of %d client processes' calls (%d each, untrusted, unpinned), quiet and\n"
               "while one other client's call (or LsaLogonUser) sleeps %u ms in the package\n\n",
               CROWD, quick ? 5 : 20, SLOW_MS);
        printf("| what sleeps | lsashmd | quiet p99, us | p99 during the sleep, us |\n|---|---|---|---|\n");
        for (int i = 0; i < nslow; i++)
                printf("| %s | %s | %.0f | %.0f |\n", slow[i].logon ? "LogonUser" : "CallPackage",
                       slow[i].workers ? "worker-threads 1 (one call at a time, as before the pool)"
                                       : "worker-threads default (twice the CPUs, 4..64)",
                       (double)slow[i].quiet_p99 / 1000.0, (double)slow[i].loaded_p99 / 1000.0);
        if (nslow < 4)
                printf("| LogonUser | - | not measured: LsaLogonUser needs root (a logon process) | |\n");
        bench_sink = sink; /* keep the reads */
        return 0;
}
