/* SPDX-License-Identifier: MIT */
/*
 * The cache package's source and configuration parsers
 * (packages/nsscache/source.c, conf.c) on any bytes. The first byte picks
 * the parser (passwd, group, configuration); the rest is the file.
 * Properties:
 *   - no crash, no read or write outside the buffer (it has one byte of
 *     room past the data, as nss_source_load gives it);
 *   - every user has a name that is not empty and starts with neither '+'
 *     nor '-', ids below 4294967295, and no field holding ':' or '\n';
 *   - every group member is non-empty, without ',', ':', '\n' or blanks
 *     at either end; served plus skipped lines never exceed the lines;
 *   - an accepted configuration has 1..64 sources of each kind at least
 *     one, every path absolute and without blanks; a refused one says
 *     "PATH:LINE: ...".
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"
#include "source.h"

static bool clean(const char *s, const char *forbidden)
{
        return strpbrk(s, forbidden) == NULL;
}

static bool blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static void fuzz_source(const uint8_t *data, size_t size, enum nss_source_kind kind)
{
        char *buf = malloc(size + 1);
        FUZZ_CHECK(buf);
        memcpy(buf, data, size);
        size_t lines = 0;
        for (size_t i = 0; i < size; i++)
                lines += data[i] == '\n';
        lines += size && data[size - 1] != '\n';
        struct nss_sources s = { 0 };
        int r = kind == NSS_SOURCE_PASSWD ? nss_source_parse_passwd(&s, buf, size, "fuzz")
                                          : nss_source_parse_group(&s, buf, size, "fuzz");
        FUZZ_CHECK(r == 0);
        FUZZ_CHECK(s.nusers + s.ngroups + s.skipped <= lines);
        for (size_t i = 0; i < s.nusers; i++) {
                const struct nss_source_user *u = &s.users[i];
                FUZZ_CHECK(u->name[0] && u->name[0] != '+' && u->name[0] != '-');
                FUZZ_CHECK(u->uid != UINT32_MAX && u->gid != UINT32_MAX);
                FUZZ_CHECK(clean(u->name, ":\n") && clean(u->gecos, ":\n") && clean(u->dir, ":\n") &&
                           clean(u->shell, ":\n"));
        }
        for (size_t i = 0; i < s.ngroups; i++) {
                const struct nss_source_group *g = &s.groups[i];
                FUZZ_CHECK(g->name[0] && g->name[0] != '+' && g->name[0] != '-' && clean(g->name, ":\n"));
                FUZZ_CHECK(g->gid != UINT32_MAX && g->first_member + g->nmembers <= s.nmembers);
                for (size_t m = 0; m < g->nmembers; m++) {
                        const char *name = s.members[g->first_member + m];
                        size_t n = strlen(name);
                        FUZZ_CHECK(n > 0 && clean(name, ",:\n") && !blank(name[0]) && !blank(name[n - 1]));
                }
        }
        nss_sources_clear(&s);
        free(buf);
}

static void fuzz_conf(const uint8_t *data, size_t size)
{
        struct nss_conf c;
        char err[256];
        int r = nss_conf_parse((const char *)data, size, "/fuzz.conf", &c, err, sizeof(err));
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL && strncmp(err, "/fuzz.conf:", 11) == 0 && memchr(err, '\0', sizeof(err)));
                return;
        }
        FUZZ_CHECK(r == 0 && c.nsources >= 2 && c.nsources <= NSS_CONF_MAX_SOURCES + 2);
        bool passwd = false, group = false;
        for (unsigned i = 0; i < c.nsources; i++) {
                FUZZ_CHECK(c.sources[i].path[0] == '/' && clean(c.sources[i].path, " \t\r\n"));
                passwd |= c.sources[i].kind == NSS_SOURCE_PASSWD;
                group |= c.sources[i].kind == NSS_SOURCE_GROUP;
        }
        FUZZ_CHECK(passwd && group);
        nss_conf_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size == 0)
                return 0;
        switch (data[0] % 3) {
        case 0:
                fuzz_source(data + 1, size - 1, NSS_SOURCE_PASSWD);
                break;
        case 1:
                fuzz_source(data + 1, size - 1, NSS_SOURCE_GROUP);
                break;
        default:
                fuzz_conf(data + 1, size - 1);
                break;
        }
        return 0;
}
