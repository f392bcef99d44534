/* SPDX-License-Identifier: MIT */
/*
 * The parts of bench-nss that live in their own files: the report, which
 * reads the figures every peer's run wrote, and the self-test that ctest
 * runs so that the benchmark's data and floor module are checked with the
 * normal build.
 */
#ifndef LSASHM_BENCH_NSS_H
#define LSASHM_BENCH_NSS_H

#include <stdint.h>

#include "nssbench.h"

uint64_t nssb_now_ns(void);

/* bench-nss-report.c: prints the side-by-side tables; 0, or 1 when a file
 * cannot be read. */
int nssb_report(char **files, int nfiles);

/* bench-nss-selftest.c: 0 when every check passes. */
int nssb_selftest(const struct nssb_data *d);

#endif
