/* SPDX-License-Identifier: MIT */
/*
 * libnss_floor.so.2: the benchmark's floor, an NSS module that answers at
 * once. A hit copies one fixed entry into the caller's buffer; a miss (the
 * benchmark's "nosuch" names and uids from NSSB_MISS_UID) is NOTFOUND; the
 * initgroups call adds as many groups as a user of the data has on average
 * (gids the data does not use, so that glibc never merges one with the
 * primary group).
 * What a lookup through this module costs is glibc's own dispatch, the part
 * no module can take away.
 */
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>

#include "nssbench.h"

#pragma GCC visibility push(default)
NSS_DECLARE_MODULE_FUNCTIONS(floor)
#pragma GCC visibility pop

static const char fixed_name[] = "user00000";
static const char fixed_gecos[] = "User 00000";
static const char fixed_dir[] = "/home/user00000";
static const char fixed_shell[] = "/bin/bash";
static const char fixed_x[] = "x";

/* Copy s into the caller's buffer; NULL when it does not fit. */
static char *put(char **buf, size_t *left, const char *s, size_t len)
{
        if (len + 1 > *left)
                return NULL;
        char *p = *buf;
        memcpy(p, s, len + 1);
        *buf += len + 1;
        *left -= len + 1;
        return p;
}

#define PUT(field, s) ((field) = put(&buffer, &buflen, (s), sizeof(s) - 1))

static enum nss_status fill_passwd(uid_t uid, struct passwd *pw, char *buffer, size_t buflen, int *errnop)
{
        if (!PUT(pw->pw_name, fixed_name) || !PUT(pw->pw_passwd, fixed_x) || !PUT(pw->pw_gecos, fixed_gecos) ||
            !PUT(pw->pw_dir, fixed_dir) || !PUT(pw->pw_shell, fixed_shell)) {
                *errnop = ERANGE;
                return NSS_STATUS_TRYAGAIN;
        }
        pw->pw_uid = uid;
        pw->pw_gid = NSSB_FIRST_GID;
        return NSS_STATUS_SUCCESS;
}

static int is_miss_name(const char *name)
{
        return strncmp(name, NSSB_MISS_PREFIX, sizeof(NSSB_MISS_PREFIX) - 1) == 0;
}

enum nss_status _nss_floor_getpwnam_r(const char *name, struct passwd *pw, char *buffer, size_t buflen, int *errnop)
{
        if (is_miss_name(name)) {
                *errnop = 0;
                return NSS_STATUS_NOTFOUND;
        }
        return fill_passwd(NSSB_FIRST_UID, pw, buffer, buflen, errnop);
}

enum nss_status _nss_floor_getpwuid_r(uid_t uid, struct passwd *pw, char *buffer, size_t buflen, int *errnop)
{
        if (uid >= NSSB_MISS_UID) {
                *errnop = 0;
                return NSS_STATUS_NOTFOUND;
        }
        return fill_passwd(uid, pw, buffer, buflen, errnop);
}

static enum nss_status fill_group(gid_t gid, struct group *gr, char *buffer, size_t buflen, int *errnop)
{
        /* One member, and the NULL-terminated member array aligned in the
         * buffer as glibc's own modules lay it out. */
        size_t pad = (sizeof(char *) - ((uintptr_t)buffer % sizeof(char *))) % sizeof(char *);
        if (buflen < pad + 2 * sizeof(char *))
                goto erange;
        char **mem = (char **)(void *)(buffer + pad);
        buffer += pad + 2 * sizeof(char *);
        buflen -= pad + 2 * sizeof(char *);
        if (!PUT(gr->gr_name, "group0000") || !PUT(gr->gr_passwd, fixed_x) || !PUT(mem[0], fixed_name))
                goto erange;
        mem[1] = NULL;
        gr->gr_mem = mem;
        gr->gr_gid = gid;
        return NSS_STATUS_SUCCESS;
erange:
        *errnop = ERANGE;
        return NSS_STATUS_TRYAGAIN;
}

enum nss_status _nss_floor_getgrnam_r(const char *name, struct group *gr, char *buffer, size_t buflen, int *errnop)
{
        if (is_miss_name(name)) {
                *errnop = 0;
                return NSS_STATUS_NOTFOUND;
        }
        return fill_group(NSSB_FIRST_GID, gr, buffer, buflen, errnop);
}

enum nss_status _nss_floor_getgrgid_r(gid_t gid, struct group *gr, char *buffer, size_t buflen, int *errnop)
{
        if (gid >= NSSB_MISS_UID) {
                *errnop = 0;
                return NSS_STATUS_NOTFOUND;
        }
        return fill_group(gid, gr, buffer, buflen, errnop);
}

enum nss_status _nss_floor_initgroups_dyn(const char *user, gid_t group, long int *start, long int *size,
                                          gid_t **groupsp, long int limit, int *errnop)
{
        (void)group;
        (void)limit;
        if (is_miss_name(user)) {
                *errnop = 0;
                return NSS_STATUS_NOTFOUND;
        }
        if (*size - *start < (long int)NSSB_FLOOR_GROUPS) {
                /* Grown the way glibc's own modules grow it. */
                long int want = *start + (long int)NSSB_FLOOR_GROUPS;
                gid_t *grown = realloc(*groupsp, (size_t)want * sizeof(gid_t));
                if (!grown) {
                        *errnop = ENOMEM;
                        return NSS_STATUS_TRYAGAIN;
                }
                *groupsp = grown;
                *size = want;
        }
        gid_t *groups = *groupsp;
        for (unsigned i = 0; i < NSSB_FLOOR_GROUPS; i++)
                groups[(*start)++] = NSSB_MISS_UID + 1 + i;
        return NSS_STATUS_SUCCESS;
}
