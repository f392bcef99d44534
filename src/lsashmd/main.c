/* SPDX-License-Identifier: MIT */
/*
 * lsashmd: the package host. Reads /etc/lsashm/lsashmd.conf (or --config),
 * listens on its socket (or the one systemd passes), loads the packages and
 * serves clients until SIGTERM or SIGINT. It never daemonizes: systemd
 * (Type=notify) or the shell keeps it in the background; --foreground is
 * accepted for compatibility with that habit.
 *
 * Exit status: 0 after a clean stop, 1 for a usage or configuration error,
 * 2 when it could not start serving (or stopped on an error).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include "host/host.h"
#include "lsashm/share.h"
#include "lsashmd/config.h"

#define DEFAULT_CONFIG "/etc/lsashm/lsashmd.conf"
#define DEFAULT_SOCKET_DIR "/run/lsashm"
#define EXIT_USAGE 1
#define EXIT_NOT_SERVING 2

/* Set once host_create() has succeeded; until then a signal only records
 * that we are to stop, and main() checks before it serves. */
static struct host *volatile host;
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
        (void)sig;
        stop_requested = 1;
        if (host)
                host_stop(host); /* async-signal-safe */
}

static void usage(FILE *f)
{
        fprintf(f, "usage: lsashmd [--config FILE] [--socket PATH] [--package FILE.so]... [--foreground]\n"
                   "       lsashmd --help | --version\n"
                   "Hosts LSA security packages and serves their clients (see lsashmd(8)).\n"
                   "  --config FILE    configuration file (default " DEFAULT_CONFIG ")\n"
                   "  --socket PATH    listen here (default " LSASHM_DEFAULT_SOCKET ")\n"
                   "  --package FILE   load this package; given at least once, the packages\n"
                   "                   of the configuration file are not loaded\n"
                   "  --foreground     accepted; lsashmd always stays in the foreground\n");
}

/* The socket systemd passed (>= 0), -1 when none, -2 when what it passed
 * cannot be served. */
static int activation_socket(void)
{
        int n = sd_listen_fds(1); /* 1: unset LISTEN_*, so packages never see them */
        if (n == 0)
                return -1;
        if (n < 0) {
                fprintf(stderr, "lsashmd: socket activation: %s\n", strerror(-n));
                return -2;
        }
        if (n > 1) {
                fprintf(stderr, "lsashmd: socket activation passed %d sockets; lsashmd serves one\n", n);
                return -2;
        }
        if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_SEQPACKET, 1, NULL, 0) <= 0) {
                fprintf(stderr, "lsashmd: socket activation must pass a listening AF_UNIX SOCK_SEQPACKET socket\n");
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

static int config_load(const char *path, struct config *cfg)
{
        const char *name = path ? path : DEFAULT_CONFIG;
        FILE *f = fopen(name, "re");
        if (!f) {
                /* The default file is optional; one that was asked for is not. */
                if (!path && errno == ENOENT)
                        return 0;
                fprintf(stderr, "lsashmd: %s: %s\n", name, strerror(errno));
                return -1;
        }
        char err[512] = "";
        int r = config_parse(f, name, cfg, err, sizeof(err));
        fclose(f);
        if (r < 0) {
                fprintf(stderr, "lsashmd: %s\n", r == -ENOMEM ? strerror(ENOMEM) : err);
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },  { "socket", required_argument, NULL, 's' },
                { "package", required_argument, NULL, 'p' }, { "foreground", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },          { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 },
        };
        const char *config_path = NULL, *socket_path = NULL;
        const char *cli_packages[CONFIG_MAX_PACKAGES];
        unsigned ncli = 0;
        int o;
        while ((o = getopt_long(argc, argv, "c:s:p:fhV", opts, NULL)) != -1) {
                switch (o) {
                case 'c': config_path = optarg; break;
                case 's': socket_path = optarg; break;
                case 'p':
                        if (ncli >= CONFIG_MAX_PACKAGES) {
                                fprintf(stderr, "lsashmd: more than %d packages\n", CONFIG_MAX_PACKAGES);
                                return EXIT_USAGE;
                        }
                        cli_packages[ncli++] = optarg;
                        break;
                case 'f': break;
                case 'h': usage(stdout); return 0;
                case 'V': printf("lsashmd %s\n", LSASHM_VERSION); return 0;
                default: usage(stderr); return EXIT_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "lsashmd: unexpected argument '%s'\n", argv[optind]);
                usage(stderr);
                return EXIT_USAGE;
        }
        if (socket_path && (!*socket_path || strlen(socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))) {
                fprintf(stderr, "lsashmd: --socket: empty or longer than a socket path can be\n");
                return EXIT_USAGE;
        }

        struct config cfg = { 0 };
        char err[512] = "";
        struct host_config hc = { .listen_fd = -1 };
        if (config_load(config_path, &cfg) < 0)
                goto usage_error;
        /* Groups are resolved once, at start: a group renamed later keeps
         * its gid here until lsashmd restarts. */
        int r = config_resolve_groups(&cfg, &hc.logon_gid, &hc.admin_gid, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "lsashmd: %s\n", r == -ENOMEM ? strerror(ENOMEM) : err);
                goto usage_error;
        }
        hc.socket_path = socket_path ? socket_path : cfg.socket_path ? cfg.socket_path : LSASHM_DEFAULT_SOCKET;
        hc.socket_mode = cfg.socket_mode;
        hc.reply_max = cfg.reply_max;
        hc.max_connections = cfg.max_connections;
        hc.max_connections_per_uid = cfg.max_connections_per_uid;
        hc.reserved_connections = cfg.reserved_connections;

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

        /* No SA_RESTART: a signal interrupts host_run's epoll_wait, which
         * then sees the stop. SIGPIPE: a client gone mid-reply is an error
         * to handle, not a reason to die. */
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        struct host *h;
        r = host_create(&hc, &h);
        if (r < 0) {
                fprintf(stderr, "lsashmd: cannot serve on %s: %s\n",
                        hc.listen_fd >= 0 ? "the socket systemd passed" : hc.socket_path, strerror(-r));
                config_free(&cfg);
                return EXIT_NOT_SERVING;
        }
        host = h;
        if (stop_requested)
                host_stop(h);
        fprintf(stderr, "lsashmd: listening on %s\n", hc.listen_fd >= 0 ? "the socket systemd passed" : hc.socket_path);

        if (ncli && cfg.npackages)
                fprintf(stderr, "lsashmd: --package given: not loading the %u package(s) of %s\n", cfg.npackages,
                        cfg.source);
        unsigned n = ncli ? ncli : cfg.npackages;
        for (unsigned i = 0; i < n && !stop_requested; i++) {
                char *path = ncli ? package_path(cli_packages[i]) : strdup(cfg.packages[i]);
                if (!path) {
                        fprintf(stderr, "lsashmd: %s\n", strerror(ENOMEM));
                        continue;
                }
                /* A failure is logged by the host, with its reason. */
                host_load_package(h, path);
                free(path);
        }
        unsigned loaded = host_package_count(h);
        if (loaded == 0)
                fprintf(stderr, "lsashmd: warning: no package loaded; clients will find none\n");
        sd_notifyf(0, "READY=1\nSTATUS=serving %u package%s", loaded, loaded == 1 ? "" : "s");

        r = host_run(h);
        sd_notify(0, "STOPPING=1");
        if (r < 0)
                fprintf(stderr, "lsashmd: stopped on error: %s\n", strerror(-r));
        else
                fprintf(stderr, "lsashmd: stopping\n");
        host = NULL;
        host_destroy(h);
        config_free(&cfg);
        return r < 0 ? EXIT_NOT_SERVING : 0;

usage_error:
        config_free(&cfg);
        return EXIT_USAGE;
}
