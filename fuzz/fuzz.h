/* SPDX-License-Identifier: MIT */
/*
 * What every libFuzzer target here shares: the entry point's prototype
 * (the build warns about functions without one) and the check that turns a
 * broken property into a crash libFuzzer records, with the input saved.
 */
#ifndef LSASHM_FUZZ_H
#define LSASHM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                                \
        do {                                                                                            \
                if (!(cond)) {                                                                          \
                        fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #cond);     \
                        abort();                                                                        \
                }                                                                                       \
        } while (0)

#endif
