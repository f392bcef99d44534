/* SPDX-License-Identifier: MIT */
/*
 * lsashmd's configuration file, parsed without side effects so that tests
 * can feed it any text. One directive per line, its one value after blanks;
 * '#' starts a comment anywhere; blank lines are ignored.
 *
 *   socket PATH                 where to listen (default /run/lsashm/lsashm.sock)
 *   socket-mode OCTAL           the socket file's mode, 1..0777 (default 0666)
 *   package PATH                a package to load; repeatable, in load order
 *   logon-group NAME            may LsaRegisterLogonProcess besides root
 *   admin-group NAME            may run `lsashm status` besides root
 *   reply-max BYTES[K|M]        per-connection reply section, 64K..256M, a
 *                               multiple of 4K (default 1M)
 *   max-connections N           1..1000000 (default 1024)
 *   max-connections-per-uid N   1..1000000 (default 64)
 *   reserved-connections N      1..1000000 (default 32)
 *   worker-threads N            package calls at once, 1..256 (default
 *                               twice the CPUs, 4..64)
 *   max-submit-size BYTES[K|M]  largest submit buffer or authentication information, 64K..256M (default 1M)
 *   require-packages yes|no     every package must load, or lsashmd exits
 *   STEM.KEY VALUE...           a setting of the package whose file is
 *                               STEM.so; the value is the rest of the line;
 *                               repeatable (a key may have many values)
 *
 * Every directive but package and the settings may appear once. Paths are absolute. A line
 * holds at most CONFIG_MAX_LINE bytes before its newline, and no NUL.
 */
#ifndef LSASHMD_CONFIG_H
#define LSASHMD_CONFIG_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CONFIG_MAX_PACKAGES 64
#define CONFIG_MAX_LINE 4096
#define CONFIG_MAX_CONNECTIONS 1000000u
#define CONFIG_MAX_SETTINGS 4096
#define CONFIG_MAX_SETTING_NAME 64 /* STEM and KEY, each */

/* One "STEM.KEY VALUE" line: for the package STEM.so, in file order. */
struct config_setting {
        char *package;
        char *key;
        char *value;
};
#define CONFIG_MAX_WORKERS 256u

struct config {
        char *source;                   /* the file's name, for messages */
        char *socket_path;              /* NULL: not set */
        mode_t socket_mode;             /* 0: not set */
        char *packages[CONFIG_MAX_PACKAGES];
        unsigned npackages;
        char *logon_group;              /* names; config_resolve_groups() looks them up */
        char *admin_group;
        uint64_t reply_max;             /* 0: not set */
        uint32_t max_connections;       /* 0: not set */
        uint32_t max_connections_per_uid;
        uint32_t reserved_connections;  /* 0: not set */
        int require_packages;           /* 1 yes, 0 no or not set */
        struct config_setting *settings;
        unsigned nsettings;
        uint32_t worker_threads;        /* 0: not set */
        uint32_t max_submit;            /* 0: not set */
        /* Where each single-valued directive was set (0: not yet), so a
         * second one and a group that does not resolve name their line. */
        unsigned socket_line, socket_mode_line, logon_group_line, admin_group_line, reply_max_line,
                max_connections_line, max_connections_per_uid_line, reserved_connections_line,
                require_packages_line,
                worker_threads_line, max_submit_line;
};

/*
 * Parse f into cfg, which must start zeroed; name is the file's name in
 * messages. 0, or:
 *   -EINVAL  a syntax or range error: err holds "NAME:LINE: what"
 *   -EIO     f could not be read (err says so)
 *   -ENOMEM
 * On failure cfg may hold what was parsed before; config_free() it.
 */
int config_parse(FILE *f, const char *name, struct config *cfg, char *err, size_t errlen);
/* The same from a string, named "(string)" in messages. */
int config_parse_string(const char *text, struct config *cfg, char *err, size_t errlen);

/*
 * Look up logon-group and admin-group (getgrnam_r). Each ret_* is the gid,
 * or (gid_t)-1 when the directive is absent. 0, or -ENOENT (unknown group:
 * err holds "NAME:LINE: ..."), -EIO (the group database failed), -ENOMEM.
 * The outputs are left untouched on failure.
 */
int config_resolve_groups(const struct config *cfg, gid_t *ret_logon, gid_t *ret_admin, char *err,
                          size_t errlen);

/* Release what cfg holds and zero it; a zeroed cfg is fine. */
void config_free(struct config *cfg);

/* The same from len bytes at buf, which may hold NUL bytes (refused as in a
 * file): no file is touched, so a fuzzer can feed it anything. */
int config_parse_buffer(const void *buf, size_t len, const char *name, struct config *cfg, char *err,
                        size_t errlen);

#endif
