/* SPDX-License-Identifier: MIT */
/*
 * The admin status report (`lsashm status`): packages, sections and
 * connections, as text for people or JSON for scripts. It is written into a
 * sealed memfd handed to the admin client, so its size is not bounded by a
 * packet. `lsashm sessions` is a report of the same kind.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "host/host-internal.h"

static const char *mode_name(int mode)
{
        return mode == LSA_WIRE_MODE_LOGON ? "logon" : mode == LSA_WIRE_MODE_ADMIN ? "admin" : "untrusted";
}

/* A JSON string: names and paths come from packages and clients. */
static void json_str(FILE *f, const char *s)
{
        fputc('"', f);
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;
                if (ch == '"' || ch == '\\')
                        fprintf(f, "\\%c", ch);
                else if (ch < 0x20 || ch >= 0x7f)
                        fprintf(f, "\\u%04x", ch); /* bytes, not UTF-8: always valid JSON */
                else
                        fputc(ch, f);
        }
        fputc('"', f);
}

/* Text fields, padded to width: anything but printable ASCII shown as '?',
 * so a logon process's chosen name cannot forge report lines or send
 * control sequences (C1, bidi overrides) to the administrator's terminal. */
static void text_str(FILE *f, const char *s, int width)
{
        int n = 0;
        if (!*s) {
                fputc('-', f);
                n = 1;
        }
        for (; *s; s++, n++) {
                unsigned char ch = (unsigned char)*s;
                fputc(ch < 0x21 || ch >= 0x7f ? '?' : ch, f);
        }
        for (; n < width; n++)
                fputc(' ', f);
}

static const char *owner_name(const struct host_section *s)
{
        return s->owner ? s->owner->name : "";
}

/* FreeLsaHeap/FreePrivateHeap calls refused: package threads count them
 * while we read. */
static uint64_t refused_frees(const struct host_package *p)
{
        return __atomic_load_n(&p->heap_refused_frees, __ATOMIC_RELAXED);
}

/* ---- the daemon: version, uptime, configuration, limits ---- */

static uint64_t uptime_s(const struct host *h)
{
        struct timespec now;
        clock_gettime(CLOCK_BOOTTIME, &now);
        return now.tv_sec > h->started.tv_sec ? (uint64_t)(now.tv_sec - h->started.tv_sec) : 0;
}

static void daemon_json(struct host *h, FILE *f)
{
        fprintf(f, "\"daemon\":{\"version\":");
        json_str(f, LSASHM_VERSION);
        fprintf(f, ",\"pid\":%d,\"uptime_s\":%" PRIu64 ",\"config\":", (int)getpid(), uptime_s(h));
        if (h->cfg.config_path)
                json_str(f, h->cfg.config_path);
        else
                fputs("null", f);
        fprintf(f, ",\"limits\":{\"max_connections\":%u,\"max_connections_per_uid\":%u,"
                   "\"reserved_connections\":%u,\"reply_max\":%" PRIu64 ",\"worker_threads\":%u,"
                   "\"max_submit_size\":%u}},",
                h->cfg.max_connections, h->cfg.max_connections_per_uid, h->cfg.reserved_connections,
                h->cfg.reply_max, h->cfg.worker_threads, h->cfg.max_submit);
}

static void daemon_text(struct host *h, FILE *f)
{
        uint64_t up = uptime_s(h);
        fprintf(f, "lsashmd %s, pid %d, up %" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 "\n", LSASHM_VERSION,
                (int)getpid(), up / 86400, up / 3600 % 24, up / 60 % 60, up % 60);
        fputs("Configuration: ", f);
        text_str(f, h->cfg.config_path ? h->cfg.config_path : "", 0);
        fprintf(f, "\nLimits: max-connections %u, max-connections-per-uid %u, reserved-connections %u, "
                   "reply-max %" PRIu64 ", worker-threads %u, max-submit-size %u\n\n",
                h->cfg.max_connections, h->cfg.max_connections_per_uid, h->cfg.reserved_connections,
                h->cfg.reply_max, h->cfg.worker_threads, h->cfg.max_submit);
}

/* Counters the workers bump while we read. */
static uint64_t counter(const uint64_t *n)
{
        return __atomic_load_n(n, __ATOMIC_RELAXED);
}

/* A connection's figures: a worker may be changing its buffers (under the
 * connection's lock). Returns its calls. */
static uint64_t conn_figures(struct host *h, struct host_conn *c, unsigned *ret_buffers,
                             struct lsashm_section_stats *ret, unsigned *ret_maps)
{
        pthread_mutex_lock(&c->lock);
        *ret_buffers = c->nbuffers;
        if (c->reply)
                lsashm_section_stats(c->reply, ret);
        pthread_mutex_unlock(&c->lock);
        /* Its mapping table: the worker serving it changes it under this. */
        pthread_mutex_lock(&h->sections_lock);
        *ret_maps = c->nmaps;
        pthread_mutex_unlock(&h->sections_lock);
        return counter(&c->calls);
}

static void report_json(struct host *h, FILE *f)
{
        fputc('{', f);
        daemon_json(h, f);
        fprintf(f, "\"packages\":[");
        for (unsigned i = 0; i < h->npackages; i++) {
                const struct host_package *p = h->packages[i];
                fprintf(f, "%s{\"id\":%u,\"name\":", i ? "," : "", p->id);
                json_str(f, p->name);
                fprintf(f, ",\"version\":%u,\"path\":", (unsigned)p->version);
                json_str(f, p->path);
                fprintf(f, ",\"calls\":%" PRIu64 ",\"failed_calls\":%" PRIu64 ",\"heap_refused_frees\":%" PRIu64,
                        counter(&p->calls), counter(&p->failed_calls), refused_frees(p));
                char status[LSASHM_MAX_PACKAGE_STATUS + 1];
                if (host_package_status_get(p->id, status, sizeof(status))) {
                        fprintf(f, ",\"status\":");
                        json_str(f, status);
                }
                fputc('}', f);
        }
        fprintf(f, "],\"sections\":[");
        pthread_mutex_lock(&h->sections_lock);
        bool first = true;
        for (const struct host_section *s = h->sections; s; s = s->next) {
                struct lsashm_section_stats st;
                if (host_section_stats(s, &st) < 0)
                        continue;
                /* Ids as the hex strings clients print: a 64-bit number is
                 * more than a JSON reader's double can hold exactly. */
                fprintf(f, "%s{\"id\":\"%016" PRIX64 "\",\"package\":", first ? "" : ",", s->id);
                json_str(f, owner_name(s));
                fprintf(f, ",\"max\":%" PRIu64 ",\"committed\":%" PRIu64 ",\"in_use\":%" PRIu64
                           ",\"live_blocks\":%" PRIu64 ",\"clients_mapping\":%u,\"shared\":\"%s\"}",
                        s->max_size, st.committed, st.in_use, st.live_blocks, s->mappings,
                        s->share == LSASHM_SHARE_READ_WRITE ? "read-write"
                        : s->share == LSASHM_SHARE_READ    ? "read"
                                                           : "creator");
                first = false;
        }
        pthread_mutex_unlock(&h->sections_lock);
        fprintf(f, "],\"connections\":[");
        first = true;
        for (struct conn_peer *p = h->cs.peers; p; p = p->next) {
                struct host_conn *c = (struct host_conn *)p;
                struct lsashm_section_stats st = { 0 };
                unsigned nbuffers;
                unsigned nmaps;
                uint64_t calls = conn_figures(h, c, &nbuffers, &st, &nmaps);
                fprintf(f, "%s{\"id\":%" PRIu64 ",\"pid\":%d,\"uid\":%u,\"mode\":\"%s\",\"name\":",
                        first ? "" : ",", c->serial, (int)p->pid, (unsigned)p->uid,
                        p->handshaken ? mode_name(c->mode) : "connecting");
                json_str(f, c->name);
                fprintf(f, ",\"calls\":%" PRIu64 ",\"client_buffers\":%u,\"reply_committed\":%" PRIu64
                           ",\"reply_in_use\":%" PRIu64 ",\"sections_mapped\":%u}",
                        calls, nbuffers, st.committed, st.in_use, nmaps);
                first = false;
        }
        struct host_heap_stats hs;
        host_heap_stats(&hs);
        fprintf(f, "],\"totals\":{\"calls\":%" PRIu64 ",\"connections\":%u,\"dropped\":%" PRIu64
                   ",\"logon_sessions\":%zu,\"heap_refused_frees\":%" PRIu64 "}}\n",
                counter(&h->calls), h->cs.n, h->cs.dropped, host_sessions_count(), hs.refused_frees);
}

static void report_text(struct host *h, FILE *f)
{
        daemon_text(h, f);
        fprintf(f, "Packages: %u\n", h->npackages);
        if (h->npackages)
                fprintf(f, "  %-4s %-24s %-10s %10s %8s %10s  %s\n", "ID", "NAME", "VERSION", "CALLS", "FAILED",
                        "BAD FREES", "PATH");
        for (unsigned i = 0; i < h->npackages; i++) {
                const struct host_package *p = h->packages[i];
                fprintf(f, "  %-4u ", p->id);
                text_str(f, p->name, 24);
                fprintf(f, " 0x%08X %10" PRIu64 " %8" PRIu64 " %10" PRIu64 "  ", (unsigned)p->version,
                        counter(&p->calls), counter(&p->failed_calls), refused_frees(p));
                text_str(f, p->path, 0);
                fputc('\n', f);
        }
        /* Status lines are printable ASCII (LsashmSetPackageStatus checks). */
        for (unsigned i = 0; i < h->npackages; i++) {
                char status[LSASHM_MAX_PACKAGE_STATUS + 1];
                if (host_package_status_get(h->packages[i]->id, status, sizeof(status))) {
                        fputs("  ", f);
                        text_str(f, h->packages[i]->name, 0);
                        fprintf(f, ": %s\n", status);
                }
        }
        pthread_mutex_lock(&h->sections_lock);
        fprintf(f, "\nSections: %u\n", h->nsections);
        if (h->nsections)
                fprintf(f, "  %-16s %-20s %12s %12s %12s %8s %8s  %s\n", "ID", "PACKAGE", "MAX", "COMMITTED",
                        "IN USE", "BLOCKS", "CLIENTS", "SHARED");
        for (const struct host_section *s = h->sections; s; s = s->next) {
                struct lsashm_section_stats st;
                if (host_section_stats(s, &st) < 0)
                        continue;
                fprintf(f, "  %016" PRIX64 " ", s->id);
                text_str(f, s->owner ? s->owner->name : "", 20);
                fprintf(f, " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %8" PRIu64 " %8u  %s\n",
                        s->max_size, st.committed, st.in_use, st.live_blocks, s->mappings,
                        s->share == LSASHM_SHARE_READ_WRITE ? "read-write"
                        : s->share == LSASHM_SHARE_READ    ? "read"
                                                           : "creator");
        }
        pthread_mutex_unlock(&h->sections_lock);
        fprintf(f, "\nConnections: %u\n", h->cs.n);
        if (h->cs.n)
                fprintf(f, "  %-6s %-8s %-6s %-10s %-20s %8s %8s %12s %12s\n", "ID", "PID", "UID", "MODE",
                        "NAME", "CALLS", "BUFFERS", "REPLY COMM", "REPLY USED");
        for (struct conn_peer *p = h->cs.peers; p; p = p->next) {
                struct host_conn *c = (struct host_conn *)p;
                struct lsashm_section_stats st = { 0 };
                unsigned nbuffers;
                unsigned nmaps;
                uint64_t calls = conn_figures(h, c, &nbuffers, &st, &nmaps);
                fprintf(f, "  %-6" PRIu64 " %-8d %-6u %-10s ", c->serial, (int)p->pid, (unsigned)p->uid,
                        p->handshaken ? mode_name(c->mode) : "connecting");
                text_str(f, c->name, 20);
                fprintf(f, " %8" PRIu64 " %8u %12" PRIu64 " %12" PRIu64 "\n", calls, nbuffers,
                        st.committed, st.in_use);
        }
        struct host_heap_stats hs;
        host_heap_stats(&hs);
        fprintf(f, "\nLogon sessions: %zu\n", host_sessions_count());
        fprintf(f, "\nCalls served: %" PRIu64 ", clients dropped: %" PRIu64 ", heap frees refused: %" PRIu64 "\n",
                counter(&h->calls), h->cs.dropped, hs.refused_frees);
}

static const char *logon_type_name(uint32_t t)
{
        static const char *const names[] = { "-",       "-",       "Interactive", "Network", "Batch",
                                             "Service", "Proxy",   "Unlock",      "NetworkCleartext",
                                             "NewCredentials",     "RemoteInteractive",   "CachedInteractive",
                                             "CachedRemoteInteractive", "CachedUnlock" };
        return t < sizeof(names) / sizeof(names[0]) ? names[t] : "-";
}

static void utc_time(int64_t t, char *buf, size_t cap)
{
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(buf, cap, "-");
}

/* The sessions no logon has finished with yet (a package's own, or one in
 * the middle of its logon) are listed too, as "pending". */
static void sessions_text(FILE *f, const struct host_session_view *v, size_t n)
{
        fprintf(f, "Logon sessions: %zu\n", n);
        if (n)
                fprintf(f, "  %-17s %-20s %-24s %-18s %-20s %-10s %s\n", "LOGON ID", "PACKAGE", "USER",
                        "LOGON TYPE", "SINCE", "UID", "TOKENS");
        for (size_t i = 0; i < n; i++) {
                char when[32], uid[16];
                utc_time(v[i].start, when, sizeof(when));
                snprintf(uid, sizeof(uid), v[i].uid >= 0 ? "%" PRId64 : "-", v[i].uid);
                fprintf(f, "  %08X:%08X ", (unsigned)v[i].logon_id.HighPart, (unsigned)v[i].logon_id.LowPart);
                if (!v[i].established) {
                        fprintf(f, "%-20s %-24s %-18s %-20s %-10s %u\n", "(pending)", "-", "-", "-", "-", 0u);
                        continue;
                }
                text_str(f, v[i].package, 20);
                fputc(' ', f);
                char user[260];
                snprintf(user, sizeof(user), "%s%s%s", v[i].domain, v[i].domain[0] ? "\\" : "", v[i].user);
                text_str(f, user, 24);
                fprintf(f, " %-18s %-20s %-10s %u\n", logon_type_name(v[i].logon_type), when, uid, v[i].tokens);
        }
}

static void sessions_json(FILE *f, const struct host_session_view *v, size_t n)
{
        fprintf(f, "{\"logon_sessions\":[");
        for (size_t i = 0; i < n; i++) {
                char when[32], id[20];
                utc_time(v[i].start, when, sizeof(when));
                snprintf(id, sizeof(id), "%08X:%08X", (unsigned)v[i].logon_id.HighPart,
                         (unsigned)v[i].logon_id.LowPart);
                fprintf(f, "%s{\"logon_id\":\"%s\",\"established\":%s", i ? "," : "", id,
                        v[i].established ? "true" : "false");
                if (v[i].established) {
                        fprintf(f, ",\"package\":");
                        json_str(f, v[i].package);
                        fprintf(f, ",\"user\":");
                        json_str(f, v[i].user);
                        fprintf(f, ",\"domain\":");
                        json_str(f, v[i].domain);
                        fprintf(f, ",\"logon_type\":\"%s\",\"since\":\"%s\",\"tokens\":%u",
                                logon_type_name(v[i].logon_type), when, v[i].tokens);
                        if (v[i].uid >= 0)
                                fprintf(f, ",\"uid\":%" PRId64, v[i].uid);
                        else
                                fprintf(f, ",\"uid\":null");
                }
                fputc('}', f);
        }
        fprintf(f, "]}\n");
}

static int report_memfd(char *text, size_t len, int *ret_fd, uint64_t *ret_len);

int host_report(struct host *h, int json, int *ret_fd, uint64_t *ret_len)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        if (json)
                report_json(h, f);
        else
                report_text(h, f);
        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        return report_memfd(text, len, ret_fd, ret_len);
}

int host_report_sessions(struct host *h, int json, int *ret_fd, uint64_t *ret_len)
{
        (void)h;
        struct host_session_view *v;
        size_t n;
        if (host_sessions_snapshot(&v, &n) < 0)
                return -ENOMEM;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f) {
                free(v);
                return -ENOMEM;
        }
        if (json)
                sessions_json(f, v, n);
        else
                sessions_text(f, v, n);
        free(v);
        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        return report_memfd(text, len, ret_fd, ret_len);
}

/* The report into a new sealed memfd; text is freed. */
static int report_memfd(char *text, size_t len, int *ret_fd, uint64_t *ret_len)
{
        int fd = memfd_create("lsashm-status", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        int r = 0;
        if (fd < 0) {
                r = -errno;
        } else {
                for (size_t off = 0; off < len && r == 0;) {
                        ssize_t n = write(fd, text + off, len - off);
                        if (n < 0 && errno != EINTR)
                                r = -errno;
                        else if (n > 0)
                                off += (size_t)n;
                }
                if (r == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                        r = -errno;
                if (r < 0)
                        close(fd);
        }
        free(text);
        if (r < 0)
                return r;
        *ret_fd = fd;
        *ret_len = len;
        return 0;
}
