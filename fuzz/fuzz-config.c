/* SPDX-License-Identifier: MIT */
/*
 * lsashmd's configuration parser (src/lsashmd/config.c) on any bytes, from
 * memory (config_parse_buffer: no file is opened). Properties:
 *   - it returns 0 or -EINVAL (-ENOMEM cannot happen here), and on -EINVAL
 *     the message is a NUL-terminated "NAME:LINE: ..." within its buffer;
 *   - what it accepts is in range (absolute paths, socket path short enough
 *     for sun_path, mode 1..0777, reply-max 64K..256M in 4K steps, counts
 *     1..1000000, distinct packages);
 *   - round trip: the accepted configuration written back as text (one
 *     canonical line per directive) parses to the same values. The text is
 *     not the input again: comments, blanks, suffixes and order are the
 *     input's own, and the format allows many spellings of one value.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "lsa/lsa-wire.h"
#include "lsashmd/config.h"

#define ERR_LEN 256
#define TEXT_MAX (CONFIG_MAX_PACKAGES * (CONFIG_MAX_LINE + 16) + 8 * (CONFIG_MAX_LINE + 32))

static void check_ranges(const struct config *c)
{
        if (c->socket_path) {
                FUZZ_CHECK(c->socket_path[0] == '/' && strlen(c->socket_path) <= 107);
                FUZZ_CHECK(c->socket_line > 0);
        }
        FUZZ_CHECK(c->socket_mode <= 0777 && (c->socket_mode != 0) == (c->socket_mode_line != 0));
        FUZZ_CHECK(c->npackages <= CONFIG_MAX_PACKAGES);
        for (unsigned i = 0; i < c->npackages; i++) {
                FUZZ_CHECK(c->packages[i] && c->packages[i][0] == '/');
                for (unsigned j = 0; j < i; j++)
                        FUZZ_CHECK(strcmp(c->packages[i], c->packages[j]) != 0);
        }
        if (c->reply_max)
                FUZZ_CHECK(c->reply_max >= LSA_WIRE_REPLY_MIN && c->reply_max <= LSA_WIRE_REPLY_MAX &&
                           c->reply_max % LSA_WIRE_REPLY_ALIGN == 0);
        FUZZ_CHECK(c->max_connections <= CONFIG_MAX_CONNECTIONS);
        FUZZ_CHECK(c->max_connections_per_uid <= CONFIG_MAX_CONNECTIONS);
        FUZZ_CHECK((c->max_connections != 0) == (c->max_connections_line != 0));
        FUZZ_CHECK((c->max_connections_per_uid != 0) == (c->max_connections_per_uid_line != 0));
        FUZZ_CHECK(!c->logon_group == !c->logon_group_line);
        FUZZ_CHECK(!c->admin_group == !c->admin_group_line);
}

static size_t append(char *text, size_t at, const char *key, const char *value)
{
        int n = snprintf(text + at, TEXT_MAX - at, "%s %s\n", key, value);
        FUZZ_CHECK(n > 0 && (size_t)n < TEXT_MAX - at);
        return at + (size_t)n;
}

static size_t render(const struct config *c, char *text)
{
        char num[32];
        size_t at = 0;
        if (c->socket_path)
                at = append(text, at, "socket", c->socket_path);
        if (c->socket_mode) {
                snprintf(num, sizeof(num), "%o", (unsigned)c->socket_mode);
                at = append(text, at, "socket-mode", num);
        }
        for (unsigned i = 0; i < c->npackages; i++)
                at = append(text, at, "package", c->packages[i]);
        if (c->logon_group)
                at = append(text, at, "logon-group", c->logon_group);
        if (c->admin_group)
                at = append(text, at, "admin-group", c->admin_group);
        if (c->reply_max) {
                snprintf(num, sizeof(num), "%llu", (unsigned long long)c->reply_max);
                at = append(text, at, "reply-max", num);
        }
        if (c->max_connections) {
                snprintf(num, sizeof(num), "%u", c->max_connections);
                at = append(text, at, "max-connections", num);
        }
        if (c->max_connections_per_uid) {
                snprintf(num, sizeof(num), "%u", c->max_connections_per_uid);
                at = append(text, at, "max-connections-per-uid", num);
        }
        return at;
}

static bool str_equal(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_same(const struct config *a, const struct config *b)
{
        FUZZ_CHECK(str_equal(a->socket_path, b->socket_path));
        FUZZ_CHECK(a->socket_mode == b->socket_mode);
        FUZZ_CHECK(a->npackages == b->npackages);
        for (unsigned i = 0; i < a->npackages; i++)
                FUZZ_CHECK(strcmp(a->packages[i], b->packages[i]) == 0);
        FUZZ_CHECK(str_equal(a->logon_group, b->logon_group));
        FUZZ_CHECK(str_equal(a->admin_group, b->admin_group));
        FUZZ_CHECK(a->reply_max == b->reply_max);
        FUZZ_CHECK(a->max_connections == b->max_connections);
        FUZZ_CHECK(a->max_connections_per_uid == b->max_connections_per_uid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static char text[TEXT_MAX];
        char err[ERR_LEN];
        struct config cfg, again;

        memset(&cfg, 0, sizeof(cfg));
        memset(err, 'x', sizeof(err));
        int r = config_parse_buffer(data, size, "fuzz.conf", &cfg, err, sizeof(err));
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        FUZZ_CHECK(cfg.source && strcmp(cfg.source, "fuzz.conf") == 0);
        if (r < 0) {
                FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
                FUZZ_CHECK(strncmp(err, "fuzz.conf:", 10) == 0);
                config_free(&cfg);
                return 0;
        }
        check_ranges(&cfg);

        size_t len = render(&cfg, text);
        memset(&again, 0, sizeof(again));
        FUZZ_CHECK(config_parse_buffer(text, len, "again", &again, err, sizeof(err)) == 0);
        check_ranges(&again);
        check_same(&cfg, &again);
        config_free(&again);
        config_free(&cfg);
        return 0;
}
