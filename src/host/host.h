/* SPDX-License-Identifier: MIT */
/*
 * The package host: loads security packages, hands each the LSA function
 * table, and serves client connections on one SOCK_SEQPACKET socket. lsashmd
 * is a thin main() around this; the tests drive it in-process too.
 *
 * host_dispatch() serves whatever is ready and returns, on the caller's
 * thread (the host's thread): new connections, their CONNECT, admin
 * requests, connections to close. Connected clients are served by a pool
 * of worker threads the host starts, several connections at once, each
 * request answered by the worker that read it. Functions return 0 or
 * -errno.
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
        const char *config_path; /* for the status report; NULL: none. Must outlive the host */
        uint32_t worker_threads; /* package calls at once; 0 means twice the CPUs, 4..64 */
        uint32_t max_submit;     /* largest submit buffer, bytes; 0 means 1 MiB; 64 KiB..256 MiB */
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

/* Stop reading requests (the socket is unlinked: new clients fail at once)
 * and wait up to timeout_ms for the requests being served, package calls
 * among them, each answered as it finishes. 0; or -ETIMEDOUT, logged: calls are still running
 * package code, and host_destroy, which would wait for them, is not to be
 * called: the process is to exit. After host_drain only host_destroy. */
int host_drain(struct host *h, unsigned timeout_ms);

/* Take what can change at run time from cfg: reply_max, max_connections,
 * max_connections_per_uid, logon_gid, admin_gid, max_submit (defaults as in
 * host_create); the rest of cfg is ignored. Call it on the host's thread,
 * between dispatches. 0 or -EINVAL. */
int host_reload(struct host *h, const struct host_config *cfg);

/* The name of the package whose entry point this thread is running, and
 * that entry point's name; NULL when none or unknown. Async-signal-safe:
 * for a fatal signal's handler. */
const char *host_crash_package(void);
const char *host_crash_entry(void);

/* ---- package-config.c: packages' own settings (LsashmGetPackageSetting) ----
 * One "STEM.KEY VALUE" line of the configuration: a setting of the package
 * whose library is STEM.so. Keys may repeat: each is one more value. */
struct host_setting {
        const char *package; /* STEM */
        const char *key;
        const char *value;
};
/* Replace every setting with a copy of s[0..n) (n == 0 clears them). On
 * the host's thread, between dispatches; what packages read from then on.
 * 0, -EINVAL (a NULL field), -ENOMEM (the settings in use are kept). */
int host_set_package_settings(struct host *h, const struct host_setting *s, size_t n);

/* ---- log.c: the log (stderr, or h's log sink) ----
 * A format may start with a priority, as sd-daemon.h's SD_ERR does; a line
 * without one is informational. On stderr the priority is shown as "<N>"
 * only when stderr is the journal (JOURNAL_STREAM), which then files the
 * line under it. A line logged while a package's entry point runs says
 * "package NAME: " first. */
#define HOST_LOG_ERR "<3>"     /* lsashmd cannot do what it was asked */
#define HOST_LOG_WARNING "<4>" /* something is wrong, lsashmd goes on */
#define HOST_LOG_NOTICE "<5>"  /* worth an administrator's eye: clients refused, dropped */
#define HOST_LOG_INFO "<6>"    /* what lsashmd did: started, loaded, reloaded, stopped */
#define HOST_LOG_DEBUG "<7>"
void host_logf(struct host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take the "<N>" a line starts with off *line: its priority, else 6 (info). */
int host_log_priority(const char **line);
/* Write one line to stderr: "[<N>]lsashmd: [package PACKAGE: ]TEXT". */
void host_log_write(int priority, const char *package, const char *text);
/* JOURNAL_STREAM names stderr (checked afresh at each call). */
bool host_log_stderr_is_journal(void);

/* Wait for the calls in flight (without bound: see host_drain), stop the
 * workers, Shutdown and dlclose every package (deleting the sections each
 * owns), close every connection, unlink the socket we bound. */
void host_destroy(struct host *h);

#endif
