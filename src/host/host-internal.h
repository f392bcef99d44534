/* SPDX-License-Identifier: MIT */
/*
 * src/host layer 5 of 5, the top: connections and dispatch (host.c), the
 * status report, reload, and the function table every package gets
 * (table.c, which takes members from every layer and points the lower
 * layers' hooks). May include: host-calls.h (and so every layer below) and
 * headers outside src/host. The tests include this one. See host-base.h for
 * the layers.
 */
#ifndef LSASHM_HOST_INTERNAL_H
#define LSASHM_HOST_INTERNAL_H

#include "host/host-calls.h"

/* ---- host.c ---- */
/* Fill in what cfg leaves 0 and bound what it sets (host_create and
 * host_reload agree on both). */
void host_config_defaults(struct host_config *cfg);
/* The groups whose members, with root, may take the reserved connection
 * slots: the admin and logon groups that are set. Their number. */
size_t host_privileged_gids(const struct host_config *cfg, gid_t ret[2]);

/* ---- table.c: the LSA_SECPKG_FUNCTION_TABLE every package gets ---- */
/* Fill t; every member non-NULL. */
void host_table_fill(LSA_SECPKG_FUNCTION_TABLE *t);

/* ---- report.c: the admin status report ---- */
/* Write the report into a new sealed memfd; returns it and its length. */
int host_report(struct host *h, int json, int *ret_fd, uint64_t *ret_len);
/* The logon sessions (`lsashm sessions`), the same way. */
int host_report_sessions(struct host *h, int json, int *ret_fd, uint64_t *ret_len);

#endif
