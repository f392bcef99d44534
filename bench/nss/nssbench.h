/* SPDX-License-Identifier: MIT */
/*
 * The user and group database the NSS benchmark serves, shared by the driver
 * (bench-nss.c), the data writer (nssbench-data.c) and the floor module
 * (nss-floor.c).
 *
 * The data is a pure function of the seed: 10,000 users user00000..user09999
 * (uid 10000+i), 2,000 groups group0000..group1999 (gid 20000+j) of 25 to 75
 * members each (50 on average, so 10 supplementary groups per user on
 * average), plus root. Names and ids that the data never holds are the
 * misses: nosuch00000.. and uids from NSSB_MISS_UID up. The floor module
 * knows only those two prefixes, which is what lets it answer every lookup
 * at once and still give the same hit/miss pattern as the real peers.
 */
#ifndef LSASHM_NSSBENCH_H
#define LSASHM_NSSBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NSSB_USERS        10000u
#define NSSB_GROUPS       2000u
#define NSSB_MEMBERS_MIN  25u
#define NSSB_MEMBERS_MAX  75u /* uniform: 50 on average */
#define NSSB_FIRST_UID    10000u
#define NSSB_FIRST_GID    20000u
#define NSSB_MISSES       1000u
#define NSSB_MISS_UID     900000u
#define NSSB_MISS_PREFIX  "nosuch"
#define NSSB_SEED         0x5eed2026u
/* The floor's initgroups adds this many groups: the data's average. */
#define NSSB_FLOOR_GROUPS (NSSB_GROUPS * (NSSB_MEMBERS_MIN + NSSB_MEMBERS_MAX) / 2u / NSSB_USERS)
/* The user whose GECOS field the change and republish workloads rewrite. */
#define NSSB_CHANGED_USER 4242u

struct nssb_data {
        /* members[j] .. members[j] + nmembers[j]: user indexes of group j */
        uint32_t *member_pool;
        uint32_t member_offset[NSSB_GROUPS];
        uint32_t nmembers[NSSB_GROUPS];
        uint32_t primary_group[NSSB_USERS]; /* group index */
        /* Distinct groups getgrouplist() returns for each user (its primary
         * group included). */
        uint16_t ngroups[NSSB_USERS];
};

/* 0 or a negative errno. */
int nssb_data_build(struct nssb_data *d);
void nssb_data_free(struct nssb_data *d);

void nssb_user_name(uint32_t i, char out[16]);
void nssb_miss_name(uint32_t i, char out[16]);

/*
 * Write passwd(5) and group(5) files to the given paths, through a temporary
 * file renamed over the target as account tools and sync jobs do. version
 * goes into the GECOS field of NSSB_CHANGED_USER ("User 04242 v<version>"),
 * so every version is a different answer. 0 or a negative errno.
 */
int nssb_write_passwd(const struct nssb_data *d, const char *path, unsigned version);
int nssb_write_group(const struct nssb_data *d, const char *path);

/*
 * libnss-cache's files for the same data: DIR/passwd.cache, DIR/group.cache
 * and their sorted indexes (.ixname, .ixuid, .ixgid), as the nsscache sync
 * job writes them. 0 or a negative errno.
 */
int nssb_write_nsscache(const struct nssb_data *d, const char *dir, unsigned version);

#endif
