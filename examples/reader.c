/* SPDX-License-Identifier: MIT */
/*
 * lsashm-example-reader SOCKET NAME
 *
 * Opens the section NAME served at SOCKET and prints the NUL-terminated
 * string at its root offset. Nothing in the section is trusted: the string
 * must end inside the view.
 */
#include <stdio.h>
#include <string.h>

#include "lsashm/share.h"

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: %s SOCKET NAME\n", argv[0]);
                return 2;
        }
        lsashm_client_t *client;
        lsashm_view_t *view;
        int r = lsashm_client_connect(argv[1], &client);
        if (r < 0) {
                fprintf(stderr, "reader: connect: %s\n", strerror(-r));
                return 1;
        }
        r = lsashm_client_open(client, argv[2], &view);
        if (r < 0) {
                fprintf(stderr, "reader: open %s: %s\n", argv[2], strerror(-r));
                lsashm_client_close(client);
                return 1;
        }
        uint64_t root = lsashm_view_root(view);
        size_t room = lsashm_view_size(view) - (size_t)root;
        const char *text = lsashm_view_ptr(view, root, room);
        if (!text || !memchr(text, '\0', room)) {
                fprintf(stderr, "reader: no string at the root offset\n");
                r = -1;
        } else {
                printf("%s\n", text);
        }
        lsashm_view_close(view);
        lsashm_client_close(client);
        return r < 0 ? 1 : 0;
}
