/* SPDX-License-Identifier: MIT */
/*
 * The package's configuration: SYSCONFDIR/lsashm/nsscache.conf
 * (NSSCACHE_CONF_PATH, /etc/lsashm/nsscache.conf for the prefix /usr), or
 * the file $LSASHM_NSSCACHE_CONF names. One setting a line:
 *   passwd FILE      a passwd(5) file to serve (any number, in order)
 *   group FILE       a group(5) file to serve (any number, in order)
 * FILE is an absolute path; '#' starts a comment line; blank lines are
 * ignored. With no passwd line the passwd source is /etc/passwd, with no
 * group line /etc/group. A missing file means every default. Anything else
 * is an error: the file is refused whole (file:line and why in ret_error).
 */
#ifndef LSASHM_NSSCACHE_CONF_H
#define LSASHM_NSSCACHE_CONF_H

#include <stddef.h>

#include "source.h"

#define NSS_CONF_MAX_SOURCES 64u
#define NSS_CONF_MAX_FILE    (64u << 10)

struct nss_conf_source {
        enum nss_source_kind kind;
        char *path;
};

struct nss_conf {
        char *path; /* the configuration file itself */
        /* Up to NSS_CONF_MAX_SOURCES configured, plus the defaults added
         * for a kind that has none. */
        struct nss_conf_source sources[NSS_CONF_MAX_SOURCES + 2];
        unsigned nsources;
};

/* The configuration file to read: $LSASHM_NSSCACHE_CONF, or the default. */
const char *nss_conf_path(void);

/* Parse text (len bytes) read from path into *ret; defaults are filled in.
 * 0; -EINVAL with ret_error (size bytes) saying where and why; -ENOMEM. */
int nss_conf_parse(const char *text, size_t len, const char *path, struct nss_conf *ret, char *ret_error, size_t size);

/* Read and parse path (a missing file gives the defaults). As above, and
 * -errno of reading it. */
int nss_conf_load(const char *path, struct nss_conf *ret, char *ret_error, size_t size);

void nss_conf_free(struct nss_conf *c);

#endif
