/* SPDX-License-Identifier: MIT */
/*
 * The package host: loads security packages, hands each the LSA function
 * table, and serves client connections on one SOCK_SEQPACKET socket. lsashmd
 * is a thin main() around this; the tests drive it in-process too.
 *
 * One thread: host_dispatch() serves whatever is ready and returns; package
 * entry points are called on that thread, one call at a time. Functions
 * return 0 or -errno.
 */
#ifndef LSASHM_HOST_H
#define LSASHM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct host;

typedef void (*host_log_fn)(void *ctx, const char *line);

struct host_config {
        const char *socket_path; /* bound here unless listen_fd >= 0 */
        int listen_fd;           /* an inherited listening SEQPACKET socket, or -1 */
        mode_t socket_mode;      /* 0 means 0666: anyone may connect untrusted */
        gid_t logon_gid;         /* may LsaRegisterLogonProcess besides root; (gid_t)-1: none */
        gid_t admin_gid;         /* may ask for status besides root; (gid_t)-1: none */
        uint64_t reply_max;      /* per connection reply section cap; 0 means 1 MiB */
        uint32_t max_connections;/* 0 means 1024 */
        uint32_t max_connections_per_uid; /* 0 means 64 */
        uint32_t connect_timeout_ms;     /* a connection must CONNECT within this; 0 means 10 s */
        uint32_t reserved_connections;   /* of max_connections, only root and the admin and logon
                                          * groups may take; 0 means 32 (at most half is kept) */
        host_log_fn log;         /* NULL: one line per event on stderr */
        void *log_ctx;
};

int host_create(const struct host_config *cfg, struct host **ret);

/* Load one package (.so path): dlopen, SpLsaModeInitialize, InitializePackage,
 * SpInitialize, GetInfo. A failure is logged with the reason and returned;
 * the host goes on serving the packages that did load. */
int host_load_package(struct host *h, const char *path);
unsigned host_package_count(const struct host *h);
/* One line about loaded package number index (0 to count - 1): its name,
 * id, interface version, GetInfo's capabilities, version, RPC id and
 * maximum token, and the entry points it gave. 0, or -ENOENT. */
int host_package_describe(const struct host *h, unsigned index, char *buf, size_t len);
/* elf-file.c: a package file looked at without loading it.
 * host_package_file_check: 0 when path is a shared object of this machine
 * whose segments all lie inside the file (dlopen would fault reading past
 * the end of a truncated one), else -errno with the reason in why.
 * host_package_file_undefined: each(ctx, name) for every undefined,
 * non-weak symbol of its dynamic symbol table; 0 or -errno and why. */
int host_package_file_check(const char *path, char *why, size_t why_len);
int host_package_file_undefined(const char *path, void (*each)(void *ctx, const char *name), void *ctx, char *why,
                                size_t why_len);

/* An fd to poll for input; then call host_dispatch. */
int host_fd(const struct host *h);
/* Serve what is ready without blocking. Also drops connections that sent
 * no CONNECT in time: host_fd becomes readable when one is due. */
int host_dispatch(struct host *h);
/* Serve until host_stop (async-signal-safe). */
int host_run(struct host *h);
void host_stop(struct host *h);

/* Take what can change at run time from cfg: reply_max, max_connections,
 * max_connections_per_uid, logon_gid, admin_gid (defaults as in
 * host_create); the rest of cfg is ignored. Call it on the host's thread,
 * between dispatches. 0 or -EINVAL. */
int host_reload(struct host *h, const struct host_config *cfg);

/* The name of the package whose entry point this thread is running, and
 * that entry point's name; NULL when none or unknown. Async-signal-safe:
 * for a fatal signal's handler. */
const char *host_crash_package(void);
const char *host_crash_entry(void);

/* Shutdown and dlclose every package (deleting the sections each owns),
 * close every connection, unlink the socket we bound. */
void host_destroy(struct host *h);

#endif
