/* SPDX-License-Identifier: MIT */
/* GetSecpkgFailureReason and SetSecpkgFailureReason. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "host/host-calls.h"

/* Windows' contract (ntsecpkg.h): when Negotiate tries packages in turn, a
 * package that fails may record why with SetSecpkgFailureReason, and the
 * next one reads it with GetSecpkgFailureReason, naming the package that
 * failed. So a reason belongs to the package that set it (the one whose
 * entry point is running) and lives as long as the client call in which it
 * was set: a later call, even on the same thread, does not see it. A client
 * call runs wholly on one worker (package-to-package calls nested in it
 * too), so the ledger is per thread and needs no lock. */

struct ledger_entry {
        bool used;
        ULONG_PTR package;
        uint64_t conn_serial; /* the client call: its connection and ... */
        ULONG call_count;     /* ... its number there; 0 and 0 outside any */
        SECPKG_FAILURE_REASON reason;
};

static _Thread_local struct {
        struct ledger_entry e[HOST_MAX_PACKAGES];
        unsigned next_evict;
} ledger;

/* Which client call this thread is in: the outermost call of the chain
 * (package-to-package calls share their client's ledger). */
static void ledger_epoch(uint64_t *serial, ULONG *count)
{
        struct host_call *c = host_call_current();
        while (c && c->outer)
                c = c->outer;
        *serial = c && c->conn ? c->conn->serial : 0;
        *count = c && c->conn ? c->call_count : 0;
}

static bool ledger_current(const struct ledger_entry *e, uint64_t serial, ULONG count)
{
        return e->used && e->conn_serial == serial && e->call_count == count;
}


NTSTATUS NTAPI host_SetSecpkgFailureReason(const SECPKG_FAILURE_REASON Reason)
{
        struct host_package *p = host_active_package;
        if (!p)
                return STATUS_NO_SUCH_PACKAGE; /* not called from a package's entry point */
        uint64_t serial;
        ULONG count;
        ledger_epoch(&serial, &count);
        struct ledger_entry *slot = NULL;
        for (unsigned i = 0; i < HOST_MAX_PACKAGES && !slot; i++)
                if (ledger.e[i].used && ledger.e[i].package == p->id)
                        slot = &ledger.e[i];
        for (unsigned i = 0; i < HOST_MAX_PACKAGES && !slot; i++)
                if (!ledger_current(&ledger.e[i], serial, count))
                        slot = &ledger.e[i];
        if (!slot) /* as many reasons in this call as packages: recycle */
                slot = &ledger.e[ledger.next_evict++ % HOST_MAX_PACKAGES];
        *slot = (struct ledger_entry){
                .used = true,
                .package = p->id,
                .conn_serial = serial,
                .call_count = count,
                .reason = Reason,
        };
        return STATUS_SUCCESS;
}

/* Nothing recorded: STATUS_NOT_FOUND, so a caller can tell it from a
 * recorded reason, and a zeroed *Reason for one that does not check. */
NTSTATUS NTAPI host_GetSecpkgFailureReason(const ULONG_PTR PackageID, SECPKG_FAILURE_REASON *Reason)
{
        if (!Reason)
                return STATUS_INVALID_PARAMETER;
        memset(Reason, 0, sizeof(*Reason));
        uint64_t serial;
        ULONG count;
        ledger_epoch(&serial, &count);
        for (unsigned i = 0; i < HOST_MAX_PACKAGES; i++) {
                const struct ledger_entry *e = &ledger.e[i];
                if (ledger_current(e, serial, count) && e->package == PackageID) {
                        *Reason = e->reason;
                        return STATUS_SUCCESS;
                }
        }
        return STATUS_NOT_FOUND;
}
