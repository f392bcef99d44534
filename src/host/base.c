/* SPDX-License-Identifier: MIT */
/*
 * The host's bottom layer: the one host of the process, what this thread is
 * running, and the log every layer writes to.
 */
#include <stdarg.h>
#include <stdio.h>

#include "host/host-base.h"

struct host *host_global;
_Thread_local struct host_package *host_active_package;
_Thread_local const char *host_active_entry;
_Thread_local bool host_package_thread;

void host_logf(struct host *h, const char *fmt, ...)
{
        char line[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (h && h->cfg.log) {
                /* Workers and package threads log too: the sink sees one
                 * line at a time, as it did when one thread served all. */
                pthread_mutex_lock(&h->log_lock);
                h->cfg.log(h->cfg.log_ctx, line);
                pthread_mutex_unlock(&h->log_lock);
        } else {
                fprintf(stderr, "lsashmd: %s\n", line); /* stdio locks the stream */
        }
}
