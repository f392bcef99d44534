/* SPDX-License-Identifier: MIT */
/*
 * One generation of the cache (cache.h): sources -> table in a new frozen
 * section, shared read-only with every client -> announced in the epoch.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "nsscache/nsscache-build.h"
#include "nsscache/nsscache-read.h"

void nsscache_log(const char *fmt, ...)
{
        char line[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        fprintf(stderr, "lsashm-nsscache: %s\n", line);
}

uint64_t nsscache_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void log_malformed(void *ctx, const char *path, size_t line, const char *reason)
{
        (void)ctx;
        if (line)
                nsscache_log("%s:%zu: line skipped: %s", path, line, reason);
        else
                nsscache_log("%s: %s", path, reason);
}

/* The builder's input, pointing into the parsed sources. */
struct build_arrays {
        struct nsscache_user_in *users;
        struct nsscache_group_in *groups;
        const char **members;
};

static int arrays_make(const struct nss_sources *s, struct build_arrays *a)
{
        if (s->nusers > NSSCACHE_MAX_RECORDS || s->ngroups > NSSCACHE_MAX_RECORDS)
                return -E2BIG;
        a->users = calloc(s->nusers ? s->nusers : 1, sizeof(*a->users));
        a->groups = calloc(s->ngroups ? s->ngroups : 1, sizeof(*a->groups));
        if (!a->users || !a->groups)
                return -ENOMEM;
        for (size_t i = 0; i < s->nusers; i++) {
                const struct nss_source_user *u = &s->users[i];
                a->users[i] = (struct nsscache_user_in){ .name = u->name,
                                                         .uid = u->uid,
                                                         .gid = u->gid,
                                                         .gecos = u->gecos,
                                                         .dir = u->dir,
                                                         .shell = u->shell };
        }
        for (size_t i = 0; i < s->ngroups; i++) {
                const struct nss_source_group *g = &s->groups[i];
                if (g->nmembers > UINT32_MAX)
                        return -E2BIG;
                a->groups[i] = (struct nsscache_group_in){ .name = g->name,
                                                           .gid = g->gid,
                                                           .members = s->members + g->first_member,
                                                           .n_members = (uint32_t)g->nmembers };
        }
        return 0;
}

static void arrays_free(struct build_arrays *a)
{
        free(a->users);
        free(a->groups);
}

static int tables_reserve(struct nsscache *c)
{
        if (c->ntables < c->cap_tables)
                return 0;
        unsigned ncap = c->cap_tables ? c->cap_tables * 2 : 8;
        struct nsscache_table *t = realloc(c->tables, ncap * sizeof(*t));
        if (!t)
                return -ENOMEM;
        c->tables = t;
        c->cap_tables = ncap;
        return 0;
}

/* The image into a new section of exactly its size (whole pages), frozen
 * and shared read-only. */
static int table_make(struct nsscache *c, const struct nsscache_image *img, struct nsscache_table *ret,
                      uint64_t *ret_bytes)
{
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t need = nsscache_image_size(img);
        size_t size = (need + page - 1) / page * page;
        if (size > UINT32_MAX || size > NSSCACHE_MAX_SIZE)
                return -E2BIG;
        PVOID section = c->lsa->CreateSharedMemory((ULONG)size, (ULONG)size);
        if (!section)
                return -ENOMEM;
        int r = -ENOMEM;
        /* Blocks are carved from the section's start; the one block of the
         * whole section is the section. */
        PVOID mem = c->lsa->AllocateSharedMemory(section, (ULONG)size);
        if (!mem)
                goto fail;
        r = -EFAULT;
        if (mem != section)
                goto fail;
        r = nsscache_image_write(img, mem, size);
        if (r < 0)
                goto fail;
        /* Clients validate what they map; that every record can also be
         * found (each key within its probe limit) only a writer's bug could
         * break, and only the writer pays a hash per key to check it. */
        struct nsscache_view view;
        r = nsscache_validate(mem, size, &view);
        if (r == 0)
                r = nsscache_check_reachable(&view);
        if (r < 0) {
                nsscache_log("the table built fails its own check: %s", strerror(-r));
                goto fail;
        }
        r = -EIO;
        NTSTATUS st = LsashmFreezeSection(section);
        if (!NT_SUCCESS(st)) {
                nsscache_log("cannot freeze the table: 0x%08X", (unsigned)st);
                goto fail;
        }
        ULONGLONG id = LsashmSectionId(section);
        st = id ? LsashmShareSection(section, LSASHM_SHARE_READ) : STATUS_NOT_FOUND;
        if (!NT_SUCCESS(st)) {
                nsscache_log("cannot share the table: 0x%08X", (unsigned)st);
                goto fail;
        }
        *ret = (struct nsscache_table){ .section = section, .id = id };
        *ret_bytes = size;
        return 0;
fail:
        c->lsa->DeleteSharedMemory(section);
        return r;
}

static void status_update_locked(struct nsscache *c)
{
        char text[NSSCACHE_STATUS_MAX];
        const NSSCACHE_STATS_RESPONSE *s = &c->stats;
        time_t t = (time_t)s->LastReloadTime;
        struct tm tm;
        char when[32] = "never";
        if (t && gmtime_r(&t, &tm))
                strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        int n = snprintf(text, sizeof(text),
                         "generation %" PRIu64 ", %" PRIu64 " users, %" PRIu64 " groups, %" PRIu64 " bytes, %" PRIu64
                         " skipped lines, last reload %s, %" PRIu64 " failed reloads; sources:",
                         (uint64_t)s->Generation, (uint64_t)s->Users, (uint64_t)s->Groups, (uint64_t)s->TableBytes,
                         (uint64_t)s->SkippedLines, when, (uint64_t)s->FailedReloads);
        for (unsigned i = 0; i < c->conf.nsources && n > 0 && (size_t)n < sizeof(text); i++)
                n += snprintf(text + n, sizeof(text) - (size_t)n, " %s", c->conf.sources[i].path);
        /* Paths are the administrator's: anything but printable ASCII is
         * shown as '?' (the host refuses control bytes). */
        for (char *p = text; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                        *p = '?';
        LsashmSetPackageStatus(c->package_id, text);
}

int nsscache_publish_locked(struct nsscache *c)
{
        struct nss_sources src = { .log = log_malformed };
        struct build_arrays a = { 0 };
        struct nsscache_image *img = NULL;
        int r = 0;

        c->stats.Sources = c->conf.nsources; /* the configuration in use, published or not */
        for (unsigned i = 0; i < c->conf.nsources && r == 0; i++) {
                r = nss_source_load(&src, c->conf.sources[i].path, c->conf.sources[i].kind);
                if (r < 0)
                        nsscache_log("%s: %s: the previous generation is kept", c->conf.sources[i].path, strerror(-r));
        }
        if (r == 0)
                r = arrays_make(&src, &a);
        struct nsscache_build_input in = {
                .users = a.users,
                .n_users = (uint32_t)src.nusers,
                .groups = a.groups,
                .n_groups = (uint32_t)src.ngroups,
                .generation = c->stats.Generation + 1,
        };
        if (r == 0 && getrandom(in.seed, sizeof(in.seed), 0) != (ssize_t)sizeof(in.seed))
                r = -EIO;
        if (r == 0)
                r = nsscache_image_plan(&in, &img);
        if (r == 0)
                r = tables_reserve(c);
        struct nsscache_table t;
        uint64_t bytes = 0;
        if (r == 0)
                r = table_make(c, img, &t, &bytes);
        if (r < 0) {
                c->stats.FailedReloads++;
                nsscache_log("reload failed: %s", strerror(-r));
                goto out;
        }

        t.generation = in.generation;
        uint64_t now = nsscache_now_ms();
        if (c->ntables)
                c->tables[c->ntables - 1].replaced_ms = now;
        c->tables[c->ntables++] = t;
        /* Readers load Generation (acquire), then TableSectionId: the id
         * must be in place before the generation that names it. */
        __atomic_store_n(&c->epoch->TableSectionId, t.id, __ATOMIC_RELAXED);
        __atomic_store_n(&c->epoch->Generation, t.generation, __ATOMIC_RELEASE);

        c->stats.Generation = t.generation;
        c->stats.Users = src.nusers;
        c->stats.Groups = src.ngroups;
        c->stats.TableBytes = bytes;
        c->stats.SkippedLines = src.skipped;
        c->stats.LastReloadTime = (ULONGLONG)time(NULL);
        c->stats.Reloads++;
        nsscache_log("generation %" PRIu64 " published: %zu users, %zu groups, %" PRIu64 " bytes, %" PRIu64
                     " malformed lines skipped",
                     t.generation, src.nusers, src.ngroups, bytes, src.skipped);
        nsscache_retire_locked(c, now);
out:
        status_update_locked(c);
        nsscache_image_free(img);
        arrays_free(&a);
        nss_sources_clear(&src);
        return r;
}

bool nsscache_retire_locked(struct nsscache *c, uint64_t now_ms)
{
        bool waiting = false;
        unsigned keep = 0;
        for (unsigned i = 0; i < c->ntables; i++) {
                struct nsscache_table *t = &c->tables[i];
                bool old = t->replaced_ms && c->stats.Generation >= t->generation + NSSCACHE_RETIRE_GENERATIONS &&
                        now_ms - t->replaced_ms >= NSSCACHE_RETIRE_MS;
                if (old) {
                        c->lsa->DeleteSharedMemory(t->section);
                        continue;
                }
                if (t->replaced_ms)
                        waiting = true;
                c->tables[keep++] = *t;
        }
        c->ntables = keep;
        return waiting;
}

void nsscache_tables_clear_locked(struct nsscache *c)
{
        for (unsigned i = 0; i < c->ntables; i++)
                c->lsa->DeleteSharedMemory(c->tables[i].section);
        free(c->tables);
        c->tables = NULL;
        c->ntables = c->cap_tables = 0;
}
