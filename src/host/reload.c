/* SPDX-License-Identifier: MIT */
/*
 * What a running host can take from a new configuration: the limits and the
 * groups, which are read afresh for every connection or request. The socket
 * and the packages cannot change without a restart (lsashmd says so).
 */
#include <errno.h>

#include "host/host-internal.h"
#include "host/host.h"

int host_reload(struct host *h, const struct host_config *cfg)
{
        if (!h || !cfg)
                return -EINVAL;
        struct host_config next = *cfg;
        host_config_defaults(&next);
        /* Connections already open keep their reply size and stay open even
         * above a lowered limit: the limits govern what comes next. */
        h->cfg.reply_max = next.reply_max;
        h->cfg.max_connections = next.max_connections;
        h->cfg.max_connections_per_uid = next.max_connections_per_uid;
        h->cfg.reserved_connections = next.reserved_connections;
        h->cfg.logon_gid = next.logon_gid;
        /* The workers read these two for each request (the pool's size is
         * fixed: its threads serve the connections). */
        __atomic_store_n(&h->cfg.admin_gid, next.admin_gid, __ATOMIC_RELAXED);
        __atomic_store_n(&h->cfg.max_submit, next.max_submit, __ATOMIC_RELAXED);
        /* The connection skeleton holds the limits it applies, and the
         * groups whose members may take the reserved slots. */
        gid_t privileged[2];
        size_t n_privileged = host_privileged_gids(&h->cfg, privileged);
        /* A worker may be logging through the skeleton meanwhile. */
        pthread_mutex_lock(&h->cs_lock);
        int r = conn_set_limits(&h->cs, h->cfg.max_connections, h->cfg.max_connections_per_uid,
                               h->cfg.reserved_connections, privileged, n_privileged);
        pthread_mutex_unlock(&h->cs_lock);
        return r;
}
