/* SPDX-License-Identifier: MIT */
/* lsashmd.conf: strict, one directive per line, errors name the line. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lsashmd/config.h"

static int fail(char *err, size_t errlen, const char *name, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static int fail(char *err, size_t errlen, const char *name, unsigned line, const char *fmt, ...)
{
        int n = snprintf(err, errlen, "%s:%u: ", name, line);
        if (n >= 0 && (size_t)n < errlen) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* A decimal count with an optional K or M suffix; false on anything else. */
static bool parse_size(const char *s, uint64_t max, uint64_t *ret)
{
        if (*s < '0' || *s > '9')
                return false;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno)
                return false;
        uint64_t mult = 1;
        if (*end == 'K' || *end == 'k')
                mult = 1024, end++;
        else if (*end == 'M' || *end == 'm')
                mult = 1024 * 1024, end++;
        if (*end || v > max / mult)
                return false;
        *ret = v * mult;
        return true;
}

static int set_string(char **slot, const char *value)
{
        char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        free(*slot);
        *slot = copy;
        return 0;
}

static int parse_line(char *line, const char *name, unsigned lineno, struct config *cfg, char *err,
                      size_t errlen)
{
        char *hash = strchr(line, '#');
        if (hash)
                *hash = '\0';
        char *save = NULL;
        char *key = strtok_r(line, " \t\r\n", &save);
        if (!key)
                return 0;
        char *value = strtok_r(NULL, " \t\r\n", &save);
        if (!value)
                return fail(err, errlen, name, lineno, "'%s' needs a value", key);
        if (strtok_r(NULL, " \t\r\n", &save))
                return fail(err, errlen, name, lineno, "'%s' takes one value", key);
        uint64_t n;
        if (!strcmp(key, "socket")) {
                if (value[0] != '/')
                        return fail(err, errlen, name, lineno, "socket must be an absolute path");
                return set_string(&cfg->socket_path, value);
        }
        if (!strcmp(key, "socket-mode")) {
                char *end;
                errno = 0;
                unsigned long m = strtoul(value, &end, 8);
                if (errno || *end || m == 0 || m > 0777)
                        return fail(err, errlen, name, lineno, "socket-mode must be octal, 1..0777");
                cfg->socket_mode = (mode_t)m;
                return 0;
        }
        if (!strcmp(key, "package")) {
                if (cfg->npackages >= CONFIG_MAX_PACKAGES)
                        return fail(err, errlen, name, lineno, "more than %d packages", CONFIG_MAX_PACKAGES);
                char *copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
                cfg->packages[cfg->npackages++] = copy;
                return 0;
        }
        if (!strcmp(key, "logon-group"))
                return set_string(&cfg->logon_group, value);
        if (!strcmp(key, "admin-group"))
                return set_string(&cfg->admin_group, value);
        if (!strcmp(key, "reply-max")) {
                if (!parse_size(value, (uint64_t)256 << 20, &n) || n < 64 * 1024 || n % 4096)
                        return fail(err, errlen, name, lineno,
                                    "reply-max must be 64K..256M, a multiple of 4K");
                cfg->reply_max = n;
                return 0;
        }
        if (!strcmp(key, "max-connections") || !strcmp(key, "max-connections-per-uid")) {
                if (!parse_size(value, 1000000, &n) || n == 0 || strpbrk(value, "KkMm"))
                        return fail(err, errlen, name, lineno, "%s must be 1..1000000", key);
                if (key[15] == '-')
                        cfg->max_connections_per_uid = (uint32_t)n;
                else
                        cfg->max_connections = (uint32_t)n;
                return 0;
        }
        return fail(err, errlen, name, lineno, "unknown directive '%s'", key);
}

int config_parse(FILE *f, const char *name, struct config *cfg, char *err, size_t errlen)
{
        char line[CONFIG_MAX_LINE + 2];
        unsigned lineno = 0;
        while (fgets(line, sizeof(line), f)) {
                lineno++;
                size_t len = strlen(line);
                if (len > CONFIG_MAX_LINE || (len == sizeof(line) - 1 && line[len - 1] != '\n'))
                        return fail(err, errlen, name, lineno, "line longer than %d bytes", CONFIG_MAX_LINE);
                int r = parse_line(line, name, lineno, cfg, err, errlen);
                if (r < 0)
                        return r;
        }
        if (ferror(f))
                return fail(err, errlen, name, lineno, "read error");
        return 0;
}

int config_parse_string(const char *text, struct config *cfg, char *err, size_t errlen)
{
        FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
        if (!f)
                return -errno;
        int r = config_parse(f, "(string)", cfg, err, errlen);
        fclose(f);
        return r;
}

void config_free(struct config *cfg)
{
        free(cfg->socket_path);
        free(cfg->logon_group);
        free(cfg->admin_group);
        for (unsigned i = 0; i < cfg->npackages; i++)
                free(cfg->packages[i]);
        memset(cfg, 0, sizeof(*cfg));
}
