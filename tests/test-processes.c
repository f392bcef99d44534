/* SPDX-License-Identifier: MIT */
/*
 * Sections across real processes: a forked child and an exec'd program read
 * what the owner wrote, and resource exhaustion (descriptors, address space,
 * a memory cgroup's limit) shows up as an error from the call, never as a
 * signal later.
 *
 * Run with "--client-read ..." or "--client-expect-closed ..." this program is
 * the exec'd client of the tests below, not a test suite.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsashm/ntsecpkg.h"
#include "lsashm/section.h"
#include "test-util.h"

#define KiB ((uint64_t)1024)
#define MiB (1024 * KiB)

static lsashm_section_t *make(uint64_t max, uint64_t initial, const char *name)
{
        struct lsashm_section_config cfg = {
                .max_size = max, .initial_size = initial, .name = name,
        };
        lsashm_section_t *s = NULL;

        assert_int_equal(lsashm_section_create(&cfg, &s), 0);
        return s;
}

static void assert_child_ok(int status, const char *who)
{
        char why[64];

        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("%s %s", who, tu_describe_status(status, why, sizeof(why)));
}

/* ---- the exec'd client ------------------------------------------------- */

/* argv: FD OFFSET EXPECTED REPLY_OFFSET REPLY */
static int client_read(char **argv)
{
        int fd = atoi(argv[0]);
        uint64_t off = strtoull(argv[1], NULL, 10);
        const char *expected = argv[2];
        uint64_t reply_off = strtoull(argv[3], NULL, 10);
        const char *reply = argv[4];
        struct stat sb;

        if (fstat(fd, &sb) != 0) {
                fprintf(stderr, "client: fd %d not open: %s\n", fd, strerror(errno));
                return 2;
        }
        if (off + strlen(expected) + 1 > (uint64_t)sb.st_size ||
            reply_off + strlen(reply) + 1 > (uint64_t)sb.st_size) {
                fprintf(stderr, "client: offsets beyond the file\n");
                return 3;
        }
        char *view = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (view == MAP_FAILED) {
                fprintf(stderr, "client: mmap: %s\n", strerror(errno));
                return 4;
        }
        if (memcmp(view + off, expected, strlen(expected) + 1) != 0) {
                fprintf(stderr, "client: read '%.64s', want '%s'\n", view + off, expected);
                return 5;
        }
        memcpy(view + reply_off, reply, strlen(reply) + 1);
        munmap(view, (size_t)sb.st_size);
        return 0;
}

/* argv: FD NAME. The owner's descriptor is close-on-exec: after exec the
 * number is either free or reused by something that is not our memfd. */
static int client_expect_closed(char **argv)
{
        char path[64], link[512], want[300];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/self/fd/%s", argv[0]);
        snprintf(want, sizeof(want), "/memfd:%s", argv[1]);
        n = readlink(path, link, sizeof(link) - 1);
        if (n < 0)
                return errno == ENOENT ? 0 : 2;
        link[n] = '\0';
        if (strncmp(link, want, strlen(want)) == 0) {
                fprintf(stderr, "client: fd %s survived exec: %s\n", argv[0], link);
                return 1;
        }
        return 0;
}

/* ---- forked and exec'd readers ------------------------------------------ */

static void test_process_forked_child_reads_and_writes(void **state)
{
        (void)state;
        lsashm_section_t *s = make(1 * MiB, 64 * KiB, "fork-share");
        char *msg, *reply;
        uint64_t msg_off, reply_off;
        int to_child[2], to_parent[2];

        assert_int_equal(lsashm_section_alloc(s, 128, (void **)&msg), 0);
        assert_int_equal(lsashm_section_alloc(s, 128, (void **)&reply), 0);
        assert_int_equal(lsashm_section_offset(s, msg, &msg_off), 0);
        assert_int_equal(lsashm_section_offset(s, reply, &reply_off), 0);
        const int fd = lsashm_section_fd(s);
        const uint64_t reserved = 1 * MiB;
        assert_int_equal(pipe(to_child), 0);
        assert_int_equal(pipe(to_parent), 0);

        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* A client knows only the fd and offsets: it maps the file
                 * itself, at an address of its own. */
                char *view = mmap(NULL, reserved, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                CHILD_CHECK(view != MAP_FAILED);
                CHILD_CHECK(tu_pipe_recv(to_child[0]));
                /* written after the fork, so only shared memory can carry it */
                CHILD_CHECK(strcmp(view + msg_off, "written by the owner after fork") == 0);
                CHILD_CHECK(strcmp(msg, "written by the owner after fork") == 0);
                strcpy(view + reply_off, "the client's answer");
                CHILD_CHECK(tu_pipe_send(to_parent[1]));
                _exit(0);
        }
        strcpy(msg, "written by the owner after fork");
        assert_true(tu_pipe_send(to_child[1]));
        assert_true(tu_pipe_recv(to_parent[0]));
        assert_string_equal(reply, "the client's answer");
        assert_child_ok(tu_wait(pid, 30, NULL), "forked client");
        for (int i = 0; i < 2; i++) {
                close(to_child[i]);
                close(to_parent[i]);
        }
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_process_execd_child_reads_and_writes(void **state)
{
        (void)state;
        char name[64];
        snprintf(name, sizeof(name), "exec-share-%d", (int)getpid());
        lsashm_section_t *s = make(1 * MiB, 64 * KiB, name);
        char *msg, *reply;
        uint64_t msg_off, reply_off;
        char a_fd[16], a_off[32], a_roff[32];
        char expected[64];

        assert_int_equal(lsashm_section_alloc(s, 200 * KiB, (void **)&msg), 0); /* grows */
        assert_int_equal(lsashm_section_alloc(s, 64, (void **)&reply), 0);
        assert_int_equal(lsashm_section_offset(s, msg, &msg_off), 0);
        assert_int_equal(lsashm_section_offset(s, reply, &reply_off), 0);
        snprintf(expected, sizeof(expected), "hello from owner %d", (int)getpid());
        strcpy(msg, expected);

        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* The section's fd is close-on-exec, so that no program the
                 * owner runs gets the section by accident. Handing it over
                 * is deliberate: dup() makes a descriptor without the flag. */
                int fd = dup(lsashm_section_fd(s));
                CHILD_CHECK(fd >= 0);
                CHILD_CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0);
                snprintf(a_fd, sizeof(a_fd), "%d", fd);
                snprintf(a_off, sizeof(a_off), "%" PRIu64, msg_off);
                snprintf(a_roff, sizeof(a_roff), "%" PRIu64, reply_off);
                execl("/proc/self/exe", "test-processes", "--client-read", a_fd, a_off, expected,
                      a_roff, "reply from exec'd client", (char *)NULL);
                fprintf(stderr, "exec: %s\n", strerror(errno));
                _exit(127);
        }
        assert_child_ok(tu_wait(pid, 30, NULL), "exec'd client");
        assert_string_equal(reply, "reply from exec'd client");
        assert_int_equal(lsashm_section_check(s), 0);
        assert_int_equal(lsashm_section_delete(s), 0);
}

static void test_process_fd_closed_on_exec(void **state)
{
        (void)state;
        char name[64], a_fd[16];
        snprintf(name, sizeof(name), "cloexec-%d", (int)getpid());
        lsashm_section_t *s = make(64 * KiB, 4 * KiB, name);

        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                snprintf(a_fd, sizeof(a_fd), "%d", lsashm_section_fd(s));
                execl("/proc/self/exe", "test-processes", "--client-expect-closed", a_fd, name,
                      (char *)NULL);
                _exit(127);
        }
        assert_child_ok(tu_wait(pid, 30, NULL), "exec'd client");
        assert_int_equal(lsashm_section_delete(s), 0);
}

/* ---- descriptors exhausted -------------------------------------------- */

static int highest_open_fd(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        int hi = -1;

        if (!d)
                return -1;
        while ((e = readdir(d)) != NULL) {
                int fd = atoi(e->d_name);
                if (e->d_name[0] != '.' && fd != dirfd(d) && fd > hi)
                        hi = fd;
        }
        closedir(d);
        return hi;
}

static void test_process_no_fds_left(void **state)
{
        (void)state;
        pid_t pid = tu_fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                struct rlimit old, tight;
                int fillers[1024], nfill = 0;
                int before = tu_count_fds();

                CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
                tight = old;
                tight.rlim_cur = (rlim_t)highest_open_fd() + 1;
                CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &tight) == 0);
                /* fill the holes below the limit, so no descriptor is left */
                for (;;) {
                        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        if (fd < 0) {
                                CHILD_CHECK(errno == EMFILE);
                                break;
                        }
                        CHILD_CHECK(nfill < 1024);
                        fillers[nfill++] = fd;
                }

                CHILD_CHECK(LsaCreateSharedMemory(64 * 1024, 4096) == NULL);
                struct lsashm_section_config cfg = { .max_size = 64 * KiB, .initial_size = 4096 };
                lsashm_section_t *s = (lsashm_section_t *)&cfg; /* must stay untouched */
                CHILD_CHECK(lsashm_section_create(&cfg, &s) == -EMFILE);
                CHILD_CHECK(s == (lsashm_section_t *)&cfg);

                /* nothing leaked: with descriptors back, it all works again */
                for (int i = 0; i < nfill; i++)
                        close(fillers[i]);
                CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
                CHILD_CHECK(tu_count_fds() == before);
                PVOID base = LsaCreateSharedMemory(64 * 1024, 4096);
                CHILD_CHECK(base != NULL);
                CHILD_CHECK(LsaAllocateSharedMemory(base, 100) != NULL);
                CHILD_CHECK(LsaDeleteSharedMemory(base) == TRUE);
                CHILD_CHECK(tu_count_fds() == before);
                _exit(0);
        }
        assert_child_ok(tu_wait(pid, 30, NULL), "child");
}

/* ---- address space exhausted ------------------------------------------- */

static uint64_t vm_size_bytes(void)
{
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        unsigned long long kb = 0;

        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmSize: %llu kB", &kb) == 1)
                        break;
        fclose(f);
        return (uint64_t)kb * 1024;
}

static void test_process_no_address_space(void **state)
{
        (void)state;
        pid_t pid = tu_fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                int before = tu_count_fds();
                uint64_t vm = vm_size_bytes();
                CHILD_CHECK(vm > 0);
                /* Relative to what is mapped already, so that sanitizers,
                 * which reserve terabytes up front, still get some room. */
                struct rlimit rl;
                CHILD_CHECK(getrlimit(RLIMIT_AS, &rl) == 0);
                rl.rlim_cur = (rlim_t)(vm + 64 * MiB);
                CHILD_CHECK(setrlimit(RLIMIT_AS, &rl) == 0);

                CHILD_CHECK(LsaCreateSharedMemory(0xFFFFF000u, 0xFFFFF000u) == NULL);
                CHILD_CHECK(LsaCreateSharedMemory(0xFFFFF000u, 4096) == NULL);
                CHILD_CHECK(LsaCreateSharedMemory(512u << 20, 512u << 20) == NULL);
                struct lsashm_section_config cfg = { .max_size = 1u << 30, .initial_size = 4096 };
                lsashm_section_t *s = NULL;
                CHILD_CHECK(lsashm_section_create(&cfg, &s) == -ENOMEM);
                CHILD_CHECK(s == NULL);
                cfg.initial_size = cfg.max_size;
                CHILD_CHECK(lsashm_section_create(&cfg, &s) == -ENOMEM);
                CHILD_CHECK(tu_count_fds() == before);

                /* what fits under the limit still works */
                PVOID base = LsaCreateSharedMemory(1 << 20, 64 << 10);
                CHILD_CHECK(base != NULL);
                CHILD_CHECK(LsaAllocateSharedMemory(base, 512 << 10) != NULL);
                CHILD_CHECK(LsaDeleteSharedMemory(base) == TRUE);
                CHILD_CHECK(tu_count_fds() == before);
                _exit(0);
        }
        assert_child_ok(tu_wait(pid, 30, NULL), "child");
}

/* ---- a memory cgroup's limit -------------------------------------------- */

static bool write_file(const char *dir, const char *file, const char *value)
{
        char path[PATH_MAX];
        int fd;
        bool ok;

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
        close(fd);
        return ok;
}

static long long read_number(const char *dir, const char *file, const char *key)
{
        char path[PATH_MAX], line[256];
        long long v = -1;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f)) {
                if (!key) {
                        v = atoll(line);
                        break;
                }
                if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ' ') {
                        v = atoll(line + strlen(key) + 1);
                        break;
                }
        }
        fclose(f);
        return v;
}

/* Where this process sits in the cgroup v1 memory hierarchy, e.g. "/a/b". */
static bool own_memory_cgroup(char *out, size_t len)
{
        FILE *f = fopen("/proc/self/cgroup", "re");
        char line[1024];
        bool found = false;

        if (!f)
                return false;
        while (!found && fgets(line, sizeof(line), f)) {
                char *ctl = strchr(line, ':');
                char *path = ctl ? strchr(ctl + 1, ':') : NULL;
                if (!path)
                        continue;
                *path++ = '\0';
                path[strcspn(path, "\n")] = '\0';
                /* the controller list may name several, e.g. "memory" alone here */
                for (char *tok = strtok(ctl + 1, ","); tok; tok = strtok(NULL, ","))
                        if (strcmp(tok, "memory") == 0) {
                                snprintf(out, len, "%s", strcmp(path, "/") == 0 ? "" : path);
                                found = true;
                        }
        }
        fclose(f);
        return found;
}

/*
 * A page fault that finds the cgroup full stalls the task (the OOM killer is
 * off). That can happen to anyone's fault: a page-table page, a sanitizer's
 * shadow memory. Such a stall is let through by raising the limit a little,
 * a few times. A library that left commit to page faults would stall at
 * every step and run out of rescues; the child's own checks (refused below
 * 64 MiB) still hold with the raised limit.
 */
enum { RESCUE_MIB = 2, MAX_RESCUES = 4 };

static int wait_rescuing(pid_t pid, const char *dir, int *rescues, bool *timed_out)
{
        struct timespec nap = { 0, 20 * 1000 * 1000 };
        long long limit = 32ll << 20;
        int status = 0;

        *timed_out = false;
        for (int ticks = 0; ticks < 60 * 50; ticks++) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid)
                        return status;
                if (r < 0 && errno != EINTR)
                        return -1;
                /* give a fault a moment to be retried before calling it a stall */
                if (ticks % 10 == 9 && read_number(dir, "memory.oom_control", "under_oom") == 1) {
                        if (*rescues >= MAX_RESCUES)
                                break;
                        char value[32];
                        limit += (long long)RESCUE_MIB << 20;
                        snprintf(value, sizeof(value), "%lld", limit);
                        if (!write_file(dir, "memory.limit_in_bytes", value))
                                break;
                        ++*rescues;
                }
                nanosleep(&nap, NULL);
        }
        *timed_out = true;
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return -1;
}

/* Runs in the child once it is inside the limited cgroup. */
static int fill_until_refused(void)
{
        enum { BLOCK = 1 << 20, MAXB = 1024 };
        static void *blocks[MAXB];
        int n = 0, r = 0;

        /* native API */
        struct lsashm_section_config cfg = { .max_size = 1u << 30, .initial_size = 64 << 10 };
        lsashm_section_t *s = NULL;
        CHILD_CHECK(lsashm_section_create(&cfg, &s) == 0);
        while (n < MAXB && (r = lsashm_section_alloc(s, BLOCK, &blocks[n])) == 0) {
                /* committed pages are real: touching them must not fault */
                memset(blocks[n], 0x6b, BLOCK);
                n++;
        }
        fprintf(stderr, "child: native: %d MiB allocated, then %d (%s)\n", n, r, strerror(-r));
        CHILD_CHECK(r == -ENOMEM || r == -ENOSPC);
        CHILD_CHECK(n >= 4 && n < 64);
        struct lsashm_section_stats st;
        CHILD_CHECK(lsashm_section_stats(s, &st) == 0);
        CHILD_CHECK(st.live_blocks == (uint64_t)n);
        CHILD_CHECK(st.failed_allocs >= 1);
        CHILD_CHECK(lsashm_section_check(s) == 0);
        /* the refusal left the section usable */
        CHILD_CHECK(lsashm_section_free(s, blocks[n / 2]) == 0);
        CHILD_CHECK(lsashm_section_alloc(s, BLOCK, &blocks[n / 2]) == 0);
        memset(blocks[n / 2], 0x6c, BLOCK);
        CHILD_CHECK(lsashm_section_delete(s) == 0);

        /* the Windows API, with the pages given back by the delete */
        PVOID base = LsaCreateSharedMemory(1u << 30, 64 << 10);
        CHILD_CHECK(base != NULL);
        n = 0;
        void *p;
        while (n < MAXB && (p = LsaAllocateSharedMemory(base, BLOCK)) != NULL) {
                memset(p, 0x6d, BLOCK);
                n++;
        }
        fprintf(stderr, "child: LSA: %d MiB allocated, then NULL\n", n);
        CHILD_CHECK(n >= 4 && n < 64);
        CHILD_CHECK(lsashm_shared_memory_check(base) == 0);
        CHILD_CHECK(LsaDeleteSharedMemory(base) == TRUE);
        return 0;
}

static void test_process_commit_refused_by_memory_cgroup(void **state)
{
        (void)state;
        char own[512], dir[PATH_MAX], pidstr[32];
        int go[2];
        bool timed_out = false;

        if (!own_memory_cgroup(own, sizeof(own))) {
                print_message("skipped: no cgroup v1 memory controller for this process\n");
                skip();
        }
        snprintf(dir, sizeof(dir), "/sys/fs/cgroup/memory%s/lsashm-test-%d", own, (int)getpid());
        if (mkdir(dir, 0755) != 0) {
                print_message("skipped: cannot create memory cgroup %s: %s\n", dir,
                              strerror(errno));
                skip();
        }
        /* With the OOM killer off, a charge refused inside a syscall (the
         * commit's fallocate) fails with ENOMEM, while one refused in a page
         * fault would stall the task: a stall is the failure we look for. */
        if (!write_file(dir, "memory.limit_in_bytes", "33554432") ||
            !write_file(dir, "memory.oom_control", "1")) {
                print_message("skipped: cannot set limits in %s: %s\n", dir, strerror(errno));
                rmdir(dir);
                skip();
        }
        assert_int_equal(pipe(go), 0);

        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(go[1]);
                /* fault in some stack now, while charges still go elsewhere */
                volatile char warm[256 * 1024];
                for (size_t i = 0; i < sizeof(warm); i += 4096)
                        warm[i] = 1;
                CHILD_CHECK(tu_pipe_recv(go[0]));
                _exit(fill_until_refused());
        }
        close(go[0]);
        snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
        if (!write_file(dir, "cgroup.procs", pidstr)) {
                int e = errno;
                kill(pid, SIGKILL);
                tu_wait(pid, 30, NULL);
                close(go[1]);
                rmdir(dir);
                print_message("skipped: cannot move the child into %s: %s\n", dir, strerror(e));
                skip();
        }
        assert_true(tu_pipe_send(go[1]));
        close(go[1]);
        int rescues = 0;
        int status = wait_rescuing(pid, dir, &rescues, &timed_out);
        long long failcnt = read_number(dir, "memory.failcnt", NULL);
        /* the child is gone; its cgroup goes too */
        for (int i = 0; i < 100 && rmdir(dir) != 0 && errno == EBUSY; i++)
                usleep(10000);

        if (rescues > 0)
                print_message("note: the child stalled in a page fault %d time(s) and was let "
                              "through by raising the limit %d MiB\n",
                              rescues, rescues * RESCUE_MIB);
        if (timed_out)
                fail_msg("child kept stalling at the memory limit (%d rescues): the section's "
                         "pages are charged on fault instead of at commit",
                         rescues);
        assert_child_ok(status, "child in the memory cgroup");
        /* the limit really was what stopped the child */
        assert_true(failcnt > 0);
}

int main(int argc, char **argv)
{
        if (argc == 7 && strcmp(argv[1], "--client-read") == 0)
                return client_read(argv + 2);
        if (argc == 4 && strcmp(argv[1], "--client-expect-closed") == 0)
                return client_expect_closed(argv + 2);

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_process_forked_child_reads_and_writes),
                cmocka_unit_test(test_process_execd_child_reads_and_writes),
                cmocka_unit_test(test_process_fd_closed_on_exec),
                cmocka_unit_test(test_process_no_fds_left),
                cmocka_unit_test(test_process_no_address_space),
                cmocka_unit_test(test_process_commit_refused_by_memory_cgroup),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
