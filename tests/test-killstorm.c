/* SPDX-License-Identifier: MIT */
/*
 * The kill storm: clients of a real lsashmd SIGKILLed at random points of
 * connect, lookup, call, free, map, unmap and logon, sixteen at a time. A
 * client that dies never says goodbye: its connection, its reply section,
 * the return buffers it did not free and the sections it mapped are for
 * lsashmd to find and release when it sees the hang-up.
 *
 * Before and after, lsashmd's descriptors (/proc/PID/fd), mappings
 * (/proc/PID/maps), RSS (VmRSS), live connections and mapped sections (from
 * `lsashm status --json`) and the logon sessions the clients' calls made
 * are printed; after, they must be back at the baseline, and lsashmd must
 * still serve a client from start to end.
 *
 * LSASHM_KILLSTORM_CLIENTS sets how many clients (default 1000, 300 under
 * AddressSanitizer),
 * LSASHM_KILLSTORM_SEED the seed of the random sequences (default: the
 * clock; it is printed, for a replay of the same sequences; the kill
 * times depend on the scheduler and do not replay exactly).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
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

#include <cmocka.h>

#include "lsashm/ntsecapi.h"
#include "packages/test-package-protocol.h"
#include "test-util.h"

#ifndef LSASHMD_PATH
#define LSASHMD_PATH NULL
#endif
#ifndef LSASHM_CLI_PATH
#define LSASHM_CLI_PATH NULL
#endif
#ifndef TEST_PACKAGE_DIR
#define TEST_PACKAGE_DIR NULL
#endif

/* Generous: sanitizer builds on a busy machine. */
#define START_S 30
/* How long lsashmd may take to notice every death after the last kill. */
#define QUIESCE_MS 20000

#define CONCURRENT 16u
#define WARMUP_CLIENTS 64u

/*
 * RSS may end above the baseline by this much. lsashmd's own state for a
 * connection is freed when it closes, but glibc's malloc keeps freed memory
 * in its heap (it trims only the top of the heap, above 128 KiB free) and a
 * page once touched stays resident: a storm that happened to have more
 * connections alive at one moment than the warm-up had leaves more heap
 * pages resident without leaking anything. A leak of 1 KiB per killed
 * client is 1,000 KiB after 1,000 clients and fails this; the descriptor
 * and mapping counts, which must be exact, catch the leak of a section or a
 * connection, whatever its size.
 */
#define RSS_MARGIN_KIB 1024L

/* Under AddressSanitizer lsashmd's freed memory waits in ASan's quarantine
 * (up to 256 MiB) before it is reused: its RSS grows with the churn itself,
 * so the bound is only printed there. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_ASSERTED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_ASSERTED 0
#endif
#endif
#ifndef RSS_ASSERTED
#define RSS_ASSERTED 1
#endif

/* 1,000 clients take 10 to 25 s on a busy 2-core machine; under
 * AddressSanitizer every fork copies the page tables of its shadow memory
 * and the same storm takes a minute, so that build storms with fewer unless
 * LSASHM_KILLSTORM_CLIENTS says otherwise. */
#define DEFAULT_CLIENTS (RSS_ASSERTED ? 1000u : 300u)

/* LUIDs the clients' logon calls use: one per client, in two ranges. */
#define TRANSIENT_LUID_BASE UINT64_C(0x7100000000) /* made and deleted in one call */
#define KEPT_LUID_BASE      UINT64_C(0x7200000000) /* made in one call, ended by a later one */

static char g_dir[64];
static char g_conf[128];
static char g_sock[128];
static char g_err[128];
static pid_t g_lsashmd = -1;

static const char *program(const char *env, const char *built)
{
        const char *p = getenv(env);
        if (p && *p)
                return p;
        return built && *built ? built : NULL;
}

static const char *lsashmd_path(void) { return program("LSASHMD", LSASHMD_PATH); }
static const char *cli_path(void) { return program("LSASHM_CLI", LSASHM_CLI_PATH); }
static const char *test_package_dir(void) { return program("TEST_PACKAGE_DIR", TEST_PACKAGE_DIR); }

static unsigned env_unsigned(const char *name, unsigned dflt)
{
        const char *v = getenv(name);
        if (!v || !*v)
                return dflt;
        char *end;
        unsigned long n = strtoul(v, &end, 10);
        return *end == '\0' && n > 0 && n <= 1000000 ? (unsigned)n : dflt;
}

/* ---- a client, in a forked child ---- */

#define CHECK(cond) CHILD_CHECK(cond)

/* Where a client was when it died: written by the child into a shared page
 * before each step, read by the parent after the kill. */
enum stage {
        STAGE_FORKED,
        STAGE_CONNECT,
        STAGE_LOOKUP,
        STAGE_CALL,
        STAGE_FREE,
        STAGE_MAP,
        STAGE_UNMAP,
        STAGE_LOGON,
        STAGE_DISCONNECT,
        STAGE_COUNT
};
static const char *const stage_names[STAGE_COUNT] = { "forked",  "connect", "lookup", "call",      "free",
                                                      "map",     "unmap",   "logon",  "disconnect" };

static NTSTATUS call(HANDLE h, ULONG pkg, const void *msg, ULONG len, PVOID *ret, PULONG ret_len)
{
        NTSTATUS proto = STATUS_SUCCESS;
        NTSTATUS st = LsaCallAuthenticationPackage(h, pkg, (PVOID)(uintptr_t)msg, len, ret, ret_len, &proto);
        CHECK(st == STATUS_SUCCESS);
        CHECK(proto == STATUS_SUCCESS);
        CHECK(*ret && *ret_len >= sizeof(ULONG));
        return st;
}

/* One call of a random kind; the return buffer is freed at once or kept in
 * held[] for a later free (or for the kill). */
static void step_call(struct tu_rng *r, HANDLE h, ULONG pkg, volatile unsigned char *stage, PVOID *held,
                      unsigned *nheld)
{
        struct {
                TP_REQUEST m;
                UCHAR data[200];
        } e;
        memset(&e, 0x5C, sizeof(e));
        static const ULONG kinds[] = { TpEcho, TpEmbed, TpMulti, TpClientInfo, TpEcho, TpSleep };
        ULONG kind = kinds[tu_rng_range(r, 0, sizeof(kinds) / sizeof(kinds[0]) - 1)];
        /* TpSleep holds lsashmd (one thread) for 1 ms: a kill lands while
         * the package is still in the call. */
        e.m = (TP_REQUEST){ .MessageType = kind, .Arg = kind == TpSleep ? 1u : 0u };
        ULONG len = kind == TpEcho ? (ULONG)tu_rng_range(r, sizeof(e.m), sizeof(e)) : (ULONG)sizeof(e.m);
        PVOID buf = NULL;
        ULONG blen = 0;
        *stage = STAGE_CALL;
        call(h, pkg, &e, len, &buf, &blen);
        if (kind == TpEcho)
                CHECK(blen == len && memcmp(buf, &e, len) == 0);
        if (*nheld < 8 && tu_rng_range(r, 0, 1)) {
                held[(*nheld)++] = buf;
                return;
        }
        *stage = STAGE_FREE;
        CHECK(LsaFreeReturnBuffer(buf) == STATUS_SUCCESS);
}

/* The package's shared section, mapped and read; unmapped most of the time
 * (a view left mapped ends with the process). */
static void step_map(struct tu_rng *r, HANDLE h, ULONG pkg, volatile unsigned char *stage)
{
        TP_REQUEST m = { .MessageType = TpShareSection };
        PVOID buf = NULL;
        ULONG blen = 0;
        *stage = STAGE_CALL;
        call(h, pkg, &m, sizeof(m), &buf, &blen);
        CHECK(blen >= sizeof(TP_SECTION_REPLY));
        TP_SECTION_REPLY sr;
        memcpy(&sr, buf, sizeof(sr));
        *stage = STAGE_FREE;
        CHECK(LsaFreeReturnBuffer(buf) == STATUS_SUCCESS);
        *stage = STAGE_MAP;
        PVOID base = NULL;
        ULONG size = 0;
        CHECK(LsashmMapSection(h, sr.SectionId, &base, &size) == STATUS_SUCCESS);
        CHECK(size >= sr.PatternOffset + TP_PATTERN_LENGTH);
        const UCHAR *p = (const UCHAR *)base + sr.PatternOffset;
        for (ULONG i = 0; i < TP_PATTERN_LENGTH; i++)
                CHECK(p[i] == TP_PATTERN(TP_SHARED_SEED, i));
        if (tu_rng_range(r, 0, 3) == 0)
                return;
        *stage = STAGE_UNMAP;
        CHECK(LsashmUnmapSection(base) == STATUS_SUCCESS);
}

/* A logon session made and deleted within one call (TpLogonSessions), or
 * one made by a call and ended by a later one: a kill between the two
 * leaves it to the host. */
static void step_logon(struct tu_rng *r, HANDLE h, ULONG pkg, unsigned idx, volatile unsigned char *stage)
{
        PVOID buf = NULL;
        ULONG blen = 0;
        TP_LOGON_REPLY lr;
        *stage = STAGE_LOGON;
        if (tu_rng_range(r, 0, 1)) {
                TP_REQUEST m = { .MessageType = TpLogonSessions, .Addr = TRANSIENT_LUID_BASE + idx };
                call(h, pkg, &m, sizeof(m), &buf, &blen);
                CHECK(blen >= sizeof(lr));
                memcpy(&lr, buf, sizeof(lr));
                CHECK(lr.Create == STATUS_SUCCESS && lr.CreateAgain == STATUS_LOGON_SESSION_COLLISION);
                CHECK(lr.Delete == STATUS_SUCCESS && lr.DeleteAgain == STATUS_NO_SUCH_LOGON_SESSION);
        } else {
                TP_REQUEST m = { .MessageType = TpKeepLogonSession, .Addr = KEPT_LUID_BASE + idx };
                call(h, pkg, &m, sizeof(m), &buf, &blen);
                CHECK(blen >= sizeof(lr));
                memcpy(&lr, buf, sizeof(lr));
                CHECK(lr.Create == STATUS_SUCCESS || lr.Create == STATUS_LOGON_SESSION_COLLISION);
                CHECK(LsaFreeReturnBuffer(buf) == STATUS_SUCCESS);
                m.MessageType = TpEndLogonSession;
                call(h, pkg, &m, sizeof(m), &buf, &blen);
                CHECK(blen >= sizeof(lr));
                memcpy(&lr, buf, sizeof(lr));
                CHECK(lr.Delete == STATUS_SUCCESS);
        }
        CHECK(LsaFreeReturnBuffer(buf) == STATUS_SUCCESS);
}

/* Connect, look up TestPkg, a few random steps, disconnect; again, rounds
 * times (0: until killed). Exits 0 after its rounds, 100 on a failed check. */
static void client_main(unsigned idx, uint64_t seed, unsigned rounds, volatile unsigned char *stage)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        setenv("LSASHM_SOCKET", g_sock, 1);
        struct tu_rng r = { seed * 0x9E3779B97F4A7C15u + idx + 1 };
        for (unsigned round = 0; rounds == 0 || round < rounds; round++) {
                HANDLE h = NULL;
                *stage = STAGE_CONNECT;
                if (tu_rng_range(&r, 0, 1)) {
                        CHAR name[] = "killstorm";
                        LSA_STRING s = { sizeof(name) - 1, sizeof(name), name };
                        LSA_OPERATIONAL_MODE mode;
                        CHECK(LsaRegisterLogonProcess(&s, &h, &mode) == STATUS_SUCCESS);
                } else {
                        CHECK(LsaConnectUntrusted(&h) == STATUS_SUCCESS);
                }
                *stage = STAGE_LOOKUP;
                CHAR pkgname[] = TP_NAME_OK;
                LSA_STRING ps = { sizeof(pkgname) - 1, sizeof(pkgname), pkgname };
                ULONG pkg;
                CHECK(LsaLookupAuthenticationPackage(h, &ps, &pkg) == STATUS_SUCCESS);
                PVOID held[8];
                unsigned nheld = 0;
                for (unsigned steps = (unsigned)tu_rng_range(&r, 1, 8); steps; steps--) {
                        switch (tu_rng_range(&r, 0, 4)) {
                        case 0:
                        case 1: step_call(&r, h, pkg, stage, held, &nheld); break;
                        case 2: step_map(&r, h, pkg, stage); break;
                        case 3: step_logon(&r, h, pkg, idx, stage); break;
                        default:
                                *stage = STAGE_FREE;
                                while (nheld)
                                        CHECK(LsaFreeReturnBuffer(held[--nheld]) == STATUS_SUCCESS);
                        }
                }
                /* Buffers still held go with the connection. */
                *stage = STAGE_DISCONNECT;
                CHECK(LsaDeregisterLogonProcess(h) == STATUS_SUCCESS);
        }
        _exit(0);
}

/* ---- lsashmd, measured ---- */

struct sample {
        int fds;
        int maps;
        long rss_kib;
        long connections;     /* live, not counting the report's own */
        long sections;        /* in the report */
        long clients_mapping; /* the sections' mapping counts, summed */
        long dropped;
};

static long json_number_after(const char *text, const char *key)
{
        const char *p = text ? strstr(text, key) : NULL;
        return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* `lsashm status --json`: connections, sections and their mappings. */
static void report(struct sample *s)
{
        char out[160];
        snprintf(out, sizeof(out), "%s/status.json", g_dir);
        char *argv[] = { (char *)(uintptr_t)cli_path(), "--socket", g_sock, "status", "--json", NULL };
        pid_t pid = tu_spawn(argv, out, NULL, NULL);
        assert_true(pid > 0);
        int status = tu_wait(pid, 60, NULL);
        char *text = tu_slurp(out);
        if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                char why[96];
                fail_msg("lsashm status --json %s: %s", tu_describe_status(status, why, sizeof(why)), text);
        }
        const char *totals = strstr(text, "\"totals\":");
        assert_non_null(totals);
        /* The report is written while the asking connection is open: it
         * counts itself. */
        s->connections = json_number_after(totals, "\"connections\":") - 1;
        s->dropped = json_number_after(totals, "\"dropped\":");
        s->sections = 0;
        s->clients_mapping = 0;
        const char *sections = strstr(text, "\"sections\":[");
        const char *conns = strstr(text, "\"connections\":[");
        assert_non_null(sections);
        assert_non_null(conns);
        for (const char *p = sections; (p = strstr(p, "\"clients_mapping\":")) && p < conns; p++) {
                s->sections++;
                s->clients_mapping += json_number_after(p, "\"clients_mapping\":");
        }
        free(text);
}

static void sample(struct sample *s)
{
        s->fds = tu_proc_fd_count(g_lsashmd);
        s->maps = tu_proc_map_count(g_lsashmd);
        s->rss_kib = tu_proc_status_kib(g_lsashmd, "VmRSS");
        assert_true(s->fds > 0 && s->maps > 0 && s->rss_kib > 0);
        report(s);
}

static void print_sample(const char *when, const struct sample *s)
{
        print_message("%-8s lsashmd: %d descriptors, %d mappings, RSS %ld KiB, %ld connections, "
                      "%ld sections mapped %ld times, %ld clients dropped\n",
                      when, s->fds, s->maps, s->rss_kib, s->connections, s->sections, s->clients_mapping,
                      s->dropped);
}

static bool at_baseline(const struct sample *s, const struct sample *base)
{
        return s->fds == base->fds && s->maps == base->maps && s->connections == base->connections &&
               s->sections == base->sections && s->clients_mapping == base->clients_mapping;
}

/* Sample until lsashmd is back at base (it has seen every hang-up) or
 * QUIESCE_MS passed; the last sample. The samples are taken between
 * reports, so the report's own connection is gone or going: hence the
 * retry rather than one look. */
static void quiesce(struct sample *s, const struct sample *base)
{
        int64_t end = tu_now_ms() + QUIESCE_MS;
        for (;;) {
                tu_sleep_ms(50);
                sample(s);
                if ((base && at_baseline(s, base)) || tu_now_ms() > end)
                        return;
                if (!base && s->connections == 0) {
                        /* The baseline: twice the same, nothing connected. */
                        struct sample again;
                        tu_sleep_ms(50);
                        sample(&again);
                        if (again.fds == s->fds && again.maps == s->maps && again.connections == 0) {
                                *s = again;
                                return;
                        }
                }
        }
}

/* ---- logon sessions, asked of the package ---- */

/* A trusted connection, TestPkg's id in *pkg. */
static HANDLE connect_trusted(ULONG *pkg)
{
        setenv("LSASHM_SOCKET", g_sock, 1);
        CHAR name[] = "killstorm-probe";
        LSA_STRING s = { sizeof(name) - 1, sizeof(name), name };
        LSA_OPERATIONAL_MODE mode;
        HANDLE h = NULL;
        assert_int_equal(LsaRegisterLogonProcess(&s, &h, &mode), STATUS_SUCCESS);
        CHAR pkgname[] = TP_NAME_OK;
        LSA_STRING ps = { sizeof(pkgname) - 1, sizeof(pkgname), pkgname };
        assert_int_equal(LsaLookupAuthenticationPackage(h, &ps, pkg), STATUS_SUCCESS);
        return h;
}

/* How many of the LUIDs base .. base+count-1 are live sessions; ended too
 * when end is set. */
static ULONG probe_sessions(uint64_t base, unsigned count, bool end, ULONG *ret_ended)
{
        ULONG pkg;
        HANDLE h = connect_trusted(&pkg);
        TP_REQUEST m = { .MessageType = TpProbeLogonSessions, .Addr = base, .Length = count,
                         .Flags = end ? TP_FLAG_END_FOUND : 0 };
        PVOID buf = NULL;
        ULONG len = 0;
        NTSTATUS proto;
        assert_int_equal(LsaCallAuthenticationPackage(h, pkg, &m, sizeof(m), &buf, &len, &proto), STATUS_SUCCESS);
        assert_int_equal(proto, STATUS_SUCCESS);
        assert_true(len >= sizeof(TP_PROBE_REPLY));
        TP_PROBE_REPLY r;
        memcpy(&r, buf, sizeof(r));
        assert_int_equal(LsaFreeReturnBuffer(buf), STATUS_SUCCESS);
        assert_int_equal(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        assert_int_equal(r.Unexpected, 0);
        if (ret_ended)
                *ret_ended = r.Ended;
        return r.Found;
}

/* ---- the storm ---- */

struct storm_result {
        unsigned killed;
        unsigned exited;  /* finished on their own: only when rounds != 0 */
        unsigned failed;  /* a failed check, or an unexpected death */
        unsigned at[STAGE_COUNT];
        int64_t ms;
};

static int64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A kill delay spread evenly over the orders of magnitude from 1 us to
 * about 32 ms: as many kills inside connect (tens of us) as inside a run of
 * calls (milliseconds). */
static int64_t kill_delay_us(struct tu_rng *r)
{
        unsigned e = (unsigned)tu_rng_range(r, 0, 14);
        return (int64_t)((UINT64_C(1) << e) + tu_rng_range(r, 0, (UINT64_C(1) << e) - 1));
}

/* n clients, CONCURRENT at a time, client i with LUIDs first + i, each
 * SIGKILLed after a random delay. */
static void storm(unsigned n, unsigned first, uint64_t seed, struct storm_result *res)
{
        memset(res, 0, sizeof(*res));
        volatile unsigned char *stages =
                mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        assert_true(stages != MAP_FAILED);
        struct {
                pid_t pid;
                unsigned idx;
                int64_t deadline;
        } slot[CONCURRENT];
        for (unsigned i = 0; i < CONCURRENT; i++)
                slot[i].pid = 0;
        struct tu_rng r = { seed ^ UINT64_C(0xD1B54A32D192ED03) };
        unsigned launched = 0, running = 0;
        int64_t start = tu_now_ms();
        while (launched < n || running > 0) {
                for (unsigned i = 0; i < CONCURRENT && launched < n; i++) {
                        if (slot[i].pid)
                                continue;
                        unsigned idx = launched++;
                        stages[idx] = STAGE_FORKED;
                        int64_t delay = kill_delay_us(&r);
                        pid_t pid = tu_fork();
                        assert_true(pid >= 0);
                        if (pid == 0)
                                client_main(first + idx, seed, 0, &stages[idx]);
                        slot[i].pid = pid;
                        slot[i].idx = idx;
                        slot[i].deadline = now_us() + delay;
                        running++;
                }
                int64_t next = INT64_MAX;
                for (unsigned i = 0; i < CONCURRENT; i++)
                        if (slot[i].pid && slot[i].deadline < next)
                                next = slot[i].deadline;
                int64_t wait = next - now_us();
                if (wait > 0) {
                        struct timespec ts = { wait / 1000000, (long)(wait % 1000000) * 1000 };
                        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                                ;
                }
                int64_t now = now_us();
                for (unsigned i = 0; i < CONCURRENT; i++) {
                        if (!slot[i].pid || slot[i].deadline > now)
                                continue;
                        kill(slot[i].pid, SIGKILL);
                        int status;
                        while (waitpid(slot[i].pid, &status, 0) < 0 && errno == EINTR)
                                ;
                        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
                                res->killed++;
                                unsigned char st = stages[slot[i].idx];
                                res->at[st < STAGE_COUNT ? st : STAGE_FORKED]++;
                        } else {
                                char why[96];
                                print_message("client %u %s\n", first + slot[i].idx,
                                              tu_describe_status(status, why, sizeof(why)));
                                res->failed++;
                        }
                        slot[i].pid = 0;
                        running--;
                }
        }
        res->ms = tu_now_ms() - start;
        munmap((void *)(uintptr_t)stages, n);
}

/* A client from start to end, not killed: lsashmd serves. */
static void expect_full_client(unsigned idx, uint64_t seed)
{
        volatile unsigned char *stage = mmap(NULL, 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        assert_true(stage != MAP_FAILED);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0)
                client_main(idx, seed, 20, stage);
        int status = tu_wait(pid, 60, NULL);
        munmap((void *)(uintptr_t)stage, 1);
        char why[96];
        if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("a client after the storm %s", tu_describe_status(status, why, sizeof(why)));
}

/* Why lsashmd dropped the dead clients, from the lines of its (rate-limited)
 * log: a dead client is dropped, not merely closed, when lsashmd finds out
 * by failing to send it a reply. */
static void print_drop_reasons(void)
{
        char *log = tu_slurp(g_err);
        char reasons[8][96];
        unsigned counts[8] = { 0 }, nreasons = 0;
        for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
                const char *p = strstr(line, "dropped client pid ");
                p = p ? strstr(p, ": ") : NULL;
                if (!p)
                        continue;
                unsigned i = 0;
                while (i < nreasons && strncmp(reasons[i], p + 2, sizeof(reasons[i]) - 1) != 0)
                        i++;
                if (i == nreasons && nreasons < 8)
                        snprintf(reasons[nreasons++], sizeof(reasons[0]), "%s", p + 2);
                if (i < nreasons)
                        counts[i]++;
        }
        print_message("lsashmd's log, dropped clients (a sample: the log is rate-limited):");
        for (unsigned i = 0; i < nreasons; i++)
                print_message(" %u \"%s\"", counts[i], reasons[i]);
        print_message("\n");
        free(log);
}

/* ---- fixtures ---- */

static bool need(const char *what, const char *path)
{
        if (path && access(path, R_OK) == 0)
                return true;
        print_message("skipped: %s not available (%s)\n", what, path ? path : "not built, not in the environment");
        return false;
}

static int group_setup(void **state)
{
        (void)state;
        signal(SIGPIPE, SIG_IGN);
        snprintf(g_dir, sizeof(g_dir), "/tmp/lsashm-test-killstorm-XXXXXX");
        if (!mkdtemp(g_dir) || chmod(g_dir, 0755) < 0)
                return -1;
        snprintf(g_conf, sizeof(g_conf), "%s/lsashmd.conf", g_dir);
        snprintf(g_sock, sizeof(g_sock), "%s/lsashmd.sock", g_dir);
        snprintf(g_err, sizeof(g_err), "%s/lsashmd.err", g_dir);
        /* A killed client's connection counts against the per-uid limit
         * (64) until lsashmd reads its hang-up; on a busy machine sixteen
         * clients at a time can get ahead of it. The storm is about what
         * lsashmd releases, not about that limit. */
        FILE *f = fopen(g_conf, "we");
        if (!f || fprintf(f, "max-connections-per-uid 1024\n") < 0 || fclose(f) != 0)
                return -1;
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        if (g_lsashmd > 0) {
                kill(g_lsashmd, SIGKILL);
                tu_wait(g_lsashmd, 10, NULL);
                g_lsashmd = -1;
        }
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
        if (strncmp(g_dir, "/tmp/lsashm-test-killstorm-", 27) == 0 && system(cmd) != 0)
                return -1;
        return 0;
}

/* ---- the test ---- */

static void test_killstorm_lsashmd_back_at_baseline(void **state)
{
        (void)state;
        if (!need("lsashmd", lsashmd_path()) || !need("lsashm", cli_path()) ||
            !need("test packages", test_package_dir()))
                skip();
        unsigned n = env_unsigned("LSASHM_KILLSTORM_CLIENTS", DEFAULT_CLIENTS);
        uint64_t seed = env_unsigned("LSASHM_KILLSTORM_SEED", 0);
        if (!seed)
                seed = (uint64_t)time(NULL) % 1000000 + 1;
        print_message("kill storm: %u clients, %u at a time, seed %" PRIu64 "\n", n, CONCURRENT, seed);

        char pkg[512], notify[160];
        snprintf(pkg, sizeof(pkg), "%s/test-pkg-ok.so", test_package_dir());
        snprintf(notify, sizeof(notify), "%s/lsashmd.notify", g_dir);
        g_lsashmd = tu_lsashmd_start(lsashmd_path(), g_conf, g_sock, pkg, notify, g_err, START_S);
        if (g_lsashmd < 0) {
                char *err = tu_slurp(g_err);
                fail_msg("lsashmd did not start: %s", err);
        }

        /* Warm up: the first connections, reply sections, maps and calls
         * grow lsashmd's tables and heap once, for good; the baseline is
         * what stays after that. */
        struct storm_result res;
        storm(WARMUP_CLIENTS, n, seed + 1, &res);
        assert_int_equal(res.failed, 0);
        expect_full_client(n + WARMUP_CLIENTS, seed);
        struct sample before, after;
        quiesce(&before, NULL);
        ULONG kept_before = probe_sessions(KEPT_LUID_BASE, n, false, NULL);
        ULONG transient_before = probe_sessions(TRANSIENT_LUID_BASE, n, false, NULL);
        print_sample("before", &before);
        print_message("before   logon sessions of the storm's LUIDs: %u made-and-deleted, %u kept\n",
                      (unsigned)transient_before, (unsigned)kept_before);
        assert_int_equal(before.connections, 0);
        assert_int_equal(before.clients_mapping, 0);

        storm(n, 0, seed, &res);
        print_message("storm    %u clients killed in %" PRId64 " ms; %u failed; killed while in:", res.killed,
                      res.ms, res.failed);
        for (unsigned i = 0; i < STAGE_COUNT; i++)
                print_message(" %s %u", stage_names[i], res.at[i]);
        print_message("\n");
        assert_int_equal(res.failed, 0);
        assert_int_equal(res.killed, n);

        quiesce(&after, &before);
        print_sample("after", &after);
        ULONG transient = probe_sessions(TRANSIENT_LUID_BASE, n, false, NULL);
        ULONG kept_ended = 0;
        ULONG kept = probe_sessions(KEPT_LUID_BASE, n, true, &kept_ended);
        print_message("after    logon sessions of the storm's LUIDs: %u made-and-deleted, %u kept "
                      "(left by clients killed between the call that made one and the call that "
                      "ends it; ended now: %u)\n",
                      (unsigned)transient, (unsigned)kept, (unsigned)kept_ended);
        print_message("RSS      %+ld KiB (margin %ld KiB%s)\n", after.rss_kib - before.rss_kib, RSS_MARGIN_KIB,
                      RSS_ASSERTED ? "" : ", not asserted under AddressSanitizer");

        assert_int_equal(after.fds, before.fds);
        assert_int_equal(after.maps, before.maps);
        assert_int_equal(after.connections, before.connections);
        assert_int_equal(after.sections, before.sections);
        assert_int_equal(after.clients_mapping, before.clients_mapping);
        if (RSS_ASSERTED && after.rss_kib > before.rss_kib + RSS_MARGIN_KIB)
                fail_msg("lsashmd's RSS grew by %ld KiB (margin %ld)", after.rss_kib - before.rss_kib,
                         RSS_MARGIN_KIB);
        /* A session made and deleted inside one call is gone whatever
         * happened to the caller: the package's call runs to its end. */
        assert_int_equal(transient, 0);
        /* A session a package made for a client outlives the client: the
         * host has no tie between the two (nor has Windows: a logon session
         * ends when its package deletes it). So at most one per client, and
         * every one of them still works: it ends when asked to. */
        assert_true(kept <= n);
        assert_int_equal(kept_ended, kept);
        assert_int_equal(probe_sessions(KEPT_LUID_BASE, n, false, NULL), 0);

        /* Still serving, from start to end. */
        expect_full_client(n + WARMUP_CLIENTS + 1, seed + 2);
        kill(g_lsashmd, SIGTERM);
        int status = tu_wait(g_lsashmd, 60, NULL);
        g_lsashmd = -1;
        print_drop_reasons();
        char why[96];
        if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                char *err = tu_slurp(g_err);
                print_message("lsashmd stderr:\n%s\n", err);
                free(err);
                fail_msg("lsashmd after the storm and SIGTERM: %s", tu_describe_status(status, why, sizeof(why)));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_killstorm_lsashmd_back_at_baseline),
        };
        if (geteuid() != 0) {
                /* Trusted connections (LsaRegisterLogonProcess) need root. */
                printf("test-killstorm: skipped: needs root\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
