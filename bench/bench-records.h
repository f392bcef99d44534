/* SPDX-License-Identifier: MIT */
/*
 * The calls bench-host and bench-calls make to the sample records package:
 * the same records added, the same lookup, so that their figures measure the
 * same round trip. Each program handles a failure its own way (it knows
 * which processes to stop), so these return the NTSTATUS that failed.
 */
#ifndef LSASHM_BENCH_RECORDS_H
#define LSASHM_BENCH_RECORDS_H

#include <lsashm/ntsecapi.h>

/* Records "user0000".. in the package, each with a short value; a record
 * that exists already is fine. STATUS_SUCCESS, or the status that failed. */
NTSTATUS bench_records_add(HANDLE lsa, ULONG package, unsigned count);

/* One lookup of record i: a submit buffer whose embedded pointers are this
 * process's addresses, as a Windows client builds it; the reply read
 * through its embedded pointer and the buffer freed. STATUS_SUCCESS and
 * *first_byte (the value's first byte, 0 when the package answered with
 * another protocol status, given in *protocol), or the call's status. */
NTSTATUS bench_records_lookup(HANDLE lsa, ULONG package, unsigned i, NTSTATUS *protocol, int *first_byte);

#endif
