/* SPDX-License-Identifier: MIT */
/*
 * The user and group cache's source and configuration parsers
 * (packages/nsscache/source.h, conf.h): what is served, what is skipped and
 * counted and logged, hostile files (long lines, NUL bytes, non-UTF-8,
 * 100,000 users), and configuration files good and bad.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "source.h"
#include "test-util.h"

static char g_dir[64];

struct logged {
        unsigned n;
        size_t lines[64];
        char paths[64][128];
};

static void log_cb(void *ctx, const char *path, size_t line, const char *reason)
{
        struct logged *l = ctx;
        assert_non_null(reason);
        if (l->n < 64) {
                l->lines[l->n] = line;
                snprintf(l->paths[l->n], sizeof(l->paths[0]), "%s", path);
        }
        l->n++;
}

/* Parse text as a passwd (or group) file; the buffer is kept in *keep. */
static void parse(struct nss_sources *s, const char *text, size_t len, enum nss_source_kind kind, char **keep)
{
        char *buf = malloc(len + 1);
        assert_non_null(buf);
        memcpy(buf, text, len);
        buf[len] = 'Z'; /* the parser may use it: it is ours */
        int r = kind == NSS_SOURCE_PASSWD ? nss_source_parse_passwd(s, buf, len, "test")
                                          : nss_source_parse_group(s, buf, len, "test");
        assert_int_equal(r, 0);
        *keep = buf;
}

static void test_source_passwd_lines_served_and_skipped(void **state)
{
        (void)state;
        static const char text[] = "root:x:0:0:root:/root:/bin/bash\n"
                                   "# a comment\n"
                                   "\n"
                                   "   \t\n"
                                   "  daemon:*:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                                   "short:x:2:2\n"              /* 4 fields */
                                   "long:x:3:3:g:/h:/s:extra\n" /* 8 fields */
                                   ":x:4:4:g:/h:/s\n"           /* empty name */
                                   "+nis:x:5:5:g:/h:/s\n"       /* compat */
                                   "bad:x:6a:6:g:/h:/s\n"       /* uid */
                                   "neg:x:-1:6:g:/h:/s\n"
                                   "max:x:4294967295:6:g:/h:/s\n" /* (uid_t)-1 */
                                   "big:x:4294967294:4294967294:g:/h:/s\n"
                                   "empty:x:7::g:/h:/s\n" /* empty gid */
                                   "caf\xc3\xa9\xff:x:8:8:\xfe gecos:/home/x:/bin/sh\n"
                                   "nogecos:x:9:9:::\n"
                                   "last:x:10:10:Last,,,:/home/last:/bin/zsh";
        struct logged l = { 0 };
        struct nss_sources s = { .log = log_cb, .log_ctx = &l };
        char *keep;
        parse(&s, text, sizeof(text) - 1, NSS_SOURCE_PASSWD, &keep);
        assert_int_equal(s.nusers, 6);
        assert_int_equal(s.skipped, 8);
        assert_int_equal(l.n, 8);
        assert_int_equal(l.lines[0], 6);
        assert_int_equal(l.lines[7], 14);
        assert_string_equal(l.paths[0], "test");
        assert_string_equal(s.users[0].name, "root");
        assert_string_equal(s.users[0].shell, "/bin/bash");
        assert_string_equal(s.users[1].name, "daemon");
        assert_int_equal(s.users[1].uid, 1);
        assert_int_equal(s.users[2].uid, 4294967294u);
        assert_int_equal(s.users[2].gid, 4294967294u);
        /* Bytes are bytes. */
        assert_string_equal(s.users[3].name, "caf\xc3\xa9\xff");
        assert_string_equal(s.users[3].gecos, "\xfe gecos");
        assert_string_equal(s.users[4].gecos, "");
        assert_string_equal(s.users[4].dir, "");
        assert_string_equal(s.users[4].shell, "");
        /* The last line needs no newline. */
        assert_string_equal(s.users[5].name, "last");
        assert_string_equal(s.users[5].shell, "/bin/zsh");
        nss_sources_clear(&s);
        assert_int_equal(s.nusers, 0);
        assert_ptr_equal(s.log_ctx, &l);
        free(keep);
}

static void test_source_group_members(void **state)
{
        (void)state;
        static const char text[] = "root:x:0:\n"
                                   "adm:x:4:syslog, alice ,,bob,\n"
                                   "bad:x:x:alice\n"
                                   "three:x:5\n"
                                   "sudo:*:27:alice\n"
                                   "dup:x:27:carol\n";
        struct nss_sources s = { 0 };
        char *keep;
        parse(&s, text, sizeof(text) - 1, NSS_SOURCE_GROUP, &keep);
        assert_int_equal(s.ngroups, 4);
        assert_int_equal(s.skipped, 2);
        assert_int_equal(s.groups[0].nmembers, 0);
        const struct nss_source_group *adm = &s.groups[1];
        assert_int_equal(adm->gid, 4);
        assert_int_equal(adm->nmembers, 3);
        assert_string_equal(s.members[adm->first_member], "syslog");
        assert_string_equal(s.members[adm->first_member + 1], "alice");
        assert_string_equal(s.members[adm->first_member + 2], "bob");
        /* Duplicates are kept: the builder decides (first wins). */
        assert_string_equal(s.groups[3].name, "dup");
        assert_int_equal(s.groups[3].gid, 27);
        assert_string_equal(s.members[s.groups[3].first_member], "carol");
        nss_sources_clear(&s);
        free(keep);
}

static void test_source_hostile_lines(void **state)
{
        (void)state;
        /* A line past the limit, one with a NUL byte, then a good one. */
        size_t big = NSS_SOURCE_MAX_LINE + 10;
        size_t len = big + 64;
        char *text = malloc(len);
        assert_non_null(text);
        memset(text, 'a', big);
        text[big] = '\n';
        static const char rest[] = "nul:x:1:1:\0:/h:/s\nok:x:2:2::/h:/s\n";
        memcpy(text + big + 1, rest, sizeof(rest) - 1);
        len = big + 1 + sizeof(rest) - 1;
        struct logged l = { 0 };
        struct nss_sources s = { .log = log_cb, .log_ctx = &l };
        char *keep;
        parse(&s, text, len, NSS_SOURCE_PASSWD, &keep);
        assert_int_equal(s.nusers, 1);
        assert_string_equal(s.users[0].name, "ok");
        assert_int_equal(s.skipped, 2);
        assert_int_equal(l.lines[0], 1);
        assert_int_equal(l.lines[1], 2);
        nss_sources_clear(&s);
        free(keep);
        free(text);
}

static void test_source_log_is_capped(void **state)
{
        (void)state;
        char text[4096] = "";
        for (int i = 0; i < 50; i++)
                strcat(text, "junk\n");
        struct logged l = { 0 };
        struct nss_sources s = { .log = log_cb, .log_ctx = &l };
        char *keep;
        parse(&s, text, strlen(text), NSS_SOURCE_PASSWD, &keep);
        assert_int_equal(s.skipped, 50);
        /* NSS_SOURCE_MAX_LOGGED lines, then one that says more were left out. */
        assert_int_equal(l.n, NSS_SOURCE_MAX_LOGGED + 1);
        assert_int_equal(l.lines[NSS_SOURCE_MAX_LOGGED], 0);
        nss_sources_clear(&s);
        free(keep);
}

static void write_file(const char *path, const char *text, size_t len)
{
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
}

static void test_source_load_100k_users(void **state)
{
        (void)state;
        char path[128];
        snprintf(path, sizeof(path), "%s/passwd", g_dir);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        for (unsigned i = 0; i < 100000; i++)
                fprintf(f, "user%u:x:%u:%u:User %u:/home/user%u:/bin/sh\n", i, 10000 + i, 100 + i % 7, i, i);
        assert_int_equal(fclose(f), 0);
        struct nss_sources s = { 0 };
        assert_int_equal(nss_source_load(&s, path, NSS_SOURCE_PASSWD), 0);
        assert_int_equal(s.nusers, 100000);
        assert_int_equal(s.skipped, 0);
        assert_string_equal(s.users[99999].name, "user99999");
        assert_int_equal(s.users[99999].uid, 109999);
        nss_sources_clear(&s);
        unlink(path);
}

static void test_source_load_errors(void **state)
{
        (void)state;
        struct nss_sources s = { 0 };
        char path[128];
        snprintf(path, sizeof(path), "%s/missing", g_dir);
        assert_int_equal(nss_source_load(&s, path, NSS_SOURCE_PASSWD), -ENOENT);
        assert_int_equal(nss_source_load(&s, g_dir, NSS_SOURCE_PASSWD), -EINVAL); /* a directory */
        snprintf(path, sizeof(path), "%s/empty", g_dir);
        write_file(path, "", 0);
        assert_int_equal(nss_source_load(&s, path, NSS_SOURCE_GROUP), 0);
        assert_int_equal(s.ngroups, 0);
        int before = tu_count_fds();
        assert_int_equal(nss_source_load(&s, path, NSS_SOURCE_GROUP), 0);
        assert_int_equal(tu_count_fds(), before);
        nss_sources_clear(&s);
        unlink(path);
}

static int conf_parse(const char *text, struct nss_conf *c, char *err, size_t size)
{
        return nss_conf_parse(text, strlen(text), "/etc/x.conf", c, err, size);
}

static void test_conf_defaults_and_sources(void **state)
{
        (void)state;
        struct nss_conf c;
        char err[256];
        assert_int_equal(conf_parse("", &c, err, sizeof(err)), 0);
        assert_int_equal(c.nsources, 2);
        assert_string_equal(c.sources[0].path, "/etc/passwd");
        assert_int_equal(c.sources[0].kind, NSS_SOURCE_PASSWD);
        assert_string_equal(c.sources[1].path, "/etc/group");
        assert_string_equal(c.path, "/etc/x.conf");
        nss_conf_free(&c);

        assert_int_equal(conf_parse("# sync job\n  passwd /var/lib/sync/passwd  \npasswd\t/etc/passwd\n\n"
                                    "group /var/lib/sync/group\r\n",
                                    &c, err, sizeof(err)),
                         0);
        assert_int_equal(c.nsources, 3);
        assert_string_equal(c.sources[0].path, "/var/lib/sync/passwd");
        assert_string_equal(c.sources[1].path, "/etc/passwd");
        assert_string_equal(c.sources[2].path, "/var/lib/sync/group");
        assert_int_equal(c.sources[2].kind, NSS_SOURCE_GROUP);
        nss_conf_free(&c);
        nss_conf_free(NULL);
}

static void test_conf_errors_say_where(void **state)
{
        (void)state;
        static const struct {
                const char *text, *error;
        } bad[] = {
                { "passwd relative/path\n", "/etc/x.conf:1: FILE must be an absolute path" },
                { "\nshadow /etc/shadow\n", "/etc/x.conf:2: unknown setting (passwd FILE or group FILE)" },
                { "group\n", "/etc/x.conf:1: FILE must be an absolute path" },
                { "group /a b\n", "/etc/x.conf:1: one FILE a line, without blanks" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct nss_conf c = { .nsources = 99 };
                char err[256] = "";
                assert_int_equal(conf_parse(bad[i].text, &c, err, sizeof(err)), -EINVAL);
                assert_string_equal(err, bad[i].error);
                assert_int_equal(c.nsources, 99); /* untouched */
        }
        char many[8192] = "";
        for (unsigned i = 0; i <= NSS_CONF_MAX_SOURCES; i++)
                strcat(many, "passwd /p\n");
        struct nss_conf c;
        char err[256];
        assert_int_equal(conf_parse(many, &c, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "too many sources"));
        /* The most there may be, and still the default for the other kind. */
        many[0] = '\0';
        for (unsigned i = 0; i < NSS_CONF_MAX_SOURCES; i++)
                strcat(many, "passwd /p\n");
        assert_int_equal(conf_parse(many, &c, err, sizeof(err)), 0);
        assert_int_equal(c.nsources, NSS_CONF_MAX_SOURCES + 1);
        assert_string_equal(c.sources[NSS_CONF_MAX_SOURCES].path, "/etc/group");
        nss_conf_free(&c);
        static const char nul[] = "passwd /a\0b\n";
        assert_int_equal(nss_conf_parse(nul, sizeof(nul) - 1, "/c", &c, err, sizeof(err)), -EINVAL);
}

static void test_conf_load_file_and_env(void **state)
{
        (void)state;
        char path[128], err[256];
        struct nss_conf c;
        snprintf(path, sizeof(path), "%s/none.conf", g_dir);
        assert_int_equal(nss_conf_load(path, &c, err, sizeof(err)), 0); /* missing: the defaults */
        assert_int_equal(c.nsources, 2);
        nss_conf_free(&c);
        snprintf(path, sizeof(path), "%s/nss.conf", g_dir);
        write_file(path, "group /g\n", 9);
        assert_int_equal(nss_conf_load(path, &c, err, sizeof(err)), 0);
        assert_string_equal(c.sources[0].path, "/g");
        assert_string_equal(c.sources[1].path, "/etc/passwd");
        nss_conf_free(&c);
        assert_int_equal(nss_conf_load(g_dir, &c, err, sizeof(err)), -EISDIR);
        unlink(path);

        unsetenv("LSASHM_NSSCACHE_CONF");
        assert_string_equal(nss_conf_path(), NSSCACHE_CONF_PATH);
        setenv("LSASHM_NSSCACHE_CONF", "/run/x.conf", 1);
        assert_string_equal(nss_conf_path(), "/run/x.conf");
        unsetenv("LSASHM_NSSCACHE_CONF");
}

static void test_conf_example_is_the_defaults(void **state)
{
        (void)state;
        struct nss_conf c;
        char err[256];
        assert_int_equal(nss_conf_load(EXAMPLE_CONF, &c, err, sizeof(err)), 0);
        assert_int_equal(c.nsources, 2);
        assert_string_equal(c.sources[0].path, "/etc/passwd");
        assert_string_equal(c.sources[1].path, "/etc/group");
        nss_conf_free(&c);
}

static int group_setup(void **state)
{
        (void)state;
        snprintf(g_dir, sizeof(g_dir), "/tmp/lsashm-nsssrc-XXXXXX");
        return mkdtemp(g_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
        (void)state;
        return rmdir(g_dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_source_passwd_lines_served_and_skipped),
                cmocka_unit_test(test_source_group_members),
                cmocka_unit_test(test_source_hostile_lines),
                cmocka_unit_test(test_source_log_is_capped),
                cmocka_unit_test(test_source_load_100k_users),
                cmocka_unit_test(test_source_load_errors),
                cmocka_unit_test(test_conf_defaults_and_sources),
                cmocka_unit_test(test_conf_errors_say_where),
                cmocka_unit_test(test_conf_load_file_and_env),
                cmocka_unit_test(test_conf_example_is_the_defaults),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
