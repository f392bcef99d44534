/* SPDX-License-Identifier: MIT */
/*
 * Fault injection by link-time wrapping. The test executable is linked with
 * `-Wl,--wrap=NAME` for every function below, so each call of NAME made from
 * an object of that link (the static lsashm archives and the test itself,
 * not shared libraries such as libc, libsodium or a dlopen'ed package)
 * reaches __wrap_NAME here. Armed, the wrappers count calls per function and
 * make the N-th call of one function fail; disarmed, they only pass through.
 *
 * The "malloc" point is the allocation family: malloc, calloc, realloc and
 * strdup share one counter, because the library uses all four and any one of
 * them can run out. Counters are process-wide and atomic: calls from every
 * thread count.
 */
#ifndef LSASHM_FAULT_INJECT_H
#define LSASHM_FAULT_INJECT_H

#include <stdbool.h>
#include <stdint.h>

enum fault_fn {
        FAULT_MEMFD_CREATE,
        FAULT_MMAP,
        FAULT_FALLOCATE,
        FAULT_FCNTL,
        FAULT_SENDMSG,
        FAULT_RECVMSG,
        FAULT_ACCEPT4,
        FAULT_EPOLL_CTL,
        FAULT_MALLOC,
        FAULT_FN_COUNT
};

const char *fault_fn_name(enum fault_fn fn);

/* Count calls from now on (counters reset), failing none. */
void fault_count(void);
/* Count calls from now on (counters reset) and make the nth call (1-based)
 * of fn fail with err. For fcntl, err 0 means "what the command would say":
 * EMFILE for F_DUPFD*, EINVAL for the others. */
void fault_fail_nth(enum fault_fn fn, uint64_t nth, int err);
/* Stop counting and failing; every call passes through. */
void fault_disarm(void);

uint64_t fault_calls(enum fault_fn fn);
/* Did the armed failure happen? */
bool fault_fired(void);

#endif
