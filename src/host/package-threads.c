/* SPDX-License-Identifier: MIT */
/*
 * CreateThread: a real thread for a package, as the LSA gives one.
 *
 * The thread runs StartFunction(ThreadParameter) and ends with it; its
 * return value is dropped (nothing can ask for it: lsashm has no
 * GetExitCodeThread). It is detached. The HANDLE returned is not a
 * kernel object: it is the thread's id (what *ThreadId receives, and what
 * GetClientInfo says on that thread), never NULL, to be compared or logged
 * and nothing else; there is no CloseHandle or WaitForSingleObject to give
 * it to, and a package that must wait for its thread uses its own
 * synchronisation. NULL is returned, and no thread made, for
 * CREATE_SUSPENDED (nothing could resume it) or when the system has no
 * thread to give; the other CreationFlags and SecurityAttributes mean
 * nothing here and are ignored. StackSize 0 is the default size; another
 * is raised to PTHREAD_STACK_MIN at least.
 *
 * On the thread, host_active_package is the package that called
 * CreateThread (its heap refusals are counted against it, and a crash there
 * is reported as that package's, entry point "CreateThread routine"), and
 * host_package_thread says it serves no client (GetClientInfo answers
 * accordingly). The package counts its running threads: unloading a
 * package whose thread still runs leaves its library mapped.
 */
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "host/host-packages.h"

#define CREATE_SUSPENDED_FLAG 0x00000004u /* winbase.h's CREATE_SUSPENDED */

struct thread_start {
        SEC_THREAD_START fn;
        PVOID param;
        struct host_package *p;
        sem_t started; /* posted once tid is known */
        pid_t tid;
};

static void *thread_main(void *arg)
{
        struct thread_start *t = arg;
        SEC_THREAD_START fn = t->fn;
        PVOID param = t->param;
        struct host_package *p = t->p;
        host_active_package = p;
        host_active_entry = "CreateThread routine";
        host_package_thread = true;
        t->tid = gettid();
        sem_post(&t->started); /* t is the creator's from here on */
        fn(param);
        if (p)
                __atomic_sub_fetch(&p->threads, 1, __ATOMIC_RELEASE);
        return NULL;
}

HANDLE NTAPI host_CreateThread(SEC_ATTRS SecurityAttributes, ULONG StackSize, SEC_THREAD_START StartFunction,
                               PVOID ThreadParameter, ULONG CreationFlags, PULONG ThreadId)
{
        (void)SecurityAttributes;
        if (ThreadId)
                *ThreadId = 0;
        if (!StartFunction || (CreationFlags & CREATE_SUSPENDED_FLAG))
                return NULL;
        struct thread_start t = { .fn = StartFunction, .param = ThreadParameter, .p = host_active_package };
        if (sem_init(&t.started, 0, 0) < 0)
                return NULL;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (StackSize) {
                size_t size = StackSize < PTHREAD_STACK_MIN ? PTHREAD_STACK_MIN : StackSize;
                long page = sysconf(_SC_PAGESIZE);
                if (page > 0)
                        size = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
                pthread_attr_setstacksize(&attr, size);
        }
        if (t.p)
                __atomic_add_fetch(&t.p->threads, 1, __ATOMIC_RELAXED);
        pthread_t thread;
        int e = pthread_create(&thread, &attr, thread_main, &t);
        pthread_attr_destroy(&attr);
        if (e) {
                if (t.p)
                        __atomic_sub_fetch(&t.p->threads, 1, __ATOMIC_RELAXED);
                sem_destroy(&t.started);
                return NULL;
        }
        while (sem_wait(&t.started) < 0) {
                /* EINTR: a signal; the thread posts regardless */
        }
        sem_destroy(&t.started);
        if (ThreadId)
                *ThreadId = (ULONG)t.tid;
        return (HANDLE)(uintptr_t)t.tid;
}

unsigned host_package_threads(const struct host_package *p)
{
        return __atomic_load_n(&p->threads, __ATOMIC_ACQUIRE);
}

unsigned host_package_threads_wait(const struct host_package *p, unsigned ms)
{
        /* A package's Shutdown typically tells its thread to stop and waits
         * for a sign from it, which the thread gives just before its
         * routine returns: the count drops a moment later. */
        const struct timespec tick = { .tv_sec = 0, .tv_nsec = 5 * 1000 * 1000 };
        unsigned n = host_package_threads(p);
        for (unsigned waited = 0; n && waited < ms; waited += 5) {
                nanosleep(&tick, NULL);
                n = host_package_threads(p);
        }
        return n;
}
