/* SPDX-License-Identifier: MIT */
/*
 * The soak: lsashmd with the test package and 64 client processes that, for
 * as long as the soak lasts, connect (untrusted or as a logon process), look
 * the package up, call it (echo, embedded pointers, two client buffers,
 * client info, a logon session made and deleted), map and read its shared
 * section, unmap it, free every return buffer and disconnect; again and
 * again. Every few seconds lsashmd's RSS, descriptors and mappings are
 * sampled at rest (below); at the end the least-squares slopes after the
 * warm-up are printed with the calls per second.
 *
 * Exit status: 0 when lsashmd lived, no client failed a check, the
 * descriptor and mapping slopes are within their bounds (about zero), the
 * RSS slope is within its bound, and after the clients stop lsashmd is back
 * at the descriptors and mappings of the baseline. 1 otherwise, 2 for a
 * usage error. Run by scripts/soak, which builds it; --help for the options.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lsashm/ntsecapi.h"
#include "packages/test-package-protocol.h"
#include "test-util.h"

#ifndef LSASHMD_PATH
#define LSASHMD_PATH ""
#endif
#ifndef TEST_PACKAGE_DIR
#define TEST_PACKAGE_DIR ""
#endif

#define MAX_CLIENTS 1024u

/*
 * lsashmd is measured at rest: every few seconds the clients finish the
 * round they are in and wait, lsashmd sees their hang-ups, and then its
 * descriptors, mappings and RSS are read with no connection open. Under
 * load those figures move with the connections open at the instant (two
 * descriptors and two mappings each) and with the scheduler, and their
 * slope over a minute or two is as large as a slow leak; at rest they are
 * exact.
 *
 * The bounds, per minute after the warm-up. Descriptors and mappings: at
 * rest the counts are exact, so one leaked per checkpoint interval is
 * already past the bound.
 *
 * RSS: at rest, once warm, glibc's heap reuses what the connections free
 * and lsashmd's RSS is flat to the page, but for steps: when more
 * connections happen to be alive at once than ever before, the heap grows
 * by what they need plus malloc's 128 KiB of top padding, and keeps it (a
 * step of +184 KiB was seen once in a 2-minute run, then flat). A step of
 * h anywhere in a window of T minutes gives a least-squares slope of at
 * most 1.5 h / T; the bound allows two steps of 256 KiB, 768 / T KiB/min
 * (512 for the 1.5 minutes a 2-minute soak has after its warm-up), and
 * never less than 64 KiB/min, so that a long soak catches a slow leak. A
 * leak grows without end: 64 bytes per connection (about 500 connections
 * a second here) measured +2,651 KiB/min in a 2-minute run.
 */
#define DEFAULT_FD_SLOPE_MAX 1.0
#define RSS_STEP_ALLOWANCE_KIB 768.0
#define RSS_SLOPE_FLOOR 64.0
/* While the clients run, lsashmd is also sampled this often, for the
 * under-load means each line prints. */
#define SAMPLE_MS 100

struct client_counts {
        _Atomic uint64_t calls;
        _Atomic uint64_t rounds;
        _Atomic uint64_t maps;
};

struct shared {
        atomic_int stop;
        atomic_int pause;  /* finish the round, then wait */
        atomic_uint parked; /* clients waiting */
        struct client_counts c[MAX_CLIENTS];
};

struct sample {
        double t_min; /* since the clients started, running time only */
        long rss_kib;
        long anon_kib; /* RssAnon: the heap, without the reply sections' shared pages */
        int fds;
        int maps;
        uint64_t calls;
};

static const char *sock_path;

static void die_child(const char *what, NTSTATUS st)
{
        fprintf(stderr, "soak: client %d: %s: 0x%08X\n", (int)getpid(), what, (unsigned)st);
        _exit(1);
}

static void call(HANDLE h, ULONG pkg, const void *msg, ULONG len, PVOID *ret, ULONG *ret_len,
                 struct client_counts *cc)
{
        NTSTATUS proto = STATUS_SUCCESS;
        NTSTATUS st = LsaCallAuthenticationPackage(h, pkg, (PVOID)(uintptr_t)msg, len, ret, ret_len, &proto);
        if (st != STATUS_SUCCESS || proto != STATUS_SUCCESS || !*ret || *ret_len < sizeof(ULONG))
                die_child("LsaCallAuthenticationPackage", st != STATUS_SUCCESS ? st : proto);
        atomic_fetch_add_explicit(&cc->calls, 1, memory_order_relaxed);
}

static void free_buffer(PVOID buf)
{
        NTSTATUS st = LsaFreeReturnBuffer(buf);
        if (st != STATUS_SUCCESS)
                die_child("LsaFreeReturnBuffer", st);
}

/* One round: connect, calls, a map, disconnect. */
static void client_round(unsigned idx, uint64_t round, struct client_counts *cc)
{
        HANDLE h = NULL;
        NTSTATUS st;
        /* Every other round a logon process, when we may be one. */
        if ((round & 1) && geteuid() == 0) {
                CHAR name[] = "lsashm-soak";
                LSA_STRING s = { sizeof(name) - 1, sizeof(name), name };
                LSA_OPERATIONAL_MODE mode;
                st = LsaRegisterLogonProcess(&s, &h, &mode);
        } else {
                st = LsaConnectUntrusted(&h);
        }
        if (st != STATUS_SUCCESS)
                die_child("connect", st);
        CHAR pkgname[] = TP_NAME_OK;
        LSA_STRING ps = { sizeof(pkgname) - 1, sizeof(pkgname), pkgname };
        ULONG pkg;
        st = LsaLookupAuthenticationPackage(h, &ps, &pkg);
        if (st != STATUS_SUCCESS)
                die_child("LsaLookupAuthenticationPackage", st);

        struct {
                TP_REQUEST m;
                UCHAR data[256];
        } e;
        memset(&e, (int)(round & 0xFF), sizeof(e));
        static const ULONG kinds[] = { TpEcho, TpEmbed, TpMulti, TpClientInfo, TpEcho, TpLogonSessions };
        PVOID held[sizeof(kinds) / sizeof(kinds[0])];
        for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                e.m = (TP_REQUEST){ .MessageType = kinds[i],
                                    .Addr = UINT64_C(0x7300000000) + (uint64_t)idx * 8 + i };
                ULONG len = kinds[i] == TpEcho ? (ULONG)sizeof(e) : (ULONG)sizeof(e.m);
                ULONG rlen = 0;
                call(h, pkg, &e, len, &held[i], &rlen, cc);
                if (kinds[i] == TpEcho && (rlen != len || memcmp(held[i], &e, len) != 0))
                        die_child("echo came back different", 0);
                if (kinds[i] == TpLogonSessions) {
                        TP_LOGON_REPLY lr;
                        memcpy(&lr, held[i], sizeof(lr));
                        if (lr.Create != STATUS_SUCCESS || lr.Delete != STATUS_SUCCESS)
                                die_child("logon session", lr.Create != STATUS_SUCCESS ? lr.Create : lr.Delete);
                }
                /* Half the buffers are freed at once, the others together
                 * before the disconnect: the reply section holds several. */
                if (i % 2 == 0)
                        free_buffer(held[i]);
        }
        for (unsigned i = 1; i < sizeof(kinds) / sizeof(kinds[0]); i += 2)
                free_buffer(held[i]);

        TP_REQUEST m = { .MessageType = TpShareSection };
        PVOID buf = NULL;
        ULONG blen = 0;
        call(h, pkg, &m, sizeof(m), &buf, &blen, cc);
        TP_SECTION_REPLY sr;
        memcpy(&sr, buf, sizeof(sr));
        free_buffer(buf);
        PVOID base = NULL;
        ULONG size = 0;
        st = LsashmMapSection(h, sr.SectionId, &base, &size);
        if (st != STATUS_SUCCESS)
                die_child("LsashmMapSection", st);
        const UCHAR *p = (const UCHAR *)base + sr.PatternOffset;
        for (ULONG i = 0; i < TP_PATTERN_LENGTH; i++)
                if (p[i] != TP_PATTERN(TP_SHARED_SEED, i))
                        die_child("the shared section's pattern", 0);
        st = LsashmUnmapSection(base);
        if (st != STATUS_SUCCESS)
                die_child("LsashmUnmapSection", st);
        atomic_fetch_add_explicit(&cc->maps, 1, memory_order_relaxed);
        st = LsaDeregisterLogonProcess(h);
        if (st != STATUS_SUCCESS)
                die_child("LsaDeregisterLogonProcess", st);
        atomic_fetch_add_explicit(&cc->rounds, 1, memory_order_relaxed);
}

static void client_main(unsigned idx, struct shared *sh)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        setenv("LSASHM_SOCKET", sock_path, 1);
        for (uint64_t round = idx; !atomic_load_explicit(&sh->stop, memory_order_relaxed); round++) {
                client_round(idx, round, &sh->c[idx]);
                if (!atomic_load(&sh->pause))
                        continue;
                atomic_fetch_add(&sh->parked, 1);
                while (atomic_load(&sh->pause) && !atomic_load(&sh->stop))
                        tu_sleep_ms(1);
                atomic_fetch_sub(&sh->parked, 1);
        }
        _exit(0);
}

/* Start the clients (they run until sh->stop); -1 if fork failed. */
static int clients_start(struct shared *sh, pid_t *pids, unsigned clients)
{
        atomic_store(&sh->stop, 0);
        for (unsigned i = 0; i < clients; i++) {
                pids[i] = tu_fork();
                if (pids[i] < 0) {
                        perror("soak: fork");
                        return -1;
                }
                if (pids[i] == 0)
                        client_main(i, sh);
        }
        return 0;
}

/* Stop them and reap them; how many did not exit 0. */
static unsigned clients_stop(struct shared *sh, pid_t *pids, unsigned clients)
{
        unsigned failed = 0;
        atomic_store(&sh->stop, 1);
        for (unsigned i = 0; i < clients; i++) {
                if (pids[i] <= 0)
                        continue;
                int status = tu_wait(pids[i], 30, NULL);
                if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        char why[96];
                        printf("soak: client %u %s\n", i, tu_describe_status(status, why, sizeof(why)));
                        failed++;
                }
                pids[i] = 0;
        }
        return failed;
}

/* Wait (timeout_ms at most) until lsashmd has seen every hang-up: its
 * descriptors and mappings are those wanted, or (want < 0) the same in two
 * samples 200 ms apart. False on timeout. */
static bool settle(pid_t d, int want_fds, int want_maps, int timeout_ms, int *ret_fds, int *ret_maps)
{
        int64_t end = tu_now_ms() + timeout_ms;
        int fds = -1, maps = -1;
        bool done = false;
        for (;;) {
                int f = tu_proc_fd_count(d), m = tu_proc_map_count(d);
                done = want_fds < 0 ? f == fds && m == maps : f == want_fds && m == want_maps;
                fds = f;
                maps = m;
                if (done || tu_now_ms() > end)
                        break;
                tu_sleep_ms(want_fds < 0 ? 200 : 5);
        }
        *ret_fds = fds;
        *ret_maps = maps;
        return done;
}

/* ---- figures ---- */

/* Least-squares slope of y over t (per minute), from samples[from..n). */
static double slope(const struct sample *s, size_t from, size_t n, double (*y)(const struct sample *))
{
        double mt = 0, my = 0, stt = 0, sty = 0;
        size_t k = n - from;
        if (k < 2)
                return 0;
        for (size_t i = from; i < n; i++) {
                mt += s[i].t_min;
                my += y(&s[i]);
        }
        mt /= (double)k;
        my /= (double)k;
        for (size_t i = from; i < n; i++) {
                stt += (s[i].t_min - mt) * (s[i].t_min - mt);
                sty += (s[i].t_min - mt) * (y(&s[i]) - my);
        }
        return stt > 0 ? sty / stt : 0;
}

static double y_rss(const struct sample *s) { return (double)s->rss_kib; }
static double y_fds(const struct sample *s) { return (double)s->fds; }
static double y_maps(const struct sample *s) { return (double)s->maps; }
static double y_anon(const struct sample *s) { return (double)s->anon_kib; }

static void usage(FILE *f)
{
        fprintf(f, "usage: lsashm-soak [--minutes M] [--seconds S] [--clients N] [--every SECONDS]\n"
                   "                   [--warmup SECONDS] [--rss-slope-max KIB_PER_MIN (default: see soak.c)]\n"
                   "                   [--fd-slope-max PER_MIN] [--lsashmd PATH] [--package PATH]\n");
}

int main(int argc, char **argv)
{
        double seconds = 60, every = 4, warmup = -1;
        double rss_max = -1, fd_max = DEFAULT_FD_SLOPE_MAX;
        unsigned clients = 64;
        const char *lsashmd = LSASHMD_PATH;
        char package[512];
        snprintf(package, sizeof(package), "%s/test-pkg-ok.so", TEST_PACKAGE_DIR);
        static const struct option opts[] = {
                { "minutes", required_argument, NULL, 'm' },  { "seconds", required_argument, NULL, 's' },
                { "clients", required_argument, NULL, 'c' },  { "every", required_argument, NULL, 'e' },
                { "warmup", required_argument, NULL, 'w' },   { "rss-slope-max", required_argument, NULL, 'r' },
                { "fd-slope-max", required_argument, NULL, 'f' }, { "lsashmd", required_argument, NULL, 'L' },
                { "package", required_argument, NULL, 'P' },  { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int o;
        while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (o) {
                case 'm': seconds = atof(optarg) * 60; break;
                case 's': seconds = atof(optarg); break;
                case 'c': clients = (unsigned)atoi(optarg); break;
                case 'e': every = atof(optarg); break;
                case 'w': warmup = atof(optarg); break;
                case 'r': rss_max = atof(optarg); break;
                case 'f': fd_max = atof(optarg); break;
                case 'L': lsashmd = optarg; break;
                case 'P': snprintf(package, sizeof(package), "%s", optarg); break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind != argc || seconds < 10 || every < 0.1 || clients < 1 || clients > MAX_CLIENTS) {
                usage(stderr);
                return 2;
        }
        /* The first quarter, at most 30 s: lsashmd's heap and tables grow to
         * what 64 clients need, once. */
        if (warmup < 0)
                warmup = seconds / 4 < 30 ? seconds / 4 : 30;
        if (!*lsashmd || access(lsashmd, X_OK) != 0 || access(package, R_OK) != 0) {
                fprintf(stderr, "soak: lsashmd (%s) or the package (%s) missing\n", lsashmd, package);
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);

        char dir[] = "/tmp/lsashm-soak-XXXXXX", conf[64], sock[64], notify[64], err[64];
        if (!mkdtemp(dir) || chmod(dir, 0755) < 0) {
                perror("soak: mkdtemp");
                return 1;
        }
        snprintf(conf, sizeof(conf), "%s/lsashmd.conf", dir);
        snprintf(sock, sizeof(sock), "%s/lsashmd.sock", dir);
        snprintf(notify, sizeof(notify), "%s/notify", dir);
        snprintf(err, sizeof(err), "%s/lsashmd.err", dir);
        sock_path = sock;
        /* 64 clients that reconnect at once: a connection whose hang-up
         * lsashmd has not yet read still counts against the per-uid limit
         * (64 by default), and the soak is about leaks, not limits. */
        FILE *cf = fopen(conf, "we");
        if (!cf || fprintf(cf, "max-connections-per-uid %u\n", clients * 4 > 64 ? clients * 4 : 64) < 0 ||
            fclose(cf) != 0) {
                perror("soak: config");
                return 1;
        }
        pid_t d = tu_lsashmd_start(lsashmd, conf, sock, package, notify, err, 30);
        if (d < 0) {
                fprintf(stderr, "soak: lsashmd did not start (see %s)\n", err);
                return 1;
        }
        struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (sh == MAP_FAILED) {
                perror("soak: mmap");
                return 1;
        }
        pid_t *pids = calloc(clients, sizeof(*pids));
        if (!pids)
                return 1;

        /* The baseline: what lsashmd holds once every client has come and
         * gone, after a short burst of all of them (its first connections
         * grow its tables and heap once, and not again). */
        unsigned failed = 0;
        if (clients_start(sh, pids, clients) < 0)
                return 1;
        tu_sleep_ms(3000);
        failed += clients_stop(sh, pids, clients);
        int fds0, maps0;
        long rss0;
        settle(d, -1, -1, 10000, &fds0, &maps0);
        rss0 = tu_proc_status_kib(d, "VmRSS");
        memset(sh->c, 0, sizeof(sh->c));

        printf("soak: lsashmd pid %d with %s; %u clients for %.0f s, at rest every %.1f s, warm-up %.0f s\n",
               (int)d, package, clients, seconds, every, warmup);
        printf("soak: baseline (after a 3 s burst of all clients, all gone): RSS %ld KiB, %d descriptors, "
               "%d mappings\n",
               rss0, fds0, maps0);
        printf("soak: every line: at rest (clients parked, no connection open) RSS and its anonymous part, "
               "descriptors, mappings;\n"
               "soak: under load (means of the samples since the line before) RSS and descriptors; calls/s; "
               "the pause\n");
        printf("%8s %10s %10s %6s %6s %10s %10s %10s %8s\n", "t(s)", "RSS(KiB)", "anon(KiB)", "fds", "maps",
               "load RSS", "load fds", "calls/s", "pause ms");
        fflush(stdout);

        size_t cap = 4096, n = 0, warm_from = 0;
        struct sample *s = malloc(cap * sizeof(*s));
        if (!s)
                return 1;
        bool daemon_died = false, warm_set = false;
        unsigned unsettled = 0;
        int64_t start = tu_now_ms(), paused_ms = 0;
        if (clients_start(sh, pids, clients) < 0)
                return 1;
        uint64_t line_calls = 0;
        double line_t = 0;
        while (!daemon_died && (double)(tu_now_ms() - start - paused_ms) / 1000 < seconds) {
                /* Under load: sampled for the means, lsashmd watched. */
                double load_fds = 0, load_rss = 0;
                unsigned load_n = 0;
                int64_t until = tu_now_ms() + (int64_t)(every * 1000);
                while (tu_now_ms() < until) {
                        tu_sleep_ms(SAMPLE_MS);
                        int status;
                        if (waitpid(d, &status, WNOHANG) == d) {
                                char why[96];
                                printf("soak: lsashmd %s\n", tu_describe_status(status, why, sizeof(why)));
                                daemon_died = true;
                                break;
                        }
                        load_fds += tu_proc_fd_count(d);
                        load_rss += (double)tu_proc_status_kib(d, "VmRSS");
                        load_n++;
                }
                if (daemon_died)
                        break;
                for (unsigned i = 0; i < clients; i++) {
                        int status;
                        if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
                                char why[96];
                                printf("soak: client %u %s before the end\n", i,
                                       tu_describe_status(status, why, sizeof(why)));
                                pids[i] = 0;
                                failed++;
                        }
                }
                unsigned live = 0;
                for (unsigned i = 0; i < clients; i++)
                        live += pids[i] > 0;

                /* At rest: every client parked between rounds, lsashmd has
                 * seen their hang-ups. */
                int64_t pause_start = tu_now_ms();
                double t = (double)(pause_start - start - paused_ms) / 60000.0;
                uint64_t calls = 0;
                for (unsigned i = 0; i < clients; i++)
                        calls += atomic_load_explicit(&sh->c[i].calls, memory_order_relaxed);
                atomic_store(&sh->pause, 1);
                while (atomic_load(&sh->parked) < live && tu_now_ms() - pause_start < 30000)
                        tu_sleep_ms(1);
                int fds, mapc;
                if (!settle(d, fds0, maps0, 3000, &fds, &mapc))
                        unsettled++;
                if (n == cap) {
                        struct sample *more = realloc(s, 2 * cap * sizeof(*s));
                        if (!more)
                                break;
                        s = more;
                        cap *= 2;
                }
                struct sample *x = &s[n];
                *x = (struct sample){ .t_min = t, .fds = fds, .maps = mapc, .calls = calls };
                x->rss_kib = tu_proc_status_kib(d, "VmRSS");
                x->anon_kib = tu_proc_status_kib(d, "RssAnon");
                atomic_store(&sh->pause, 0);
                paused_ms += tu_now_ms() - pause_start;
                if (!warm_set && t * 60 >= warmup) {
                        warm_from = n;
                        warm_set = true;
                }
                n++;
                printf("%8.1f %10ld %10ld %6d %6d %10.0f %10.1f %10.0f %8" PRId64 "\n", t * 60, x->rss_kib,
                       x->anon_kib, x->fds, x->maps, load_n ? load_rss / load_n : 0.0,
                       load_n ? load_fds / load_n : 0.0, (double)(calls - line_calls) / ((t - line_t) * 60),
                       tu_now_ms() - pause_start);
                fflush(stdout);
                line_calls = calls;
                line_t = t;
        }
        double elapsed_s = (double)(tu_now_ms() - start - paused_ms) / 1000;
        if (!warm_set)
                warm_from = n;
        failed += clients_stop(sh, pids, clients);
        uint64_t calls = 0, rounds = 0, maps = 0;
        for (unsigned i = 0; i < clients; i++) {
                calls += atomic_load(&sh->c[i].calls);
                rounds += atomic_load(&sh->c[i].rounds);
                maps += atomic_load(&sh->c[i].maps);
        }

        /* Every client gone: lsashmd back at the baseline, once it has
         * seen the last hang-ups. */
        int fds_end = -1, maps_end = -1;
        long rss_end = -1;
        if (!daemon_died) {
                settle(d, fds0, maps0, 10000, &fds_end, &maps_end);
                rss_end = tu_proc_status_kib(d, "VmRSS");
        }

        double window = n > warm_from ? s[n - 1].t_min - s[warm_from].t_min : 0.0;
        if (rss_max < 0)
                rss_max = window > 0 && RSS_STEP_ALLOWANCE_KIB / window > RSS_SLOPE_FLOOR
                                  ? RSS_STEP_ALLOWANCE_KIB / window
                                  : RSS_SLOPE_FLOOR;
        double rss_slope = slope(s, warm_from, n, y_rss);
        double fd_slope = slope(s, warm_from, n, y_fds);
        double maps_slope = slope(s, warm_from, n, y_maps);
        double anon_slope = slope(s, warm_from, n, y_anon);
        if (unsettled)
                printf("soak: %u checkpoints found lsashmd off its baseline after 3 s\n", unsettled);
        printf("soak: %" PRIu64 " calls in %.1f s of running: %.0f calls/s; %.0f connect-to-disconnect rounds/s; "
               "%.0f maps/s\n",
               calls, elapsed_s, (double)calls / elapsed_s, (double)rounds / elapsed_s, (double)maps / elapsed_s);
        printf("soak: least-squares slopes after the warm-up (%zu samples over %.1f min):\n"
               "soak:   RSS %+.1f KiB/min (bound %.0f; of which anonymous %+.1f)\n"
               "soak:   descriptors %+.2f /min, mappings %+.2f /min (bound +-%.0f)\n",
               n - warm_from, window, rss_slope, rss_max,
               anon_slope, fd_slope, maps_slope, fd_max);
        if (!daemon_died)
                printf("soak: after the clients: RSS %ld KiB (baseline %ld), %d descriptors (%d), %d mappings (%d)\n",
                       rss_end, rss0, fds_end, fds0, maps_end, maps0);

        bool ok = true;
        if (daemon_died) {
                char *text = NULL;
                size_t len = 0;
                FILE *f = fopen(err, "re");
                if (f) {
                        text = calloc(1, 65536);
                        len = text ? fread(text, 1, 65535, f) : 0;
                        fclose(f);
                }
                printf("soak: FAILED: lsashmd died; its stderr:\n%.*s\n", (int)len, text ? text : "");
                free(text);
                ok = false;
        }
        if (failed) {
                printf("soak: FAILED: %u clients failed\n", failed);
                ok = false;
        }
        if (n - warm_from < 3) {
                printf("soak: FAILED: too few samples after the warm-up for a slope\n");
                ok = false;
        }
        if (rss_slope > rss_max) {
                printf("soak: FAILED: RSS grows by %.1f KiB/min\n", rss_slope);
                ok = false;
        }
        if (fd_slope > fd_max || fd_slope < -fd_max || maps_slope > fd_max || maps_slope < -fd_max) {
                printf("soak: FAILED: descriptors or mappings drift\n");
                ok = false;
        }
        if (!daemon_died && (fds_end != fds0 || maps_end != maps0)) {
                printf("soak: FAILED: lsashmd did not return to its descriptors and mappings\n");
                ok = false;
        }
        if (!daemon_died) {
                kill(d, SIGTERM);
                int status = tu_wait(d, 30, NULL);
                if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        char why[96];
                        printf("soak: FAILED: lsashmd after SIGTERM %s\n", tu_describe_status(status, why, sizeof(why)));
                        ok = false;
                }
        }
        unlink(conf);
        unlink(sock);
        unlink(notify);
        if (ok)
                unlink(err);
        else
                printf("soak: lsashmd's log: %s\n", err);
        if (rmdir(dir) < 0 && ok)
                printf("soak: note: %s left behind\n", dir);
        printf("soak: %s\n", ok ? "ok" : "FAILED");
        free(pids);
        free(s);
        return ok ? 0 : 1;
}
