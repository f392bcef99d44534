/* SPDX-License-Identifier: MIT */
/*
 * lsashmd.conf beyond the directives of test-lsashmd-config.c: package
 * settings (STEM.KEY VALUE), require-packages, and the files that make the
 * configuration (the file, then lsashmd.conf.d/ *.conf in name order).
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

#include "lsashmd/config-files.h"
#include "lsashmd/config.h"

static int parse(const char *text, struct config *cfg, char *err)
{
        memset(cfg, 0, sizeof(*cfg));
        err[0] = '\0';
        return config_parse_string(text, cfg, err, 256);
}

static void expect_error(const char *text, const char *fragment)
{
        struct config c;
        char err[256];
        int r = parse(text, &c, err);
        if (r != -EINVAL)
                fail_msg("'%s' parsed to %d, expected -EINVAL", text, r);
        if (!strstr(err, fragment))
                fail_msg("error '%s' does not mention '%s'", err, fragment);
        config_free(&c);
}

static void expect_setting(const struct config *c, unsigned i, const char *package, const char *key, const char *value)
{
        assert_true(i < c->nsettings);
        assert_string_equal(c->settings[i].package, package);
        assert_string_equal(c->settings[i].key, key);
        assert_string_equal(c->settings[i].value, value);
}

static void test_config_settings_in_order(void **state)
{
        (void)state;
        struct config c;
        char err[256];
        assert_int_equal(parse("nsscache.passwd /var/lib/nsscache/passwd.cache\n"
                               "  nsscache.group\t/a b  c\t # comment\n"
                               "nsscache.group /second\n"
                               "my.pkg-1.some_key x\n",
                               &c, err),
                         0);
        assert_int_equal(c.nsettings, 4);
        expect_setting(&c, 0, "nsscache", "passwd", "/var/lib/nsscache/passwd.cache");
        expect_setting(&c, 1, "nsscache", "group", "/a b  c");
        expect_setting(&c, 2, "nsscache", "group", "/second");
        /* The last dot parts the stem (a file name may hold dots) from the key. */
        expect_setting(&c, 3, "my.pkg-1", "some_key", "x");
        config_free(&c);
        assert_int_equal(c.nsettings, 0);
        assert_null(c.settings);
}

static void test_config_settings_errors(void **state)
{
        (void)state;
        expect_error("nsscache.passwd\n", "'nsscache.passwd' needs a value");
        expect_error("nsscache.passwd   # nothing\n", "needs a value");
        expect_error(".passwd x\n", "STEM.KEY");
        expect_error("nsscache. x\n", "STEM.KEY");
        expect_error("ns/cache.passwd x\n", "STEM.KEY");
        char key[200];
        memset(key, 'k', sizeof(key));
        memcpy(key, "p.", 2);
        key[2 + 65] = '\0';
        char line[256];
        snprintf(line, sizeof(line), "%s v\n", key);
        expect_error(line, "STEM.KEY");
}

static void test_config_settings_limit(void **state)
{
        (void)state;
        size_t per = strlen("p.k v\n");
        char *text = malloc(per * (CONFIG_MAX_SETTINGS + 1) + 1);
        assert_non_null(text);
        for (unsigned i = 0; i <= CONFIG_MAX_SETTINGS; i++)
                memcpy(text + i * per, "p.k v\n", per);
        text[per * CONFIG_MAX_SETTINGS] = '\0';
        struct config c;
        char err[256];
        assert_int_equal(parse(text, &c, err), 0);
        assert_int_equal(c.nsettings, CONFIG_MAX_SETTINGS);
        config_free(&c);
        text[per * (CONFIG_MAX_SETTINGS + 1)] = '\0';
        memcpy(text + per * CONFIG_MAX_SETTINGS, "p.k v\n", per);
        assert_int_equal(parse(text, &c, err), -EINVAL);
        assert_non_null(strstr(err, "more than 4096 package settings"));
        config_free(&c);
        free(text);
}

static void test_config_require_packages(void **state)
{
        (void)state;
        struct config c;
        char err[256];
        assert_int_equal(parse("require-packages yes\n", &c, err), 0);
        assert_int_equal(c.require_packages, 1);
        config_free(&c);
        assert_int_equal(parse("require-packages no\n", &c, err), 0);
        assert_int_equal(c.require_packages, 0);
        config_free(&c);
        expect_error("require-packages maybe\n", "require-packages must be yes or no, not 'maybe'");
        expect_error("require-packages yes\nrequire-packages no\n", "already set on line 1");
}

/* ---- the files ---- */

static char g_dir[64];

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_true(fputs(text, f) >= 0);
        assert_int_equal(fclose(f), 0);
}

static int files_setup(void **state)
{
        (void)state;
        snprintf(g_dir, sizeof(g_dir), "/tmp/lsashm-test-conf-XXXXXX");
        return mkdtemp(g_dir) ? 0 : -1;
}

static int files_teardown(void **state)
{
        (void)state;
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
        return strncmp(g_dir, "/tmp/lsashm-test-conf-", 22) == 0 && system(cmd) == 0 ? 0 : -1;
}

/* The file, then the drop-ins in name order; hidden files and other
 * suffixes skipped. */
static void test_config_files_dropins_in_order(void **state)
{
        (void)state;
        char conf[128], dir[136], path[200], err[256] = "";
        snprintf(conf, sizeof(conf), "%s/order.conf", g_dir);
        snprintf(dir, sizeof(dir), "%s.d", conf);
        write_file(conf, "package /a.so\np.k main\n");
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(path, sizeof(path), "%s/20-b.conf", dir);
        write_file(path, "package /c.so\np.k twenty\n");
        snprintf(path, sizeof(path), "%s/10-a.conf", dir);
        write_file(path, "package /b.so\np.k ten\nmax-connections 5\n");
        snprintf(path, sizeof(path), "%s/.hidden.conf", dir);
        write_file(path, "broken\n");
        snprintf(path, sizeof(path), "%s/30-c.conf.dpkg-old", dir);
        write_file(path, "broken\n");
        struct config c = { 0 };
        struct config_files f;
        assert_int_equal(config_files_load(conf, false, &c, &f, err, sizeof(err)), 0);
        assert_true(f.main_read);
        assert_false(f.missing);
        assert_int_equal(f.dropins, 2);
        assert_string_equal(f.dropin_dir, dir);
        assert_int_equal(c.npackages, 3);
        assert_string_equal(c.packages[0], "/a.so");
        assert_string_equal(c.packages[1], "/b.so");
        assert_string_equal(c.packages[2], "/c.so");
        assert_int_equal(c.max_connections, 5);
        assert_int_equal(c.nsettings, 3);
        expect_setting(&c, 0, "p", "k", "main");
        expect_setting(&c, 1, "p", "k", "ten");
        expect_setting(&c, 2, "p", "k", "twenty");
        config_free(&c);

        /* A directive set in the file and again in a drop-in: an error that
         * names the drop-in and its line. */
        snprintf(path, sizeof(path), "%s/40-d.conf", dir);
        write_file(path, "\npackage /a.so\n");
        assert_int_equal(config_files_load(conf, false, &c, &f, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "40-d.conf:2: package /a.so listed twice"));
        config_free(&c);
}

/* A missing file: fine when optional (its drop-ins still count), an error
 * when asked for; a drop-in directory that cannot be read is an error. */
static void test_config_files_missing(void **state)
{
        (void)state;
        char conf[128], dir[136], path[200], err[256] = "";
        snprintf(conf, sizeof(conf), "%s/absent.conf", g_dir);
        struct config c = { 0 };
        struct config_files f;
        assert_int_equal(config_files_load(conf, true, &c, &f, err, sizeof(err)), 0);
        assert_true(f.missing);
        assert_false(f.main_read);
        assert_int_equal(f.dropins, 0);
        config_free(&c);
        assert_int_equal(config_files_load(conf, false, &c, &f, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "absent.conf: No such file or directory"));
        config_free(&c);

        snprintf(dir, sizeof(dir), "%s.d", conf);
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(path, sizeof(path), "%s/x.conf", dir);
        write_file(path, "p.k v\n");
        assert_int_equal(config_files_load(conf, true, &c, &f, err, sizeof(err)), 0);
        assert_true(f.missing);
        assert_int_equal(f.dropins, 1);
        assert_int_equal(c.nsettings, 1);
        config_free(&c);

        /* A drop-in "directory" that is a file is no directory: nothing to read. */
        char other[128], odir[136];
        snprintf(other, sizeof(other), "%s/other.conf", g_dir);
        snprintf(odir, sizeof(odir), "%s.d", other);
        write_file(other, "");
        write_file(odir, "not a directory");
        assert_int_equal(config_files_load(other, false, &c, &f, err, sizeof(err)), 0);
        assert_int_equal(f.dropins, 0);
        config_free(&c);
}

int main(void)
{
        const struct CMUnitTest parsing[] = {
                cmocka_unit_test(test_config_settings_in_order),
                cmocka_unit_test(test_config_settings_errors),
                cmocka_unit_test(test_config_settings_limit),
                cmocka_unit_test(test_config_require_packages),
        };
        const struct CMUnitTest files[] = {
                cmocka_unit_test(test_config_files_dropins_in_order),
                cmocka_unit_test(test_config_files_missing),
        };
        int r = cmocka_run_group_tests(parsing, NULL, NULL);
        return r | cmocka_run_group_tests(files, files_setup, files_teardown);
}
