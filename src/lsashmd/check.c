/* SPDX-License-Identifier: MIT */
/*
 * lsashmd --check FILE.so: load one package as lsashmd would, without
 * serving, and say what is wrong with it.
 *
 * Two looks. First the file itself: every symbol it leaves undefined (its
 * ELF dynamic symbol table, read here with every offset bounded by the
 * file's size) is looked up where the loaded package would find it, in its
 * own libraries and then in lsashmd, so that all the missing ones are named
 * at once (dlopen names only the first). Then the load sequence
 * (SpLsaModeInitialize, InitializePackage, SpInitialize, GetInfo) on a host
 * whose socket no client knows of, with the host's log lines shown.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/host.h"
#include "lsashmd/check.h"

#if __ELF_NATIVE_CLASS == 64
#define LSASHM_ST_BIND ELF64_ST_BIND
#else
#define LSASHM_ST_BIND ELF32_ST_BIND
#endif

/* A package larger than this is not read (it is still loaded). */
#define CHECK_MAX_FILE (1ull << 30)

struct check {
        FILE *out;
        unsigned unresolved;
        unsigned from_lsashmd;
        unsigned load_lines;
};

/* The bytes [off, off + len) of a file of size size, or NULL. */
static const void *file_range(const uint8_t *file, size_t size, uint64_t off, uint64_t len)
{
        uint64_t end;
        if (__builtin_add_overflow(off, len, &end) || end > size)
                return NULL;
        return file + off;
}

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

/* Walk the undefined, non-weak symbols of the file's dynamic symbol table.
 * 0, or -1 with a line said when the file is not an ELF object of this
 * machine's kind. */
static int check_undefined(struct check *c, const char *path, void *handle)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(c->out, "  cannot open: %s\n", strerror(errno));
                return -1;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(ElfW(Ehdr)) ||
            (unsigned long long)st.st_size > CHECK_MAX_FILE) {
                fprintf(c->out, "  not a regular file of a plausible size\n");
                close(fd);
                return -1;
        }
        size_t size = (size_t)st.st_size;
        const uint8_t *file = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (file == MAP_FAILED) {
                fprintf(c->out, "  cannot map: %s\n", strerror(errno));
                return -1;
        }
        int r = -1;
        ElfW(Ehdr) eh;
        memcpy(&eh, file, sizeof(eh));
        if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
            eh.e_ident[EI_CLASS] != (__ELF_NATIVE_CLASS == 64 ? ELFCLASS64 : ELFCLASS32) || eh.e_type != ET_DYN ||
            eh.e_shentsize != sizeof(ElfW(Shdr))) {
                fprintf(c->out, "  not a shared object of this machine's kind\n");
                goto out;
        }
        const ElfW(Shdr) *sh = file_range(file, size, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(ElfW(Shdr)));
        if (!sh) {
                fprintf(c->out, "  section headers past the end of the file\n");
                goto out;
        }
        r = 0;
        for (unsigned i = 0; i < eh.e_shnum; i++) {
                ElfW(Shdr) sym_sh, str_sh;
                memcpy(&sym_sh, &sh[i], sizeof(sym_sh));
                if (sym_sh.sh_type != SHT_DYNSYM)
                        continue;
                if (sym_sh.sh_entsize != sizeof(ElfW(Sym)) || sym_sh.sh_link >= eh.e_shnum) {
                        fprintf(c->out, "  malformed dynamic symbol table\n");
                        r = -1;
                        break;
                }
                memcpy(&str_sh, &sh[sym_sh.sh_link], sizeof(str_sh));
                const ElfW(Sym) *syms = file_range(file, size, sym_sh.sh_offset, sym_sh.sh_size);
                const char *strs = file_range(file, size, str_sh.sh_offset, str_sh.sh_size);
                if (!syms || !strs) {
                        fprintf(c->out, "  dynamic symbols past the end of the file\n");
                        r = -1;
                        break;
                }
                for (uint64_t j = 0; j < sym_sh.sh_size / sizeof(ElfW(Sym)); j++) {
                        ElfW(Sym) s;
                        memcpy(&s, &syms[j], sizeof(s));
                        if (s.st_shndx != SHN_UNDEF || LSASHM_ST_BIND(s.st_info) != STB_GLOBAL || s.st_name == 0 ||
                            s.st_name >= str_sh.sh_size)
                                continue;
                        const char *name = strs + s.st_name;
                        if (!memchr(name, '\0', str_sh.sh_size - s.st_name))
                                continue;
                        check_symbol(c, handle, name);
                }
        }
out:
        munmap((void *)(uintptr_t)file, size);
        return r;
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
                host_destroy(h);
        }
        unlink(sock);
        rmdir(dir);
        return r;
}

int lsashmd_check(const char *path, FILE *out)
{
        struct check c = { .out = out };
        fprintf(out, "lsashmd: checking %s\n", path);

        /* Lazily, so that missing functions do not stop the load: they are
         * what the symbol walk is for. */
        void *handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
        if (!handle) {
                const char *e = dlerror();
                fprintf(out, "  dlopen: %s\n", e ? e : "failed");
        }
        fprintf(out, "symbols:\n");
        int sym = check_undefined(&c, path, handle);
        if (sym == 0 && c.unresolved == 0)
                fprintf(out, "  all resolved (%u from lsashmd)\n", c.from_lsashmd);

        int load = -1;
        fprintf(out, "load:\n");
        if (handle && sym == 0 && c.unresolved == 0)
                load = check_load(&c, path);
        else
                fprintf(out, "  not attempted: the package cannot be loaded as it is\n");
        if (handle)
                dlclose(handle);

        bool ok = sym == 0 && c.unresolved == 0 && load == 0;
        if (ok)
                fprintf(out, "lsashmd: %s: ok\n", path);
        else if (c.unresolved)
                fprintf(out, "lsashmd: %s: %u unresolved symbol(s)\n", path, c.unresolved);
        else
                fprintf(out, "lsashmd: %s: does not load\n", path);
        return ok ? 0 : 1;
}
