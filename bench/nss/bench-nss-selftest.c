/* SPDX-License-Identifier: MIT */
/*
 * bench-nss selftest, run by ctest: the benchmark's figures mean something
 * only if the data is what the report says (10,000 users, 2,000 groups of
 * 50 on average), the files parse as passwd(5)/group(5), libnss-cache's
 * indexes are sorted and point at their lines, and the floor module answers
 * through glibc's dispatch (LD_LIBRARY_PATH must reach libnss_floor.so.2).
 */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench-nss.h"

static int failures;

#define CHECK(cond, ...)                                                          \
        do {                                                                      \
                if (!(cond)) {                                                    \
                        fprintf(stderr, "selftest: %s:%d: ", __FILE__, __LINE__); \
                        fprintf(stderr, __VA_ARGS__);                             \
                        fputc('\n', stderr);                                      \
                        failures++;                                               \
                }                                                                 \
        } while (0)

static void check_data(const struct nssb_data *d)
{
        uint64_t members = 0, memberships = 0;
        for (uint32_t j = 0; j < NSSB_GROUPS; j++) {
                CHECK(d->nmembers[j] >= NSSB_MEMBERS_MIN && d->nmembers[j] <= NSSB_MEMBERS_MAX, "group %u has %u", j,
                      d->nmembers[j]);
                const uint32_t *m = d->member_pool + d->member_offset[j];
                for (uint32_t k = 1; k < d->nmembers[j]; k++)
                        CHECK(m[k - 1] < m[k], "group %u members not sorted and distinct", j);
                members += d->nmembers[j];
        }
        for (uint32_t i = 0; i < NSSB_USERS; i++)
                memberships += d->ngroups[i] - 1u;
        double avg = (double)members / NSSB_GROUPS;
        CHECK(avg > 48 && avg < 52, "average group size %.2f, want about 50", avg);
        /* Every membership counts once, except where it is the primary group. */
        CHECK(memberships <= members && memberships > members * 9 / 10, "memberships %llu of %llu",
              (unsigned long long)memberships, (unsigned long long)members);
        CHECK(NSSB_FLOOR_GROUPS == 10, "floor groups %u", NSSB_FLOOR_GROUPS);
}

static void check_files(const struct nssb_data *d, const char *dir)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/passwd", dir);
        CHECK(nssb_write_passwd(d, path, 3) == 0, "write %s", path);
        FILE *f = fopen(path, "re");
        CHECK(f, "open %s", path);
        if (!f)
                return;
        unsigned users = 0;
        struct passwd *pw;
        while ((pw = fgetpwent(f))) {
                if (pw->pw_uid == 0)
                        continue;
                uint32_t i = pw->pw_uid - NSSB_FIRST_UID;
                char name[16];
                nssb_user_name(i, name);
                CHECK(i < NSSB_USERS && strcmp(pw->pw_name, name) == 0, "user %s uid %u", pw->pw_name, pw->pw_uid);
                if (i < NSSB_USERS)
                        CHECK(pw->pw_gid == NSSB_FIRST_GID + d->primary_group[i], "user %s gid", pw->pw_name);
                if (i == NSSB_CHANGED_USER)
                        CHECK(strcmp(pw->pw_gecos, "User 04242 v3") == 0, "changed user's gecos '%s'", pw->pw_gecos);
                users++;
        }
        fclose(f);
        CHECK(users == NSSB_USERS, "%u users", users);

        snprintf(path, sizeof(path), "%s/group", dir);
        CHECK(nssb_write_group(d, path) == 0, "write %s", path);
        f = fopen(path, "re");
        CHECK(f, "open %s", path);
        if (!f)
                return;
        unsigned groups = 0;
        struct group *gr;
        while ((gr = fgetgrent(f))) {
                if (gr->gr_gid == 0)
                        continue;
                uint32_t j = gr->gr_gid - NSSB_FIRST_GID, n = 0;
                while (gr->gr_mem[n])
                        n++;
                CHECK(j < NSSB_GROUPS && n == d->nmembers[j], "group %s has %u members", gr->gr_name, n);
                groups++;
        }
        fclose(f);
        CHECK(groups == NSSB_GROUPS, "%u groups", groups);
}

/* Every index line has one width, the keys ascend by strcmp, and each
 * offset is the start of a line of the table whose first field is the key
 * (name indexes) or whose third field is (id indexes). */
static void check_index(const char *dir, const char *table, const char *suffix, int field)
{
        char tpath[4096], ipath[4200];
        snprintf(tpath, sizeof(tpath), "%s/%s", dir, table);
        snprintf(ipath, sizeof(ipath), "%s/%s%s", dir, table, suffix);
        FILE *t = fopen(tpath, "re"), *ix = fopen(ipath, "re");
        CHECK(t && ix, "open %s and %s", tpath, ipath);
        struct stat st_t, st_i;
        if (t && ix && fstat(fileno(t), &st_t) == 0 && fstat(fileno(ix), &st_i) == 0)
                CHECK(st_i.st_mtime >= st_t.st_mtime, "%s older than its table", ipath);
        char line[256], prev[64] = "", row[1024];
        long width = -1;
        unsigned n = 0;
        while (t && ix && fgets(line, sizeof(line), ix)) {
                long w = ftell(ix) / (long)(n + 1);
                if (width < 0)
                        width = w;
                CHECK(w == width, "%s: line %u width", ipath, n);
                const char *key = line, *off = line + strlen(line) + 1;
                CHECK(strcmp(prev, key) < 0, "%s: '%s' after '%s'", ipath, key, prev);
                snprintf(prev, sizeof(prev), "%s", key);
                long pos = strtol(off, NULL, 10);
                CHECK(fseek(t, pos, SEEK_SET) == 0 && fgets(row, sizeof(row), t), "%s: offset %ld", ipath, pos);
                const char *p = row;
                for (int k = 0; k < field; k++)
                        p = strchr(p, ':') ? strchr(p, ':') + 1 : "";
                CHECK(strncmp(p, key, strlen(key)) == 0 && p[strlen(key)] == ':', "%s: '%s' points at '%.40s'", ipath,
                      key, row);
                n++;
        }
        CHECK(n > 0, "%s is empty", ipath);
        if (t)
                fclose(t);
        if (ix)
                fclose(ix);
}

static void check_floor(void)
{
        CHECK(__nss_configure_lookup("passwd", "floor") == 0, "configure passwd");
        CHECK(__nss_configure_lookup("group", "floor") == 0, "configure group");
        CHECK(__nss_configure_lookup("initgroups", "floor") == 0, "configure initgroups");
        char buf[1024];
        struct passwd pw, *res = NULL;
        int rc = getpwnam_r("user00001", &pw, buf, sizeof(buf), &res);
        CHECK(rc == 0 && res && strcmp(pw.pw_name, "user00000") == 0,
              "floor getpwnam_r: rc %d found %d (is libnss_floor.so.2 on LD_LIBRARY_PATH?)", rc, res != NULL);
        res = NULL;
        rc = getpwuid_r(NSSB_FIRST_UID + 5, &pw, buf, sizeof(buf), &res);
        CHECK(rc == 0 && res && pw.pw_uid == NSSB_FIRST_UID + 5, "floor getpwuid_r: rc %d", rc);
        res = &pw;
        rc = getpwnam_r(NSSB_MISS_PREFIX "00001", &pw, buf, sizeof(buf), &res);
        CHECK(rc == 0 && !res, "floor miss: rc %d", rc);
        res = &pw;
        rc = getpwuid_r(NSSB_FIRST_UID, &pw, buf, 8, &res);
        CHECK(rc == ERANGE && !res, "floor small buffer: rc %d", rc);
        struct group gr, *gres = NULL;
        rc = getgrgid_r(NSSB_FIRST_GID + 3, &gr, buf, sizeof(buf), &gres);
        CHECK(rc == 0 && gres && gr.gr_mem[0] && !gr.gr_mem[1], "floor getgrgid_r: rc %d", rc);
        gid_t groups[4];
        int n = 4;
        /* Fewer slots than groups: glibc must grow the array through the
         * module's realloc and report the full count. */
        rc = getgrouplist("user00001", NSSB_FIRST_GID, groups, &n);
        CHECK(rc == -1 && n == (int)NSSB_FLOOR_GROUPS + 1, "floor getgrouplist small: rc %d n %d", rc, n);
        gid_t many[64];
        n = 64;
        rc = getgrouplist("user00001", NSSB_FIRST_GID, many, &n);
        CHECK(rc == (int)NSSB_FLOOR_GROUPS + 1 && n == rc, "floor getgrouplist: rc %d n %d", rc, n);
}

int nssb_selftest(const struct nssb_data *d)
{
        char dir[] = "/tmp/bench-nss-selftest.XXXXXX";
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        check_data(d);
        check_files(d, dir);
        CHECK(nssb_write_nsscache(d, dir, 0) == 0, "write libnss-cache files");
        check_index(dir, "passwd.cache", ".ixname", 0);
        check_index(dir, "passwd.cache", ".ixuid", 2);
        check_index(dir, "group.cache", ".ixname", 0);
        check_index(dir, "group.cache", ".ixgid", 2);
        check_floor();

        static const char *const names[] = { "passwd",
                                             "group",
                                             "passwd.cache",
                                             "passwd.cache.ixname",
                                             "passwd.cache.ixuid",
                                             "group.cache",
                                             "group.cache.ixname",
                                             "group.cache.ixgid" };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                unlink(path);
        }
        rmdir(dir);
        if (failures) {
                fprintf(stderr, "selftest: %d checks failed\n", failures);
                return 1;
        }
        printf("selftest: ok\n");
        return 0;
}
