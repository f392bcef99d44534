/* SPDX-License-Identifier: MIT */
/*
 * lsashm-demo: the life of a shared section, told in plain words.
 *
 * The parent plays a security package using the Windows callbacks; a forked
 * child plays a client process that inherited the section's descriptor and
 * maps it on its own. They take turns through two pipes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lsashm/ntsecpkg.h"
#include "lsashm/section.h"

#define SECTION_MAX (1u << 20)
#define SECTION_INITIAL (64u << 10)

struct record {
        char user[32];
        char secret[32];
};

static int to_child[2], to_parent[2];

static void say(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const char *who, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        printf("%-8s ", who);
        vprintf(fmt, ap);
        printf("\n");
        fflush(stdout);
        va_end(ap);
}

static void send_word(int fd, uint64_t v)
{
        if (write(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
                exit(2);
}

static uint64_t wait_word(int fd)
{
        uint64_t v;
        if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
                exit(2);
        return v;
}

static void print_stats(const void *section)
{
        struct lsashm_section_stats st;
        if (lsashm_shared_memory_stats(section, &st) < 0) {
                say("package", "stats: the section is gone");
                return;
        }
        say("package", "stats: reserved %llu, committed %llu, in use %llu, free %llu, largest free %llu,",
            (unsigned long long)st.reserved, (unsigned long long)st.committed,
            (unsigned long long)st.in_use, (unsigned long long)st.free,
            (unsigned long long)st.largest_free);
        say("", "       live blocks %llu, peak in use %llu, refused frees %llu",
            (unsigned long long)st.live_blocks, (unsigned long long)st.peak_in_use,
            (unsigned long long)st.refused_frees);
}

static size_t count_nonzero(const unsigned char *p, size_t n)
{
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
                c += p[i] != 0;
        return c;
}

/* The client: maps the inherited memfd itself and reads by offset only. */
static int client(int fd)
{
        unsigned char *view = mmap(NULL, SECTION_MAX, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (view == MAP_FAILED) {
                say("client", "mmap failed: %s", strerror(errno));
                return 1;
        }
        say("client", "pid %d mapped the section from inherited fd %d at %p (its own address)",
            (int)getpid(), fd, (void *)view);

        /* 1: read the records the package announced by offset. */
        uint64_t count = wait_word(to_child[0]);
        uint64_t offsets[8];
        for (uint64_t i = 0; i < count && i < 8; i++) {
                offsets[i] = wait_word(to_child[0]);
                const struct record *r = (const void *)(view + offsets[i]);
                say("client", "offset %-6llu user=%.31s secret=%.31s", (unsigned long long)offsets[i],
                    r->user, r->secret);
        }
        send_word(to_parent[1], 1);

        /* 2: turn hostile and scribble over every committed byte. */
        uint64_t committed = wait_word(to_child[0]);
        memset(view, 0xA5, committed);
        say("client", "HOSTILE: overwrote all %llu committed bytes with 0xA5",
            (unsigned long long)committed);
        send_word(to_parent[1], 1);

        /* 3: the package freed alice's record; her secret must be gone. */
        uint64_t freed = wait_word(to_child[0]);
        const struct record *r = (const void *)(view + freed);
        say("client", "after free, offset %llu holds %zu non-zero bytes of %zu",
            (unsigned long long)freed, count_nonzero((const void *)r, sizeof(*r)), sizeof(*r));
        send_word(to_parent[1], 1);

        /* 4: the package deleted the section; our mapping still works. */
        committed = wait_word(to_child[0]);
        say("client", "after delete, my mapping still reads (no SIGBUS): %zu non-zero bytes in %llu",
            count_nonzero(view, committed), (unsigned long long)committed);
        munmap(view, SECTION_MAX);
        send_word(to_parent[1], 1);
        return 0;
}

static void *add_record(void *section, const char *user, const char *secret)
{
        struct record *r = LsaAllocateSharedMemory(section, sizeof(*r));
        if (!r)
                return NULL;
        snprintf(r->user, sizeof(r->user), "%s", user);
        snprintf(r->secret, sizeof(r->secret), "%s", secret);
        return r;
}

int main(void)
{
        if (pipe(to_child) < 0 || pipe(to_parent) < 0)
                return 1;

        say("package", "LsaCreateSharedMemory(MaxSize=%u, InitialSize=%u)", SECTION_MAX, SECTION_INITIAL);
        void *section = LsaCreateSharedMemory(SECTION_MAX, SECTION_INITIAL);
        if (!section) {
                say("package", "could not create the section");
                return 1;
        }
        int fd = lsashm_shared_memory_fd(section);
        say("package", "section base %p, sealed memfd %d (see /proc/%d/maps: /memfd:lsashm)", section,
            fd, (int)getpid());

        struct record *alice = add_record(section, "alice", "hunter2");
        struct record *bob = add_record(section, "bob", "correct horse");
        struct record *carol = add_record(section, "carol", "tr0ub4dor&3");
        if (!alice || !bob || !carol)
                return 1;
        say("package", "LsaAllocateSharedMemory x3: records for alice, bob and carol written");
        print_stats(section);

        pid_t pid = fork();
        if (pid < 0)
                return 1;
        if (pid == 0)
                _exit(client(fd));

        const unsigned char *base = section;
        struct record *recs[] = { alice, bob, carol };
        send_word(to_child[1], 3);
        for (int i = 0; i < 3; i++)
                send_word(to_child[1], (uint64_t)((unsigned char *)recs[i] - base));
        wait_word(to_parent[0]);

        struct lsashm_section_stats before, after;
        lsashm_shared_memory_stats(section, &before);
        send_word(to_child[1], before.committed);
        wait_word(to_parent[0]);
        say("package", "the heap's metadata lives in private memory; checking it after the attack:");
        say("package", "heap check: %s", lsashm_shared_memory_check(section) == 0 ? "consistent" : "BROKEN");
        lsashm_shared_memory_stats(section, &after);
        say("package", "live blocks %llu before, %llu after; in use %llu before, %llu after",
            (unsigned long long)before.live_blocks, (unsigned long long)after.live_blocks,
            (unsigned long long)before.in_use, (unsigned long long)after.in_use);
        void *extra = LsaAllocateSharedMemory(section, 4000);
        say("package", "allocating 4000 more bytes still works: %s, block is %s", extra ? "yes" : "NO",
            extra && count_nonzero(extra, 4000) == 0 ? "zero-filled" : "NOT zero-filled");
        LsaFreeSharedMemory(section, extra);
        LsaFreeSharedMemory(section, (char *)bob + 16);
        say("package", "freeing an interior pointer is refused without harm (counted in stats)");

        uint64_t alice_off = (uint64_t)((unsigned char *)alice - base);
        LsaFreeSharedMemory(section, alice);
        say("package", "LsaFreeSharedMemory(alice): the block is wiped before it can be reused");
        send_word(to_child[1], alice_off);
        wait_word(to_parent[0]);
        print_stats(section);

        uint64_t committed = after.committed;
        BOOLEAN deleted = LsaDeleteSharedMemory(section);
        say("package", "LsaDeleteSharedMemory: %s (bob and carol were still allocated)",
            deleted ? "TRUE" : "FALSE");
        say("package", "deleting it again: %s; allocating from it: %s",
            LsaDeleteSharedMemory(section) ? "TRUE" : "FALSE",
            LsaAllocateSharedMemory(section, 16) ? "a block" : "NULL");
        send_word(to_child[1], committed);
        wait_word(to_parent[0]);

        int status = 0;
        waitpid(pid, &status, 0);
        say("package", "client exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 && deleted ? 0 : 1;
}
