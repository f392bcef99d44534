/* SPDX-License-Identifier: MIT */
/*
 * lsashmd: the package host. Reads /etc/lsashm/lsashmd.conf (or --config),
 * listens on its socket (or the one systemd passes), loads the packages and
 * serves clients until SIGTERM or SIGINT. It never daemonizes: systemd
 * (Type=notify) or the shell keeps it in the background; --foreground is
 * accepted for compatibility with that habit.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "host/host.h"
#include "lsashm/share.h"
#include "lsashmd/config.h"

#define DEFAULT_CONFIG "/etc/lsashm/lsashmd.conf"

static struct host *host;

static void on_signal(int sig)
{
        (void)sig;
        host_stop(host);
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

static int resolve_group(const char *name, gid_t *ret)
{
        *ret = (gid_t)-1;
        if (!name)
                return 0;
        char buf[16384];
        struct group gr, *res = NULL;
        if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || !res) {
                fprintf(stderr, "lsashmd: unknown group '%s'\n", name);
                return -1;
        }
        *ret = res->gr_gid;
        return 0;
}

/* The socket systemd passed, or -1; -2 when what it passed is unusable. */
static int activation_socket(void)
{
        int n = sd_listen_fds(1);
        if (n <= 0)
                return -1;
        if (n > 1 || sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_SEQPACKET, 1, NULL, 0) <= 0) {
                fprintf(stderr, "lsashmd: socket activation must pass one listening SEQPACKET unix socket\n");
                return -2;
        }
        return SD_LISTEN_FDS_START;
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
                                return 1;
                        }
                        cli_packages[ncli++] = optarg;
                        break;
                case 'f': break;
                case 'h': usage(stdout); return 0;
                case 'V': printf("lsashmd %s\n", LSASHM_VERSION); return 0;
                default: usage(stderr); return 1;
                }
        }
        if (optind < argc) {
                usage(stderr);
                return 1;
        }

        struct config cfg = { 0 };
        char err[512];
        FILE *f = fopen(config_path ? config_path : DEFAULT_CONFIG, "re");
        if (!f && (config_path || errno != ENOENT)) {
                fprintf(stderr, "lsashmd: %s: %s\n", config_path ? config_path : DEFAULT_CONFIG, strerror(errno));
                return 1;
        }
        if (f) {
                int r = config_parse(f, config_path ? config_path : DEFAULT_CONFIG, &cfg, err, sizeof(err));
                fclose(f);
                if (r < 0) {
                        fprintf(stderr, "lsashmd: %s\n", r == -EINVAL ? err : strerror(-r));
                        config_free(&cfg);
                        return 1;
                }
        }
        struct host_config hc = {
                .socket_path = socket_path ? socket_path : cfg.socket_path ? cfg.socket_path : LSASHM_DEFAULT_SOCKET,
                .socket_mode = cfg.socket_mode,
                .reply_max = cfg.reply_max,
                .max_connections = cfg.max_connections,
                .max_connections_per_uid = cfg.max_connections_per_uid,
        };
        if (resolve_group(cfg.logon_group, &hc.logon_gid) < 0 || resolve_group(cfg.admin_group, &hc.admin_gid) < 0) {
                config_free(&cfg);
                return 1;
        }
        hc.listen_fd = activation_socket();
        if (hc.listen_fd == -2) {
                config_free(&cfg);
                return 1;
        }
        if (hc.listen_fd < 0 && !strcmp(hc.socket_path, LSASHM_DEFAULT_SOCKET))
                mkdir("/run/lsashm", 0755); /* the default's directory; an error shows at bind */

        signal(SIGPIPE, SIG_IGN);
        struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: epoll_wait returns */
        sigemptyset(&sa.sa_mask);
        int r = host_create(&hc, &host);
        if (r < 0) {
                fprintf(stderr, "lsashmd: cannot serve on %s: %s\n",
                        hc.listen_fd >= 0 ? "the socket systemd passed" : hc.socket_path, strerror(-r));
                config_free(&cfg);
                return 2;
        }
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        fprintf(stderr, "lsashmd: listening on %s\n", hc.listen_fd >= 0 ? "the socket systemd passed" : hc.socket_path);

        unsigned n = ncli ? ncli : cfg.npackages;
        for (unsigned i = 0; i < n; i++)
                host_load_package(host, ncli ? cli_packages[i] : cfg.packages[i]);
        if (host_package_count(host) == 0)
                fprintf(stderr, "lsashmd: warning: no package loaded; clients will find none\n");
        sd_notifyf(0, "READY=1\nSTATUS=serving %u packages", host_package_count(host));

        r = host_run(host);
        sd_notify(0, "STOPPING=1");
        if (r < 0)
                fprintf(stderr, "lsashmd: stopped on error: %s\n", strerror(-r));
        else
                fprintf(stderr, "lsashmd: stopping\n");
        host_destroy(host);
        config_free(&cfg);
        return r < 0 ? 2 : 0;
}
