/* SPDX-License-Identifier: MIT */
/*
 * libnss_lsashm.so.2: glibc's passwd, group and initgroups databases
 * answered from the user and group cache of lsashmd's package
 * lsashm-nsscache.so (nss-snapshot.h: how a lookup reaches the table).
 *
 * Statuses, as glibc expects them of a module:
 *   SUCCESS    the entry, copied into the caller's buffer; errno untouched
 *   NOTFOUND   the snapshot has no such entry (it is authoritative for its
 *              sources); *errnop = 0 (ENOENT past the end of an enumeration)
 *   TRYAGAIN   *errnop = ERANGE: the buffer is too small (glibc retries with
 *              a larger one); ENOMEM: initgroups could not grow its array
 *   UNAVAIL    *errnop = ENOENT: no lsashmd (or no cache package) answers,
 *              or this process is lsashmd; `passwd: lsashm files` then asks
 *              files
 * Nothing here allocates but initgroups_dyn growing the caller's array.
 */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "nss/nss-snapshot.h"

NSS_DECLARE_MODULE_FUNCTIONS(lsashm)

#define EXPORT __attribute__((visibility("default")))

/* ---- copying into the caller's buffer ---- */

struct out_buf {
        char *p;
        size_t left;
};

static char *out_str(struct out_buf *b, const char *s)
{
        size_t n = strlen(s) + 1;
        if (n > b->left)
                return NULL;
        char *d = memcpy(b->p, s, n);
        b->p += n;
        b->left -= n;
        return d;
}

static enum nss_status fill_passwd(const struct nsscache_passwd *e, struct passwd *pw, char *buf, size_t len,
                                   int *errnop)
{
        struct out_buf b = { buf, len };
        struct passwd r = { .pw_uid = e->uid, .pw_gid = e->gid };
        if (!(r.pw_name = out_str(&b, e->name)) || !(r.pw_passwd = out_str(&b, "x")) ||
            !(r.pw_gecos = out_str(&b, e->gecos)) || !(r.pw_dir = out_str(&b, e->dir)) ||
            !(r.pw_shell = out_str(&b, e->shell))) {
                *errnop = ERANGE;
                return NSS_STATUS_TRYAGAIN;
        }
        *pw = r;
        return NSS_STATUS_SUCCESS;
}

static enum nss_status fill_group(const struct nsscache_view *v, const struct nsscache_group *e, struct group *gr,
                                  char *buf, size_t len, int *errnop)
{
        /* The member pointers first, aligned, then the strings. */
        size_t pad = (alignof(char *) - (uintptr_t)buf % alignof(char *)) % alignof(char *);
        size_t n = e->n_members;
        if (pad > len || (len - pad) / sizeof(char *) < n + 1) {
                *errnop = ERANGE;
                return NSS_STATUS_TRYAGAIN;
        }
        char **mem = (char **)(void *)(buf + pad);
        struct out_buf b = { buf + pad + (n + 1) * sizeof(char *), len - pad - (n + 1) * sizeof(char *) };
        struct group r = { .gr_gid = e->gid, .gr_mem = mem };
        if (!(r.gr_name = out_str(&b, e->name)) || !(r.gr_passwd = out_str(&b, "x"))) {
                *errnop = ERANGE;
                return NSS_STATUS_TRYAGAIN;
        }
        for (uint32_t i = 0; i < n; i++) {
                const char *m = nsscache_group_member(v, e, i);
                if (!m || !(mem[i] = out_str(&b, m))) {
                        *errnop = ERANGE;
                        return NSS_STATUS_TRYAGAIN;
                }
        }
        mem[n] = NULL;
        *gr = r;
        return NSS_STATUS_SUCCESS;
}

static enum nss_status unavail(int *errnop)
{
        *errnop = ENOENT;
        return NSS_STATUS_UNAVAIL;
}

static enum nss_status notfound(int *errnop)
{
        *errnop = 0;
        return NSS_STATUS_NOTFOUND;
}

/* ---- lookups ---- */

EXPORT enum nss_status _nss_lsashm_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, int *errnop)
{
        const struct nss_snapshot *s = nss_snapshot_get();
        if (!s)
                return unavail(errnop);
        struct nsscache_passwd e;
        if (!name || nsscache_user_by_name(&s->view, name, &e) < 0)
                return notfound(errnop);
        return fill_passwd(&e, pw, buf, len, errnop);
}

EXPORT enum nss_status _nss_lsashm_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, int *errnop)
{
        const struct nss_snapshot *s = nss_snapshot_get();
        if (!s)
                return unavail(errnop);
        struct nsscache_passwd e;
        if (nsscache_user_by_uid(&s->view, uid, &e) < 0)
                return notfound(errnop);
        return fill_passwd(&e, pw, buf, len, errnop);
}

EXPORT enum nss_status _nss_lsashm_getgrnam_r(const char *name, struct group *gr, char *buf, size_t len, int *errnop)
{
        const struct nss_snapshot *s = nss_snapshot_get();
        if (!s)
                return unavail(errnop);
        struct nsscache_group e;
        if (!name || nsscache_group_by_name(&s->view, name, &e) < 0)
                return notfound(errnop);
        return fill_group(&s->view, &e, gr, buf, len, errnop);
}

EXPORT enum nss_status _nss_lsashm_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len, int *errnop)
{
        const struct nss_snapshot *s = nss_snapshot_get();
        if (!s)
                return unavail(errnop);
        struct nsscache_group e;
        if (nsscache_group_by_gid(&s->view, gid, &e) < 0)
                return notfound(errnop);
        return fill_group(&s->view, &e, gr, buf, len, errnop);
}

/* As files does: the gid of every group line whose member list names user,
 * in file order, but the one given (the user's primary group); a gid that
 * two lines share comes twice, as it does from files. */
EXPORT enum nss_status _nss_lsashm_initgroups_dyn(const char *user, gid_t group, long int *start, long int *size,
                                                  gid_t **groupsp, long int limit, int *errnop)
{
        const struct nss_snapshot *s = nss_snapshot_get();
        if (!s)
                return unavail(errnop);
        const uint32_t *lines;
        uint32_t count;
        if (!user || !start || !size || !groupsp || *start < 0 || *size < *start ||
            nsscache_member_groups(&s->view, user, &lines, &count) < 0)
                return notfound(errnop);
        for (uint32_t i = 0; i < count; i++) {
                gid_t gid = nsscache_group_gid(&s->view, lines[i]);
                if (gid == group)
                        continue;
                if (*start == *size) {
                        if (limit > 0 && *size >= limit)
                                break; /* as many as the caller takes */
                        long int nsize = *size > 0 ? *size * 2 : 16;
                        if (limit > 0 && nsize > limit)
                                nsize = limit;
                        if ((unsigned long)nsize > SIZE_MAX / sizeof(gid_t)) {
                                *errnop = ENOMEM;
                                return NSS_STATUS_TRYAGAIN;
                        }
                        gid_t *ng = realloc(*groupsp, (size_t)nsize * sizeof(gid_t));
                        if (!ng) {
                                *errnop = ENOMEM;
                                return NSS_STATUS_TRYAGAIN;
                        }
                        *groupsp = ng;
                        *size = nsize;
                }
                (*groupsp)[(*start)++] = gid;
        }
        return NSS_STATUS_SUCCESS;
}

/* ---- enumeration: per process, under the module's lock ---- */

struct enum_state {
        struct nss_snapshot *snap; /* pinned */
        uint32_t next;
};

static struct enum_state pw_enum, gr_enum;

static enum nss_status enum_set(struct enum_state *st)
{
        nss_lock();
        nss_snapshot_unpin_locked(st->snap);
        st->snap = nss_snapshot_pin_locked();
        st->next = 0;
        enum nss_status r = st->snap ? NSS_STATUS_SUCCESS : NSS_STATUS_UNAVAIL;
        nss_unlock();
        return r;
}

static enum nss_status enum_end(struct enum_state *st)
{
        nss_lock();
        nss_snapshot_unpin_locked(st->snap);
        st->snap = NULL;
        st->next = 0;
        nss_unlock();
        return NSS_STATUS_SUCCESS;
}

EXPORT enum nss_status _nss_lsashm_setpwent(int stayopen)
{
        (void)stayopen;
        return enum_set(&pw_enum);
}

EXPORT enum nss_status _nss_lsashm_endpwent(void)
{
        return enum_end(&pw_enum);
}

EXPORT enum nss_status _nss_lsashm_getpwent_r(struct passwd *pw, char *buf, size_t len, int *errnop)
{
        nss_lock();
        enum nss_status r;
        if (!pw_enum.snap) /* getpwent without setpwent: glibc allows it */
                pw_enum.snap = nss_snapshot_pin_locked(), pw_enum.next = 0;
        struct nsscache_passwd e;
        if (!pw_enum.snap) {
                r = unavail(errnop);
        } else if (nsscache_user_at(&pw_enum.snap->view, pw_enum.next, &e) < 0) {
                *errnop = ENOENT;
                r = NSS_STATUS_NOTFOUND;
        } else {
                r = fill_passwd(&e, pw, buf, len, errnop);
                if (r == NSS_STATUS_SUCCESS)
                        pw_enum.next++; /* a small buffer: the same entry again */
        }
        nss_unlock();
        return r;
}

EXPORT enum nss_status _nss_lsashm_setgrent(int stayopen)
{
        (void)stayopen;
        return enum_set(&gr_enum);
}

EXPORT enum nss_status _nss_lsashm_endgrent(void)
{
        return enum_end(&gr_enum);
}

EXPORT enum nss_status _nss_lsashm_getgrent_r(struct group *gr, char *buf, size_t len, int *errnop)
{
        nss_lock();
        enum nss_status r;
        if (!gr_enum.snap)
                gr_enum.snap = nss_snapshot_pin_locked(), gr_enum.next = 0;
        struct nsscache_group e;
        if (!gr_enum.snap) {
                r = unavail(errnop);
        } else if (nsscache_group_at(&gr_enum.snap->view, gr_enum.next, &e) < 0) {
                *errnop = ENOENT;
                r = NSS_STATUS_NOTFOUND;
        } else {
                r = fill_group(&gr_enum.snap->view, &e, gr, buf, len, errnop);
                if (r == NSS_STATUS_SUCCESS)
                        gr_enum.next++;
        }
        nss_unlock();
        return r;
}
