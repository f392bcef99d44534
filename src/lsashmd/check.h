/* SPDX-License-Identifier: MIT */
/* lsashmd --check FILE.so (check.c). */
#ifndef LSASHMD_CHECK_H
#define LSASHMD_CHECK_H

#include <stdio.h>

/* Load the package at path as lsashmd would, without serving, and report
 * on out: the symbols it needs and cannot find, and each step of the load.
 * The exit status: 0 when it would load, 1 otherwise. */
int lsashmd_check(const char *path, FILE *out);

#endif
