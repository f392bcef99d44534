/* SPDX-License-Identifier: MIT */
/* lsashmd.conf: strict, one directive per line, errors name the line. */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "lsa/lsa-wire.h" /* the reply region's limits */
#include "lsashmd/config.h"

#define BLANKS " \t\r\v\f"
#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

static int fail(char *err, size_t errlen, const char *name, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static int fail(char *err, size_t errlen, const char *name, unsigned line, const char *fmt, ...)
{
        if (errlen) {
                int n = snprintf(err, errlen, "%s:%u: ", name, line);
                if (n >= 0 && (size_t)n < errlen) {
                        va_list ap;
                        va_start(ap, fmt);
                        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
                        va_end(ap);
                }
        }
        return -EINVAL;
}

/*
 * Decimal digits only (no sign, blank or base prefix, which strtoull would
 * take), then a K or M suffix if allowed; false on anything else, overflow
 * included.
 */
static bool number_parse(const char *s, bool suffix, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0;
        if (*s < '0' || *s > '9')
                return false;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return false;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        uint64_t mult = 1;
        if (suffix && (*s == 'K' || *s == 'k'))
                mult = 1024, s++;
        else if (suffix && (*s == 'M' || *s == 'm'))
                mult = 1024 * 1024, s++;
        if (*s || v > max / mult)
                return false;
        *ret = v * mult;
        return true;
}

/* Octal digits only, 1..0777. */
static bool mode_parse(const char *s, mode_t *ret)
{
        unsigned long m = 0;
        if (!*s)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '7' || m > 0777)
                        return false;
                m = m * 8 + (unsigned long)(*s - '0');
        }
        if (m == 0 || m > 0777)
                return false;
        *ret = (mode_t)m;
        return true;
}

enum kind { K_SOCKET, K_MODE, K_PACKAGE, K_GROUP, K_REPLY_MAX, K_COUNT, K_BOOL, K_WORKERS, K_SUBMIT_MAX };

/* What each directive sets. Single-valued ones record their line, which is
 * also how a second occurrence is caught. */
static const struct directive {
        const char *name;
        enum kind kind;
        size_t value;   /* offset of the field in struct config */
        size_t line;    /* offset of its line number (K_PACKAGE: none) */
} directives[] = {
        { "socket", K_SOCKET, offsetof(struct config, socket_path), offsetof(struct config, socket_line) },
        { "socket-mode", K_MODE, offsetof(struct config, socket_mode), offsetof(struct config, socket_mode_line) },
        { "package", K_PACKAGE, 0, 0 },
        { "logon-group", K_GROUP, offsetof(struct config, logon_group), offsetof(struct config, logon_group_line) },
        { "admin-group", K_GROUP, offsetof(struct config, admin_group), offsetof(struct config, admin_group_line) },
        { "reply-max", K_REPLY_MAX, offsetof(struct config, reply_max), offsetof(struct config, reply_max_line) },
        { "max-connections", K_COUNT, offsetof(struct config, max_connections),
          offsetof(struct config, max_connections_line) },
        { "max-connections-per-uid", K_COUNT, offsetof(struct config, max_connections_per_uid),
          offsetof(struct config, max_connections_per_uid_line) },
        { "reserved-connections", K_COUNT, offsetof(struct config, reserved_connections),
          offsetof(struct config, reserved_connections_line) },
        { "require-packages", K_BOOL, offsetof(struct config, require_packages),
          offsetof(struct config, require_packages_line) },
        { "worker-threads", K_WORKERS, offsetof(struct config, worker_threads),
          offsetof(struct config, worker_threads_line) },
        { "max-submit-size", K_SUBMIT_MAX, offsetof(struct config, max_submit),
          offsetof(struct config, max_submit_line) },
};

#define FIELD(cfg, off, type) ((type *)(void *)((char *)(cfg) + (off)))

static int directive_apply(const struct directive *d, const char *value, const char *name, unsigned lineno,
                           struct config *cfg, char *err, size_t errlen)
{
        uint64_t n;
        switch (d->kind) {
        case K_SOCKET:
                if (value[0] != '/')
                        return fail(err, errlen, name, lineno, "socket must be an absolute path");
                if (strlen(value) > SOCKET_PATH_MAX)
                        return fail(err, errlen, name, lineno, "socket path longer than %zu bytes",
                                    SOCKET_PATH_MAX);
                break;
        case K_MODE:
                if (!mode_parse(value, FIELD(cfg, d->value, mode_t)))
                        return fail(err, errlen, name, lineno, "socket-mode must be octal, 1..0777, not '%s'",
                                    value);
                return 0;
        case K_PACKAGE:
                if (value[0] != '/')
                        return fail(err, errlen, name, lineno, "package must be an absolute path");
                if (cfg->npackages >= CONFIG_MAX_PACKAGES)
                        return fail(err, errlen, name, lineno, "more than %d packages", CONFIG_MAX_PACKAGES);
                for (unsigned i = 0; i < cfg->npackages; i++)
                        if (!strcmp(cfg->packages[i], value))
                                return fail(err, errlen, name, lineno, "package %s listed twice", value);
                if (!(cfg->packages[cfg->npackages] = strdup(value)))
                        return -ENOMEM;
                cfg->npackages++;
                return 0;
        case K_GROUP:
                break;
        case K_REPLY_MAX:
                if (!number_parse(value, true, LSA_WIRE_REPLY_MAX, &n) || n < LSA_WIRE_REPLY_MIN ||
                    n % LSA_WIRE_REPLY_ALIGN)
                        return fail(err, errlen, name, lineno,
                                    "reply-max must be 64K..256M, a multiple of 4K, not '%s'", value);
                *FIELD(cfg, d->value, uint64_t) = n;
                return 0;
        case K_WORKERS:
                if (!number_parse(value, false, CONFIG_MAX_WORKERS, &n) || n == 0)
                        return fail(err, errlen, name, lineno, "worker-threads must be 1..%u, not '%s'",
                                    CONFIG_MAX_WORKERS, value);
                *FIELD(cfg, d->value, uint32_t) = (uint32_t)n;
                return 0;
        case K_SUBMIT_MAX:
                if (!number_parse(value, true, LSA_WIRE_MAX_SUBMIT_MEMFD, &n) || n < LSA_WIRE_MAX_SUBMIT)
                        return fail(err, errlen, name, lineno, "max-submit-size must be 64K..256M, not '%s'",
                                    value);
                *FIELD(cfg, d->value, uint32_t) = (uint32_t)n;
                return 0;
        case K_COUNT:
                if (!number_parse(value, false, CONFIG_MAX_CONNECTIONS, &n) || n == 0)
                        return fail(err, errlen, name, lineno, "%s must be 1..%u, not '%s'", d->name,
                                    CONFIG_MAX_CONNECTIONS, value);
                *FIELD(cfg, d->value, uint32_t) = (uint32_t)n;
                return 0;
        case K_BOOL:
                if (strcmp(value, "yes") && strcmp(value, "no"))
                        return fail(err, errlen, name, lineno, "%s must be yes or no, not '%s'", d->name, value);
                *FIELD(cfg, d->value, int) = !strcmp(value, "yes");
                return 0;
        }
        /* K_SOCKET and K_GROUP: a string. */
        char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        *FIELD(cfg, d->value, char *) = copy;
        return 0;
}

/* A package's setting name, STEM or KEY: letters, digits, '-', '_' and,
 * inside a STEM, '.' too (a file name), 1..CONFIG_MAX_SETTING_NAME bytes. */
static bool setting_name_ok(const char *s, size_t len, bool dots)
{
        if (len == 0 || len > CONFIG_MAX_SETTING_NAME)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || (dots && c == '.')))
                        return false;
        }
        return true;
}

/* "STEM.KEY VALUE...": the key's last '.' parts STEM from KEY; the value is
 * the rest of the line, blanks inside kept, blanks around dropped. */
static int setting_parse(const char *key, char *rest, const char *name, unsigned lineno, struct config *cfg,
                         char *err, size_t errlen)
{
        const char *dot = strrchr(key, '.');
        if (!setting_name_ok(key, (size_t)(dot - key), true) || !setting_name_ok(dot + 1, strlen(dot + 1), false))
                return fail(err, errlen, name, lineno,
                            "'%s': a package setting is STEM.KEY, each 1..%d of A-Z a-z 0-9 - _", key,
                            CONFIG_MAX_SETTING_NAME);
        rest += strspn(rest, BLANKS);
        size_t len = strlen(rest);
        while (len > 0 && strchr(BLANKS, rest[len - 1]))
                len--;
        if (len == 0)
                return fail(err, errlen, name, lineno, "'%s' needs a value", key);
        if (cfg->nsettings >= CONFIG_MAX_SETTINGS)
                return fail(err, errlen, name, lineno, "more than %d package settings", CONFIG_MAX_SETTINGS);
        if (cfg->nsettings % 16 == 0) {
                struct config_setting *grown =
                        realloc(cfg->settings, (cfg->nsettings + 16) * sizeof(*cfg->settings));
                if (!grown)
                        return -ENOMEM;
                cfg->settings = grown;
        }
        struct config_setting *s = &cfg->settings[cfg->nsettings];
        s->package = strndup(key, (size_t)(dot - key));
        s->key = strdup(dot + 1);
        s->value = strndup(rest, len);
        if (!s->package || !s->key || !s->value) {
                free(s->package);
                free(s->key);
                free(s->value);
                return -ENOMEM;
        }
        cfg->nsettings++;
        return 0;
}

static int line_parse(char *line, const char *name, unsigned lineno, struct config *cfg, char *err,
                      size_t errlen)
{
        char *hash = strchr(line, '#');
        if (hash)
                *hash = '\0';
        char *save = NULL;
        const char *key = strtok_r(line, BLANKS, &save);
        if (!key)
                return 0;
        if (strchr(key, '.'))
                return setting_parse(key, save ? save : (char *)"", name, lineno, cfg, err, errlen);
        const struct directive *d = NULL;
        for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
                if (!strcmp(key, directives[i].name))
                        d = &directives[i];
        if (!d)
                return fail(err, errlen, name, lineno, "unknown directive '%s'", key);
        const char *value = strtok_r(NULL, BLANKS, &save);
        if (!value)
                return fail(err, errlen, name, lineno, "'%s' needs a value", key);
        if (strtok_r(NULL, BLANKS, &save))
                return fail(err, errlen, name, lineno, "'%s' takes one value (no blanks in it)", key);
        if (d->kind != K_PACKAGE) {
                unsigned *first = FIELD(cfg, d->line, unsigned);
                if (*first)
                        return fail(err, errlen, name, lineno, "'%s' already set on line %u", key, *first);
                int r = directive_apply(d, value, name, lineno, cfg, err, errlen);
                if (r == 0)
                        *first = lineno;
                return r;
        }
        return directive_apply(d, value, name, lineno, cfg, err, errlen);
}

/* One line into buf (CONFIG_MAX_LINE + 1 bytes), without its newline: 1, or
 * 0 at the end, -E2BIG (too long), -EILSEQ (a NUL byte), -EIO. */
static int line_read(FILE *f, char *buf)
{
        size_t n = 0;
        int c;
        bool any = false;
        while ((c = getc(f)) != EOF) {
                any = true;
                if (c == '\n')
                        break;
                if (c == '\0')
                        return -EILSEQ;
                if (n == CONFIG_MAX_LINE)
                        return -E2BIG;
                buf[n++] = (char)c;
        }
        if (ferror(f))
                return -EIO; /* errno says why */
        buf[n] = '\0';
        return any;
}

int config_parse(FILE *f, const char *name, struct config *cfg, char *err, size_t errlen)
{
        if (!cfg->source && !(cfg->source = strdup(name)))
                return -ENOMEM;
        char line[CONFIG_MAX_LINE + 1];
        for (unsigned lineno = 1;; lineno++) {
                int r = line_read(f, line);
                if (r == 0)
                        return 0;
                if (r == -E2BIG)
                        return fail(err, errlen, name, lineno, "line longer than %d bytes", CONFIG_MAX_LINE);
                if (r == -EILSEQ)
                        return fail(err, errlen, name, lineno, "NUL byte in line");
                if (r < 0) {
                        fail(err, errlen, name, lineno, "read error: %s", strerror(errno));
                        return -EIO;
                }
                r = line_parse(line, name, lineno, cfg, err, errlen);
                if (r < 0)
                        return r;
        }
}

int config_parse_string(const char *text, struct config *cfg, char *err, size_t errlen)
{
        size_t len = strlen(text);
        if (len == 0) { /* fmemopen may refuse a size of 0 */
                if (!cfg->source && !(cfg->source = strdup("(string)")))
                        return -ENOMEM;
                return 0;
        }
        /* fmemopen reads only: the cast drops const for its prototype. */
        FILE *f = fmemopen((void *)(uintptr_t)text, len, "r");
        if (!f)
                return -errno;
        int r = config_parse(f, "(string)", cfg, err, errlen);
        fclose(f);
        return r;
}

/* getgrnam_r, growing its buffer as it asks. 1 found, 0 unknown, -errno. */
static int group_lookup(const char *name, gid_t *ret)
{
        long hint = sysconf(_SC_GETGR_R_SIZE_MAX);
        size_t size = hint > 0 ? (size_t)hint : 16384;
        for (;;) {
                char *buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                struct group gr, *res = NULL;
                int r = getgrnam_r(name, &gr, buf, size, &res);
                if (r == 0 && res)
                        *ret = res->gr_gid;
                free(buf);
                if (r == ERANGE && size < (1u << 20)) {
                        size *= 2;
                        continue;
                }
                /* ENOENT, ESRCH, EBADF and EPERM also mean "no such group"
                 * (getgrnam_r(3)). */
                if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM)
                        return r == 0 && res;
                return -r;
        }
}

int config_resolve_groups(const struct config *cfg, gid_t *ret_logon, gid_t *ret_admin, char *err,
                          size_t errlen)
{
        const char *names[2] = { cfg->logon_group, cfg->admin_group };
        const char *keys[2] = { "logon-group", "admin-group" };
        const unsigned lines[2] = { cfg->logon_group_line, cfg->admin_group_line };
        const char *source = cfg->source ? cfg->source : "(config)";
        gid_t gids[2] = { (gid_t)-1, (gid_t)-1 };
        for (int i = 0; i < 2; i++) {
                if (!names[i])
                        continue;
                int r = group_lookup(names[i], &gids[i]);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        fail(err, errlen, source, lines[i], "%s %s: group database: %s", keys[i], names[i],
                             strerror(-r));
                        return -EIO;
                }
                if (r == 0) {
                        fail(err, errlen, source, lines[i], "%s: unknown group '%s'", keys[i], names[i]);
                        return -ENOENT;
                }
        }
        *ret_logon = gids[0];
        *ret_admin = gids[1];
        return 0;
}

void config_free(struct config *cfg)
{
        free(cfg->source);
        free(cfg->socket_path);
        free(cfg->logon_group);
        free(cfg->admin_group);
        for (unsigned i = 0; i < cfg->npackages; i++)
                free(cfg->packages[i]);
        for (unsigned i = 0; i < cfg->nsettings; i++) {
                free(cfg->settings[i].package);
                free(cfg->settings[i].key);
                free(cfg->settings[i].value);
        }
        free(cfg->settings);
        memset(cfg, 0, sizeof(*cfg));
}

int config_parse_buffer(const void *buf, size_t len, const char *name, struct config *cfg, char *err,
                        size_t errlen)
{
        if (len == 0) { /* fmemopen may refuse a size of 0 */
                if (!cfg->source && !(cfg->source = strdup(name)))
                        return -ENOMEM;
                return 0;
        }
        /* In memory only; a NUL byte reaches line_read, which refuses it.
         * fmemopen reads only: the cast drops const for its prototype. */
        FILE *f = fmemopen((void *)(uintptr_t)buf, len, "r");
        if (!f)
                return -errno;
        int r = config_parse(f, name, cfg, err, errlen);
        fclose(f);
        return r;
}
