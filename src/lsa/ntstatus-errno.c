/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "lsa/ntstatus-errno.h"

NTSTATUS lsa_status_from_errno(int r, NTSTATUS fallback)
{
        switch (-r) {
        case 0:
                return STATUS_SUCCESS;
        /* Memory, and the commit behind a section: tmpfs or a memory limit full. */
        case ENOMEM:
        case ENOSPC:
                return STATUS_NO_MEMORY;
        /* Descriptors and socket buffers: a quota of the process or the system. */
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
                return STATUS_INSUFFICIENT_RESOURCES;
        case EACCES:
        case EPERM:
                return STATUS_ACCESS_DENIED;
        /* A path lookup: the only paths the Windows API resolves are sockets. */
        case ENOENT:
        case ENOTDIR:
        case ENAMETOOLONG:
        case ELOOP:
                return STATUS_OBJECT_NAME_NOT_FOUND;
        /* A section that is gone, or has nothing committed to map. */
        case ESTALE:
        case ENODATA:
                return STATUS_NOT_FOUND;
        case EINVAL:
                return STATUS_INVALID_PARAMETER;
        /* A server that does not answer in time (STATUS_TIMEOUT would pass NT_SUCCESS). */
        case ETIMEDOUT:
                return STATUS_IO_TIMEOUT;
        /* The other side is gone, or nobody listens. */
        case ECONNRESET:
        case ECONNREFUSED:
        case EPIPE:
                return STATUS_PORT_DISCONNECTED;
        default:
                return fallback;
        }
}
