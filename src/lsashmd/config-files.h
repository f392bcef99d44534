/* SPDX-License-Identifier: MIT */
#ifndef LSASHMD_CONFIG_FILES_H
#define LSASHMD_CONFIG_FILES_H

#include <limits.h>
#include <stdbool.h>

#include "lsashmd/config.h"

struct config_files {
        bool main_read;   /* the file itself was read */
        bool missing;     /* it does not exist (and was optional) */
        unsigned dropins; /* files of dropin_dir read */
        char dropin_dir[PATH_MAX + 3];
};

/*
 * Parse path, then path.d/ *.conf in name order, into cfg (zeroed first).
 * optional: a missing path is no error (ret->missing says so). 0, or
 * -errno with err holding "FILE: why" or "FILE:LINE: why" (-EINVAL a
 * mistake in a file, -ENOENT and the like a file that cannot be opened,
 * -EIO a directory that cannot be read, -ENOMEM).
 */
int config_files_load(const char *path, bool optional, struct config *cfg, struct config_files *ret, char *err,
                      size_t errlen);

#endif
