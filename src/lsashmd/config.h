/* SPDX-License-Identifier: MIT */
/*
 * lsashmd's configuration file, parsed without side effects so that tests
 * can feed it any text. One directive per line; '#' starts a comment.
 *
 *   socket PATH                 where to listen (default /run/lsashm/lsashm.sock)
 *   socket-mode OCTAL           the socket file's mode (default 0666)
 *   package PATH                a package to load; repeatable, in load order
 *   logon-group NAME            may LsaRegisterLogonProcess besides root
 *   admin-group NAME            may run `lsashm status` besides root
 *   reply-max BYTES[K|M]        per-connection reply section, 64K..256M (default 1M)
 *   max-connections N           (default 1024)
 *   max-connections-per-uid N   (default 64)
 */
#ifndef LSASHMD_CONFIG_H
#define LSASHMD_CONFIG_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CONFIG_MAX_PACKAGES 64
#define CONFIG_MAX_LINE 4096

struct config {
        char *socket_path;              /* NULL: not set */
        mode_t socket_mode;             /* 0: not set */
        char *packages[CONFIG_MAX_PACKAGES];
        unsigned npackages;
        char *logon_group;              /* names, resolved by the caller */
        char *admin_group;
        uint64_t reply_max;             /* 0: not set */
        uint32_t max_connections;       /* 0: not set */
        uint32_t max_connections_per_uid;
};

/* Parse f (named name in messages) into cfg, which starts zeroed or holds
 * earlier settings. On error, 0 > return and err holds "NAME:LINE: what". */
int config_parse(FILE *f, const char *name, struct config *cfg, char *err, size_t errlen);
/* The same from a string. */
int config_parse_string(const char *text, struct config *cfg, char *err, size_t errlen);
void config_free(struct config *cfg);

#endif
