/* SPDX-License-Identifier: MIT */
/*
 * Which files make lsashmd's configuration: the file itself (the one
 * compiled in from the install prefix, or --config), then every *.conf of
 * the directory beside it named after it plus ".d", in name order, all
 * parsed as one file would be (a directive set twice across them is the
 * same error as twice in one). A drop-in directory lets a package's
 * installer add its settings and its package line without editing the
 * administrator's file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsashmd/config-files.h"

static int parse_file(const char *name, struct config *cfg, char *err, size_t errlen)
{
        FILE *f = fopen(name, "re");
        if (!f) {
                int e = errno;
                snprintf(err, errlen, "%s: %s", name, strerror(e));
                return -e;
        }
        int r = config_parse(f, name, cfg, err, errlen);
        fclose(f);
        return r;
}

static int dropin_filter(const struct dirent *d)
{
        size_t len = strlen(d->d_name);
        /* Hidden files are editors' and package managers' leftovers. */
        return d->d_name[0] != '.' && len > 5 && !strcmp(d->d_name + len - 5, ".conf");
}

int config_files_load(const char *path, bool optional, struct config *cfg, struct config_files *ret, char *err,
                      size_t errlen)
{
        memset(ret, 0, sizeof(*ret));
        int r = parse_file(path, cfg, err, errlen);
        if (r == -ENOENT && optional)
                ret->missing = true;
        else if (r < 0)
                return r;
        else
                ret->main_read = true;
        /* The drop-ins count even without the file: a package's installer
         * may ship its directory alone. */
        snprintf(ret->dropin_dir, sizeof(ret->dropin_dir), "%s.d", path);
        struct dirent **names = NULL;
        int n = scandir(ret->dropin_dir, &names, dropin_filter, alphasort);
        if (n < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                snprintf(err, errlen, "%s: %s", ret->dropin_dir, strerror(errno));
                return -EIO;
        }
        r = 0;
        for (int i = 0; i < n; i++) {
                char name[sizeof(ret->dropin_dir) + 256 + 2];
                snprintf(name, sizeof(name), "%s/%s", ret->dropin_dir, names[i]->d_name);
                if (r == 0) {
                        r = parse_file(name, cfg, err, errlen);
                        if (r == 0)
                                ret->dropins++;
                }
                free(names[i]);
        }
        free(names);
        return r;
}
