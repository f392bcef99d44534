/* SPDX-License-Identifier: MIT */
/*
 * The package's sources: passwd(5) and group(5) files, read whole and parsed
 * in place (fields are NUL-terminated inside the file's own buffer, which
 * the parsed entries point into). This is the one place that parses them.
 *
 * What a line must be to be served, as glibc's `files` module reads it:
 * leading blanks are skipped; empty lines and lines starting with '#' are
 * ignored (not counted). A passwd line has exactly 7 fields
 * (name:passwd:uid:gid:gecos:dir:shell), a group line 4
 * (name:passwd:gid:members); the name is not empty and does not start with
 * '+' or '-' (NIS compatibility entries are not served); ids are decimal,
 * at most 4294967294 ((uid_t)-1 is no id). Group members are separated by
 * ',', blanks around them trimmed and empty ones dropped. Bytes are bytes:
 * names need not be UTF-8. Anything else, a NUL byte in a line, or a line
 * longer than NSS_SOURCE_MAX_LINE, is skipped and counted, and reported
 * through the log callback (file:line and why), at most
 * NSS_SOURCE_MAX_LOGGED times per file per load. The passwd field is never
 * kept. Duplicates are kept: the table's builder keeps the first.
 */
#ifndef LSASHM_NSSCACHE_SOURCE_H
#define LSASHM_NSSCACHE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#define NSS_SOURCE_MAX_LINE   (1u << 20)   /* a group of ~50,000 members */
#define NSS_SOURCE_MAX_FILE   (256u << 20) /* larger files are refused whole */
#define NSS_SOURCE_MAX_LOGGED 10u

struct nss_source_user {
        const char *name, *gecos, *dir, *shell;
        uint32_t uid, gid;
};

struct nss_source_group {
        const char *name;
        uint32_t gid;
        size_t first_member; /* into nss_sources.members */
        size_t nmembers;
};

typedef void (*nss_source_log_fn)(void *ctx, const char *path, size_t line, const char *reason);

struct nss_sources {
        struct nss_source_user *users;
        size_t nusers, cap_users;
        struct nss_source_group *groups;
        size_t ngroups, cap_groups;
        const char **members;
        size_t nmembers, cap_members;
        char **buffers; /* what the entries point into */
        size_t nbuffers, cap_buffers;
        uint64_t skipped; /* malformed lines */
        nss_source_log_fn log;
        void *log_ctx;
};

/* Parse buf (len bytes of data and one more byte of room, which the parse
 * writes NULs into and s keeps pointing into; the caller keeps it alive) as
 * a passwd or group file named path (for the log). 0, or -ENOMEM (s holds
 * what was parsed before). */
int nss_source_parse_passwd(struct nss_sources *s, char *buf, size_t len, const char *path);
int nss_source_parse_group(struct nss_sources *s, char *buf, size_t len, const char *path);

enum nss_source_kind {
        NSS_SOURCE_PASSWD,
        NSS_SOURCE_GROUP
};

/* Read the file at path whole and parse it; s owns the buffer from then
 * on. 0; -errno of open/read; -EFBIG past NSS_SOURCE_MAX_FILE; -ENOMEM. */
int nss_source_load(struct nss_sources *s, const char *path, enum nss_source_kind kind);

/* Everything s holds; s is empty (and reusable, its log kept) afterwards. */
void nss_sources_clear(struct nss_sources *s);

#endif
