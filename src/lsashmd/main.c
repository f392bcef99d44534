/* SPDX-License-Identifier: MIT */
/*
 * lsashmd: the package host. Reads /etc/lsashm/lsashmd.conf (or --config),
 * listens on its socket (or the one systemd passes), loads the packages and
 * serves clients until SIGTERM, SIGINT or SIGQUIT. It never daemonizes:
 * systemd (Type=notify) or the shell keeps it in the background;
 * --foreground is accepted for compatibility with that habit.
 *
 * Signals: SIGHUP reloads the configuration file (what can change while
 * running is applied, the rest is reported as needing a restart, a file
 * with an error is refused and the one in use kept); SIGUSR1 logs a status
 * line; SIGUSR2 and SIGPIPE are ignored. A fatal signal (a package's bug:
 * SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE) first zeroes every section that
 * may hold secrets, reply sections included, then dies of that signal.
 *
 * Exit status: 0 after a clean stop, 1 for a usage or configuration error,
 * 2 when it could not start serving (or stopped on an error), 3 when
 * require-packages is set and a package did not load.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "host/host.h"
#include "lsashm/share.h"
#include "lsashmd/config-files.h"
#include "lsashmd/check.h"
#include "lsashmd/config.h"
#include "lsashmd/paths.h"
#include "section/crash-wipe.h"

/* SYSCONFDIR/lsashm/lsashmd.conf of the install prefix (paths.h.in). */
#define DEFAULT_CONFIG LSASHMD_DEFAULT_CONFIG
#define DEFAULT_SOCKET_DIR "/run/lsashm"
#define EXIT_USAGE 1
#define EXIT_NOT_SERVING 2
#define EXIT_PACKAGE_MISSING 3 /* lsashmd.service: RestartPreventExitStatus=3 */
/* How long a stop waits for the package calls in flight. */
#define SHUTDOWN_WAIT_MS 5000u

/*
 * Signals are turned into bits and a byte on a pipe that the main loop
 * polls beside the host, so that everything they cause (stopping, reloading,
 * logging) runs on the main thread between two dispatches, never inside a
 * package's entry point. Handlers rather than a blocked mask and a
 * signalfd: a blocked mask would be inherited by every program a package
 * runs, which would then ignore systemd's SIGTERM.
 */
#define WANT_STOP 1
#define WANT_RELOAD 2
#define WANT_STATUS 4
static int wanted; /* WANT_* bits, set and taken with lock-free atomics */
_Static_assert(__GCC_ATOMIC_INT_LOCK_FREE == 2, "a signal handler may use only lock-free atomics");
static volatile sig_atomic_t stop_signal;
/* stderr is the journal: the dying line carries its priority too. Set
 * before the handlers, read by them. */
static bool log_journal;
static int wake_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
        int saved = errno;
        switch (sig) {
        case SIGHUP: __atomic_fetch_or(&wanted, WANT_RELOAD, __ATOMIC_SEQ_CST); break;
        case SIGUSR1: __atomic_fetch_or(&wanted, WANT_STATUS, __ATOMIC_SEQ_CST); break;
        case SIGTERM:
        case SIGINT:
        case SIGQUIT:
                stop_signal = sig;
                __atomic_fetch_or(&wanted, WANT_STOP, __ATOMIC_SEQ_CST);
                break;
        default: break; /* SIGUSR2: nothing to do */
        }
        if (wake_pipe[1] >= 0 && write(wake_pipe[1], "", 1) < 0) {
                /* full: the loop will wake anyway */
        }
        errno = saved;
}

/* ---- a fatal signal: wipe, say so, die of it ---- */

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE };

static const char *fatal_name(int sig)
{
        switch (sig) {
        case SIGSEGV: return "SIGSEGV";
        case SIGBUS: return "SIGBUS";
        case SIGABRT: return "SIGABRT";
        case SIGILL: return "SIGILL";
        case SIGFPE: return "SIGFPE";
        default: return "a fatal signal";
        }
}

/* Async-signal-safe string building: no stdio in a dying process. */
static void put(char *buf, size_t cap, size_t *len, const char *s)
{
        while (s && *s && *len + 1 < cap)
                buf[(*len)++] = *s++;
}

static void put_uint(char *buf, size_t cap, size_t *len, unsigned v)
{
        char digits[12];
        int n = 0;
        do
                digits[n++] = (char)('0' + v % 10);
        while ((v /= 10) && n < (int)sizeof(digits));
        while (n > 0 && *len + 1 < cap)
                buf[(*len)++] = digits[--n];
}

static void on_fatal(int sig)
{
        /* First the wipe: whatever follows may fault again on a corrupted
         * process, and then at least no secret is left behind. */
        unsigned wiped = crash_wipe_all();
        char line[512];
        size_t len = 0;
        if (log_journal)
                put(line, sizeof(line), &len, "<2>"); /* LOG_CRIT */
        put(line, sizeof(line), &len, "lsashmd: ");
        put(line, sizeof(line), &len, fatal_name(sig));
        const char *pkg = host_crash_package();
        if (pkg) {
                put(line, sizeof(line), &len, " in package ");
                put(line, sizeof(line), &len, pkg);
                const char *entry = host_crash_entry();
                if (entry) {
                        put(line, sizeof(line), &len, ", entry point ");
                        put(line, sizeof(line), &len, entry);
                }
        } else {
                put(line, sizeof(line), &len, " outside any package");
        }
        put(line, sizeof(line), &len, "; wiped ");
        put_uint(line, sizeof(line), &len, wiped);
        put(line, sizeof(line), &len, " section(s) before dying\n");
        if (write(STDERR_FILENO, line, len) < 0) {
                /* nowhere else to say it */
        }
        /* SA_RESETHAND made the action the default again and SA_NODEFER
         * left the signal unblocked: this ends the process with the
         * signal's own status (and core) whether the fault came from an
         * instruction or from raise()/abort(). */
        raise(sig);
        _exit(128 + sig);
}

/* On an alternate stack, so that a package's stack overflow on the main
 * thread still reaches the wipe. Other threads' overflows do not (each
 * thread needs its own alternate stack; packages' threads are theirs). */
static void fatal_handlers_install(void)
{
        size_t size = 256 * 1024;
        void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        int flags = SA_RESETHAND | SA_NODEFER;
        if (stack != MAP_FAILED) {
                stack_t ss = { .ss_sp = stack, .ss_size = size };
                if (sigaltstack(&ss, NULL) == 0)
                        flags |= SA_ONSTACK;
        }
        struct sigaction sa = { .sa_handler = on_fatal, .sa_flags = flags };
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
                sigaction(fatal_signals[i], &sa, NULL);
}

static int signals_install(void)
{
        if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        /* SA_RESTART: a signal must not make a package's own blocking calls
         * fail with EINTR; the pipe wakes our poll. */
        struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
        sigemptyset(&sa.sa_mask);
        static const int handled[] = { SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2 };
        for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
                sigaddset(&sa.sa_mask, handled[i]);
        for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
                sigaction(handled[i], &sa, NULL);
        /* A client gone mid-reply is an error to handle, not a reason to die. */
        signal(SIGPIPE, SIG_IGN);
        fatal_handlers_install();
        return 0;
}

/* The bits set by signals since the last call. */
static int signals_take(void)
{
        char buf[64];
        while (read(wake_pipe[0], buf, sizeof(buf)) > 0) {
        }
        /* One atomic exchange: a signal handled meanwhile, on this thread or
         * a package's, is either in w or left for the next call. */
        return __atomic_exchange_n(&wanted, 0, __ATOMIC_SEQ_CST);
}

static const char *stop_name(int sig)
{
        return sig == SIGINT ? "SIGINT" : sig == SIGQUIT ? "SIGQUIT" : "SIGTERM";
}

static void usage(FILE *f)
{
        fprintf(f, "usage: lsashmd [--config FILE] [--socket PATH] [--package FILE.so]... [--require-packages]\n"
                   "               [--foreground]\n"
                   "       lsashmd --check FILE.so\n"
                   "       lsashmd --help | --version\n"
                   "Hosts LSA security packages and serves their clients (see lsashmd(8)).\n"
                   "  --config FILE    configuration file (default " DEFAULT_CONFIG ")\n"
                   "  --socket PATH    listen here (default " LSASHM_DEFAULT_SOCKET ")\n"
                   "  --package FILE   load this package; given at least once, the packages\n"
                   "                   of the configuration file are not loaded\n"
                   "  --require-packages  exit (status 3) unless every package loads\n"
                   "  --foreground     accepted; lsashmd always stays in the foreground\n"
                   "  --check FILE.so  load this package without serving, say what is wrong\n");
}

/* The socket systemd passed (>= 0), -1 when none, -2 when what it passed
 * cannot be served. */
static int activation_socket(void)
{
        int n = sd_listen_fds(1); /* 1: unset LISTEN_*, so packages never see them */
        if (n == 0)
                return -1;
        if (n < 0) {
                host_logf(NULL, HOST_LOG_ERR "socket activation: %s", strerror(-n));
                return -2;
        }
        if (n > 1) {
                host_logf(NULL, HOST_LOG_ERR "socket activation passed %d sockets; lsashmd serves one", n);
                return -2;
        }
        if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_SEQPACKET, 1, NULL, 0) <= 0) {
                host_logf(NULL, HOST_LOG_ERR "socket activation must pass a listening AF_UNIX SOCK_SEQPACKET socket");
                return -2;
        }
        return SD_LISTEN_FDS_START;
}

/* A package named on the command line, as dlopen is to see it: absolute
 * when it exists, and never a bare name, which dlopen would look for in the
 * library path instead of the current directory. Returns a malloc'd string. */
static char *package_path(const char *arg)
{
        char *p = realpath(arg, NULL);
        if (p)
                return p;
        if (strchr(arg, '/'))
                return strdup(arg);
        size_t len = strlen(arg) + 3;
        p = malloc(len);
        if (p)
                snprintf(p, len, "./%s", arg);
        return p;
}

/* Read the configuration (the file, then its .d directory); say which
 * files made it. 0, or -1 when it cannot be used (said). */
static int config_load(const char *path, struct config *cfg)
{
        const char *name = path ? path : DEFAULT_CONFIG;
        char err[512] = "";
        struct config_files files;
        /* The default file is optional; one that was asked for is not. */
        int r = config_files_load(name, !path, cfg, &files, err, sizeof(err));
        if (r < 0) {
                host_logf(NULL, HOST_LOG_ERR "%s", r == -ENOMEM ? strerror(ENOMEM) : err);
                return -1;
        }
        char dropins[sizeof(files.dropin_dir) + 64] = "";
        if (files.dropins)
                snprintf(dropins, sizeof(dropins), ", and %u file%s of %s", files.dropins,
                         files.dropins == 1 ? "" : "s", files.dropin_dir);
        if (files.main_read)
                host_logf(NULL, HOST_LOG_INFO "configuration: read %s%s", name, dropins);
        else
                host_logf(NULL, HOST_LOG_NOTICE "configuration: %s not found%s: the defaults apply%s", name,
                          dropins, files.dropins ? " to what those do not set" : ", and only --package loads packages");
        return 0;
}

/* Hand the host the packages' settings (LsashmGetPackageSetting). */
static int settings_apply(struct host *h, const struct config *cfg)
{
        struct host_setting *s = cfg->nsettings ? calloc(cfg->nsettings, sizeof(*s)) : NULL;
        if (cfg->nsettings && !s)
                return -ENOMEM;
        for (unsigned i = 0; i < cfg->nsettings; i++)
                s[i] = (struct host_setting){ cfg->settings[i].package, cfg->settings[i].key,
                                              cfg->settings[i].value };
        int r = host_set_package_settings(h, s, cfg->nsettings);
        free(s);
        return r;
}

/* What the process was started with, to tell a reload what it cannot change. */
struct startup {
        const char *config_path;  /* NULL: the default file */
        const struct config *cfg; /* as read at start */
        bool socket_from_cli;     /* --socket: the file's socket does not apply */
        bool packages_from_cli;   /* --package: the file's packages do not apply */
};

static bool same_string(const char *a, const char *b)
{
        return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_packages(const struct config *a, const struct config *b)
{
        if (a->npackages != b->npackages)
                return false;
        for (unsigned i = 0; i < a->npackages; i++)
                if (strcmp(a->packages[i], b->packages[i]))
                        return false;
        return true;
}

/* SIGHUP: read the file again; apply the limits and the groups; name what
 * would need a restart. A file that does not parse, or names a group that
 * does not exist, changes nothing. */
static void reload(struct host *h, const struct startup *st)
{
        const char *name = st->config_path ? st->config_path : DEFAULT_CONFIG;
        sd_notify(0, "RELOADING=1");
        struct config next = { 0 };
        char err[512] = "";
        struct host_config hc = { .listen_fd = -1 };
        int r = config_load(st->config_path, &next);
        if (r == 0) {
                r = config_resolve_groups(&next, &hc.logon_gid, &hc.admin_gid, err, sizeof(err));
                if (r < 0)
                        host_logf(NULL, HOST_LOG_ERR "%s", r == -ENOMEM ? strerror(ENOMEM) : err);
        }
        if (r < 0) {
                host_logf(NULL, HOST_LOG_ERR "reload refused: keeping the configuration in use");
                goto done;
        }
        if (!st->socket_from_cli && !same_string(next.socket_path, st->cfg->socket_path))
                host_logf(NULL, HOST_LOG_WARNING "reload: socket changed in %s: needs a restart", name);
        if (next.socket_mode != st->cfg->socket_mode)
                host_logf(NULL, HOST_LOG_WARNING "reload: socket-mode changed in %s: needs a restart", name);
        if (!st->packages_from_cli && !same_packages(&next, st->cfg))
                host_logf(NULL, HOST_LOG_WARNING "reload: packages changed in %s: needs a restart", name);
        if (next.require_packages != st->cfg->require_packages)
                host_logf(NULL, HOST_LOG_WARNING "reload: require-packages changed in %s: applies at the next start",
                          name);
        r = settings_apply(h, &next);
        if (r < 0)
                host_logf(NULL, HOST_LOG_ERR "reload: package settings not replaced: %s", strerror(-r));
        else
                host_logf(NULL, HOST_LOG_INFO "reload: %u package setting%s in use", next.nsettings,
                          next.nsettings == 1 ? "" : "s");
        hc.reply_max = next.reply_max;
        hc.max_connections = next.max_connections;
        hc.max_connections_per_uid = next.max_connections_per_uid;
        hc.reserved_connections = next.reserved_connections;
        hc.max_submit = next.max_submit;
        if (next.worker_threads != st->cfg->worker_threads)
                host_logf(NULL, HOST_LOG_WARNING "reload: worker-threads changed in %s: needs a restart", name);
        host_reload(h, &hc);
        host_logf(NULL,
                  HOST_LOG_INFO "reloaded %s: reply-max, max-connections, max-connections-per-uid, "
                                "reserved-connections, max-submit-size, logon-group and admin-group applied",
                  name);
done:
        config_free(&next);
        unsigned n = host_package_count(h);
        sd_notifyf(0, "READY=1\nSTATUS=serving %u package%s", n, n == 1 ? "" : "s");
}

/* Serve until a stop signal; 0, or the host's error. */
static int serve(struct host *h, const struct startup *st)
{
        for (;;) {
                int w = signals_take();
                if (w & WANT_STOP) {
                        host_logf(NULL, HOST_LOG_INFO "%s: stopping", stop_name(stop_signal));
                        return 0;
                }
                if (w & WANT_RELOAD)
                        reload(h, st);
                if (w & WANT_STATUS) {
                        unsigned n = host_package_count(h);
                        host_logf(NULL, HOST_LOG_INFO "status: serving %u package%s, configuration %s", n,
                                n == 1 ? "" : "s", st->config_path ? st->config_path : DEFAULT_CONFIG);
                }
                /* At least once a second: host_dispatch keeps the deadlines
                 * of connections that have not said CONNECT yet. */
                struct pollfd p[2] = { { .fd = host_fd(h), .events = POLLIN },
                                       { .fd = wake_pipe[0], .events = POLLIN } };
                int n = poll(p, 2, 1000);
                if (n < 0 && errno != EINTR)
                        return -errno;
                int r = host_dispatch(h);
                if (r < 0)
                        return r;
        }
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },  { "socket", required_argument, NULL, 's' },
                { "package", required_argument, NULL, 'p' }, { "foreground", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },          { "version", no_argument, NULL, 'V' },
                { "require-packages", no_argument, NULL, 'r' },
                { "check", required_argument, NULL, 'C' },   { NULL, 0, NULL, 0 },
        };
        /* One malloc arena for the whole daemon. Any worker thread may serve
         * any connection, so with glibc's arena per thread each arena grows
         * to the peak of whatever requests it happened to serve and keeps
         * it: the resident size creeps up in steps for minutes under a
         * steady load (scripts/soak). With one arena it settles within
         * seconds, smaller; the small blocks of a call come from each
         * thread's cache without the arena's lock. */
        mallopt(M_ARENA_MAX, 1);
        const char *config_path = NULL, *socket_path = NULL;
        const char *cli_packages[CONFIG_MAX_PACKAGES];
        unsigned ncli = 0;
        bool require_cli = false;
        int o;
        while ((o = getopt_long(argc, argv, "c:s:p:fhV", opts, NULL)) != -1) {
                switch (o) {
                case 'c': config_path = optarg; break;
                case 's': socket_path = optarg; break;
                case 'p':
                        if (ncli >= CONFIG_MAX_PACKAGES) {
                                host_logf(NULL, HOST_LOG_ERR "more than %d packages", CONFIG_MAX_PACKAGES);
                                return EXIT_USAGE;
                        }
                        cli_packages[ncli++] = optarg;
                        break;
                case 'f': break;
                case 'r': require_cli = true; break;
                case 'h': usage(stdout); return 0;
                case 'V': printf("lsashmd %s\n", LSASHM_VERSION); return 0;
                case 'C': return lsashmd_check(optarg, stdout); /* loads one package, serves nothing */
                default: usage(stderr); return EXIT_USAGE;
                }
        }
        if (optind < argc) {
                host_logf(NULL, HOST_LOG_ERR "unexpected argument '%s'", argv[optind]);
                usage(stderr);
                return EXIT_USAGE;
        }
        if (socket_path && (!*socket_path || strlen(socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))) {
                host_logf(NULL, HOST_LOG_ERR "--socket: empty or longer than a socket path can be");
                return EXIT_USAGE;
        }

        struct config cfg = { 0 };
        char err[512] = "";
        struct host_config hc = { .listen_fd = -1 };
        log_journal = host_log_stderr_is_journal();
        if (config_load(config_path, &cfg) < 0)
                goto usage_error;
        /* Groups are resolved at start and on each reload: a group renamed
         * meanwhile keeps its gid here until then. */
        int r = config_resolve_groups(&cfg, &hc.logon_gid, &hc.admin_gid, err, sizeof(err));
        if (r < 0) {
                host_logf(NULL, HOST_LOG_ERR "%s", r == -ENOMEM ? strerror(ENOMEM) : err);
                goto usage_error;
        }
        hc.socket_path = socket_path ? socket_path : cfg.socket_path ? cfg.socket_path : LSASHM_DEFAULT_SOCKET;
        hc.socket_mode = cfg.socket_mode;
        hc.reply_max = cfg.reply_max;
        hc.max_connections = cfg.max_connections;
        hc.max_connections_per_uid = cfg.max_connections_per_uid;
        hc.reserved_connections = cfg.reserved_connections;
        hc.config_path = config_path ? config_path : DEFAULT_CONFIG;
        hc.worker_threads = cfg.worker_threads;
        hc.max_submit = cfg.max_submit;

        hc.listen_fd = activation_socket();
        if (hc.listen_fd == -2) {
                config_free(&cfg);
                return EXIT_NOT_SERVING;
        }
        if (hc.listen_fd < 0 && !strcmp(hc.socket_path, LSASHM_DEFAULT_SOCKET)) {
                /* The default's directory, reachable by every client whatever
                 * our umask. Any other failure shows at bind. */
                if (mkdir(DEFAULT_SOCKET_DIR, 0755) == 0)
                        chmod(DEFAULT_SOCKET_DIR, 0755);
        }

        /* Before any package is loaded: a fault in its initialisation must
         * find the wipe in place too. */
        r = signals_install();
        if (r < 0) {
                host_logf(NULL, HOST_LOG_ERR "%s", strerror(-r));
                config_free(&cfg);
                return EXIT_NOT_SERVING;
        }

        struct host *h;
        r = host_create(&hc, &h);
        if (r < 0) {
                host_logf(NULL, HOST_LOG_ERR "cannot serve on %s: %s",
                        hc.listen_fd >= 0 ? "the socket systemd passed" : hc.socket_path, strerror(-r));
                config_free(&cfg);
                return EXIT_NOT_SERVING;
        }
        host_logf(NULL, HOST_LOG_INFO "listening on %s",
                  hc.listen_fd >= 0 ? "the socket systemd passed" : hc.socket_path);

        if (ncli && cfg.npackages)
                host_logf(NULL, HOST_LOG_NOTICE "--package given: not loading the %u package(s) of %s", cfg.npackages,
                        cfg.source);
        /* Before any package: SpLsaModeInitialize may read them already. */
        r = settings_apply(h, &cfg);
        if (r < 0) {
                host_logf(NULL, HOST_LOG_ERR "package settings: %s", strerror(-r));
                host_destroy(h);
                config_free(&cfg);
                return EXIT_NOT_SERVING;
        }
        unsigned n = ncli ? ncli : cfg.npackages, failed = 0;
        for (unsigned i = 0; i < n && !(__atomic_load_n(&wanted, __ATOMIC_SEQ_CST) & WANT_STOP); i++) {
                char *path = ncli ? package_path(cli_packages[i]) : strdup(cfg.packages[i]);
                /* A failure is logged by the host, with its reason. */
                if (!path || host_load_package(h, path) < 0)
                        failed++;
                if (!path)
                        host_logf(NULL, HOST_LOG_ERR "%s", strerror(ENOMEM));
                free(path);
        }
        unsigned loaded = host_package_count(h);
        if (failed && (require_cli || cfg.require_packages)) {
                /* Serving without them would look ready and answer every
                 * client STATUS_NO_SUCH_PACKAGE: better a failed unit. */
                host_logf(NULL, HOST_LOG_ERR "require-packages: %u of %u package%s did not load: exiting", failed, n,
                          n == 1 ? "" : "s");
                host_destroy(h);
                host_set_package_settings(NULL, NULL, 0);
                config_free(&cfg);
                return EXIT_PACKAGE_MISSING;
        }
        if (loaded == 0)
                host_logf(NULL, HOST_LOG_WARNING "warning: no package loaded; clients will find none");
        sd_notifyf(0, "READY=1\nSTATUS=serving %u package%s", loaded, loaded == 1 ? "" : "s");

        struct startup st = { .config_path = config_path, .cfg = &cfg, .socket_from_cli = socket_path != NULL,
                              .packages_from_cli = ncli > 0 };
        r = serve(h, &st);
        sd_notify(0, "STOPPING=1");
        if (r < 0)
                host_logf(NULL, HOST_LOG_ERR "stopped on error: %s", strerror(-r));
        /* Calls in flight finish and are answered, for a while: a package
         * blocked for good must not keep lsashmd from stopping. */
        if (host_drain(h, SHUTDOWN_WAIT_MS) < 0) {
                /* The host said how many. Its workers still run package
                 * code: nothing may be unloaded or freed under them, and
                 * exit() would run destructors beside them. */
                host_logf(NULL, HOST_LOG_WARNING "exiting without the calls still running");
                fflush(stderr);
                _exit(r < 0 ? EXIT_NOT_SERVING : 0);
        }
        host_destroy(h);
        host_set_package_settings(NULL, NULL, 0);
        config_free(&cfg);
        return r < 0 ? EXIT_NOT_SERVING : 0;

usage_error:
        config_free(&cfg);
        return EXIT_USAGE;
}
