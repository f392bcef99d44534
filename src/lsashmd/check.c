/* SPDX-License-Identifier: MIT */
/*
 * lsashmd --check FILE.so: load one package as lsashmd would, without
 * serving, and say what is wrong with it.
 *
 * Two looks. First the file itself (src/host/elf-file.c): that dlopen can
 * map it, then every symbol it leaves undefined, looked up where the loaded
 * package would find it, in its own libraries and then in lsashmd, so that
 * all the missing ones are named at once (dlopen names only the first). Then the load sequence
 * (SpLsaModeInitialize, InitializePackage, SpInitialize, GetInfo) on a host
 * whose socket no client knows of, with the host's log lines shown.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/host.h"
#include "lsashmd/check.h"

struct check {
        FILE *out;
        void *handle; /* the package, opened lazily, or NULL */
        unsigned unresolved;
        unsigned from_lsashmd;
        unsigned load_lines;
};

/* Where the loaded package would find name: its own libraries (handle may
 * be NULL when dlopen failed), else lsashmd and what lsashmd loaded. */
static void check_symbol(struct check *c, void *handle, const char *name)
{
        void *addr = handle ? dlsym(handle, name) : NULL;
        if (!addr)
                addr = dlsym(RTLD_DEFAULT, name);
        if (!addr) {
                fprintf(c->out, "  unresolved: %s\n", name);
                c->unresolved++;
                return;
        }
        Dl_info info;
        if (dladdr(addr, &info) && info.dli_fname) {
                Dl_info self;
                if (dladdr((void *)(uintptr_t)check_symbol, &self) && self.dli_fname &&
                    strcmp(self.dli_fname, info.dli_fname) == 0) {
                        fprintf(c->out, "  from lsashmd: %s\n", name);
                        c->from_lsashmd++;
                }
        }
}

static void check_each(void *ctx, const char *name)
{
        struct check *c = ctx;
        check_symbol(c, c->handle, name);
}

static void check_log(void *ctx, const char *line)
{
        struct check *c = ctx;
        fprintf(c->out, "  %s\n", line);
        c->load_lines++;
}

/* The load sequence on a host of its own, bound in a private directory. */
static int check_load(struct check *c, const char *path)
{
        char dir[] = "/tmp/lsashmd-check-XXXXXX";
        if (!mkdtemp(dir)) {
                fprintf(c->out, "  cannot make a directory for the check's socket: %s\n", strerror(errno));
                return -1;
        }
        char sock[sizeof(dir) + 16];
        snprintf(sock, sizeof(sock), "%s/check.sock", dir);
        struct host_config hc = {
                .socket_path = sock,
                .listen_fd = -1,
                .socket_mode = 0600,
                .logon_gid = (gid_t)-1,
                .admin_gid = (gid_t)-1,
                .log = check_log,
                .log_ctx = c,
        };
        struct host *h = NULL;
        int r = host_create(&hc, &h);
        if (r < 0) {
                fprintf(c->out, "  cannot start a host: %s\n", strerror(-r));
        } else {
                r = host_load_package(h, path);
                if (r == 0 && host_package_count(h) == 0)
                        r = -EINVAL;
                char line[1024];
                for (unsigned i = 0; r == 0 && host_package_describe(h, i, line, sizeof(line)) == 0; i++)
                        fprintf(c->out, "  package %s\n", line);
                host_destroy(h);
        }
        unlink(sock);
        rmdir(dir);
        return r;
}

int lsashmd_check(const char *path, FILE *out)
{
        struct check c = { .out = out };
        char why[128] = "";
        fprintf(out, "lsashmd: checking %s\n", path);

        /* The file first: dlopen would fault on a truncated one. */
        int file = host_package_file_check(path, why, sizeof(why));
        if (file < 0)
                fprintf(out, "  %s\n", why);

        /* Lazily, so that missing functions do not stop the load: they are
         * what the symbol walk is for. */
        if (file == 0) {
                c.handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
                if (!c.handle) {
                        const char *e = dlerror();
                        fprintf(out, "  dlopen: %s\n", e ? e : "failed");
                }
        }
        fprintf(out, "symbols:\n");
        int sym = -1;
        if (file == 0) {
                sym = host_package_file_undefined(path, check_each, &c, why, sizeof(why));
                if (sym < 0)
                        fprintf(out, "  %s\n", why);
                else if (c.unresolved == 0)
                        fprintf(out, "  all resolved (%u from lsashmd)\n", c.from_lsashmd);
        } else {
                fprintf(out, "  not read\n");
        }

        int load = -1;
        fprintf(out, "load:\n");
        if (c.handle && sym == 0 && c.unresolved == 0)
                load = check_load(&c, path);
        else
                fprintf(out, "  not attempted: the package cannot be loaded as it is\n");
        if (c.handle)
                dlclose(c.handle);

        bool ok = load == 0;
        if (ok)
                fprintf(out, "lsashmd: %s: ok\n", path);
        else if (c.unresolved)
                fprintf(out, "lsashmd: %s: %u unresolved symbol(s)\n", path, c.unresolved);
        else
                fprintf(out, "lsashmd: %s: does not load\n", path);
        return ok ? 0 : 1;
}
