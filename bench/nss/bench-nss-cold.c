/* SPDX-License-Identifier: MIT */
/*
 * What a short-lived program (sudo, ssh's session setup, a cron job, ls -l)
 * does with the user database: one getpwnam and one getgrouplist, from a
 * cold start. bench-nss starts it thousands of times with fork and exec.
 * Exit status 0 when the user was found with at least one group.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: bench-nss-cold USER\n");
                return 2;
        }
        struct passwd *pw = getpwnam(argv[1]);
        if (!pw)
                return 1;
        gid_t groups[256];
        int n = 256;
        if (getgrouplist(argv[1], pw->pw_gid, groups, &n) < 0 || n < 1)
                return 1;
        return 0;
}
