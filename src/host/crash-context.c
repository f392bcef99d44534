/* SPDX-License-Identifier: MIT */
/*
 * What this thread was running when a fatal signal came, for the one line a
 * dying lsashmd writes. Read from a signal handler on the faulting thread:
 * thread-local pointers to strings that stay put, nothing else.
 */
#include "host/host-packages.h"

const char *host_crash_package(void)
{
        struct host_package *p = host_active_package;
        return p ? p->name : NULL;
}

const char *host_crash_entry(void)
{
        return host_active_package ? host_active_entry : NULL;
}
