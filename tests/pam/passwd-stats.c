/* SPDX-License-Identifier: MIT */
/*
 * passwd-stats [logons|failed|terminated|live]: one counter of the sample
 * package lsashm-passwd (PasswdQueryStats), through $LSASHM_SOCKET, written
 * against ntsecapi.h only. Exit 1 when lsashmd or the package cannot be
 * reached. For tests/pam/check-pam.sh.
 */
#include <stdio.h>
#include <string.h>

#include <lsashm/ntsecapi.h>

#include "passwd-protocol.h"

int main(int argc, char **argv)
{
        const char *what = argc > 1 ? argv[1] : "terminated";
        HANDLE h;
        if (LsaConnectUntrusted(&h) != STATUS_SUCCESS)
                return 1;
        char name[] = PASSWD_PACKAGE_NAME;
        LSA_STRING pkg = { sizeof(name) - 1, sizeof(name), name };
        ULONG id;
        PASSWD_REQUEST req = { PasswdQueryStats };
        PVOID ret = NULL;
        ULONG len = 0;
        NTSTATUS proto;
        if (LsaLookupAuthenticationPackage(h, &pkg, &id) != STATUS_SUCCESS ||
            LsaCallAuthenticationPackage(h, id, &req, sizeof(req), &ret, &len, &proto) != STATUS_SUCCESS ||
            len != sizeof(PASSWD_STATS))
                return 1;
        PASSWD_STATS s;
        memcpy(&s, ret, sizeof(s));
        LsaFreeReturnBuffer(ret);
        LsaDeregisterLogonProcess(h);
        unsigned long v = strcmp(what, "logons") == 0 ? s.Logons
                : strcmp(what, "failed") == 0         ? s.FailedLogons
                : strcmp(what, "live") == 0           ? s.LiveSessions
                                                      : s.LogonsTerminated;
        printf("%lu\n", v);
        return 0;
}
