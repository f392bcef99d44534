/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault-inject.h"

static const char *const names[FAULT_FN_COUNT] = {
        [FAULT_MEMFD_CREATE] = "memfd_create", [FAULT_MMAP] = "mmap",       [FAULT_FALLOCATE] = "fallocate",
        [FAULT_FCNTL] = "fcntl",               [FAULT_SENDMSG] = "sendmsg", [FAULT_RECVMSG] = "recvmsg",
        [FAULT_ACCEPT4] = "accept4",           [FAULT_EPOLL_CTL] = "epoll_ctl", [FAULT_MALLOC] = "malloc",
};

/* Set only while no scenario runs (before arming, after disarming), so a
 * wrapper that sees `armed` also sees the target it was armed with. */
static bool armed;
static int fail_fn = -1;
static uint64_t fail_nth;
static int fail_errno;
static uint64_t calls[FAULT_FN_COUNT];
static bool fired;

const char *fault_fn_name(enum fault_fn fn)
{
        return (unsigned)fn < FAULT_FN_COUNT ? names[fn] : "?";
}

static void arm(int fn, uint64_t nth, int err)
{
        __atomic_store_n(&armed, false, __ATOMIC_SEQ_CST);
        for (unsigned i = 0; i < FAULT_FN_COUNT; i++)
                __atomic_store_n(&calls[i], 0, __ATOMIC_SEQ_CST);
        fail_fn = fn;
        fail_nth = nth;
        fail_errno = err;
        __atomic_store_n(&fired, false, __ATOMIC_SEQ_CST);
        __atomic_store_n(&armed, true, __ATOMIC_SEQ_CST);
}

void fault_count(void)
{
        arm(-1, 0, 0);
}

void fault_fail_nth(enum fault_fn fn, uint64_t nth, int err)
{
        arm((int)fn, nth, err);
}

void fault_disarm(void)
{
        __atomic_store_n(&armed, false, __ATOMIC_SEQ_CST);
}

uint64_t fault_calls(enum fault_fn fn)
{
        return (unsigned)fn < FAULT_FN_COUNT ? __atomic_load_n(&calls[fn], __ATOMIC_SEQ_CST) : 0;
}

bool fault_fired(void)
{
        return __atomic_load_n(&fired, __ATOMIC_SEQ_CST);
}

/* Count this call of fn; true (errno set) if it is the one to fail. */
static bool should_fail(enum fault_fn fn, int err)
{
        if (!__atomic_load_n(&armed, __ATOMIC_ACQUIRE))
                return false;
        uint64_t n = __atomic_add_fetch(&calls[fn], 1, __ATOMIC_SEQ_CST);
        if ((int)fn != fail_fn || n != fail_nth)
                return false;
        __atomic_store_n(&fired, true, __ATOMIC_SEQ_CST);
        if (getenv("LSASHM_FAULTS_TRACE")) {
                /* Where the failed call came from, for addr2line. */
                void *frames[24];
                int depth = backtrace(frames, 24);
                backtrace_symbols_fd(frames, depth, STDERR_FILENO);
        }
        errno = fail_errno ? fail_errno : err;
        return true;
}

/* The real functions (resolved by the linker to NAME) and our wrappers. */
int __real_memfd_create(const char *name, unsigned flags);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_fallocate(int fd, int mode, off_t off, off_t len);
int __real_fcntl(int fd, int cmd, ...);
ssize_t __real_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t __real_recvmsg(int fd, struct msghdr *msg, int flags);
int __real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int __real_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);

int __wrap_memfd_create(const char *name, unsigned flags);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_fallocate(int fd, int mode, off_t off, off_t len);
int __wrap_fcntl(int fd, int cmd, ...);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t __wrap_recvmsg(int fd, struct msghdr *msg, int flags);
int __wrap_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);

int __wrap_memfd_create(const char *name, unsigned flags)
{
        return should_fail(FAULT_MEMFD_CREATE, EMFILE) ? -1 : __real_memfd_create(name, flags);
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
        return should_fail(FAULT_MMAP, ENOMEM) ? MAP_FAILED : __real_mmap(addr, len, prot, flags, fd, off);
}

int __wrap_fallocate(int fd, int mode, off_t off, off_t len)
{
        return should_fail(FAULT_FALLOCATE, ENOSPC) ? -1 : __real_fallocate(fd, mode, off, len);
}

int __wrap_fcntl(int fd, int cmd, ...)
{
        /* Every command the library uses takes an int or nothing; the
         * kernel reads the argument as an unsigned long either way. */
        va_list ap;
        va_start(ap, cmd);
        unsigned long arg = va_arg(ap, unsigned long);
        va_end(ap);
        if (should_fail(FAULT_FCNTL, cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC ? EMFILE : EINVAL))
                return -1;
        return __real_fcntl(fd, cmd, arg);
}

ssize_t __wrap_sendmsg(int fd, const struct msghdr *msg, int flags)
{
        return should_fail(FAULT_SENDMSG, ENOBUFS) ? -1 : __real_sendmsg(fd, msg, flags);
}

ssize_t __wrap_recvmsg(int fd, struct msghdr *msg, int flags)
{
        return should_fail(FAULT_RECVMSG, ENOMEM) ? -1 : __real_recvmsg(fd, msg, flags);
}

int __wrap_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
        return should_fail(FAULT_ACCEPT4, EMFILE) ? -1 : __real_accept4(fd, addr, len, flags);
}

int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
        return should_fail(FAULT_EPOLL_CTL, ENOMEM) ? -1 : __real_epoll_ctl(epfd, op, fd, ev);
}

void *__wrap_malloc(size_t size)
{
        return should_fail(FAULT_MALLOC, ENOMEM) ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
        return should_fail(FAULT_MALLOC, ENOMEM) ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
        /* realloc(p, 0) frees; it cannot run out of memory. */
        if (size && should_fail(FAULT_MALLOC, ENOMEM))
                return NULL;
        return __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
        return should_fail(FAULT_MALLOC, ENOMEM) ? NULL : __real_strdup(s);
}
