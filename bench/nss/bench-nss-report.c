/* SPDX-License-Identifier: MIT */
/*
 * The report of bench-nss: one table per workload, every peer side by side,
 * and lsashm's figures against the targets it is held to, each marked PASS
 * or MISS. The figures come from the "key value" files that each peer's run
 * wrote (and that scripts/bench nss completes with the system call counts);
 * a peer that could not run has a "skip REASON" line instead.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-nss.h"

#define MAX_PEERS 16
#define MAX_KEYS  128

struct peer {
        char name[32];
        char skip[256];
        int nkeys;
        char key[MAX_KEYS][48];
        char value[MAX_KEYS][160];
};

static struct peer peers[MAX_PEERS];
static int npeers;

/* Copies as much of src as fits. */
static void copy(char *dst, size_t len, const char *src)
{
        size_t n = strlen(src);
        if (n >= len)
                n = len - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
}

static int load(const char *path, struct peer *p)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        char line[512];
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                char *sp = strchr(line, ' ');
                if (!sp)
                        continue;
                *sp = '\0';
                const char *v = sp + 1;
                if (strcmp(line, "peer") == 0)
                        copy(p->name, sizeof(p->name), v);
                else if (strcmp(line, "skip") == 0)
                        copy(p->skip, sizeof(p->skip), v);
                else if (p->nkeys < MAX_KEYS) {
                        copy(p->key[p->nkeys], sizeof(p->key[0]), line);
                        copy(p->value[p->nkeys], sizeof(p->value[0]), v);
                        p->nkeys++;
                }
        }
        fclose(f);
        return 0;
}

static const char *str(const struct peer *p, const char *key)
{
        for (int i = 0; i < p->nkeys; i++)
                if (strcmp(p->key[i], key) == 0)
                        return p->value[i];
        return NULL;
}

static double num(const struct peer *p, const char *key)
{
        const char *s = p ? str(p, key) : NULL;
        return s ? strtod(s, NULL) : NAN;
}

static const struct peer *find(const char *name)
{
        for (int i = 0; i < npeers; i++)
                if (strcmp(peers[i].name, name) == 0 && !peers[i].skip[0])
                        return &peers[i];
        return NULL;
}

/* "12.3 M", "456 k", "78.9": three significant figures. */
static const char *rate(double v, char *buf, size_t len)
{
        if (isnan(v))
                snprintf(buf, len, "-");
        else if (v >= 1e6)
                snprintf(buf, len, "%.3g M", v / 1e6);
        else if (v >= 1e3)
                snprintf(buf, len, "%.3g k", v / 1e3);
        else
                snprintf(buf, len, "%.3g", v);
        return buf;
}

static const char *fig(double v, char *buf, size_t len)
{
        if (isnan(v))
                snprintf(buf, len, "-");
        else if (v >= 100)
                snprintf(buf, len, "%.0f", v);
        else
                snprintf(buf, len, "%.3g", v);
        return buf;
}

/* A row for a peer that has no figures: why not. */
static bool unavailable(const struct peer *p, int name_w)
{
        if (p->skip[0]) {
                printf("  %-*s %s\n", name_w, p->name, p->skip);
                return true;
        }
        if (!str(p, "done.lookups")) {
                printf("  %-*s run did not finish (see the log above)\n", name_w, p->name);
                return true;
        }
        return false;
}

static void verdict(const char *what, double value, const char *unit, const char *target, bool pass)
{
        if (isnan(value))
                printf("    %-46s   -        (target %s) not measured\n", what, target);
        else
                printf("    %-46s %8.3g%-2s (target %s) %s\n", what, value, unit, target, pass ? "PASS" : "MISS");
}

/* prefix "" is the lookups through nsswitch.conf, "cfg." the same with the
 * service set by __nss_configure_lookup; nscd is always the former (glibc
 * asks nscd only for services it read from nsswitch.conf). */
static void table_lookups(const char *prefix, const char *title)
{
        static const char *const calls[] = { "pwnam", "pwuid" };
        static const char *const call_names[] = { "getpwnam_r", "getpwuid_r" };
        char a[32], b[32], c[32], d[32];
        bool cfg = prefix[0] != '\0';
        printf("%s", title);
        printf("  %-12s %-3s %-14s %11s %9s %9s %9s %7s\n", "call", "thr", "peer", "lookups/s", "p50 ns", "p99 ns",
               "p99.9 ns", "errors");
        for (int ci = 0; ci < 2; ci++)
                for (int nt = 1; nt <= 2; nt++)
                        for (int i = 0; i < npeers; i++) {
                                const struct peer *p = &peers[i];
                                if (p->skip[0] || !str(p, "done.lookups")) {
                                        if (ci == 0 && nt == 1)
                                                unavailable(p, 33);
                                        continue;
                                }
                                if (cfg && !str(p, "done.configured")) {
                                        if (ci == 0 && nt == 1)
                                                printf("  %-33s n/a: glibc asks it only for services read from "
                                                       "nsswitch.conf\n",
                                                       p->name);
                                        continue;
                                }
                                char ko[64], k50[64], k99[64], k999[64], ke[64];
                                snprintf(ko, sizeof(ko), "%s%s.t%d.ops", prefix, calls[ci], nt);
                                snprintf(k50, sizeof(k50), "%s%s.t%d.p50", prefix, calls[ci], nt);
                                snprintf(k99, sizeof(k99), "%s%s.t%d.p99", prefix, calls[ci], nt);
                                snprintf(k999, sizeof(k999), "%s%s.t%d.p999", prefix, calls[ci], nt);
                                snprintf(ke, sizeof(ke), "%s%s.t%d.errors", prefix, calls[ci], nt);
                                printf("  %-12s %-3d %-14s %11s %9s %9s %9s %7.0f\n", call_names[ci], nt, p->name,
                                       rate(num(p, ko), a, sizeof(a)), fig(num(p, k50), b, sizeof(b)),
                                       fig(num(p, k99), c, sizeof(c)), fig(num(p, k999), d, sizeof(d)), num(p, ke));
                        }
        for (int i = 0; i < npeers; i++) {
                double users = num(&peers[i], "working.users");
                if (!isnan(users) && users != NSSB_USERS)
                        printf("  %s: a working set of %.0f users (every %.0fth user), warmed by name\n", peers[i].name,
                               users, NSSB_USERS / users);
        }
        const struct peer *l = find("lsashm");
        printf("  lsashm against the targets (lookups/s ratios%s):\n",
               cfg ? "; nscd as programs reach it, through nsswitch.conf" : "");
        if (!l) {
                printf("    lsashm: not built or not run\n");
                return;
        }
        for (int ci = 0; ci < 2; ci++)
                for (int nt = 1; nt <= 2; nt++) {
                        char k[64], kn[64], what[96];
                        snprintf(k, sizeof(k), "%s%s.t%d.ops", prefix, calls[ci], nt);
                        snprintf(kn, sizeof(kn), "%s.t%d.ops", calls[ci], nt);
                        double lv = num(l, k);
                        double r_nscd = lv / num(find("nscd"), kn), r_files = lv / num(find("files"), k);
                        double r_floor = num(find("floor"), k) / lv;
                        snprintf(what, sizeof(what), "%s %d thr: lsashm / nscd", call_names[ci], nt);
                        verdict(what, r_nscd, "x", ">= 2x", r_nscd >= 2);
                        snprintf(what, sizeof(what), "%s %d thr: lsashm / files", call_names[ci], nt);
                        verdict(what, r_files, "x", ">= 1000x", r_files >= 1000);
                        snprintf(what, sizeof(what), "%s %d thr: floor / lsashm", call_names[ci], nt);
                        verdict(what, r_floor, "x", "<= 1.5x", r_floor <= 1.5);
                }
}

static void table_initgroups(void)
{
        char a[32], b[32], c[32];
        printf("\ngetgrouplist for 1,000 users (10 groups each on average; warm), through nsswitch.conf and\n"
               "with __nss_configure_lookup\n");
        printf("  %-14s %16s %16s %11s %7s\n", "peer", "us, nsswitch", "us, configured", "calls/s", "errors");
        for (int i = 0; i < npeers; i++) {
                const struct peer *p = &peers[i];
                if (unavailable(p, 14))
                        continue;
                double ns = num(p, "initgroups.ns");
                bool cfg = str(p, "done.configured");
                printf("  %-14s %16s %16s %11s %7.0f\n", p->name, fig(ns / 1e3, a, sizeof(a)),
                       cfg ? fig(num(p, "cfg.initgroups.ns") / 1e3, b, sizeof(b)) : "n/a", rate(1e9 / ns, c, sizeof(c)),
                       num(p, "initgroups.errors") + (cfg ? num(p, "cfg.initgroups.errors") : 0));
        }
        for (int i = 0; i < npeers; i++) {
                double users = num(&peers[i], "initgroups.users");
                if (!isnan(users) && users != 1000)
                        printf("  %s: %.0f users (every %.0fth)\n", peers[i].name, users, NSSB_USERS / users);
        }
        const struct peer *l = find("lsashm");
        printf("  lsashm against the targets:\n");
        if (!l) {
                printf("    lsashm: not built or not run\n");
                return;
        }
        double nscd = num(find("nscd"), "initgroups.ns");
        double lv = num(l, "initgroups.ns"), r_nscd = nscd / lv, r_floor = lv / num(find("floor"), "initgroups.ns");
        verdict("nsswitch: speed lsashm / nscd", r_nscd, "x", ">= 1x", r_nscd >= 1);
        verdict("nsswitch: time lsashm / floor", r_floor, "x", "<= 1.5x", r_floor <= 1.5);
        double cv = num(l, "cfg.initgroups.ns"), c_nscd = nscd / cv,
               c_floor = cv / num(find("floor"), "cfg.initgroups.ns");
        verdict("configured: speed lsashm / nscd (nsswitch)", c_nscd, "x", ">= 1x", c_nscd >= 1);
        verdict("configured: time lsashm / floor", c_floor, "x", "<= 1.5x", c_floor <= 1.5);
}

static void table_cold(void)
{
        char a[32], b[32], c[32];
        printf("\nCold process: fork+exec of a program doing getpwnam + getgrouplist, 2,000 times (users\n"
               "from the getgrouplist set, whose groups the warm-up cached)\n");
        printf("  %-14s %10s %10s %10s %7s\n", "peer", "mean us", "p50 us", "p99 us", "errors");
        for (int i = 0; i < npeers; i++) {
                const struct peer *p = &peers[i];
                if (unavailable(p, 14))
                        continue;
                printf("  %-14s %10s %10s %10s %7.0f\n", p->name, fig(num(p, "cold.mean_us"), a, sizeof(a)),
                       fig(num(p, "cold.p50_us"), b, sizeof(b)), fig(num(p, "cold.p99_us"), c, sizeof(c)),
                       num(p, "cold.errors"));
        }
        const struct peer *l = find("lsashm");
        printf("  lsashm against the targets:\n");
        if (!l) {
                printf("    lsashm: not built or not run\n");
                return;
        }
        double r = num(l, "cold.mean_us") / num(find("files"), "cold.mean_us");
        verdict("mean time lsashm / files", r, "x", "<= 1x", r <= 1);
}

static void table_syscalls(void)
{
        printf("\nSystem calls per warm lookup (strace -f of 10,000 getpwnam_r/getpwuid_r, alternating, 10%% misses,\n"
               "counted between two marker writes; files: 1,000 lookups); through nsswitch.conf, then with\n"
               "__nss_configure_lookup\n");
        printf("  %-14s %10s %10s  %s\n", "peer", "nsswitch", "configured", "most frequent through nsswitch.conf");
        for (int i = 0; i < npeers; i++) {
                const struct peer *p = &peers[i];
                if (unavailable(p, 14))
                        continue;
                const char *top = str(p, "syscalls.top");
                char a[32], b[32];
                printf("  %-14s %10s %10s  %s\n", p->name, fig(num(p, "syscalls.per_lookup"), a, sizeof(a)),
                       str(p, "done.configured") ? fig(num(p, "cfg.syscalls.per_lookup"), b, sizeof(b)) : "n/a",
                       top ? top : "-");
        }
        const struct peer *l = find("lsashm");
        printf("  lsashm against the targets:\n");
        if (!l) {
                printf("    lsashm: not built or not run\n");
                return;
        }
        double lv = num(l, "syscalls.per_lookup"), fv = num(find("floor"), "syscalls.per_lookup");
        double cv = num(l, "cfg.syscalls.per_lookup");
        verdict("through nsswitch.conf", lv, "", "0", lv == 0);
        verdict("through nsswitch.conf, beyond the floor's", lv - fv, "", "0", lv - fv <= 0);
        verdict("with __nss_configure_lookup", cv, "", "0", cv == 0);
}

static void table_change(void)
{
        char a[32], b[32];
        printf("\nTime from a source change (file renamed into place) to the new answer, 5 changes\n");
        printf("  %-14s %10s %10s %9s\n", "peer", "median ms", "max ms", "timeouts");
        for (int i = 0; i < npeers; i++) {
                const struct peer *p = &peers[i];
                if (unavailable(p, 14))
                        continue;
                if (str(p, "change.na")) {
                        printf("  %-14s %10s\n", p->name, "n/a (no source)");
                        continue;
                }
                double to = num(p, "change.timeouts");
                printf("  %-14s %10s %10s %9s\n", p->name, fig(num(p, "change.median_ms"), a, sizeof(a)),
                       fig(num(p, "change.max_ms"), b, sizeof(b)), to > 0 ? "yes (>5 s)" : "0");
        }
        const struct peer *l = find("lsashm");
        printf("  lsashm against the targets:\n");
        if (!l) {
                printf("    lsashm: not built or not run\n");
                return;
        }
        double mx = num(l, "change.max_ms");
        if (num(l, "change.timeouts") > 0)
                mx = INFINITY;
        verdict("slowest change visible after", mx, "ms", "<= 1000 ms", mx <= 1000);
}

static void table_republish(const char *prefix, const char *title)
{
        char a[32], b[32], c[32], d[32], k[6][64];
        static const char *const names[] = { "quiet.p50", "quiet.p99", "busy.p50", "busy.p99", "published", "" };
        for (int i = 0; i < 6; i++)
                snprintf(k[i], sizeof(k[i]), "%srepublish.%s", prefix, names[i]);
        bool cfg = prefix[0] != '\0';
        printf("%s", title);
        printf("  %-14s %10s %10s %10s %10s %10s %8s\n", "peer", "quiet p50", "quiet p99", "busy p50", "busy p99",
               "p99 ratio", "rewrites");
        for (int i = 0; i < npeers; i++) {
                const struct peer *p = &peers[i];
                if (unavailable(p, 14))
                        continue;
                if (str(p, "republish.na")) {
                        printf("  %-14s %10s\n", p->name, "n/a (no source)");
                        continue;
                }
                if (cfg && !str(p, "done.configured")) {
                        printf("  %-14s n/a: glibc asks it only for services read from nsswitch.conf\n", p->name);
                        continue;
                }
                double q = num(p, k[1]), bz = num(p, k[3]);
                printf("  %-14s %10s %10s %10s %10s %10.3g %8.0f\n", p->name, fig(num(p, k[0]), a, sizeof(a)),
                       fig(q, b, sizeof(b)), fig(num(p, k[2]), c, sizeof(c)), fig(bz, d, sizeof(d)), bz / q,
                       num(p, k[4]));
        }
        const struct peer *l = find("lsashm");
        printf("  lsashm against the targets:\n");
        if (!l) {
                printf("    lsashm: not built or not run\n");
                return;
        }
        double r = num(l, k[3]) / num(l, k[1]);
        verdict("p99 while republishing / quiet p99", r, "x", "<= 1.5x", r <= 1.5);
}

int nssb_report(char **files, int nfiles)
{
        for (int i = 0; i < nfiles && npeers < MAX_PEERS; i++) {
                int r = load(files[i], &peers[npeers]);
                if (r < 0) {
                        fprintf(stderr, "bench-nss: %s: %s\n", files[i], strerror(-r));
                        return 1;
                }
                npeers++;
        }
        table_lookups("",
                      "Warm lookups through nsswitch.conf, as every program makes them: 10% misses, 10,000 users\n"
                      "drawn uniformly (lookups/s over all threads; latencies time each call, two clock reads\n"
                      "included). glibc 2.36 stats /etc/nsswitch.conf on every call and tries nscd's socket\n"
                      "every 100th: every module, the floor too, pays that; nscd's own answers come first.\n");
        printf("\n");
        table_lookups("cfg.",
                      "The same lookups with the service set by __nss_configure_lookup (no nsswitch.conf\n"
                      "check, no nscd): the module and glibc's dispatch alone\n");
        table_initgroups();
        table_cold();
        table_syscalls();
        table_change();
        table_republish("",
                        "\nOne reader's getpwnam_r latency (ns) through nsswitch.conf, quiet and while the source\n"
                        "is rewritten at 10 Hz\n");
        table_republish("cfg.", "\nThe same with the service set by __nss_configure_lookup\n");
        return 0;
}
