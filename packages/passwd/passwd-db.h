/* SPDX-License-Identifier: MIT */
/*
 * The user database of lsashm-passwd: a text file, one user a line,
 *
 *     name:uid:gid:groups:flags:failures:hash
 *
 *   name      1 to 64 of [A-Za-z0-9._-], not starting with '-'
 *   uid, gid  decimal, 0 to 4294967294
 *   groups    supplementary gids, comma-separated, or "-" (at most 32)
 *   flags     comma-separated words, or "-": disabled, account-expired,
 *             password-expired, must-change
 *   failures  failed logons since the last good one (the lockout counter)
 *   hash      libsodium's crypto_pwhash_str (argon2id), "$argon2id$..."
 *
 * Lines starting with '#' and blank lines are kept out of the data and not
 * written back. The file is root's (or the service's), mode 0600, replaced
 * atomically (a temporary file in the same directory, fsync, rename) under
 * an exclusive lock on PATH.lock, by the package and the command alike.
 *
 * Shared by the package (lsashm-passwd.so) and the command (lsashm-passwd);
 * errors are negative errno values.
 */
#ifndef LSASHM_PASSWD_DB_H
#define LSASHM_PASSWD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PASSWD_DB_DEFAULT_PATH "/var/lib/lsashm/passwd.db"
#define PASSWD_NAME_MAX        64
#define PASSWD_GROUPS_MAX      32
#define PASSWD_HASH_MAX        128 /* crypto_pwhash_STRBYTES */
#define PASSWD_DB_MAX_BYTES    (16u << 20)

enum passwd_flag {
        PASSWD_DISABLED = 1u << 0,
        PASSWD_ACCOUNT_EXPIRED = 1u << 1,
        PASSWD_PASSWORD_EXPIRED = 1u << 2,
        PASSWD_MUST_CHANGE = 1u << 3,
};

struct passwd_user {
        char name[PASSWD_NAME_MAX + 1];
        uint32_t uid;
        uint32_t gid;
        uint32_t groups[PASSWD_GROUPS_MAX];
        unsigned ngroups;
        unsigned flags;
        unsigned failures;
        char hash[PASSWD_HASH_MAX];
};

struct passwd_db {
        struct passwd_user *users;
        size_t n;
        size_t cap;
};

/* Parse the file at path into db (empty when the file does not exist:
 * ret_missing is then set). -EINVAL for a malformed file, with the line
 * number in *ret_line. */
int passwd_db_load(const char *path, struct passwd_db *db, bool *ret_missing, unsigned *ret_line);
/* Replace the file at path with db: atomic, mode 0600, the old file's owner
 * and group kept. */
int passwd_db_save(const char *path, const struct passwd_db *db);
/* Take the exclusive lock that serialises writers (PATH.lock); returns the
 * descriptor to close to release it. */
int passwd_db_lock(const char *path);
struct passwd_user *passwd_db_find(struct passwd_db *db, const char *name, size_t name_length);
/* Add u (its name must be new): 0, -EEXIST, -ENOMEM. */
int passwd_db_add(struct passwd_db *db, const struct passwd_user *u);
/* Wipes the hashes and frees. */
void passwd_db_free(struct passwd_db *db);
bool passwd_name_valid(const char *name, size_t length);
/* "disabled,must-change" -> flags; -EINVAL for an unknown word. */
int passwd_flags_parse(const char *text, unsigned *ret);

#endif
