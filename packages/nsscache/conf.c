/* SPDX-License-Identifier: MIT */
/* The package's configuration file (conf.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

#ifndef NSSCACHE_CONF_PATH /* set by the build for its prefix */
#define NSSCACHE_CONF_PATH "/etc/lsashm/nsscache.conf"
#endif

const char *nss_conf_path(void)
{
        /* lsashmd is not set-user-ID, but its environment is the
         * administrator's: secure_getenv keeps it that way if it ever is. */
        const char *p = secure_getenv("LSASHM_NSSCACHE_CONF");
        return p && *p ? p : NSSCACHE_CONF_PATH;
}

void nss_conf_free(struct nss_conf *c)
{
        if (!c)
                return;
        for (unsigned i = 0; i < c->nsources; i++)
                free(c->sources[i].path);
        free(c->path);
        memset(c, 0, sizeof(*c));
}

static int add_source(struct nss_conf *c, enum nss_source_kind kind, const char *path, size_t len)
{
        if (c->nsources >= sizeof(c->sources) / sizeof(c->sources[0]))
                return -E2BIG; /* the parser keeps room for the defaults: our bug */
        /* Not strndup: path lies inside the file's text, which need not
         * be NUL-terminated anywhere. */
        char *p = malloc(len + 1);
        if (!p)
                return -ENOMEM;
        memcpy(p, path, len);
        p[len] = '\0';
        c->sources[c->nsources].kind = kind;
        c->sources[c->nsources].path = p;
        c->nsources++;
        return 0;
}

static bool has_kind(const struct nss_conf *c, enum nss_source_kind kind)
{
        for (unsigned i = 0; i < c->nsources; i++)
                if (c->sources[i].kind == kind)
                        return true;
        return false;
}

static bool is_space(char ch)
{
        return ch == ' ' || ch == '\t' || ch == '\r';
}

int nss_conf_parse(const char *text, size_t len, const char *path, struct nss_conf *ret, char *ret_error, size_t size)
{
        struct nss_conf c = { 0 };
        const char *p = text, *end = text + len;
        unsigned lineno = 0;
        int r = 0;
        const char *why = NULL;

        c.path = strdup(path);
        if (!c.path)
                return -ENOMEM;
        while (p < end && r == 0 && !why) {
                lineno++;
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *eol = nl ? nl : end;
                const char *s = p;
                p = nl ? nl + 1 : end;
                while (s < eol && is_space(*s))
                        s++;
                const char *e = eol;
                while (e > s && is_space(e[-1]))
                        e--;
                if (s == e || *s == '#')
                        continue;
                if (memchr(s, '\0', (size_t)(e - s))) {
                        why = "NUL byte";
                        break;
                }
                const char *kw = s;
                while (s < e && !is_space(*s))
                        s++;
                size_t kwlen = (size_t)(s - kw);
                while (s < e && is_space(*s))
                        s++;
                enum nss_source_kind kind;
                if (kwlen == 6 && memcmp(kw, "passwd", 6) == 0)
                        kind = NSS_SOURCE_PASSWD;
                else if (kwlen == 5 && memcmp(kw, "group", 5) == 0)
                        kind = NSS_SOURCE_GROUP;
                else {
                        why = "unknown setting (passwd FILE or group FILE)";
                        break;
                }
                if (s == e || *s != '/') {
                        why = "FILE must be an absolute path";
                        break;
                }
                for (const char *q = s; q < e; q++)
                        if (is_space(*q))
                                why = "one FILE a line, without blanks";
                if (why)
                        break;
                if ((size_t)(e - s) >= 4096) {
                        why = "path too long";
                        break;
                }
                if (c.nsources >= NSS_CONF_MAX_SOURCES) {
                        why = "too many sources";
                        break;
                }
                r = add_source(&c, kind, s, (size_t)(e - s));
        }
        if (r == 0 && !why && !has_kind(&c, NSS_SOURCE_PASSWD))
                r = add_source(&c, NSS_SOURCE_PASSWD, "/etc/passwd", strlen("/etc/passwd"));
        if (r == 0 && !why && !has_kind(&c, NSS_SOURCE_GROUP))
                r = add_source(&c, NSS_SOURCE_GROUP, "/etc/group", strlen("/etc/group"));
        if (why) {
                if (ret_error && size)
                        snprintf(ret_error, size, "%s:%u: %s", path, lineno, why);
                r = -EINVAL;
        }
        if (r < 0) {
                nss_conf_free(&c);
                return r;
        }
        *ret = c;
        return 0;
}

int nss_conf_load(const char *path, struct nss_conf *ret, char *ret_error, size_t size)
{
        char *text = malloc(NSS_CONF_MAX_FILE + 1);
        if (!text)
                return -ENOMEM;
        size_t len = 0;
        int r = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno != ENOENT) {
                r = -errno;
                if (ret_error && size)
                        snprintf(ret_error, size, "%s: %s", path, strerror(-r));
        }
        while (fd >= 0 && r == 0) {
                ssize_t n = read(fd, text + len, NSS_CONF_MAX_FILE + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        r = -errno;
                else if (n == 0)
                        break;
                else if ((len += (size_t)n) > NSS_CONF_MAX_FILE)
                        r = -EFBIG;
        }
        if (fd >= 0)
                close(fd);
        if (r < 0 && ret_error && size && fd >= 0)
                snprintf(ret_error, size, "%s: %s", path, r == -EFBIG ? "larger than 64 KiB" : strerror(-r));
        if (r == 0)
                r = nss_conf_parse(text, len, path, ret, ret_error, size);
        free(text);
        return r;
}
