/* SPDX-License-Identifier: MIT */
/*
 * What a running host can take from a new configuration: the limits and the
 * groups, which are read afresh for every connection or request. The socket
 * and the packages cannot change without a restart (lsashmd says so).
 */
#include <errno.h>
#include <unistd.h>

#include "host/host-internal.h"
#include "host/host.h"
#include "lsa/lsa-wire.h"

int host_reload(struct host *h, const struct host_config *cfg)
{
        if (!h || !cfg)
                return -EINVAL;
        /* The same defaults and bounds as host_create. */
        uint64_t reply_max = cfg->reply_max ? cfg->reply_max : 1u << 20;
        if (reply_max < LSA_WIRE_REPLY_MIN)
                reply_max = LSA_WIRE_REPLY_MIN;
        if (reply_max > LSA_WIRE_REPLY_MAX)
                reply_max = LSA_WIRE_REPLY_MAX;
        long page = sysconf(_SC_PAGESIZE);
        uint64_t unit = page > 0 && (uint64_t)page > LSA_WIRE_REPLY_ALIGN ? (uint64_t)page : LSA_WIRE_REPLY_ALIGN;
        reply_max -= reply_max % unit;
        /* Connections already open keep their reply size and stay open even
         * above a lowered limit: the limits govern what comes next. */
        h->cfg.reply_max = reply_max;
        h->cfg.max_connections = cfg->max_connections ? cfg->max_connections : 1024;
        h->cfg.max_connections_per_uid = cfg->max_connections_per_uid ? cfg->max_connections_per_uid : 64;
        h->cfg.reserved_connections = cfg->reserved_connections ? cfg->reserved_connections : 32;
        h->cfg.logon_gid = cfg->logon_gid;
        h->cfg.admin_gid = cfg->admin_gid;
        /* The connection skeleton holds the limits it applies, and the
         * groups whose members may take the reserved slots. */
        gid_t privileged[2];
        size_t n_privileged = 0;
        if (h->cfg.admin_gid != (gid_t)-1)
                privileged[n_privileged++] = h->cfg.admin_gid;
        if (h->cfg.logon_gid != (gid_t)-1)
                privileged[n_privileged++] = h->cfg.logon_gid;
        return conn_set_limits(&h->cs, h->cfg.max_connections, h->cfg.max_connections_per_uid,
                               h->cfg.reserved_connections, privileged, n_privileged);
}
