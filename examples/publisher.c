/* SPDX-License-Identifier: MIT */
/*
 * lsashm-example-publisher SOCKET NAME TEXT
 *
 * Serves, at SOCKET, a section called NAME that every uid may read and none
 * may write, holding TEXT as a NUL-terminated string at the root offset.
 * Prints "ready" once clients can connect; runs until SIGTERM or SIGINT.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lsashm/section.h"
#include "lsashm/share.h"

static lsashm_server_t *server;

static void on_signal(int sig)
{
        (void)sig;
        lsashm_server_stop(server); /* async-signal-safe */
}

int main(int argc, char **argv)
{
        if (argc != 4) {
                fprintf(stderr, "usage: %s SOCKET NAME TEXT\n", argv[0]);
                return 2;
        }
        const char *path = argv[1], *name = argv[2], *text = argv[3];
        size_t len = strlen(text) + 1;

        struct lsashm_section_config cfg = {
                .max_size = len + 4096,
                .initial_size = len,
                .flags = LSASHM_SECTION_READERS_ONLY | LSASHM_SECTION_NO_WIPE,
                .name = "lsashm-example",
        };
        lsashm_section_t *section;
        int r = lsashm_section_create(&cfg, &section);
        void *block = NULL;
        uint64_t root = 0;
        if (r == 0)
                r = lsashm_section_alloc(section, len, &block);
        if (r == 0) {
                memcpy(block, text, len);
                r = lsashm_section_offset(section, block, &root);
        }
        if (r < 0) {
                fprintf(stderr, "publisher: section: %s\n", strerror(-r));
                return 1;
        }

        struct lsashm_server_config scfg = { .path = path, .mode = 0666, .listen_fd = -1 };
        r = lsashm_server_create(&scfg, &server);
        const struct lsashm_rule everyone_reads[] = {
                { .kind = LSASHM_RULE_ANYONE, .access = LSASHM_ACCESS_READ },
        };
        const struct lsashm_policy policy = { .rules = everyone_reads, .n_rules = 1 };
        if (r == 0)
                r = lsashm_server_publish(server, name, section, &policy);
        if (r == 0)
                r = lsashm_server_set_root(server, name, root);
        if (r < 0) {
                fprintf(stderr, "publisher: server: %s\n", strerror(-r));
                return 1;
        }

        struct sigaction sa = { .sa_handler = on_signal };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        printf("ready\n");
        fflush(stdout);

        r = lsashm_server_run(server);
        lsashm_server_destroy(server);
        lsashm_section_delete(section);
        return r < 0 ? 1 : 0;
}
