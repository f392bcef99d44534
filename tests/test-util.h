/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the lsashm test programs. Header-only so that every test
 * stays a single translation unit, as tests/CMakeLists.txt builds them.
 */
#ifndef LSASHM_TEST_UTIL_H
#define LSASHM_TEST_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Entries of a /proc/PID/fd directory, or -1. */
static inline int tu_count_fd_dir(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *e;
        int n = 0;

        if (!d)
                return -1;
        while ((e = readdir(d)) != NULL)
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

/* Open descriptors of this process, not counting the one used to list them. */
static inline int tu_count_fds(void)
{
        int n = tu_count_fd_dir("/proc/self/fd");
        return n < 0 ? -1 : n - 1;
}

static inline size_t tu_page_size(void)
{
        return (size_t)sysconf(_SC_PAGESIZE);
}

static inline uint64_t tu_round_up(uint64_t v, uint64_t to)
{
        return (v + to - 1) / to * to;
}

/* xorshift64*: reproducible sequences from a fixed seed, so that a failing
 * run can be replayed exactly. */
struct tu_rng {
        uint64_t s;
};

static inline uint64_t tu_rng_next(struct tu_rng *r)
{
        r->s ^= r->s >> 12;
        r->s ^= r->s << 25;
        r->s ^= r->s >> 27;
        return r->s * UINT64_C(2685821657736338717);
}

static inline uint64_t tu_rng_range(struct tu_rng *r, uint64_t lo, uint64_t hi)
{
        return lo + tu_rng_next(r) % (hi - lo + 1);
}

static inline void tu_rng_fill(struct tu_rng *r, void *buf, size_t len)
{
        unsigned char *p = buf;

        while (len >= 8) {
                uint64_t v = tu_rng_next(r);
                memcpy(p, &v, 8);
                p += 8;
                len -= 8;
        }
        while (len--)
                *p++ = (unsigned char)tu_rng_next(r);
}

/* True when every byte of [p, p+len) is zero. */
static inline bool tu_all_zero(const void *p, size_t len)
{
        const unsigned char *c = p;

        for (size_t i = 0; i < len; i++)
                if (c[i])
                        return false;
        return true;
}

/*
 * Reports from forked children: a child must never run cmocka's assertions
 * (they would longjmp into a copy of the runner), so it prints what failed and
 * exits with a non-zero status that the parent asserts on.
 */
#define CHILD_CHECK(cond)                                                          \
        do {                                                                       \
                if (!(cond)) {                                                     \
                        fprintf(stderr, "child %d: check failed at %s:%d: %s\n", \
                                (int)getpid(), __FILE__, __LINE__, #cond);         \
                        fflush(stderr);                                            \
                        _exit(100);                                                \
                }                                                                  \
        } while (0)

/* Put the signals cmocka (and sanitizers) catch back to their defaults, so a
 * child that faults dies of the signal and the parent can see which one. */
static inline void tu_child_default_signals(void)
{
        static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS };
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_DFL;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
                sigaction(sigs[i], &sa, NULL);
}

/* fork() with buffers flushed, so that the child cannot print the parent's
 * pending output a second time. */
static inline pid_t tu_fork(void)
{
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid == 0)
                tu_child_default_signals();
        return pid;
}

/*
 * Wait for pid for at most timeout_s seconds; kill it after that. Returns the
 * wait status, or -1 when it had to be killed (*timed_out set).
 */
static inline int tu_wait(pid_t pid, int timeout_s, bool *timed_out)
{
        struct timespec nap = { 0, 10 * 1000 * 1000 };
        int status = 0;
        long waited_ms = 0;

        if (timed_out)
                *timed_out = false;
        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid)
                        return status;
                if (r < 0 && errno != EINTR)
                        return -1;
                if (waited_ms >= (long)timeout_s * 1000) {
                        if (timed_out)
                                *timed_out = true;
                        kill(pid, SIGKILL);
                        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                                ;
                        return -1;
                }
                nanosleep(&nap, NULL);
                waited_ms += 10;
        }
}

/* A human-readable account of a wait status, for failure messages. */
static inline const char *tu_describe_status(int status, char *buf, size_t len)
{
        if (status == -1)
                snprintf(buf, len, "timed out");
        else if (WIFEXITED(status))
                snprintf(buf, len, "exited with %d", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
                snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
        else
                snprintf(buf, len, "status 0x%x", (unsigned)status);
        return buf;
}

/* Whole-buffer pipe and socket I/O, retrying short transfers and EINTR. */
static inline bool tu_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return false;
                p += n;
                len -= (size_t)n;
        }
        return true;
}

static inline bool tu_read_all(int fd, void *buf, size_t len)
{
        char *p = buf;
        while (len) {
                ssize_t n = read(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return false;
                p += n;
                len -= (size_t)n;
        }
        return true;
}

/* Milliseconds on the monotonic clock, and a sleep that survives signals. */
static inline int64_t tu_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void tu_sleep_ms(int ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

/* One packet with any number of descriptors (fdpass_send takes at most one). */
static inline int tu_send_fds(int s, const void *buf, size_t len, const int *fds, int nfds, int flags)
{
        struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(32 * sizeof(int))];
        } control;
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (nfds > 0) {
                memset(&control, 0, sizeof(control));
                msg.msg_control = control.buf;
                msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
                memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
        }
        ssize_t n;
        do
                n = sendmsg(s, &msg, MSG_NOSIGNAL | flags);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return (size_t)n == len ? 0 : -EMSGSIZE;
}

/* Blocking pipe I/O of one byte, used to put parent and child in lockstep. */
static inline bool tu_pipe_send(int fd)
{
        char c = 'x';
        ssize_t n;

        do
                n = write(fd, &c, 1);
        while (n < 0 && errno == EINTR);
        return n == 1;
}

static inline bool tu_pipe_recv(int fd)
{
        char c;
        ssize_t n;

        do
                n = read(fd, &c, 1);
        while (n < 0 && errno == EINTR);
        return n == 1;
}

/* Does /proc/self/maps mention needle? */
static inline bool tu_maps_contain(const char *needle)
{
        FILE *f = fopen("/proc/self/maps", "re");
        char line[4096];
        bool found = false;

        if (!f)
                return false;
        while (!found && fgets(line, sizeof(line), f))
                if (strstr(line, needle))
                        found = true;
        fclose(f);
        return found;
}

/*
 * The permission string ("rw-s", "---s", ...) of the mapping that holds addr
 * in /proc/self/maps; false when no mapping holds it.
 */
static inline bool tu_maps_perms(const void *addr, char perms[5])
{
        FILE *f = fopen("/proc/self/maps", "re");
        char line[4096];
        uintptr_t a = (uintptr_t)addr;
        bool found = false;

        if (!f)
                return false;
        while (!found && fgets(line, sizeof(line), f)) {
                unsigned long lo, hi;
                char p[5];
                if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && a >= lo && a < hi) {
                        memcpy(perms, p, 5);
                        found = true;
                }
        }
        fclose(f);
        return found;
}

/* ---- another process, seen from /proc (lsashmd in the kill storm and the soak) ---- */

#include <poll.h>
#include <sys/prctl.h>
#include <sys/un.h>

/* Open descriptors of pid, or -1. */
static inline int tu_proc_fd_count(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
        return tu_count_fd_dir(path);
}

/* Lines of /proc/PID/maps (one per mapping), or -1. */
static inline int tu_proc_map_count(pid_t pid)
{
        char path[64], line[4096];
        snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
        FILE *f = fopen(path, "re");
        int n = 0;

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (strchr(line, '\n'))
                        n++;
        fclose(f);
        return n;
}

/* A "Name:   N kB" field of /proc/PID/status (VmRSS, VmHWM...), or -1. */
static inline long tu_proc_status_kib(pid_t pid, const char *field)
{
        char path[64], line[256];
        size_t len = strlen(field);
        long v = -1;
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, field, len) == 0 && line[len] == ':') {
                        v = strtol(line + len + 1, NULL, 10);
                        break;
                }
        fclose(f);
        return v;
}

/* ---- lsashmd as a process: started, ready, stopped ---- */

/* A datagram socket bound at path, for sd_notify; -errno on failure. */
static inline int tu_notify_socket(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        unlink(path);
        int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int e = -errno;
                close(s);
                return e;
        }
        return s;
}

/* Wait up to timeout_ms for a notification on s that contains want; every
 * notification received is appended to log, "|"-separated (if not NULL,
 * cap bytes). */
static inline bool tu_notify_wait_log(int s, const char *want, int timeout_ms, char *log, size_t cap)
{
        int64_t end = tu_now_ms() + timeout_ms;
        for (;;) {
                int64_t left = end - tu_now_ms();
                if (left <= 0)
                        return false;
                struct pollfd p = { .fd = s, .events = POLLIN };
                int r = poll(&p, 1, (int)left);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return false;
                char buf[4096];
                ssize_t n = recv(s, buf, sizeof(buf) - 1, MSG_DONTWAIT);
                if (n <= 0)
                        continue;
                buf[n] = '\0';
                if (log && strlen(log) + (size_t)n + 2 < cap) {
                        strcat(log, buf);
                        strcat(log, "|");
                }
                if (strstr(buf, want))
                        return true;
        }
}

static inline bool tu_notify_wait(int s, const char *want, int timeout_ms)
{
        return tu_notify_wait_log(s, want, timeout_ms, NULL, 0);
}

struct tu_creds;
static inline void tu_become(const struct tu_creds *cr);

/*
 * Start argv[0] with stdin from /dev/null, stdout and stderr into the files
 * out and err (NULL: /dev/null), and env ("NAME=VALUE"..., NULL-terminated,
 * may be NULL) added to the environment, as cr (NULL: as we are). It dies
 * with us (PR_SET_PDEATHSIG), so that a failed test leaves no daemon behind.
 * Returns its pid or -errno.
 */
static inline pid_t tu_spawn_as(char *const argv[], const char *out, const char *err, const char *const *env,
                                const struct tu_creds *cr)
{
        pid_t pid = tu_fork();
        if (pid != 0)
                return pid < 0 ? -errno : pid;
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        int o = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : null;
        int e = err ? open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : null;
        if (null < 0 || o < 0 || e < 0 || dup2(null, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
                _exit(126);
        close_range(3, ~0u, 0);
        for (const char *const *v = env; v && *v; v++)
                putenv((char *)(uintptr_t)*v);
        if (cr)
                tu_become(cr);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
}

static inline pid_t tu_spawn(char *const argv[], const char *out, const char *err, const char *const *env)
{
        return tu_spawn_as(argv, out, err, env, NULL);
}

/*
 * lsashmd --config CONF --socket SOCK --package PACKAGE, with NOTIFY_SOCKET
 * at NOTIFY and stderr into ERR; returns its pid once it said READY=1
 * (within timeout_s), or a negative value (it is then killed).
 */
static inline pid_t tu_lsashmd_start(const char *lsashmd, const char *conf, const char *sock, const char *package,
                                     const char *notify, const char *err, int timeout_s)
{
        int ns = tu_notify_socket(notify);
        if (ns < 0)
                return ns;
        char notify_env[160];
        snprintf(notify_env, sizeof(notify_env), "NOTIFY_SOCKET=%s", notify);
        const char *env[] = { notify_env, NULL };
        char *argv[] = { (char *)(uintptr_t)lsashmd, "--config", (char *)(uintptr_t)conf, "--socket",
                         (char *)(uintptr_t)sock, "--package", (char *)(uintptr_t)package, NULL };
        pid_t pid = tu_spawn(argv, NULL, err, env);
        if (pid > 0 && !tu_notify_wait(ns, "READY=1", timeout_s * 1000)) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                pid = -ETIMEDOUT;
        }
        close(ns);
        return pid;
}

#include <sys/un.h>

/* A close-on-exec SOCK_SEQPACKET socket bound at path (replacing a file left
 * there) and listening with backlog; -1 on failure. */
static inline int tu_seqpacket_listen(const char *path, int backlog)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof(addr.sun_path))
                return -1;
        memcpy(addr.sun_path, path, strlen(path) + 1);
        unlink(path);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, backlog) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* End a helper process of a test (a fake server) and reap it; 0 does nothing. */
static inline void tu_kill_and_reap(pid_t pid)
{
        if (pid <= 0)
                return;
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

/* ---- the child-process harness: a function or a program, in a child ---- */

#include <grp.h>

/* Who a child becomes: uid, gid and exactly these supplementary groups. */
struct tu_creds {
        uid_t uid;
        gid_t gid;
        int ngroups;
        gid_t groups[8];
};

/*
 * In a child: become cr (groups, then gid, then uid: each step needs the
 * privilege the next one drops), checked afterwards; exit 126 when refused.
 * Changing uids makes a process undumpable, which closes /proc/self to it,
 * and the sanitizers and tu_maps_perms read it: made dumpable again.
 */
static inline void tu_become(const struct tu_creds *cr)
{
        uid_t r, e, s;

        if (setgroups((size_t)cr->ngroups, cr->groups) < 0 || setresgid(cr->gid, cr->gid, cr->gid) < 0 ||
            setresuid(cr->uid, cr->uid, cr->uid) < 0 || getresuid(&r, &e, &s) < 0 || r != cr->uid ||
            e != cr->uid || s != cr->uid || getegid() != cr->gid) {
                fprintf(stderr, "child %d: cannot become uid %u gid %u: %s\n", (int)getpid(), (unsigned)cr->uid,
                        (unsigned)cr->gid, strerror(errno));
                _exit(126);
        }
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

/* In a child: close every descriptor from 3 up but keep1 and keep2 (-1:
 * none), so that nothing of the parent's (servers, other clients'
 * connections) lives on in it. */
static inline void tu_close_fds_except(int keep1, int keep2)
{
        int k[2] = { keep1 < keep2 ? keep1 : keep2, keep1 < keep2 ? keep2 : keep1 };
        unsigned lo = 3;

        for (int i = 0; i < 2; i++) {
                if (k[i] < (int)lo)
                        continue;
                if ((unsigned)k[i] > lo)
                        close_range(lo, (unsigned)k[i] - 1, 0);
                lo = (unsigned)k[i] + 1;
        }
        close_range(lo, ~0u, 0);
}

/* Did the wait status say "exited with 0" (and not "timed out")? */
static inline bool tu_exited_ok(int status)
{
        return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static inline bool tu_exited_with(int status, int code)
{
        return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/*
 * Run fn(arg) in a forked child (as cr, if not NULL), which exits with 0
 * when fn returns; wait for it at most timeout_s seconds (then it is
 * killed). Returns the wait status (-1: timed out) and, in why, how it
 * ended, for a failure message.
 */
static inline int tu_run_child(void (*fn)(void *arg), void *arg, const struct tu_creds *cr, int timeout_s,
                               char *why, size_t why_len)
{
        pid_t pid = tu_fork();

        if (pid < 0) {
                snprintf(why, why_len, "not started: %s", strerror(errno));
                return -1;
        }
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                if (cr)
                        tu_become(cr);
                fn(arg);
                fflush(stdout);
                fflush(stderr);
                _exit(0);
        }
        int status = tu_wait(pid, timeout_s, NULL);
        tu_describe_status(status, why, why_len);
        return status;
}

/* The whole of a file as a string ("" when it cannot be read); free it. */
static inline char *tu_slurp(const char *path)
{
        FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);

        if (!m)
                abort();
        if (f) {
                char buf[4096];
                size_t n;
                while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                        fwrite(buf, 1, n, m);
                fclose(f);
        }
        fclose(m);
        return text;
}

/*
 * Run a program to its end (timeout_s at most, then killed) with env added
 * (see tu_spawn_as) and as cr (NULL: as we are); its stdout and stderr go
 * through files in dir and come back as strings (free them). Returns the
 * wait status, -1 when it timed out.
 */
static inline int tu_run_program(char *const argv[], const char *const *env, const struct tu_creds *cr,
                                 int timeout_s, const char *dir, char **ret_out, char **ret_err)
{
        static unsigned seq;
        char out[256], err[256];

        snprintf(out, sizeof(out), "%s/run-%d-%u.out", dir, (int)getpid(), seq);
        snprintf(err, sizeof(err), "%s/run-%d-%u.err", dir, (int)getpid(), seq++);
        pid_t pid = tu_spawn_as(argv, out, err, env, cr);
        int status = pid > 0 ? tu_wait(pid, timeout_s, NULL) : -1;
        *ret_out = tu_slurp(out);
        *ret_err = tu_slurp(err);
        unlink(out);
        unlink(err);
        return status;
}

/* One byte from fd within timeout_ms: 1, 0 at end of file, -1 on timeout
 * or error. */
static inline int tu_read_byte(int fd, int timeout_ms, char *ret)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r;
        char c;
        ssize_t n;

        do
                r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r <= 0)
                return -1;
        do
                n = read(fd, &c, 1);
        while (n < 0 && errno == EINTR);
        if (n == 1 && ret)
                *ret = c;
        return n == 1 ? 1 : n == 0 ? 0 : -1;
}

/* A close-on-exec SOCK_SEQPACKET socket (with flags, e.g. SOCK_NONBLOCK)
 * connected to path; -errno on failure. */
static inline int tu_seqpacket_connect(const char *path, int flags)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof(addr.sun_path))
                return -ENAMETOOLONG;
        memcpy(addr.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | flags, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                int e = -errno;
                close(fd);
                return e;
        }
        return fd;
}

#endif
