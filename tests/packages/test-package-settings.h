/* SPDX-License-Identifier: MIT */
/*
 * The messages of the settings test package (test-package-settings.c),
 * TestSettings, built as test-pkg-settings.so: its settings are the lines
 * "test-pkg-settings.KEY VALUE" of lsashmd's configuration. Each call asks
 * LsashmGetPackageSetting for one key and returns what it said.
 */
#ifndef LSASHM_TEST_PACKAGE_SETTINGS_H
#define LSASHM_TEST_PACKAGE_SETTINGS_H

#include <lsashm/wintypes.h>

#define TS_NAME      "TestSettings"
#define TS_MAX_VALUE 256u

typedef enum _TS_MESSAGE_TYPE {
        TsGet = 1, /* LsashmGetPackageSetting(Key, Index, buffer of ValueSize) now */
        TsAtInit,  /* what the same call said for Key "at-init" in SpInitialize */
        TsLog,     /* LsashmLogMessage(Index, Key); the reply's Status is STATUS_SUCCESS */
} TS_MESSAGE_TYPE;

typedef struct _TS_REQUEST {
        ULONG MessageType;
        ULONG Index;
        ULONG ValueSize; /* at most TS_MAX_VALUE */
        CHAR Key[64];    /* NUL-terminated; empty asks with Key "" */
} TS_REQUEST;

typedef struct _TS_REPLY {
        NTSTATUS Status; /* LsashmGetPackageSetting's */
        ULONG ValueLength;
        CHAR Value[TS_MAX_VALUE];
} TS_REPLY;

#endif
