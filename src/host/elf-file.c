/* SPDX-License-Identifier: MIT */
/*
 * A package file looked at before dlopen, and its undefined symbols.
 *
 * dlopen trusts the file: it maps each loadable segment as its program
 * header says, so a truncated package (a copy cut short, a full disk) makes
 * the loader read pages past the end of the file and the process dies of
 * SIGBUS. host_package_file_check refuses such a file with a reason first.
 *
 * Every read is a pread into our own memory, bounded by the file's size as
 * fstat gave it, so a file that shrinks meanwhile cannot fault us either.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/host-base.h"

#if __ELF_NATIVE_CLASS == 64
#define ELF_NATIVE_CLASS ELFCLASS64
#define ELF_ST_BIND      ELF64_ST_BIND
#else
#define ELF_NATIVE_CLASS ELFCLASS32
#define ELF_ST_BIND      ELF32_ST_BIND
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ELF_NATIVE_DATA ELFDATA2LSB
#else
#define ELF_NATIVE_DATA ELFDATA2MSB
#endif

/* Symbol tables larger than this are not walked (a package has a few
 * thousand symbols at most). */
#define ELF_MAX_TABLE (64u << 20)
#define ELF_MAX_PHNUM 256u

struct elf_file {
        int fd;
        uint64_t size;
        ElfW(Ehdr) eh;
};

static void say(char *why, size_t why_len, const char *text)
{
        if (why && why_len)
                snprintf(why, why_len, "%s", text);
}

/* len bytes at off, all inside the file, into buf. */
static int elf_read(const struct elf_file *f, uint64_t off, void *buf, uint64_t len)
{
        uint64_t end;
        if (__builtin_add_overflow(off, len, &end) || end > f->size)
                return -ERANGE;
        uint8_t *p = buf;
        while (len > 0) {
                ssize_t n = pread(f->fd, p, len, (off_t)off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -ERANGE;
                p += n;
                off += (uint64_t)n;
                len -= (uint64_t)n;
        }
        return 0;
}

static int elf_open(const char *path, struct elf_file *f, char *why, size_t why_len)
{
        f->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (f->fd < 0) {
                int e = errno;
                say(why, why_len, strerror(e));
                return -e;
        }
        struct stat st;
        if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                say(why, why_len, "not a regular file");
                close(f->fd);
                return -EINVAL;
        }
        f->size = (uint64_t)st.st_size;
        if (elf_read(f, 0, &f->eh, sizeof(f->eh)) < 0 || memcmp(f->eh.e_ident, ELFMAG, SELFMAG) != 0) {
                say(why, why_len, "not an ELF file");
                close(f->fd);
                return -ENOEXEC;
        }
        if (f->eh.e_ident[EI_CLASS] != ELF_NATIVE_CLASS || f->eh.e_ident[EI_DATA] != ELF_NATIVE_DATA ||
            f->eh.e_type != ET_DYN) {
                say(why, why_len, "not a shared object of this machine's kind");
                close(f->fd);
                return -ENOEXEC;
        }
        return 0;
}

int host_package_file_check(const char *path, char *why, size_t why_len)
{
        struct elf_file f;
        int r = elf_open(path, &f, why, why_len);
        if (r < 0)
                return r;
        r = -ENOEXEC;
        if (f.eh.e_phentsize != sizeof(ElfW(Phdr)) || f.eh.e_phnum == 0 || f.eh.e_phnum > ELF_MAX_PHNUM) {
                say(why, why_len, "malformed program headers");
                goto out;
        }
        ElfW(Phdr) ph[ELF_MAX_PHNUM];
        if (elf_read(&f, f.eh.e_phoff, ph, (uint64_t)f.eh.e_phnum * sizeof(ElfW(Phdr))) < 0) {
                say(why, why_len, "truncated: its program headers lie past the end of the file");
                goto out;
        }
        for (unsigned i = 0; i < f.eh.e_phnum; i++) {
                if (ph[i].p_type != PT_LOAD && ph[i].p_type != PT_DYNAMIC)
                        continue;
                uint64_t end;
                if (__builtin_add_overflow((uint64_t)ph[i].p_offset, (uint64_t)ph[i].p_filesz, &end) || end > f.size) {
                        say(why, why_len, "truncated: a segment lies past the end of the file");
                        goto out;
                }
        }
        r = 0;
out:
        close(f.fd);
        return r;
}

/* A whole section's bytes, malloc'd; NULL when out of the file or too big. */
static void *elf_section(const struct elf_file *f, const ElfW(Shdr) * sh)
{
        if (sh->sh_size == 0 || sh->sh_size > ELF_MAX_TABLE)
                return NULL;
        void *buf = malloc(sh->sh_size);
        if (buf && elf_read(f, sh->sh_offset, buf, sh->sh_size) < 0) {
                free(buf);
                buf = NULL;
        }
        return buf;
}

int host_package_file_undefined(const char *path, void (*each)(void *ctx, const char *name), void *ctx, char *why,
                                size_t why_len)
{
        struct elf_file f;
        int r = elf_open(path, &f, why, why_len);
        if (r < 0)
                return r;
        r = -ENOEXEC;
        ElfW(Shdr) *sh = NULL;
        if (f.eh.e_shnum == 0) {
                r = 0; /* no section headers (stripped to the bone): nothing to walk */
                goto out;
        }
        if (f.eh.e_shentsize != sizeof(ElfW(Shdr))) {
                say(why, why_len, "malformed section headers");
                goto out;
        }
        sh = calloc(f.eh.e_shnum, sizeof(*sh));
        if (!sh) {
                r = -ENOMEM;
                say(why, why_len, strerror(ENOMEM));
                goto out;
        }
        if (elf_read(&f, f.eh.e_shoff, sh, (uint64_t)f.eh.e_shnum * sizeof(*sh)) < 0) {
                say(why, why_len, "section headers past the end of the file");
                goto out;
        }
        r = 0;
        for (unsigned i = 0; i < f.eh.e_shnum && r == 0; i++) {
                if (sh[i].sh_type != SHT_DYNSYM)
                        continue;
                if (sh[i].sh_entsize != sizeof(ElfW(Sym)) || sh[i].sh_link >= f.eh.e_shnum) {
                        say(why, why_len, "malformed dynamic symbol table");
                        r = -ENOEXEC;
                        break;
                }
                ElfW(Sym) *syms = elf_section(&f, &sh[i]);
                char *strs = elf_section(&f, &sh[sh[i].sh_link]);
                if (!syms || !strs) {
                        say(why, why_len, "dynamic symbols past the end of the file");
                        r = -ENOEXEC;
                } else {
                        uint64_t nstr = sh[sh[i].sh_link].sh_size;
                        for (uint64_t j = 0; j < sh[i].sh_size / sizeof(ElfW(Sym)); j++) {
                                const ElfW(Sym) *s = &syms[j];
                                if (s->st_shndx != SHN_UNDEF || ELF_ST_BIND(s->st_info) != STB_GLOBAL ||
                                    s->st_name == 0 || s->st_name >= nstr ||
                                    !memchr(strs + s->st_name, '\0', nstr - s->st_name))
                                        continue;
                                each(ctx, strs + s->st_name);
                        }
                }
                free(syms);
                free(strs);
        }
out:
        free(sh);
        close(f.fd);
        return r;
}
