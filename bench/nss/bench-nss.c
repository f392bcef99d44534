/* SPDX-License-Identifier: MIT */
/*
 * bench-nss: user and group lookups through glibc's real NSS dispatch, one
 * peer per run, every peer with the same data and the same workloads.
 *
 * The peer is whatever /etc/nsswitch.conf and the daemons running say it is
 * (scripts/bench nss sets both up in a private mount namespace); this
 * program only names it, for the report and for the two things that differ
 * per peer: where a source change is written (libnss-cache reads its own
 * files) and what counts as a right answer (the floor answers one fixed
 * entry).
 *
 *   bench-nss gen [--etc DIR]            write the data (passwd, group and
 *                                        libnss-cache's files) into DIR
 *   bench-nss run --peer NAME --out FILE [--etc DIR] [--quick]
 *                 [--phase lookups|changes|configured] [--configure SERVICE]
 *                                        the workloads (lookups and changes
 *                                        when no --phase; configured: the
 *                                        lookups again, with --configure);
 *                                        figures appended to FILE
 *   bench-nss syscalls --peer NAME [--count N]
 *                                        N warm lookups between two marker
 *                                        writes, for strace to count
 *   bench-nss report FILE...             the side-by-side tables
 *   bench-nss selftest                   the data and the floor module
 *
 * Workloads (run):
 *   lookups     getpwnam_r, getpwuid_r; 1 and 2 threads; 10% misses; all
 *               10,000 users drawn uniformly (--users 2000: every fifth);
 *               lookups/s from an untimed stretch, then p50/p99/p99.9 from
 *               a stretch timing each call
 *   initgroups  getgrouplist for 1,000 users (a warm pass first)
 *   cold        fork+exec of bench-nss-cold (getpwnam + getgrouplist)
 *   republish   one reader's latencies, quiet, then while the source is
 *               rewritten 10 times a second
 *   change      the source rewritten; time until a lookup gives the new
 *               answer (polled every 200 us), 5 times
 */
#include <errno.h>
#include <grp.h>
#include <math.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-nss.h"
#include "nssbench.h"

#define LOOKUP_SECONDS    0.4
#define LATENCY_CAP       400000u /* timed calls kept per thread */
#define INITGROUPS_USERS  1000u
#define COLD_RUNS         2000u
#define CHANGE_TRIALS     5u
#define CHANGE_TIMEOUT_S  5.0
#define CHANGE_POLL_NS    200000L
#define REPUBLISH_SECONDS 2.0
#define REPUBLISH_HZ      10u
#define MISS_PERCENT      10u
#define MAX_THREADS       2u

struct key {
        char name[16];
        uid_t uid;
        bool hit;
};

static struct key keys[NSSB_USERS + NSSB_MISSES];
static struct nssb_data data;

static struct {
        const char *peer;
        const char *etc;
        const char *out;
        const char *cold;
        const char *phase;
        const char *configure; /* the service for __nss_configure_lookup */
        bool quick;
        bool warm_by_name; /* the peer indexes one cached entry by both keys */
        unsigned count;
        unsigned users;      /* the working set: every (NSSB_USERS / users)th user */
        unsigned initgroups; /* users for getgrouplist and the cold processes */
} opt = { .etc = "/etc", .count = 10000, .users = NSSB_USERS, .initgroups = INITGROUPS_USERS };

/* The working set's user k, and its share of the misses. */
static uint32_t working_user(uint32_t k)
{
        return k * (NSSB_USERS / opt.users);
}

static uint32_t working_misses(void)
{
        return opt.users / 10;
}

static bool peer_is(const char *name)
{
        return opt.peer && strcmp(opt.peer, name) == 0;
}

uint64_t nssb_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t xorshift64(uint64_t *s)
{
        uint64_t x = *s;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *s = x;
        return x;
}

static uint32_t draw(uint64_t *s, uint32_t n)
{
        return (uint32_t)(((xorshift64(s) >> 32) * n) >> 32);
}

/* 90% a user of the working set drawn uniformly, 10% a name or uid the data
 * does not hold. */
static const struct key *draw_key(uint64_t *rng)
{
        if (draw(rng, 100) < MISS_PERCENT)
                return &keys[NSSB_USERS + draw(rng, working_misses())];
        return &keys[working_user(draw(rng, opt.users))];
}

static void build_keys(void)
{
        for (uint32_t i = 0; i < NSSB_USERS; i++) {
                nssb_user_name(i, keys[i].name);
                keys[i].uid = NSSB_FIRST_UID + i;
                keys[i].hit = true;
        }
        for (uint32_t i = 0; i < NSSB_MISSES; i++) {
                nssb_miss_name(i, keys[NSSB_USERS + i].name);
                keys[NSSB_USERS + i].uid = NSSB_MISS_UID + i;
        }
}

static _Noreturn void die(const char *what, int err)
{
        fprintf(stderr, "bench-nss: %s: %s\n", what, strerror(err));
        exit(1);
}

/* ------------------------------------------------------------------------ */
/* One lookup, checked.                                                     */

enum op {
        OP_PWNAM,
        OP_PWUID
};
static const char *const op_names[] = { "pwnam", "pwuid" };

/* 0 when the answer is the right one: the user for a hit (the floor's one
 * fixed entry for the floor), nothing for a miss. */
static int lookup(enum op op, const struct key *k, char *buf, size_t len)
{
        struct passwd pw, *res = NULL;
        int rc = op == OP_PWNAM ? getpwnam_r(k->name, &pw, buf, len, &res) : getpwuid_r(k->uid, &pw, buf, len, &res);
        if (!k->hit)
                return (rc == 0 || rc == ENOENT) && !res ? 0 : 1;
        if (rc != 0 || !res)
                return 1;
        return peer_is("floor") || res->pw_uid == k->uid ? 0 : 1;
}

/* ------------------------------------------------------------------------ */
/* Lookups/s and latency percentiles, 1 or 2 threads.                       */

struct worker {
        pthread_t thread;
        enum op op;
        uint64_t rng;
        bool timed;
        uint64_t ops, errors, elapsed_ns;
        uint64_t *lat;
        size_t nlat;
};

static atomic_bool stop_flag;
static pthread_barrier_t start_line;

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        char buf[4096];
        pthread_barrier_wait(&start_line);
        uint64_t t0 = nssb_now_ns();
        if (!w->timed) {
                while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
                        for (unsigned i = 0; i < 64; i++)
                                w->errors += (uint64_t)lookup(w->op, draw_key(&w->rng), buf, sizeof(buf));
                        w->ops += 64;
                }
        } else {
                while (w->nlat < LATENCY_CAP && !atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
                        const struct key *k = draw_key(&w->rng);
                        uint64_t a = nssb_now_ns();
                        w->errors += (uint64_t)lookup(w->op, k, buf, sizeof(buf));
                        w->lat[w->nlat++] = nssb_now_ns() - a;
                }
                w->ops = w->nlat;
        }
        w->elapsed_ns = nssb_now_ns() - t0;
        return NULL;
}

static void sleep_s(double s)
{
        struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static uint64_t pct(const uint64_t *sorted, size_t n, double p)
{
        if (!n)
                return 0;
        size_t i = (size_t)(p * (double)(n - 1) + 0.5);
        return sorted[i < n ? i : n - 1];
}

/* Runs nthreads workers for about seconds; returns what they did. */
static void run_workers(struct worker *w, unsigned nthreads, enum op op, bool timed, double seconds, uint64_t seed)
{
        atomic_store(&stop_flag, false);
        pthread_barrier_init(&start_line, NULL, nthreads + 1);
        for (unsigned t = 0; t < nthreads; t++) {
                uint64_t *lat = w[t].lat;
                w[t] = (struct worker){ .op = op, .rng = seed * 7919u + t + 1, .timed = timed, .lat = lat };
                int r = pthread_create(&w[t].thread, NULL, worker_main, &w[t]);
                if (r)
                        die("pthread_create", r);
        }
        pthread_barrier_wait(&start_line);
        sleep_s(seconds);
        atomic_store(&stop_flag, true);
        for (unsigned t = 0; t < nthreads; t++)
                pthread_join(w[t].thread, NULL);
        pthread_barrier_destroy(&start_line);
}

static FILE *out;

static void put_u(const char *key, uint64_t v)
{
        fprintf(out, "%s %llu\n", key, (unsigned long long)v);
        fflush(out);
}

static void put_f(const char *key, double v)
{
        fprintf(out, "%s %.6g\n", key, v);
        fflush(out);
}

/* prefix: "" for lookups through nsswitch.conf, "cfg." for lookups with the
 * service set by __nss_configure_lookup. */
static void work_lookups(const char *prefix)
{
        static struct worker w[MAX_THREADS];
        for (unsigned t = 0; t < MAX_THREADS; t++)
                if (!w[t].lat && !(w[t].lat = malloc(LATENCY_CAP * sizeof(uint64_t))))
                        die("malloc", ENOMEM);
        double seconds = opt.quick ? LOOKUP_SECONDS / 4 : LOOKUP_SECONDS;
        for (enum op op = OP_PWNAM; op <= OP_PWUID; op++)
                for (unsigned nt = 1; nt <= MAX_THREADS; nt++) {
                        char key[64];
                        run_workers(w, nt, op, false, seconds, 1 + op * 10 + nt);
                        double ops_per_s = 0;
                        uint64_t errors = 0;
                        for (unsigned t = 0; t < nt; t++) {
                                ops_per_s += (double)w[t].ops * 1e9 / (double)w[t].elapsed_ns;
                                errors += w[t].errors;
                        }
                        run_workers(w, nt, op, true, seconds, 101 + op * 10 + nt);
                        size_t n = 0;
                        for (unsigned t = 0; t < nt; t++)
                                n += w[t].nlat;
                        uint64_t *all = malloc((n ? n : 1) * sizeof(uint64_t));
                        if (!all)
                                die("malloc", ENOMEM);
                        n = 0;
                        for (unsigned t = 0; t < nt; t++) {
                                memcpy(all + n, w[t].lat, w[t].nlat * sizeof(uint64_t));
                                n += w[t].nlat;
                                errors += w[t].errors;
                        }
                        qsort(all, n, sizeof(*all), cmp_u64);
                        snprintf(key, sizeof(key), "%s%s.t%u.ops", prefix, op_names[op], nt);
                        put_f(key, ops_per_s);
                        snprintf(key, sizeof(key), "%s%s.t%u.p50", prefix, op_names[op], nt);
                        put_u(key, pct(all, n, 0.50));
                        snprintf(key, sizeof(key), "%s%s.t%u.p99", prefix, op_names[op], nt);
                        put_u(key, pct(all, n, 0.99));
                        snprintf(key, sizeof(key), "%s%s.t%u.p999", prefix, op_names[op], nt);
                        put_u(key, pct(all, n, 0.999));
                        snprintf(key, sizeof(key), "%s%s.t%u.samples", prefix, op_names[op], nt);
                        put_u(key, n);
                        snprintf(key, sizeof(key), "%s%s.t%u.errors", prefix, op_names[op], nt);
                        put_u(key, errors);
                        free(all);
                }
}

/* ------------------------------------------------------------------------ */
/* Warm-up: every key once by name and by uid, and the initgroups users.    */

/* Every tenth user (--initgroups 100: every hundredth): inside any working
 * set the options allow. */
static uint32_t initgroups_user(uint32_t i)
{
        return i * (NSSB_USERS / opt.initgroups);
}

/* 0 when getgrouplist gives the user's groups (the floor: its fixed count). */
static int initgroups_one(uint32_t u)
{
        gid_t groups[256];
        int n = 256;
        const struct key *k = &keys[u];
        gid_t primary = NSSB_FIRST_GID + data.primary_group[u];
        if (getgrouplist(k->name, primary, groups, &n) < 0)
                return 1;
        int want = peer_is("floor") ? (int)NSSB_FLOOR_GROUPS + 1 : data.ngroups[u];
        return n == want ? 0 : 1;
}

struct warm_part {
        pthread_t thread;
        unsigned part, parts;
        uint64_t errors;
};

static void *warm_main(void *arg)
{
        struct warm_part *p = arg;
        char buf[4096];
        for (uint32_t i = p->part; i < opt.users + working_misses(); i += p->parts) {
                const struct key *k = i < opt.users ? &keys[working_user(i)] : &keys[NSSB_USERS + i - opt.users];
                p->errors += (uint64_t)lookup(OP_PWNAM, k, buf, sizeof(buf));
                if (!opt.warm_by_name || !k->hit)
                        p->errors += (uint64_t)lookup(OP_PWUID, k, buf, sizeof(buf));
        }
        for (uint32_t i = p->part; i < opt.initgroups; i += p->parts)
                p->errors += (uint64_t)initgroups_one(initgroups_user(i));
        return NULL;
}

/* Caches are measured warm: the first pass fills them (for nscd, 22,000
 * lookups it answers from files). Two threads, as a busy machine would. */
static void warm_up(void)
{
        struct warm_part p[2];
        uint64_t t0 = nssb_now_ns(), errors = 0;
        for (unsigned i = 0; i < 2; i++) {
                p[i] = (struct warm_part){ .part = i, .parts = 2 };
                int r = pthread_create(&p[i].thread, NULL, warm_main, &p[i]);
                if (r)
                        die("pthread_create", r);
        }
        for (unsigned i = 0; i < 2; i++) {
                pthread_join(p[i].thread, NULL);
                errors += p[i].errors;
        }
        put_f("warm.seconds", (double)(nssb_now_ns() - t0) / 1e9);
        put_u("warm.errors", errors);
        put_u("working.users", opt.users);
}

static void work_initgroups(const char *prefix)
{
        char key[64];
        uint64_t errors = 0, t0 = nssb_now_ns();
        for (uint32_t i = 0; i < opt.initgroups; i++)
                errors += (uint64_t)initgroups_one(initgroups_user(i));
        uint64_t ns = nssb_now_ns() - t0;
        snprintf(key, sizeof(key), "%sinitgroups.ns", prefix);
        put_f(key, (double)ns / opt.initgroups);
        snprintf(key, sizeof(key), "%sinitgroups.errors", prefix);
        put_u(key, errors);
        put_u("initgroups.users", opt.initgroups);
}

/* ------------------------------------------------------------------------ */
/* Cold processes.                                                          */

static void work_cold(void)
{
        unsigned runs = opt.quick ? COLD_RUNS / 10 : COLD_RUNS;
        uint64_t *t = malloc(runs * sizeof(uint64_t)), errors = 0, total = 0;
        if (!t)
                die("malloc", ENOMEM);
        for (unsigned i = 0; i < runs; i++) {
                /* The initgroups users, whose groups the warm-up cached. */
                const char *user = keys[initgroups_user((i * 37u) % opt.initgroups)].name;
                uint64_t a = nssb_now_ns();
                pid_t pid = fork();
                if (pid < 0)
                        die("fork", errno);
                if (pid == 0) {
                        execl(opt.cold, "bench-nss-cold", user, (char *)NULL);
                        _exit(127);
                }
                int status;
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                t[i] = nssb_now_ns() - a;
                total += t[i];
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        errors++;
        }
        qsort(t, runs, sizeof(*t), cmp_u64);
        put_f("cold.mean_us", (double)total / runs / 1e3);
        put_f("cold.p50_us", (double)pct(t, runs, 0.5) / 1e3);
        put_f("cold.p99_us", (double)pct(t, runs, 0.99) / 1e3);
        put_u("cold.errors", errors);
        free(t);
}

/* ------------------------------------------------------------------------ */
/* Source changes.                                                          */

static int publish(unsigned version)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/passwd", opt.etc);
        int r = nssb_write_passwd(&data, path, version);
        /* libnss-cache reads what its sync job writes, not the sources. */
        if (r == 0 && peer_is("libnss-cache"))
                r = nssb_write_nsscache(&data, opt.etc, version);
        return r;
}

/* The GECOS field of the changed user names the version it came from. */
static bool sees_version(unsigned version)
{
        char buf[4096], want[32];
        struct passwd pw, *res = NULL;
        const struct key *k = &keys[NSSB_CHANGED_USER];
        snprintf(want, sizeof(want), "User %05u v%u", NSSB_CHANGED_USER, version);
        return getpwnam_r(k->name, &pw, buf, sizeof(buf), &res) == 0 && res && strcmp(res->pw_gecos, want) == 0;
}

static void work_change(void)
{
        if (peer_is("floor")) {
                put_u("change.na", 1);
                return;
        }
        uint64_t t[CHANGE_TRIALS];
        unsigned done = 0, timeouts = 0;
        for (unsigned v = 1; v <= CHANGE_TRIALS; v++) {
                int r = publish(v);
                if (r < 0)
                        die("write sources", -r);
                uint64_t a = nssb_now_ns();
                while (!sees_version(v)) {
                        if ((double)(nssb_now_ns() - a) / 1e9 > CHANGE_TIMEOUT_S)
                                break;
                        struct timespec ts = { 0, CHANGE_POLL_NS };
                        nanosleep(&ts, NULL);
                }
                uint64_t dt = nssb_now_ns() - a;
                if ((double)dt / 1e9 > CHANGE_TIMEOUT_S) {
                        /* One miss is enough to say so; the rest would
                         * only spend the time budget. */
                        timeouts++;
                        break;
                }
                t[done++] = dt;
                sleep_s(0.1);
        }
        qsort(t, done, sizeof(*t), cmp_u64);
        put_u("change.trials", done + timeouts);
        put_u("change.timeouts", timeouts);
        if (done) {
                put_f("change.median_ms", (double)t[done / 2] / 1e6);
                put_f("change.max_ms", (double)t[done - 1] / 1e6);
        }
}

static atomic_bool writer_stop;
static unsigned writer_published;

static void *republisher_main(void *arg)
{
        (void)arg;
        unsigned v = 1000;
        uint64_t period = 1000000000u / REPUBLISH_HZ, next = nssb_now_ns();
        while (!atomic_load(&writer_stop)) {
                int r = publish(v++);
                if (r < 0)
                        die("write sources", -r);
                writer_published++;
                next += period;
                uint64_t now = nssb_now_ns();
                if (next > now) {
                        struct timespec ts = { (time_t)((next - now) / 1000000000u),
                                               (long)((next - now) % 1000000000u) };
                        nanosleep(&ts, NULL);
                }
        }
        return NULL;
}

static void work_republish(const char *prefix)
{
        if (peer_is("floor")) {
                put_u("republish.na", 1);
                return;
        }
        static struct worker w[1];
        if (!w[0].lat && !(w[0].lat = malloc(LATENCY_CAP * sizeof(uint64_t))))
                die("malloc", ENOMEM);
        double seconds = opt.quick ? REPUBLISH_SECONDS / 4 : REPUBLISH_SECONDS;
        for (int busy = 0; busy <= 1; busy++) {
                pthread_t writer;
                if (busy) {
                        atomic_store(&writer_stop, false);
                        writer_published = 0;
                        int r = pthread_create(&writer, NULL, republisher_main, NULL);
                        if (r)
                                die("pthread_create", r);
                }
                run_workers(w, 1, OP_PWNAM, true, seconds, 500 + (uint64_t)busy);
                char key[64];
                if (busy) {
                        atomic_store(&writer_stop, true);
                        pthread_join(writer, NULL);
                        snprintf(key, sizeof(key), "%srepublish.published", prefix);
                        put_u(key, writer_published);
                }
                qsort(w[0].lat, w[0].nlat, sizeof(uint64_t), cmp_u64);
                const char *tag = busy ? "busy" : "quiet";
                snprintf(key, sizeof(key), "%srepublish.%s.p50", prefix, tag);
                put_u(key, pct(w[0].lat, w[0].nlat, 0.5));
                snprintf(key, sizeof(key), "%srepublish.%s.p99", prefix, tag);
                put_u(key, pct(w[0].lat, w[0].nlat, 0.99));
                snprintf(key, sizeof(key), "%srepublish.%s.p999", prefix, tag);
                put_u(key, pct(w[0].lat, w[0].nlat, 0.999));
                snprintf(key, sizeof(key), "%srepublish.%s.errors", prefix, tag);
                put_u(key, w[0].errors);
        }
}

/* ------------------------------------------------------------------------ */
/* Commands.                                                                */

static int cmd_gen(void)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/passwd", opt.etc);
        int r = nssb_write_passwd(&data, path, 0);
        if (r == 0) {
                snprintf(path, sizeof(path), "%s/group", opt.etc);
                r = nssb_write_group(&data, path);
        }
        if (r == 0)
                r = nssb_write_nsscache(&data, opt.etc, 0);
        if (r < 0)
                die(path, -r);
        return 0;
}

/* Two phases, so that the system calls can be counted between them while
 * every cache is still warm: the changes invalidate caches (nscd drops its
 * whole table when passwd changes). Republish's quiet stretch comes first,
 * while the caches are still as the warm-up left them. */
static int cmd_run(void)
{
        const char *peer = opt.peer;
        if (!peer || !opt.out)
                die("run needs --peer and --out", EINVAL);
        bool lookups = !opt.phase || strcmp(opt.phase, "lookups") == 0;
        bool changes = !opt.phase || strcmp(opt.phase, "changes") == 0;
        bool configured = opt.phase && strcmp(opt.phase, "configured") == 0;
        if (!lookups && !changes && !configured)
                die("--phase must be lookups, changes or configured", EINVAL);
        out = fopen(opt.out, "ae");
        if (!out)
                die(opt.out, errno);
        if (configured) {
                /* The caches are warm from the lookups phase. */
                work_lookups("cfg.");
                work_initgroups("cfg.");
                work_republish("cfg.");
                fprintf(out, "done.configured 1\n");
                fclose(out);
                return 0;
        }
        /* files has nothing to warm, and a full pass would cost it 11 s. */
        bool warm = !peer_is("files");
        if (lookups) {
                fprintf(out, "peer %s\n", peer);
                if (warm)
                        warm_up();
                work_lookups("");
                work_initgroups("");
                work_cold();
                fprintf(out, "done.lookups 1\n");
        }
        if (changes) {
                work_republish("");
                work_change();
                fprintf(out, "done.changes 1\n");
        }
        fclose(out);
        return 0;
}

/* Between two writes to descriptor -1, which strace shows as they are, the
 * process does opt.count warm lookups and nothing else. */
static int cmd_syscalls(void)
{
        char buf[4096];
        uint64_t rng = 77;
        uint64_t errors = 0;
        for (unsigned i = 0; i < 200; i++)
                errors += (uint64_t)lookup(i & 1 ? OP_PWUID : OP_PWNAM, draw_key(&rng), buf, sizeof(buf));
        if (write(-1, "nssbench-begin", 14) >= 0)
                return 1;
        for (unsigned i = 0; i < opt.count; i++)
                errors += (uint64_t)lookup(i & 1 ? OP_PWUID : OP_PWNAM, draw_key(&rng), buf, sizeof(buf));
        if (write(-1, "nssbench-end", 12) >= 0)
                return 1;
        printf("lookups %u errors %llu\n", opt.count, (unsigned long long)errors);
        return 0;
}

static void usage(void)
{
        fprintf(stderr,
                "usage: bench-nss gen|run|syscalls|report|selftest [--peer NAME] [--out FILE] "
                "[--etc DIR] [--cold PATH] [--count N] [--quick] [FILE...]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        if (argc < 2)
                usage();
        const char *cmd = argv[1];
        int first_file = argc;
        for (int i = 2; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "--quick") == 0)
                        opt.quick = true;
                else if (i + 1 < argc && strcmp(a, "--peer") == 0)
                        opt.peer = argv[++i];
                else if (i + 1 < argc && strcmp(a, "--out") == 0)
                        opt.out = argv[++i];
                else if (i + 1 < argc && strcmp(a, "--etc") == 0)
                        opt.etc = argv[++i];
                else if (i + 1 < argc && strcmp(a, "--cold") == 0)
                        opt.cold = argv[++i];
                else if (strcmp(a, "--warm-by-name") == 0)
                        opt.warm_by_name = true;
                else if (i + 1 < argc && strcmp(a, "--users") == 0)
                        opt.users = (unsigned)strtoul(argv[++i], NULL, 10);
                else if (i + 1 < argc && strcmp(a, "--configure") == 0)
                        opt.configure = argv[++i];
                else if (i + 1 < argc && strcmp(a, "--initgroups") == 0)
                        opt.initgroups = (unsigned)strtoul(argv[++i], NULL, 10);
                else if (i + 1 < argc && strcmp(a, "--phase") == 0)
                        opt.phase = argv[++i];
                else if (i + 1 < argc && strcmp(a, "--count") == 0)
                        opt.count = (unsigned)strtoul(argv[++i], NULL, 10);
                else if (a[0] == '-')
                        usage();
                else {
                        first_file = i;
                        break;
                }
        }
        /* initgroups_user() and working_user() must agree. */
        if (opt.users != 1000 && opt.users != 2000 && opt.users != NSSB_USERS)
                die("--users must be 1000, 2000 or 10000", EINVAL);
        if (opt.initgroups != 100 && opt.initgroups != INITGROUPS_USERS)
                die("--initgroups must be 100 or 1000", EINVAL);
        if (strcmp(cmd, "report") == 0)
                return nssb_report(argv + first_file, argc - first_file);

        /* glibc then neither consults nscd nor checks nsswitch.conf for
         * changes on every call, which it does for services it read from
         * nsswitch.conf: what remains is the module and the dispatch. */
        if (opt.configure)
                for (size_t i = 0; i < 3; i++)
                        if (__nss_configure_lookup((const char *[]){ "passwd", "group", "initgroups" }[i],
                                                   opt.configure) != 0)
                                die("__nss_configure_lookup", errno);

        int r = nssb_data_build(&data);
        if (r < 0)
                die("build data", -r);
        build_keys();
        if (strcmp(cmd, "gen") == 0)
                return cmd_gen();
        if (strcmp(cmd, "selftest") == 0)
                return nssb_selftest(&data);
        if (strcmp(cmd, "syscalls") == 0)
                return cmd_syscalls();
        if (strcmp(cmd, "run") == 0) {
                static char cold[4096];
                if (!opt.cold) {
                        /* bench-nss-cold sits beside this program. */
                        ssize_t n = readlink("/proc/self/exe", cold, sizeof(cold) - 16);
                        if (n < 0)
                                die("/proc/self/exe", errno);
                        cold[n] = '\0';
                        char *slash = strrchr(cold, '/');
                        strcpy(slash ? slash + 1 : cold, "bench-nss-cold");
                        opt.cold = cold;
                }
                return cmd_run();
        }
        usage();
        return 2;
}
