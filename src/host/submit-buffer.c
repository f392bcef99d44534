/* SPDX-License-Identifier: MIT */
/*
 * A client's submit (or authentication) buffer, made private for the
 * package: the package may keep pointers into it for the call and write to
 * it (packages rebase embedded UNICODE_STRINGs in place), and the client
 * must not be able to change a byte of it meanwhile.
 *
 * Up to LSA_WIRE_MAX_SUBMIT bytes come inside the packet and are copied
 * once. A larger buffer comes as a memfd: rather than copy a megabyte
 * through the socket, the client writes it into a memfd, seals it and
 * passes the descriptor. We take it only sealed against writing (no one,
 * the client included, can change its bytes again), shrinking and growing
 * (its size is the one we check, and a mapped page can never raise SIGBUS),
 * and of exactly the length the request says; then map it privately,
 * copy-on-write: the package's writes stay ours, and the pages it does not
 * write are the sealed file's, which cannot change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/host-base.h"

#define SEALS_REQUIRED (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)

static NTSTATUS take_memfd(int fd, uint32_t length, struct host_submit *ret)
{
        int seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0 || (seals & SEALS_REQUIRED) != SEALS_REQUIRED)
                return STATUS_INVALID_PARAMETER;
        /* Read after the seals: from now on the size cannot change. */
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != (off_t)length)
                return STATUS_INVALID_PARAMETER;
        void *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
                return errno == ENOMEM ? STATUS_NO_MEMORY : STATUS_INSUFFICIENT_RESOURCES;
        ret->data = p;
        ret->length = length;
        ret->mapped = length;
        return STATUS_SUCCESS;
}

NTSTATUS host_submit_take(const uint8_t *inline_data, uint32_t length, int fd, uint64_t max, struct host_submit *ret)
{
        memset(ret, 0, sizeof(*ret));
        NTSTATUS st;
        if (length > max) {
                st = STATUS_INVALID_BUFFER_SIZE;
        } else if (fd >= 0) {
                st = length ? take_memfd(fd, length, ret) : STATUS_INVALID_PARAMETER;
        } else {
                /* One byte at least: a package may take a NULL submit
                 * buffer for an error of ours. */
                ret->data = malloc(length ? length : 1);
                st = ret->data ? STATUS_SUCCESS : STATUS_NO_MEMORY;
                if (ret->data && length)
                        memcpy(ret->data, inline_data, length);
                ret->length = ret->data ? length : 0;
        }
        if (fd >= 0)
                close(fd);
        return st;
}

void host_submit_release(struct host_submit *s)
{
        if (s->data && s->mapped) {
                /* The client's own file: its bytes are its business; our
                 * private pages (what the package wrote) go with the map. */
                munmap(s->data, s->mapped);
        } else if (s->data) {
                explicit_bzero(s->data, s->length);
                free(s->data);
        }
        memset(s, 0, sizeof(*s));
}
