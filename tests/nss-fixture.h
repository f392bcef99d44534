/* SPDX-License-Identifier: MIT */
/*
 * The user and group cache as a test meets it: lsashmd running with
 * lsashm-nsscache.so over source files in a temporary directory, and
 * libnss_lsashm.so.2 loaded with dlopen so its entry points can be called
 * directly. The programs come from the build (NSS_MODULE_PATH,
 * NSSCACHE_PACKAGE_PATH, LSASHMD_PATH compile definitions).
 *
 * The daemon finds the sources through $LSASHM_NSSCACHE_CONF and the module
 * finds the daemon through $LSASHM_SOCKET, both set here before either
 * starts. Sources are replaced the way a sync job does it: written aside,
 * then renamed over.
 */
#ifndef LSASHM_TEST_NSS_FIXTURE_H
#define LSASHM_TEST_NSS_FIXTURE_H

#include <dlfcn.h>
#include <limits.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>

#include "lsashm/nsscache.h"
#include "lsashm/ntsecapi.h"
#include "test-util.h"

#define NF_START_S 30

typedef enum nss_status (*nf_pwnam_fn)(const char *, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*nf_pwuid_fn)(uid_t, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*nf_grnam_fn)(const char *, struct group *, char *, size_t, int *);
typedef enum nss_status (*nf_grgid_fn)(gid_t, struct group *, char *, size_t, int *);
typedef enum nss_status (*nf_initgroups_fn)(const char *, gid_t, long int *, long int *, gid_t **, long int, int *);
typedef enum nss_status (*nf_set_fn)(int);
typedef enum nss_status (*nf_end_fn)(void);
typedef enum nss_status (*nf_pwent_fn)(struct passwd *, char *, size_t, int *);
typedef enum nss_status (*nf_grent_fn)(struct group *, char *, size_t, int *);

struct nss_fixture {
        char dir[64];
        char passwd[128], group[128], conf[128], sock[128], notify[128], err[128], empty[128];
        pid_t daemon;
        void *dl;
        nf_pwnam_fn getpwnam_r;
        nf_pwuid_fn getpwuid_r;
        nf_grnam_fn getgrnam_r;
        nf_grgid_fn getgrgid_r;
        nf_initgroups_fn initgroups_dyn;
        nf_set_fn setpwent, setgrent;
        nf_end_fn endpwent, endgrent;
        nf_pwent_fn getpwent_r;
        nf_grent_fn getgrent_r;
};

static inline bool nf_write_file(const char *path, const char *text, size_t len)
{
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return false;
        bool ok = tu_write_all(fd, text, len);
        ok = close(fd) == 0 && ok;
        return ok && rename(tmp, path) == 0;
}

static inline bool nf_write_str(const char *path, const char *text)
{
        return nf_write_file(path, text, strlen(text));
}

/* Start lsashmd (with the cache package) for f's sources; true once READY. */
static inline bool nf_daemon_start(struct nss_fixture *f)
{
        f->daemon =
                tu_lsashmd_start(LSASHMD_PATH, f->empty, f->sock, NSSCACHE_PACKAGE_PATH, f->notify, f->err, NF_START_S);
        return f->daemon > 0;
}

static inline int nf_daemon_stop(struct nss_fixture *f, int sig)
{
        if (f->daemon <= 0)
                return -1;
        kill(f->daemon, sig);
        int status = tu_wait(f->daemon, NF_START_S, NULL);
        f->daemon = -1;
        return status;
}

/* The directory, the sources (passwd_text, group_text), the configuration,
 * the environment, the daemon and the module. 0 or -1. */
static inline int nf_setup(struct nss_fixture *f, const char *passwd_text, const char *group_text)
{
        memset(f, 0, sizeof(*f));
        snprintf(f->dir, sizeof(f->dir), "/tmp/lsashm-nss-XXXXXX");
        if (!mkdtemp(f->dir))
                return -1;
        snprintf(f->passwd, sizeof(f->passwd), "%s/passwd", f->dir);
        snprintf(f->group, sizeof(f->group), "%s/group", f->dir);
        snprintf(f->conf, sizeof(f->conf), "%s/nsscache.conf", f->dir);
        snprintf(f->sock, sizeof(f->sock), "%s/lsashm.sock", f->dir);
        snprintf(f->notify, sizeof(f->notify), "%s/notify", f->dir);
        snprintf(f->err, sizeof(f->err), "%s/lsashmd.err", f->dir);
        snprintf(f->empty, sizeof(f->empty), "%s/lsashmd.conf", f->dir);
        char conf[512];
        snprintf(conf, sizeof(conf), "passwd %s\ngroup %s\n", f->passwd, f->group);
        if (!nf_write_str(f->passwd, passwd_text) || !nf_write_str(f->group, group_text) ||
            !nf_write_str(f->conf, conf) || !nf_write_str(f->empty, ""))
                return -1;
        setenv("LSASHM_NSSCACHE_CONF", f->conf, 1);
        setenv("LSASHM_SOCKET", f->sock, 1);
        if (!nf_daemon_start(f))
                return -1;
        f->dl = dlopen(NSS_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
        if (!f->dl)
                return -1;
#define NF_SYM(name) (*(void **)&f->name = dlsym(f->dl, "_nss_lsashm_" #name)) == NULL
        if (NF_SYM(getpwnam_r) || NF_SYM(getpwuid_r) || NF_SYM(getgrnam_r) || NF_SYM(getgrgid_r) ||
            NF_SYM(initgroups_dyn) || NF_SYM(setpwent) || NF_SYM(setgrent) || NF_SYM(endpwent) || NF_SYM(endgrent) ||
            NF_SYM(getpwent_r) || NF_SYM(getgrent_r))
                return -1;
#undef NF_SYM
        return 0;
}

static inline void nf_teardown(struct nss_fixture *f)
{
        if (f->daemon > 0)
                nf_daemon_stop(f, SIGKILL);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        if (f->dir[0] && system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", f->dir);
}

/* A call to the package as a trusted (logon) or untrusted client: the
 * call's status, the protocol status in *ret_pst and the response (up to
 * size bytes) in ret. */
static inline NTSTATUS nf_call(bool trusted, ULONG type, void *ret, ULONG size, NTSTATUS *ret_pst)
{
        HANDLE h = NULL;
        NTSTATUS st;
        if (trusted) {
                char name[] = "test-nss";
                LSA_STRING s = { sizeof(name) - 1, sizeof(name), name };
                LSA_OPERATIONAL_MODE mode;
                st = LsaRegisterLogonProcess(&s, &h, &mode);
        } else {
                st = LsaConnectUntrusted(&h);
        }
        if (!NT_SUCCESS(st))
                return st;
        char pkgname[] = NSSCACHE_PACKAGE_NAME;
        LSA_STRING pn = { sizeof(pkgname) - 1, sizeof(pkgname), pkgname };
        ULONG pkg;
        st = LsaLookupAuthenticationPackage(h, &pn, &pkg);
        if (NT_SUCCESS(st)) {
                NSSCACHE_REQUEST req = { .MessageType = type };
                PVOID buf = NULL;
                ULONG len = 0;
                st = LsaCallAuthenticationPackage(h, pkg, &req, sizeof(req), &buf, &len, ret_pst);
                if (buf && ret)
                        memcpy(ret, buf, len < size ? len : size);
                LsaFreeReturnBuffer(buf);
        }
        LsaDeregisterLogonProcess(h);
        return st;
}

/* The current generation (stats), or 0. */
static inline uint64_t nf_generation(void)
{
        NSSCACHE_STATS_RESPONSE s = { 0 };
        NTSTATUS pst;
        if (!NT_SUCCESS(nf_call(false, NssCacheStatsMessage, &s, sizeof(s), &pst)) || !NT_SUCCESS(pst))
                return 0;
        return s.Generation;
}

/* Publish now (a trusted reload); its generation, or 0. */
static inline uint64_t nf_reload(void)
{
        NSSCACHE_QUERY_RESPONSE q = { 0 };
        NTSTATUS pst;
        if (!NT_SUCCESS(nf_call(true, NssCacheReloadMessage, &q, sizeof(q), &pst)) || !NT_SUCCESS(pst))
                return 0;
        return q.Generation;
}

#endif
