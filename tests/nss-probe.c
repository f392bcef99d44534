/* SPDX-License-Identifier: MIT */
/*
 * nss-probe MODULE NAME: a fresh process's first lookups through an NSS
 * module's getpwnam_r (dlopen'd at MODULE). Prints one line:
 *   <status> fds <before> <after> maps <before> <after>
 * (status: the nss_status of the first lookup; fds and mappings counted
 * before it and after 100 more), and exits 0 when the descriptors are the
 * same and every lookup gave the same status, 1 otherwise.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <nss.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum nss_status (*pwnam_fn)(const char *, struct passwd *, char *, size_t, int *);

static int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        int n = -1; /* the directory's own */
        if (!d)
                return -1;
        for (struct dirent *e; (e = readdir(d)) != NULL;)
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static int count_maps(void)
{
        FILE *f = fopen("/proc/self/maps", "re");
        int n = 0, c;
        if (!f)
                return -1;
        while ((c = fgetc(f)) != EOF)
                n += c == '\n';
        fclose(f);
        return n;
}

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: nss-probe MODULE NAME\n");
                return 2;
        }
        void *dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        pwnam_fn getpwnam_r = dl ? (pwnam_fn)(uintptr_t)dlsym(dl, "_nss_lsashm_getpwnam_r") : NULL;
        if (!getpwnam_r) {
                fprintf(stderr, "%s\n", dlerror());
                return 2;
        }
        static char buf[4096];
        struct passwd pw;
        int err;
        int fds = count_fds(), maps = count_maps();
        enum nss_status first = getpwnam_r(argv[2], &pw, buf, sizeof(buf), &err);
        bool same = true;
        for (int i = 0; i < 100; i++)
                same &= getpwnam_r(argv[2], &pw, buf, sizeof(buf), &err) == first;
        int fds2 = count_fds(), maps2 = count_maps();
        printf("%d fds %d %d maps %d %d\n", (int)first, fds, fds2, maps, maps2);
        return same && fds == fds2 ? 0 : 1;
}
