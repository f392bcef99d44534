/* SPDX-License-Identifier: MIT */
/* The memfd under a section: created, sized, committed, sealed. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "section/section-internal.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

int memfd_section_create(const char *name, int *ret_fd)
{
        /* NOEXEC_SEAL: a section holds data; nobody should be able to exec it.
         * Kernels before 6.3 reject the flag; they get a plain memfd. */
        int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
        if (fd < 0 && errno == EINVAL)
                fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        /* Owner-only mode: clients get descriptors passed to them, and must
         * not be able to reopen one for writing through /proc/PID/fd (root
         * and the owner's own uid still can: they are trusted). The file
         * stays empty: it grows only as the section commits, so no holder
         * of a descriptor can fault in a page the owner has not committed. */
        if (fchmod(fd, 0600) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int memfd_section_seal(int fd, bool readers_only)
{
        /* Nobody holding the fd may shrink it: the owner and every client
         * would take SIGBUS on committed pages. Growing stays open to the
         * owner's commits until the section is fully committed (see
         * memfd_section_seal_size). FUTURE_WRITE must come after the owner's
         * mapping exists: it forbids every new writable mapping, and keeps
         * only the existing ones. */
        int seals = F_SEAL_SHRINK | F_SEAL_EXEC;
        if (readers_only)
                seals |= F_SEAL_FUTURE_WRITE;
        if (fcntl(fd, F_ADD_SEALS, seals) == 0)
                return 0;
        /* Kernels before 6.3 know no F_SEAL_EXEC. */
        if (errno == EINVAL && fcntl(fd, F_ADD_SEALS, seals & ~F_SEAL_EXEC) == 0)
                return 0;
        return -errno;
}

int memfd_section_seal_size(int fd)
{
        /* The file is as large as it will ever be: from now on nobody, the
         * owner included, may grow it. F_SEAL_SEAL waits (memfd_section_lock_seals):
         * it would forbid F_SEAL_WRITE, which a freeze still needs. */
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) < 0)
                return -errno;
        return 0;
}

int memfd_section_lock_seals(int fd)
{
        /* A writable descriptor is about to leave: its holder must not be
         * able to add seals (F_SEAL_FUTURE_WRITE against the owner's other
         * clients, F_SEAL_SEAL against a later freeze that then fails in
         * another way). Clients given a writable descriptor check for it. */
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) < 0)
                return -errno;
        return 0;
}

int memfd_section_seal_write(int fd)
{
        /* The bytes can never change again: F_SEAL_WRITE refuses write(2),
         * every writable mapping, mprotect to writing and hole punching to
         * anyone, root included; F_SEAL_SEAL keeps the set as it is. The
         * kernel refuses with EBUSY while any writable shared mapping of the
         * file exists, in any process. */
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
                return -errno;
        return 0;
}

/* Mode 0 fallocate past the end extends the file: committing is growing. */
static int commit_with_fallocate(int fd, uint64_t offset, uint64_t len)
{
        if (fallocate(fd, 0, (off_t)offset, (off_t)len) < 0)
                return -errno;
        return 0;
}

int (*memfd_section_commit)(int fd, uint64_t offset, uint64_t len) = commit_with_fallocate;
