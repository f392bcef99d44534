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

void host_logf(struct host *h, const char *fmt, ...)
{
        char line[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (h && h->cfg.log)
                h->cfg.log(h->cfg.log_ctx, line);
        else
                fprintf(stderr, "lsashmd: %s\n", line);
}
