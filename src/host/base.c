/* SPDX-License-Identifier: MIT */
/*
 * The host's bottom layer: the one host of the process, what this thread is
 * running. The log every layer writes to is log.c.
 */
#include "host/host-base.h"

struct host *host_global;
_Thread_local struct host_package *host_active_package;
_Thread_local const char *host_active_entry;
_Thread_local bool host_package_thread;
