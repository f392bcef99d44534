/* SPDX-License-Identifier: MIT */
/*
 * Fault injection: every failure of the system and allocation calls lsashm
 * makes is a clean error, leaks nothing and crashes nothing.
 *
 * This executable is linked with -Wl,--wrap for memfd_create, mmap,
 * fallocate, fcntl, sendmsg, recvmsg, accept4, epoll_ctl and the allocation
 * family (tests/fault/fault-inject.c), so the calls the static lsashm
 * archives make can be counted and failed. Each scenario below exercises one
 * layer through its public API, servers in a thread of this process:
 *
 *   sections  create, alloc, grow, free, check, delete; readers-only; the
 *             Windows members
 *   sharing   a server publishes two sections, a client connects, opens,
 *             maps, is told of a delete, closes
 *   revoke    32 sections published, opened and deleted while the client
 *             reads nothing: the notices fill the socket and wait in the
 *             server's queue
 *   host      the package host with tests/packages' ok package: connect,
 *             look up, calls with one and with two client buffers, a
 *             section made, mapped and deleted, a shared one mapped, a logon
 *             process and its logon sessions, the status report
 *
 * For each scenario a run with no fault counts the calls of every point (K);
 * then for each point and each N in 1..K (at most CAP_PER_POINT of them,
 * spread evenly) a forked child runs the scenario with the N-th call failing.
 * The child must exit normally within CHILD_TIMEOUT_S, and after the
 * scenario's own teardown its descriptors, mapped bytes and heap bytes must
 * be what they were before it. The scenario itself reports
 * anything that is not a clean error (wrong data, a failed heap check, an
 * undocumented result) as a violation. An interrupted sendmsg or recvmsg
 * (EINTR) must be retried: those runs must succeed.
 *
 * Only calls from objects of this link are wrapped: libc's own (stdio,
 * open_memstream, dlopen), libsodium's and a dlopen'ed package's are not.
 *
 * LSASHM_FAULTS_CAP=N runs up to N values per point (a large N: every call);
 * LSASHM_FAULTS_ONLY=SCENARIO:FUNCTION:N[:ERRNO] runs that one faulted run,
 * and LSASHM_FAULTS_TRACE=1 prints the failed call's backtrace (addr2line)
 * and leaves /tmp/lsashm-faults-maps.{before,after}.
 *
 * Mapped bytes: every mapping but the brk heap and the stack; in ASan builds
 * only mappings of files (memfds included), since ASan maps as it pleases.
 * Heap bytes: glibc's mallinfo2 (in use + mmapped) with the per-thread cache
 * off and one arena (main re-executes itself with GLIBC_TUNABLES set: a
 * freed chunk parked in tcache still counts as in use, and a thread's new
 * arena is a mapping), or ASan's allocated-bytes counter in sanitizer
 * builds.
 */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#if defined(__SANITIZE_ADDRESS__)
#define FAULTS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FAULTS_ASAN 1
#endif
#endif
#ifdef FAULTS_ASAN
/* From the sanitizer runtime; gcc installs no header for it. */
size_t __sanitizer_get_current_allocated_bytes(void);
#else
#include <malloc.h>
#endif

#include "fault/fault-inject.h"
#include "host/host-internal.h"
#include "lsashm/ntsecapi.h"
#include "lsashm/ntsecpkg.h"
#include "lsashm/section.h"
#include "lsashm/share.h"
#include "packages/test-ap-package.h"
#include "packages/test-package-protocol.h"
#include "test-util.h"

#ifndef TEST_PACKAGE_DIR
#error "TEST_PACKAGE_DIR: where tests/packages built test-pkg-*.so"
#endif

/* Runs per point and scenario: keeps the whole test within a minute on a
 * loaded two-core machine (forking a sanitized process costs more). Above
 * it, N is sampled evenly over 1..K. LSASHM_FAULTS_CAP overrides it: a
 * large value fails every call in turn. */
#ifdef FAULTS_ASAN
#define CAP_PER_POINT 16
#else
#define CAP_PER_POINT 40
#endif
#define CHILD_TIMEOUT_S 30
#define REPORT_FAILURES 8

/* ---- measuring a process ---- */

static long heap_bytes(void)
{
#ifdef FAULTS_ASAN
        return (long)__sanitizer_get_current_allocated_bytes();
#else
        struct mallinfo2 m = mallinfo2();
        return (long)(m.uordblks + m.hblkhd);
#endif
}

/* Bytes mapped in this process, but for the brk heap and the main stack,
 * which grow and shrink on their own (malloc's arenas grow inside a fixed
 * reservation, so they change only how many lines there are, not the sum).
 * Read without stdio so that measuring allocates nothing. */
static long mapped_bytes(void)
{
        int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        char buf[8192], line[512];
        size_t len = 0;
        long total = 0;
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
                for (ssize_t i = 0; i < n; i++) {
                        if (buf[i] != '\n') {
                                if (len < sizeof(line) - 1)
                                        line[len++] = buf[i];
                                continue;
                        }
                        line[len] = '\0';
                        len = 0;
                        unsigned long lo, hi, inode;
                        if (strstr(line, "[heap]") || strstr(line, "[stack]") ||
                            sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &inode) != 3)
                                continue;
#ifdef FAULTS_ASAN
                        /* ASan maps shadow and allocator regions as it
                         * pleases: count only mappings of files (sections
                         * are memfds). */
                        if (inode == 0)
                                continue;
#endif
                        total += (long)(hi - lo);
                }
        }
        close(fd);
        return total;
}

/* For a traced run: the maps before and after, to compare. */
static void copy_maps(const char *to)
{
        int in = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
        int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        char buf[4096];
        ssize_t n;
        while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
                if (!tu_write_all(out, buf, (size_t)n))
                        break;
        if (in >= 0)
                close(in);
        if (out >= 0)
                close(out);
}

/* ---- what a scenario reports besides its result ---- */

/* The first thing a scenario saw that is not a clean error. */
static char g_violation[200];

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...)
{
        if (g_violation[0])
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g_violation, sizeof(g_violation), fmt, ap);
        va_end(ap);
}

/* Keep the first error of a scenario; go on with the teardown. */
static void note_error(int *err, int r)
{
        if (r < 0 && *err == 0)
                *err = r;
}

static char g_dir[64];
static char g_share_sock[100];
static char g_host_sock[100];

/* ================= sections ================= */

static void alloc_checked(lsashm_section_t *s, size_t size, void **ret, int *err)
{
        *ret = NULL;
        int r = lsashm_section_alloc(s, size, ret);
        if (r < 0) {
                if (r != -ENOMEM && r != -ENOSPC && r != -EMFILE)
                        violation("alloc(%zu) failed with %d", size, r);
                *ret = NULL;
                note_error(err, r);
        } else if (!*ret || !tu_all_zero(*ret, size)) {
                violation("alloc(%zu) gave a block that is not zero-filled", size);
        }
}

static int scenario_sections(void)
{
        int err = 0;
        struct lsashm_section_config cfg = { .max_size = 4u << 20, .initial_size = 64u << 10, .name = "faults" };
        lsashm_section_t *s;
        int r = lsashm_section_create(&cfg, &s);
        if (r < 0)
                return r;
        void *blocks[12];
        for (unsigned i = 0; i < 12; i++) {
                /* Block 5 is past the initial commit: the section grows. */
                alloc_checked(s, i == 5 ? 600u << 10 : 100 + 37 * i, &blocks[i], &err);
                if (blocks[i])
                        memset(blocks[i], 0xA5, 100);
        }
        for (unsigned i = 0; i < 12; i += 2)
                if (blocks[i] && (r = lsashm_section_free(s, blocks[i])) < 0)
                        violation("free of a live block: %d", r);
        void *big;
        alloc_checked(s, 2u << 20, &big, &err);
        if (big && (r = lsashm_section_free(s, big)) < 0)
                violation("free of a live block: %d", r);
        /* A failed grow must leave the heap as it was. */
        if ((r = lsashm_section_check(s)) < 0)
                violation("heap check: %d", r);
        struct lsashm_section_stats st;
        if ((r = lsashm_section_stats(s, &st)) < 0 || st.committed > st.reserved)
                violation("stats: %d", r);
        if ((r = lsashm_section_delete(s)) < 0)
                violation("delete: %d", r);

        /* Nothing committed at first: the first allocation commits. */
        struct lsashm_section_config ro = { .max_size = 256u << 10, .flags = LSASHM_SECTION_READERS_ONLY };
        r = lsashm_section_create(&ro, &s);
        note_error(&err, r);
        if (r == 0) {
                void *p;
                alloc_checked(s, 1000, &p, &err);
                if ((r = lsashm_section_check(s)) < 0)
                        violation("heap check (readers-only): %d", r);
                if ((r = lsashm_section_delete(s)) < 0)
                        violation("delete (readers-only): %d", r);
        }

        PVOID base = LsaCreateSharedMemory(1u << 20, 64u << 10);
        if (!base) {
                note_error(&err, -ENOMEM);
        } else {
                PVOID p = LsaAllocateSharedMemory(base, 200u << 10);
                if (!p)
                        note_error(&err, -ENOMEM);
                LsaFreeSharedMemory(base, p);
                if (!LsaDeleteSharedMemory(base))
                        violation("LsaDeleteSharedMemory of a live section returned FALSE");
        }
        return err;
}

/* ================= sharing ================= */

static void *server_main(void *arg)
{
        lsashm_server_t *srv = arg;
        intptr_t r = lsashm_server_run(srv);
        return (void *)r;
}

static void quiet_log(void *ctx, const char *line)
{
        (void)ctx;
        (void)line;
}

#define SHARE_PATTERN 0x5C

/* A client's whole life against the server: open, read, a readonly view, a
 * revocation, close. Returns the first error. */
static int share_client(lsashm_section_t *doomed)
{
        lsashm_client_t *c;
        int r = lsashm_client_connect(g_share_sock, &c);
        if (r < 0) {
                if (lsashm_section_delete(doomed) < 0)
                        violation("delete of a published section failed");
                return r;
        }
        int err = 0;
        lsashm_view_t *v = NULL, *ro = NULL, *gone = NULL;
        r = lsashm_client_open(c, "data", &v);
        note_error(&err, r);
        if (r == 0) {
                const uint8_t *p = lsashm_view_ptr(v, lsashm_view_root(v), 64);
                if (!p || p[0] != SHARE_PATTERN || p[63] != SHARE_PATTERN)
                        violation("the view does not show the owner's data");
        }
        r = lsashm_client_open_readonly(c, "data", &ro);
        note_error(&err, r);
        if (r == 0 && lsashm_view_writable(ro))
                violation("a readonly view is writable");
        r = lsashm_client_open(c, "doomed", &gone);
        note_error(&err, r);
        if (lsashm_section_delete(doomed) < 0)
                violation("delete of a published section failed");
        if (r == 0) {
                /* The revocation arrives when the server gets to it; a lost
                 * notice (no memory for it) is allowed: the next open says. */
                int64_t end = tu_now_ms() + 1000;
                while (lsashm_view_state(gone) == 0 && tu_now_ms() < end)
                        tu_sleep_ms(2);
        }
        lsashm_view_close(gone);
        lsashm_view_close(ro);
        lsashm_view_close(v);
        lsashm_client_close(c);
        return err;
}

static int scenario_sharing(void)
{
        int err = 0;
        struct lsashm_section_config cfg = { .max_size = 256u << 10, .initial_size = 64u << 10, .name = "shared" };
        lsashm_section_t *data, *doomed;
        int r = lsashm_section_create(&cfg, &data);
        if (r < 0)
                return r;
        r = lsashm_section_create(&cfg, &doomed);
        if (r < 0) {
                lsashm_section_delete(data);
                return r;
        }
        void *p;
        r = lsashm_section_alloc(data, 64, &p);
        if (r < 0) {
                lsashm_section_delete(doomed);
                lsashm_section_delete(data);
                return r;
        }
        memset(p, SHARE_PATTERN, 64);
        uint64_t root = 0;
        if (lsashm_section_offset(data, p, &root) < 0)
                violation("offset of a live block");

        struct lsashm_server_config scfg = { .path = g_share_sock, .mode = 0600, .listen_fd = -1, .log = quiet_log };
        lsashm_server_t *srv;
        r = lsashm_server_create(&scfg, &srv);
        if (r < 0) {
                lsashm_section_delete(doomed);
                lsashm_section_delete(data);
                return r;
        }
        const struct lsashm_rule rules[] = { { LSASHM_RULE_ANYONE, 0, LSASHM_ACCESS_READ_WRITE } };
        const struct lsashm_policy policy = { rules, 1 };
        r = lsashm_server_publish(srv, "data", data, &policy);
        if (r == 0)
                r = lsashm_server_set_root(srv, "data", root);
        if (r == 0)
                r = lsashm_server_publish(srv, "doomed", doomed, &policy);
        pthread_t t;
        if (r == 0 && pthread_create(&t, NULL, server_main, srv) != 0)
                r = -EAGAIN;
        if (r == 0) {
                note_error(&err, share_client(doomed));
                doomed = NULL; /* deleted by the client scenario */
                lsashm_server_stop(srv);
                void *ret;
                pthread_join(t, &ret);
                if ((intptr_t)ret < 0)
                        violation("lsashm_server_run failed: %d", (int)(intptr_t)ret);
        }
        note_error(&err, r);
        lsashm_server_destroy(srv);
        if (doomed)
                lsashm_section_delete(doomed);
        lsashm_section_delete(data);
        return err;
}

/* Views of deleted sections that never learnt of it: allowed only when the
 * server had no memory to note the delete (server.c, note_deleted). */
static unsigned g_unrevoked;

/* Revocations faster than the client reads them: the server's socket to
 * the client fills (its send buffer is small on purpose) and the notices
 * wait in the connection's queue until the client reads. */
#define REVOKED_SECTIONS 32

static int revoke_client(lsashm_section_t **sections)
{
        lsashm_client_t *c;
        int r = lsashm_client_connect(g_share_sock, &c);
        int err = r;
        lsashm_view_t *views[REVOKED_SECTIONS] = { 0 };
        for (unsigned i = 0; r == 0 && i < REVOKED_SECTIONS; i++) {
                char name[16];
                snprintf(name, sizeof(name), "s%u", i);
                note_error(&err, lsashm_client_open(c, name, &views[i]));
        }
        /* Deleted while the client reads nothing. */
        for (unsigned i = 0; i < REVOKED_SECTIONS; i++)
                if (lsashm_section_delete(sections[i]) < 0)
                        violation("delete of a published section failed");
        if (r == 0) {
                int64_t end = tu_now_ms() + 1000;
                unsigned stale = 0;
                while (tu_now_ms() < end) {
                        stale = 0;
                        for (unsigned i = 0; i < REVOKED_SECTIONS; i++)
                                stale += !views[i] || lsashm_view_state(views[i]) == -ESTALE;
                        if (stale == REVOKED_SECTIONS)
                                break;
                        tu_sleep_ms(2);
                }
        }
        for (unsigned i = 0; i < REVOKED_SECTIONS; i++) {
                if (views[i] && lsashm_view_state(views[i]) == 0)
                        g_unrevoked++;
                lsashm_view_close(views[i]);
        }
        if (r == 0)
                lsashm_client_close(c);
        return err;
}

static int scenario_revoke(void)
{
        struct lsashm_section_config cfg = { .max_size = 4096, .initial_size = 4096 };
        lsashm_section_t *sections[REVOKED_SECTIONS];
        unsigned made = 0;
        int r = 0;
        while (r == 0 && made < REVOKED_SECTIONS)
                if ((r = lsashm_section_create(&cfg, &sections[made])) == 0)
                        made++;
        lsashm_server_t *srv = NULL;
        struct lsashm_server_config scfg = { .path = g_share_sock, .mode = 0600, .listen_fd = -1, .log = quiet_log };
        if (r == 0)
                r = lsashm_server_create(&scfg, &srv);
        const struct lsashm_rule rules[] = { { LSASHM_RULE_ANYONE, 0, LSASHM_ACCESS_READ } };
        const struct lsashm_policy policy = { rules, 1 };
        for (unsigned i = 0; r == 0 && i < REVOKED_SECTIONS; i++) {
                char name[16];
                snprintf(name, sizeof(name), "s%u", i);
                r = lsashm_server_publish(srv, name, sections[i], &policy);
        }
        pthread_t t;
        if (r == 0 && pthread_create(&t, NULL, server_main, srv) != 0)
                r = -EAGAIN;
        if (r == 0) {
                r = revoke_client(sections);
                made = 0; /* deleted by the client scenario */
                lsashm_server_stop(srv);
                void *ret;
                pthread_join(t, &ret);
                if ((intptr_t)ret < 0)
                        violation("lsashm_server_run failed: %d", (int)(intptr_t)ret);
        }
        lsashm_server_destroy(srv);
        while (made)
                lsashm_section_delete(sections[--made]);
        return r;
}

/* ================= the package host ================= */

static void *host_main(void *arg)
{
        intptr_t r = host_run(arg);
        return (void *)r;
}

static int from_status(NTSTATUS st)
{
        return st == STATUS_SUCCESS ? 0 : -EIO;
}

static NTSTATUS call_msg(HANDLE h, ULONG pkg, ULONG type, ULONGLONG addr, PVOID *buf, ULONG *len,
                         NTSTATUS *proto)
{
        TP_REQUEST m = { .MessageType = type, .Addr = addr };
        *buf = NULL;
        *len = 0;
        *proto = STATUS_SUCCESS;
        NTSTATUS st = LsaCallAuthenticationPackage(h, pkg, &m, sizeof(m), buf, len, proto);
        if (st == STATUS_SUCCESS && *proto != STATUS_SUCCESS && *buf) {
                LsaFreeReturnBuffer(*buf);
                *buf = NULL;
        }
        return st != STATUS_SUCCESS ? st : *proto;
}

/* A section the package makes for this client (TpMakeSection: then
 * deleted) or shares with every client (TpShareSection): mapped, checked,
 * unmapped. */
static int host_section(HANDLE h, ULONG pkg, ULONG type)
{
        PVOID buf;
        ULONG len;
        NTSTATUS proto;
        NTSTATUS st = call_msg(h, pkg, type, 0, &buf, &len, &proto);
        if (st != STATUS_SUCCESS)
                return -EIO;
        TP_SECTION_REPLY s;
        if (!buf || len < sizeof(s)) {
                violation("TpMakeSection succeeded without its reply");
                LsaFreeReturnBuffer(buf);
                return -EPROTO;
        }
        memcpy(&s, buf, sizeof(s));
        LsaFreeReturnBuffer(buf);
        int err = 0;
        PVOID view;
        ULONG size;
        st = LsashmMapSection(h, s.SectionId, &view, &size);
        note_error(&err, from_status(st));
        if (st == STATUS_SUCCESS) {
                const UCHAR *v = view;
                for (ULONG i = 0; i < TP_PATTERN_LENGTH; i++)
                        if (s.PatternOffset + TP_PATTERN_LENGTH > size || v[s.PatternOffset + i] != TP_PATTERN(s.Seed, i)) {
                                violation("a mapped section does not show the package's pattern");
                                break;
                        }
                if (LsashmUnmapSection(view) != STATUS_SUCCESS)
                        violation("LsashmUnmapSection of a live view failed");
        }
        if (type == TpMakeSection) {
                st = call_msg(h, pkg, TpDeleteSection, s.SectionId, &buf, &len, &proto);
                note_error(&err, from_status(st));
                if (buf)
                        LsaFreeReturnBuffer(buf);
        }
        return err;
}

/* Two client buffers in one call, the reply pointing at the other. */
/* A buffer the host wiped reads zeros. A host that drops the connection
 * right after its reply (a faulted receive of the next request) wipes the
 * client's buffers at once, and the client may read them before or after
 * that, and tell the host of its free before or after the hang-up: zeros are
 * the one other thing a returned buffer may hold. */
static bool wiped(const void *p, size_t len)
{
        const volatile unsigned char *b = p;
        for (size_t i = 0; i < len; i++)
                if (b[i])
                        return false;
        return true;
}

static int host_multi(HANDLE h, ULONG pkg)
{
        PVOID buf;
        ULONG len;
        NTSTATUS proto;
        NTSTATUS st = call_msg(h, pkg, TpMulti, 0, &buf, &len, &proto);
        if (st != STATUS_SUCCESS)
                return -EIO;
        TP_MULTI_REPLY r;
        int err = 0;
        if (!buf || len < sizeof(r)) {
                violation("TpMulti succeeded without its reply");
                err = -EPROTO;
        } else {
                memcpy(&r, buf, sizeof(r));
                /* Both buffers go with the one free (or with a dropped
                 * connection, wiped: then the free says so). */
                bool differs = r.OtherLength != sizeof(TP_MULTI_TEXT) || !r.Other ||
                               memcmp(r.Other, TP_MULTI_TEXT, sizeof(TP_MULTI_TEXT)) != 0;
                bool zeros = wiped(&r, sizeof(r));
                NTSTATUS fst = LsaFreeReturnBuffer(buf);
                buf = NULL;
                if (fst == STATUS_PORT_DISCONNECTED)
                        err = -ECONNRESET;
                else if (fst != STATUS_SUCCESS || (differs && !zeros))
                        violation("TpMulti: free 0x%08X, other buffer %s", (unsigned)fst,
                                  differs ? "wrong" : "right");
        }
        LsaFreeReturnBuffer(buf);
        return err;
}

/* An LsaLogonUser through the authentication package (on a worker): a
 * token and a profile buffer, both let go; or a clean failure. Whatever
 * fails, no logon session may be left (the heap check sees it). */
static int host_logon(HANDLE l)
{
        CHAR ap_name[] = TAP_NAME_EX2;
        LSA_STRING an = { sizeof(ap_name) - 1, sizeof(ap_name), ap_name };
        ULONG ap = 0;
        NTSTATUS st = LsaLookupAuthenticationPackage(l, &an, &ap);
        if (st != STATUS_SUCCESS)
                return -EIO;
        struct {
                MSV1_0_INTERACTIVE_LOGON m;
                WCHAR chars[16];
        } a;
        memset(&a, 0, sizeof(a));
        a.m.MessageType = MsV1_0InteractiveLogon;
        const char *v[3] = { "DOM", TAP_USER_OK, TAP_PASSWORD };
        UNICODE_STRING *str[3] = { &a.m.LogonDomainName, &a.m.UserName, &a.m.Password };
        WCHAR *at = a.chars;
        for (int i = 0; i < 3; i++) {
                USHORT n = (USHORT)strlen(v[i]);
                for (USHORT k = 0; k < n; k++)
                        at[k] = (WCHAR)v[i][k];
                str[i]->Buffer = at;
                str[i]->Length = str[i]->MaximumLength = (USHORT)(n * 2);
                at += n;
        }
        CHAR on[] = "test-faults";
        LSA_STRING origin = { sizeof(on) - 1, sizeof(on), on };
        TOKEN_SOURCE source = { .SourceName = "tfaults" };
        PVOID profile = NULL;
        ULONG profile_len = 0;
        LUID id;
        HANDLE token = NULL;
        QUOTA_LIMITS q;
        NTSTATUS sub;
        st = LsaLogonUser(l, &origin, Interactive, ap, &a, sizeof(a), NULL, &source, &profile, &profile_len, &id, &token,
                          &q, &sub);
        if (st != STATUS_SUCCESS) {
                if (token || profile)
                        violation("a failed LsaLogonUser (0x%08X) left a token or profile", (unsigned)st);
                return -EIO;
        }
        int err = 0;
        if (!token)
                violation("LsaLogonUser succeeded without a token");
        if (!profile || profile_len < sizeof(TAP_PROFILE))
                violation("LsaLogonUser succeeded without its profile buffer");
        NTSTATUS fst = LsaFreeReturnBuffer(profile);
        if (fst == STATUS_PORT_DISCONNECTED)
                note_error(&err, -ECONNRESET);
        else if (fst != STATUS_SUCCESS)
                violation("LsaFreeReturnBuffer of a profile buffer: 0x%08X", (unsigned)fst);
        if (token && LsashmCloseToken(token) != STATUS_SUCCESS)
                violation("LsashmCloseToken of a live token failed");
        return err;
}

static int host_client(void)
{
        HANDLE u = NULL;
        NTSTATUS st = LsaConnectUntrusted(&u);
        if (st != STATUS_SUCCESS)
                return -EIO;
        int err = 0;
        CHAR pkg_name[] = TP_NAME_OK;
        LSA_STRING name = { sizeof(pkg_name) - 1, sizeof(pkg_name), pkg_name };
        ULONG pkg = 0;
        st = LsaLookupAuthenticationPackage(u, &name, &pkg);
        note_error(&err, from_status(st));
        if (st == STATUS_SUCCESS) {
                /* A client buffer: the echo of what was sent. */
                TP_REQUEST m = { .MessageType = TpEcho, .Arg = 0x1234, .Length = 99 };
                PVOID buf = NULL;
                ULONG len = 0;
                NTSTATUS proto = STATUS_SUCCESS;
                st = LsaCallAuthenticationPackage(u, pkg, &m, sizeof(m), &buf, &len, &proto);
                bool differs = st == STATUS_SUCCESS && proto == STATUS_SUCCESS &&
                               (!buf || len != sizeof(m) || memcmp(buf, &m, sizeof(m)) != 0);
                bool zeros = buf && len == sizeof(m) && wiped(buf, len);
                note_error(&err, from_status(st != STATUS_SUCCESS ? st : proto));
                /* The buffer is forgotten even when the host cannot be told
                 * (a broken connection): that is the one error allowed. */
                NTSTATUS fst = LsaFreeReturnBuffer(buf);
                if (fst == STATUS_PORT_DISCONNECTED)
                        note_error(&err, -ECONNRESET);
                else if (fst != STATUS_SUCCESS)
                        violation("LsaFreeReturnBuffer of a returned buffer: 0x%08X", (unsigned)fst);
                /* A host that drops the connection right after replying
                 * wipes the client's buffers (no secret outlives it): the
                 * echo may read zeros then, and only then. */
                if (differs && fst != STATUS_PORT_DISCONNECTED && !zeros)
                        violation("an echo came back different (buffer %p, %u bytes)", buf, (unsigned)len);
                note_error(&err, host_section(u, pkg, TpMakeSection));
                note_error(&err, host_section(u, pkg, TpShareSection));
                note_error(&err, host_multi(u, pkg));
        }

        HANDLE l = NULL;
        CHAR proc_name[] = "test-faults";
        LSA_STRING pn = { sizeof(proc_name) - 1, sizeof(proc_name), proc_name };
        LSA_OPERATIONAL_MODE mode = 0;
        st = LsaRegisterLogonProcess(&pn, &l, &mode);
        note_error(&err, from_status(st));
        if (st == STATUS_SUCCESS) {
                PVOID buf;
                ULONG len;
                NTSTATUS proto;
                st = call_msg(l, pkg, TpLogonSessions, 0x0000123400000042ull, &buf, &len, &proto);
                note_error(&err, from_status(st));
                if (buf)
                        LsaFreeReturnBuffer(buf);
                note_error(&err, host_logon(l));
                if (LsaDeregisterLogonProcess(l) != STATUS_SUCCESS)
                        violation("LsaDeregisterLogonProcess of a live handle failed");
        }
        if (LsaDeregisterLogonProcess(u) != STATUS_SUCCESS)
                violation("LsaDeregisterLogonProcess of a live handle failed");
        return err;
}

static int scenario_host(void)
{
        struct host_config cfg = {
                .socket_path = g_host_sock,
                .listen_fd = -1,
                .socket_mode = 0600,
                .logon_gid = (gid_t)-1,
                .admin_gid = (gid_t)-1,
                .log = quiet_log,
        };
        struct host *h;
        int r = host_create(&cfg, &h);
        if (r < 0)
                return r;
        r = host_load_package(h, TEST_PACKAGE_DIR "/test-pkg-ok.so");
        if (r == 0)
                r = host_load_package(h, TEST_PACKAGE_DIR "/test-pkg-ap-ex2.so");
        pthread_t t;
        if (r == 0 && pthread_create(&t, NULL, host_main, h) != 0)
                r = -EAGAIN;
        if (r == 0) {
                r = host_client();
                host_stop(h);
                void *ret;
                pthread_join(t, &ret);
                if ((intptr_t)ret < 0)
                        violation("host_run failed: %d", (int)(intptr_t)ret);
                /* What `lsashm status` asks for, in both formats. */
                for (int json = 0; json < 2; json++) {
                        int fd;
                        uint64_t len;
                        int e = host_report(h, json, &fd, &len);
                        note_error(&r, e);
                        if (e == 0)
                                close(fd);
                        else if (e > 0)
                                violation("host_report returned %d", e);
                }
        }
        host_destroy(h);
        return r;
}

/* ================= the driver ================= */

struct point {
        enum fault_fn fn;
        int err;            /* 0 for fcntl: EMFILE for F_DUPFD*, EINVAL otherwise */
        const char *err_name;
        bool must_succeed;  /* an interrupted call is retried: no visible effect */
};

static const struct point points[] = {
        { FAULT_MEMFD_CREATE, EMFILE, "EMFILE", false },
        { FAULT_MMAP, ENOMEM, "ENOMEM", false },
        { FAULT_FALLOCATE, ENOSPC, "ENOSPC", false },
        { FAULT_FCNTL, 0, "EMFILE/EINVAL", false },
        { FAULT_SENDMSG, ENOBUFS, "ENOBUFS", false },
        { FAULT_SENDMSG, EINTR, "EINTR", true },
        { FAULT_RECVMSG, ENOMEM, "ENOMEM", false },
        { FAULT_RECVMSG, EINTR, "EINTR", true },
        { FAULT_ACCEPT4, EMFILE, "EMFILE", false },
        { FAULT_EPOLL_CTL, ENOMEM, "ENOMEM", false },
        { FAULT_MALLOC, ENOMEM, "ENOMEM", false },
};
#define NPOINTS (sizeof(points) / sizeof(points[0]))

struct scenario {
        const char *name;
        int (*run)(void);
        /* accept4 calls a run may make: one per connection, and one that
         * finds the backlog empty per wakeup, not a fixed batch of tries */
        uint64_t max_accepts;
};

/* What a child sends back. */
struct outcome {
        int result;
        bool fired;
        unsigned unrevoked;
        long d_fds, d_maps, d_heap;
        char violation[200];
};

struct tally {
        unsigned runs, errors, successes, unfired, failures;
};

/* Totals over every scenario, for the summary table. */
#define NSCENARIOS 4
static struct tally g_totals[NSCENARIOS][NPOINTS];
static unsigned g_scenarios_done;

static void child_run(const struct scenario *sc, const struct point *p, uint64_t nth, int out)
{
        alarm(CHILD_TIMEOUT_S);
        bool trace = getenv("LSASHM_FAULTS_TRACE");
        if (trace) {
                /* The first backtrace loads libgcc: before the baseline. */
                void *frame[2];
                (void)backtrace(frame, 2);
        }
        struct outcome o = { 0 };
        long heap0 = heap_bytes(), fds0 = tu_count_fds(), maps0 = mapped_bytes();
        if (p)
                fault_fail_nth(p->fn, nth, p->err);
        else
                fault_count();
        if (trace)
                copy_maps("/tmp/lsashm-faults-maps.before");
        g_unrevoked = 0;
        o.result = sc->run();
        fault_disarm();
        o.unrevoked = g_unrevoked;
        if (trace)
                copy_maps("/tmp/lsashm-faults-maps.after");
        o.fired = fault_fired();
        o.d_heap = heap_bytes() - heap0;
        o.d_fds = tu_count_fds() - fds0;
        o.d_maps = mapped_bytes() - maps0;
        memcpy(o.violation, g_violation, sizeof(o.violation));
        _exit(tu_write_all(out, &o, sizeof(o)) ? 0 : 3);
}

/* Run sc in a child with the nth call of p failing (p NULL: none). Returns
 * NULL if all is well, else what went wrong (in why). */
static const char *run_once(const struct scenario *sc, const struct point *p, uint64_t nth, struct outcome *o,
                            char *why, size_t why_len)
{
        int pipefd[2];
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(pipefd[0]);
                child_run(sc, p, nth, pipefd[1]);
        }
        close(pipefd[1]);
        /* The child's alarm ends it: the read returns with its report or at
         * its death, and the wait cannot block for long. */
        bool got = tu_read_all(pipefd[0], o, sizeof(*o));
        close(pipefd[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        char st[96];
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !got) {
                if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
                        snprintf(why, why_len, "hung (no answer within %d s)", CHILD_TIMEOUT_S);
                else
                        snprintf(why, why_len, "child %s", tu_describe_status(status, st, sizeof(st)));
                return why;
        }
        if (o->violation[0]) {
                snprintf(why, why_len, "result %d: %s", o->result, o->violation);
                return why;
        }
        if (o->unrevoked && (!p || p->fn != FAULT_MALLOC)) {
                snprintf(why, why_len, "result %d: %u views of deleted sections were never revoked", o->result,
                         o->unrevoked);
                return why;
        }
        if (o->d_fds || o->d_maps || o->d_heap) {
                snprintf(why, why_len, "result %d, leaked %ld fds, %ld mapped bytes, %ld heap bytes", o->result,
                         o->d_fds, o->d_maps, o->d_heap);
                return why;
        }
        if (o->result > 0) {
                snprintf(why, why_len, "result %d: not 0 or -errno", o->result);
                return why;
        }
        if (p && p->must_succeed && o->result != 0) {
                snprintf(why, why_len, "an interrupted call was not retried: result %d", o->result);
                return why;
        }
        return NULL;
}

/* LSASHM_FAULTS_ONLY=SCENARIO:FUNCTION:N[:ERRNO] runs that one faulted run
 * alone (with LSASHM_FAULTS_TRACE=1, the failed call's backtrace). */
static bool selected(const struct scenario *sc, const struct point *p, uint64_t nth)
{
        const char *only = getenv("LSASHM_FAULTS_ONLY");
        if (!only || !*only)
                return true;
        char want[160], have[160];
        snprintf(want, sizeof(want), "%s", only);
        snprintf(have, sizeof(have), "%s:%s:%" PRIu64, sc->name, fault_fn_name(p->fn), nth);
        if (strncmp(want, have, strlen(have)) != 0)
                return false;
        /* an errno named after the number picks one of two points of a function */
        const char *err = want + strlen(have);
        return *err == '\0' || (*err == ':' && strcmp(err + 1, p->err_name) == 0);
}

/* Deleted sections keep their handles in a pool for the next create, so the
 * heap grows by one handle whenever more sections than ever before live at
 * once: a fault that keeps one alive a little longer does that without
 * leaking. Fill the pool beyond what any scenario holds at once. */
static void fill_section_pool(void)
{
        enum { SPARE_HANDLES = 32 };
        lsashm_section_t *s[SPARE_HANDLES];
        struct lsashm_section_config cfg = { .max_size = 4096 };
        for (unsigned i = 0; i < SPARE_HANDLES; i++)
                assert_int_equal(lsashm_section_create(&cfg, &s[i]), 0);
        for (unsigned i = 0; i < SPARE_HANDLES; i++)
                assert_int_equal(lsashm_section_delete(s[i]), 0);
}

static void run_scenario(unsigned index, const struct scenario *sc)
{
        fill_section_pool();
        /* Twice unfaulted in this process: the first run pays for what is
         * set up once per process (pools, libsodium, arenas, thread stacks),
         * so the second counts what every run makes, and children start
         * from the same state. */
        g_violation[0] = 0;
        assert_int_equal(sc->run(), 0);
        fault_count();
        int r = sc->run();
        fault_disarm();
        if (g_violation[0])
                fail_msg("%s without faults: %s", sc->name, g_violation);
        assert_int_equal(r, 0);
        uint64_t calls[FAULT_FN_COUNT];
        for (unsigned f = 0; f < FAULT_FN_COUNT; f++)
                calls[f] = fault_calls((enum fault_fn)f);
        if (calls[FAULT_ACCEPT4] > sc->max_accepts)
                fail_msg("%s: %" PRIu64 " accept4 calls for %" PRIu64 " at most", sc->name, calls[FAULT_ACCEPT4],
                         sc->max_accepts);

        /* The harness itself: an unfaulted child leaks nothing. */
        struct outcome o;
        char why[320];
        const char *bad = run_once(sc, NULL, 0, &o, why, sizeof(why));
        if (bad || o.result != 0)
                fail_msg("%s without faults in a child: %s", sc->name, bad ? bad : "failed");

        uint64_t cap = CAP_PER_POINT;
        const char *cap_env = getenv("LSASHM_FAULTS_CAP");
        if (cap_env && strtoull(cap_env, NULL, 10) > 0)
                cap = strtoull(cap_env, NULL, 10);
        unsigned failures = 0;
        for (unsigned i = 0; i < NPOINTS; i++) {
                const struct point *p = &points[i];
                uint64_t k = calls[p->fn];
                uint64_t runs = k < cap ? k : cap;
                struct tally *t = &g_totals[index][i];
                for (uint64_t j = 0; j < runs; j++) {
                        uint64_t nth = runs == k ? j + 1 : 1 + j * k / runs;
                        if (!selected(sc, p, nth))
                                continue;
                        bad = run_once(sc, p, nth, &o, why, sizeof(why));
                        t->runs++;
                        if (bad) {
                                t->failures++;
                                if (failures++ < REPORT_FAILURES)
                                        print_message("FAIL %s: call %" PRIu64 " of %" PRIu64 " of %s fails with %s: %s\n",
                                                      sc->name, nth, k, fault_fn_name(p->fn), p->err_name, bad);
                                continue;
                        }
                        if (!o.fired)
                                t->unfired++;
                        if (o.result < 0)
                                t->errors++;
                        else
                                t->successes++;
                }
        }
        print_message("%-9s %-13s %-14s %6s %6s %6s %6s %6s %5s\n", "scenario", "point", "errno", "calls", "runs",
                      "errors", "ok", "unhit", "FAIL");
        for (unsigned i = 0; i < NPOINTS; i++) {
                const struct tally *t = &g_totals[index][i];
                print_message("%-9s %-13s %-14s %6" PRIu64 " %6u %6u %6u %6u %5u\n", sc->name,
                              fault_fn_name(points[i].fn), points[i].err_name, calls[points[i].fn], t->runs,
                              t->errors, t->successes, t->unfired, t->failures);
        }
        g_scenarios_done++;
        if (failures)
                fail_msg("%s: %u faulted runs were not clean", sc->name, failures);
}

static const struct scenario scenarios[] = {
        { "sections", scenario_sections, 0 },
        { "sharing", scenario_sharing, 2 },
        { "host", scenario_host, 4 },
        { "revoke", scenario_revoke, 2 },
};

static void test_faults_sections_clean(void **state)
{
        (void)state;
        run_scenario(0, &scenarios[0]);
}

static void test_faults_sharing_clean(void **state)
{
        (void)state;
        run_scenario(1, &scenarios[1]);
}

static void test_faults_host_clean(void **state)
{
        (void)state;
        if (geteuid() != 0)
                skip(); /* LsaRegisterLogonProcess needs root */
        run_scenario(2, &scenarios[2]);
}

static void test_faults_revocations_queued_clean(void **state)
{
        (void)state;
        run_scenario(3, &scenarios[3]);
}

static int group_setup(void **state)
{
        (void)state;
        snprintf(g_dir, sizeof(g_dir), "/tmp/lsashm-test-faults-XXXXXX");
        if (!mkdtemp(g_dir))
                return -1;
        snprintf(g_share_sock, sizeof(g_share_sock), "%s/share.sock", g_dir);
        snprintf(g_host_sock, sizeof(g_host_sock), "%s/host.sock", g_dir);
        setenv("LSASHM_SOCKET", g_host_sock, 1);
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        /* points × runs over every scenario */
        unsigned runs = 0, errors = 0, ok = 0, failures = 0;
        print_message("%-13s %-14s %6s %6s %6s %5s   (all scenarios)\n", "point", "errno", "runs", "errors", "ok",
                      "FAIL");
        for (unsigned i = 0; i < NPOINTS; i++) {
                struct tally sum = { 0 };
                for (unsigned s = 0; s < NSCENARIOS; s++) {
                        sum.runs += g_totals[s][i].runs;
                        sum.errors += g_totals[s][i].errors;
                        sum.successes += g_totals[s][i].successes;
                        sum.failures += g_totals[s][i].failures;
                }
                print_message("%-13s %-14s %6u %6u %6u %5u\n", fault_fn_name(points[i].fn), points[i].err_name,
                              sum.runs, sum.errors, sum.successes, sum.failures);
                runs += sum.runs;
                errors += sum.errors;
                ok += sum.successes;
                failures += sum.failures;
        }
        print_message("%u points x %u scenarios: %u faulted runs, %u clean errors, %u successes, %u not clean\n",
                      (unsigned)NPOINTS, g_scenarios_done, runs, errors, ok, failures);
        unlink(g_share_sock);
        unlink(g_host_sock);
        rmdir(g_dir);
        return 0;
}

int main(int argc, char **argv)
{
        (void)argc;
        (void)argv;
#ifndef FAULTS_ASAN
        /* A chunk freed into glibc's per-thread cache still counts as in use
         * in mallinfo2: without the cache, the heap figure is exact. And one
         * arena: the host's worker threads would otherwise each get an arena
         * of their own (a 64 MiB reservation, kept for the next thread) on
         * their first malloc, as many as happened to contend in that run. */
        if (!getenv("LSASHM_FAULTS_TCACHE_OFF")) {
                setenv("LSASHM_FAULTS_TCACHE_OFF", "1", 1);
                setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0:glibc.malloc.arena_max=1", 1);
                execv("/proc/self/exe", argv);
                perror("re-executing with the malloc cache off");
                return 1;
        }
#endif
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_faults_sections_clean),
                cmocka_unit_test(test_faults_sharing_clean),
                cmocka_unit_test(test_faults_host_clean),
                cmocka_unit_test(test_faults_revocations_queued_clean),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
