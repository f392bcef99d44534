/* SPDX-License-Identifier: MIT */
/*
 * The one translation from the native layers' -errno values to the NTSTATUS
 * codes the Windows-compatible API returns. Every place that turns a native
 * failure into a status goes through it, so the same failure reads the same
 * to a package and to a client.
 */
#ifndef LSASHM_NTSTATUS_ERRNO_H
#define LSASHM_NTSTATUS_ERRNO_H

#include "lsashm/wintypes.h"

/* r: 0 or a negative errno value. 0 is STATUS_SUCCESS; an errno the table
 * knows gets its status; any other one gets fallback, the status that
 * fits the caller's operation (a connection's "gone", a section's "not
 * found"). */
NTSTATUS lsa_status_from_errno(int r, NTSTATUS fallback);

#endif
