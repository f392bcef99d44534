/* SPDX-License-Identifier: MIT */
/*
 * pam_lsashm.so: PAM authentication, account and session management through
 * lsashmd's LsaLogonUser (man 8 pam_lsashm).
 *
 *   auth     the user and password from PAM (pam_get_authtok: the
 *            conversation if no earlier module has it) go to the package
 *            named by package=NAME as an MSV1_0_INTERACTIVE_LOGON
 *            (domain=NAME, default empty), logon type Interactive. On
 *            success the token's user must be the PAM user's uid
 *            (S-1-22-1-<uid>); with allow_unmapped a token whose user is
 *            no Unix SID is accepted as the package's answer. The module's
 *            copy of the password (UTF-16) is wiped as soon as the call
 *            returns.
 *   account  the answer auth kept: a password expired or to be changed is
 *            PAM_NEW_AUTHTOK_REQD, a locked or disabled account
 *            PAM_PERM_DENIED, an expired one PAM_ACCT_EXPIRED.
 *   session  open exports LSASHM_LOGON_ID=0xHIGH:0xLOW (the LUID, as
 *            Windows tools print it) for the token auth got; close closes
 *            the token (LsashmCloseToken) and the connection, so that the
 *            logon session ends and every package hears LogonTerminated.
 *
 * NTSTATUS to PAM (auth): STATUS_LOGON_FAILURE / STATUS_WRONG_PASSWORD →
 * PAM_AUTH_ERR; STATUS_NO_SUCH_USER → PAM_USER_UNKNOWN; locked out or
 * disabled → PAM_PERM_DENIED; account expired → PAM_ACCT_EXPIRED; other
 * account restrictions → PAM_PERM_DENIED; a password expired or to be
 * changed: PAM_SUCCESS here (the password was right) and
 * PAM_NEW_AUTHTOK_REQD from account; lsashmd not reachable, or the package
 * not loaded → PAM_AUTHINFO_UNAVAIL (so [authinfo_unavail=ignore] falls
 * through); anything else PAM_SYSTEM_ERR. STATUS_LOGON_FAILURE and
 * STATUS_ACCOUNT_RESTRICTION are read through their SubStatus, as MSV1_0
 * reports the reason there.
 *
 * Connection: the module registers as a logon process (LsaRegisterLogonProcess:
 * root, as in sshd, su, login, or lsashmd's logon-group); a program that is
 * neither (a screen locker run by the user) falls back to LsaConnectUntrusted
 * and gets whatever lsashmd grants an untrusted LsaLogonUser. The connection
 * lives as long as the token: it is the token's owner.
 *
 * The kept state (connection, token, status) is PAM data with a cleanup:
 * pam_end closes the token only in the process that got it, so a child
 * forked by the application does not end its parent's logon session.
 */
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <lsashm/ntsecapi.h>
#include <lsashm/ntstatus.h>

#define PAM_LSASHM_EXPORT  __attribute__((visibility("default")))
#define DATA_NAME          "pam_lsashm.logon"
#define ORIGIN_NAME        "pam_lsashm"
#define UNIX_SID_AUTHORITY 22
#define UNIX_SID_USERS     1

struct options {
        const char *package;
        const char *domain;
        bool allow_unmapped;
        bool debug;
};

/* What auth learnt, for account and session. */
struct logon {
        pid_t owner; /* the process whose connection this is */
        HANDLE lsa;
        HANDLE token;
        LUID logon_id;
        NTSTATUS status; /* LsaLogonUser's answer, SubStatus folded in */
        bool session_open;
};

static void options_parse(pam_handle_t *pamh, int argc, const char **argv, struct options *o)
{
        memset(o, 0, sizeof(*o));
        o->domain = "";
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];
                if (strncmp(a, "package=", 8) == 0)
                        o->package = a + 8;
                else if (strncmp(a, "domain=", 7) == 0)
                        o->domain = a + 7;
                else if (strcmp(a, "allow_unmapped") == 0)
                        o->allow_unmapped = true;
                else if (strcmp(a, "debug") == 0)
                        o->debug = true;
                else if (strcmp(a, "use_first_pass") != 0 && strcmp(a, "try_first_pass") != 0 &&
                         strcmp(a, "use_authtok") != 0 && strncmp(a, "authtok_type=", 13) != 0)
                        pam_syslog(pamh, LOG_ERR, "unknown option %s", a);
        }
}

static void logon_close(struct logon *l)
{
        if (l->owner == getpid()) {
                if (l->token)
                        LsashmCloseToken(l->token);
                if (l->lsa)
                        LsaDeregisterLogonProcess(l->lsa);
        }
        /* In a forked child the connection is the parent's too: nothing is
         * sent, and the child's copy of the descriptor goes with its exit. */
        l->token = NULL;
        l->lsa = NULL;
}

static void logon_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
        (void)pamh;
        (void)error_status;
        struct logon *l = data;
        logon_close(l);
        explicit_bzero(l, sizeof(*l));
        free(l);
}

/* The reason, as MSV1_0 gives it: LOGON_FAILURE and ACCOUNT_RESTRICTION
 * carry it in SubStatus. */
static NTSTATUS status_fold(NTSTATUS st, NTSTATUS sub)
{
        if ((st == STATUS_LOGON_FAILURE || st == STATUS_ACCOUNT_RESTRICTION) && !NT_SUCCESS(sub))
                return sub;
        return st;
}

/* lsashmd cannot be asked: not running, not answering, the package not
 * loaded, or logons not open to this program. */
static bool daemon_unreachable(NTSTATUS st)
{
        return st == STATUS_OBJECT_NAME_NOT_FOUND || st == STATUS_PORT_DISCONNECTED || st == STATUS_IO_TIMEOUT ||
                st == STATUS_NO_SUCH_PACKAGE || st == STATUS_INSUFFICIENT_RESOURCES ||
                st == STATUS_PORT_CONNECTION_REFUSED;
}

static int auth_result(NTSTATUS st)
{
        switch (st) {
        case STATUS_SUCCESS:
        case STATUS_PASSWORD_EXPIRED:
        case STATUS_PASSWORD_MUST_CHANGE:
                return PAM_SUCCESS;
        case STATUS_LOGON_FAILURE:
        case STATUS_WRONG_PASSWORD:
                return PAM_AUTH_ERR;
        case STATUS_NO_SUCH_USER:
                return PAM_USER_UNKNOWN;
        case STATUS_ACCOUNT_LOCKED_OUT:
        case STATUS_ACCOUNT_DISABLED:
        case STATUS_ACCOUNT_RESTRICTION:
        case STATUS_INVALID_LOGON_HOURS:
        case STATUS_INVALID_WORKSTATION:
        case STATUS_LOGON_TYPE_NOT_GRANTED:
                return PAM_PERM_DENIED;
        case STATUS_ACCOUNT_EXPIRED:
                return PAM_ACCT_EXPIRED;
        default:
                return daemon_unreachable(st) ? PAM_AUTHINFO_UNAVAIL : PAM_SYSTEM_ERR;
        }
}

static int account_result(NTSTATUS st)
{
        switch (st) {
        case STATUS_PASSWORD_EXPIRED:
        case STATUS_PASSWORD_MUST_CHANGE:
                return PAM_NEW_AUTHTOK_REQD;
        default:
                return auth_result(st);
        }
}

/* s as UTF-16 into out (units, at most max), from UTF-8. */
static bool utf8_to_utf16(const char *s, WCHAR *out, size_t max, size_t *ret_units)
{
        size_t n = 0;
        const unsigned char *p = (const unsigned char *)s;
        while (*p) {
                uint32_t c;
                int extra;
                if (*p < 0x80) {
                        c = *p;
                        extra = 0;
                } else if ((*p & 0xE0) == 0xC0) {
                        c = *p & 0x1F;
                        extra = 1;
                } else if ((*p & 0xF0) == 0xE0) {
                        c = *p & 0x0F;
                        extra = 2;
                } else if ((*p & 0xF8) == 0xF0) {
                        c = *p & 0x07;
                        extra = 3;
                } else {
                        return false;
                }
                p++;
                for (int i = 0; i < extra; i++, p++) {
                        if ((*p & 0xC0) != 0x80)
                                return false;
                        c = c << 6 | (*p & 0x3F);
                }
                if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
                        return false;
                if (c >= 0x10000) {
                        if (n + 2 > max)
                                return false;
                        c -= 0x10000;
                        out[n++] = (WCHAR)(0xD800 + (c >> 10));
                        out[n++] = (WCHAR)(0xDC00 + (c & 0x3FF));
                } else {
                        if (n + 1 > max)
                                return false;
                        out[n++] = (WCHAR)c;
                }
        }
        *ret_units = n;
        return true;
}

/* An MSV1_0_INTERACTIVE_LOGON with its three strings after it, in one
 * buffer, the Buffer pointers pointing into it (this process's addresses,
 * as on Windows). At most 256 + 256 + 1024 UTF-16 units. */
#define NAME_UNITS     256
#define PASSWORD_UNITS 1024
struct interactive_logon {
        MSV1_0_INTERACTIVE_LOGON head;
        WCHAR domain[NAME_UNITS];
        WCHAR user[NAME_UNITS];
        WCHAR password[PASSWORD_UNITS];
};

static bool logon_build(struct interactive_logon *b, const char *domain, const char *user, const char *password)
{
        size_t nd, nu, np;
        memset(b, 0, sizeof(*b));
        if (!utf8_to_utf16(domain, b->domain, NAME_UNITS, &nd) || !utf8_to_utf16(user, b->user, NAME_UNITS, &nu) ||
            !utf8_to_utf16(password, b->password, PASSWORD_UNITS, &np))
                return false;
        b->head.MessageType = MsV1_0InteractiveLogon;
        b->head.LogonDomainName = (UNICODE_STRING){ (USHORT)(nd * 2), (USHORT)(nd * 2), b->domain };
        b->head.UserName = (UNICODE_STRING){ (USHORT)(nu * 2), (USHORT)(nu * 2), b->user };
        b->head.Password = (UNICODE_STRING){ (USHORT)(np * 2), (USHORT)(np * 2), b->password };
        return true;
}

/* Connect as a logon process, or untrusted when this process may not. */
static NTSTATUS lsa_connect(HANDLE *ret, bool *ret_untrusted)
{
        LSA_STRING name = { sizeof(ORIGIN_NAME) - 1, sizeof(ORIGIN_NAME), (PCHAR)(uintptr_t)ORIGIN_NAME };
        LSA_OPERATIONAL_MODE mode;
        NTSTATUS st = LsaRegisterLogonProcess(&name, ret, &mode);
        *ret_untrusted = st == STATUS_PORT_CONNECTION_REFUSED;
        if (*ret_untrusted)
                st = LsaConnectUntrusted(ret);
        return st;
}

/* Does the token's user map to uid? *ret_mapped: it is a Unix SID at all. */
static NTSTATUS token_user_check(HANDLE token, uid_t uid, bool *ret_mapped, bool *ret_match)
{
        ULONG tuid = 0, gids[1], ngids = 0;
        /* The groups are not asked for: only the user decides. */
        NTSTATUS st = LsashmGetTokenUnixIds(token, &tuid, gids, 0, &ngids);
        *ret_mapped = st != STATUS_NONE_MAPPED;
        *ret_match = false;
        if (st == STATUS_NONE_MAPPED)
                return STATUS_SUCCESS;
        if (st != STATUS_SUCCESS && st != STATUS_BUFFER_TOO_SMALL)
                return st;
        *ret_match = tuid == (ULONG)uid;
        return STATUS_SUCCESS;
}

PAM_LSASHM_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        (void)flags;
        struct options o;
        options_parse(pamh, argc, argv, &o);
        if (!o.package) {
                pam_syslog(pamh, LOG_ERR, "no package=NAME option");
                return PAM_SERVICE_ERR;
        }
        const char *user = NULL, *password = NULL;
        int r = pam_get_user(pamh, &user, NULL);
        if (r != PAM_SUCCESS)
                return r;
        if (!user || !*user)
                return PAM_USER_UNKNOWN;
        r = pam_get_authtok(pamh, PAM_AUTHTOK, &password, NULL);
        if (r != PAM_SUCCESS)
                return r;
        if (!password)
                return PAM_AUTH_ERR;

        struct logon *l = calloc(1, sizeof(*l));
        if (!l)
                return PAM_BUF_ERR;
        l->owner = getpid();
        bool untrusted = false;
        NTSTATUS st = lsa_connect(&l->lsa, &untrusted);
        ULONG package = 0;
        if (NT_SUCCESS(st)) {
                LSA_STRING pkg = { (USHORT)strlen(o.package), (USHORT)strlen(o.package), (PCHAR)(uintptr_t)o.package };
                st = strlen(o.package) > LSASHM_MAX_PACKAGE_NAME
                        ? STATUS_NAME_TOO_LONG
                        : LsaLookupAuthenticationPackage(l->lsa, &pkg, &package);
        }
        if (NT_SUCCESS(st)) {
                struct interactive_logon *b = malloc(sizeof(*b));
                if (!b) {
                        st = STATUS_NO_MEMORY;
                } else if (!logon_build(b, o.domain, user, password)) {
                        /* Not UTF-8, or too long: no package could know it. */
                        st = STATUS_LOGON_FAILURE;
                } else {
                        LSA_STRING origin = { sizeof(ORIGIN_NAME) - 1, sizeof(ORIGIN_NAME),
                                              (PCHAR)(uintptr_t)ORIGIN_NAME };
                        TOKEN_SOURCE source;
                        memset(&source, 0, sizeof(source));
                        memcpy(source.SourceName, "PAM", 3);
                        PVOID profile = NULL;
                        ULONG profile_length = 0;
                        QUOTA_LIMITS quotas;
                        NTSTATUS sub = STATUS_SUCCESS;
                        st = LsaLogonUser(l->lsa, &origin, Interactive, package, b, sizeof(*b), NULL, &source, &profile,
                                          &profile_length, &l->logon_id, &l->token, &quotas, &sub);
                        if (profile)
                                LsaFreeReturnBuffer(profile);
                        st = status_fold(st, sub);
                        if ((st == STATUS_NOT_LOGON_PROCESS || st == STATUS_ACCESS_DENIED) && untrusted) {
                                /* lsashmd lets only logon processes log users on. */
                                pam_syslog(pamh, LOG_ERR,
                                           "this program may not log users on "
                                           "(neither root nor in lsashmd's logon-group)");
                                st = STATUS_PORT_CONNECTION_REFUSED;
                        }
                }
                if (b) {
                        explicit_bzero(b, sizeof(*b));
                        free(b);
                }
        }
        l->status = st;

        if (st == STATUS_SUCCESS) {
                struct passwd *pw = getpwnam(user);
                bool mapped = false, match = false;
                NTSTATUS tst = token_user_check(l->token, pw ? pw->pw_uid : (uid_t)-1, &mapped, &match);
                if (!NT_SUCCESS(tst)) {
                        pam_syslog(pamh, LOG_ERR, "cannot read the token of %s: 0x%08X", user, (unsigned)tst);
                        l->status = STATUS_INTERNAL_ERROR;
                } else if (mapped ? !match || !pw : !o.allow_unmapped) {
                        pam_syslog(pamh, LOG_NOTICE, "package %s logged %s on as %s", o.package, user,
                                   mapped ? "another uid" : "no Unix user (allow_unmapped is not set)");
                        l->status = STATUS_LOGON_FAILURE;
                }
        }
        r = auth_result(l->status);
        if (o.debug || r != PAM_SUCCESS)
                pam_syslog(pamh, r == PAM_SUCCESS ? LOG_DEBUG : LOG_NOTICE, "%s: package %s: 0x%08X", user, o.package,
                           (unsigned)l->status);
        if (l->status != STATUS_SUCCESS)
                logon_close(l); /* the status stays, for account */
        if (pam_set_data(pamh, DATA_NAME, l, logon_cleanup) != PAM_SUCCESS) {
                logon_cleanup(pamh, l, 0);
                return PAM_BUF_ERR;
        }
        return r;
}

PAM_LSASHM_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        (void)pamh;
        (void)flags;
        (void)argc;
        (void)argv;
        return PAM_SUCCESS;
}

static struct logon *logon_get(pam_handle_t *pamh)
{
        const void *data = NULL;
        if (pam_get_data(pamh, DATA_NAME, &data) != PAM_SUCCESS)
                return NULL;
        return (struct logon *)(uintptr_t)data;
}

PAM_LSASHM_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        (void)flags;
        (void)argc;
        (void)argv;
        struct logon *l = logon_get(pamh);
        /* Not authenticated here (a key, another module): nothing to say. */
        return l ? account_result(l->status) : PAM_IGNORE;
}

PAM_LSASHM_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        (void)flags;
        struct options o;
        options_parse(pamh, argc, argv, &o);
        struct logon *l = logon_get(pamh);
        if (!l || !l->token)
                return PAM_IGNORE;
        char env[64];
        snprintf(env, sizeof(env), "LSASHM_LOGON_ID=0x%X:0x%X", (unsigned)l->logon_id.HighPart,
                 (unsigned)l->logon_id.LowPart);
        int r = pam_putenv(pamh, env);
        if (r != PAM_SUCCESS)
                return r;
        l->session_open = true;
        if (o.debug)
                pam_syslog(pamh, LOG_DEBUG, "session %s", env + 16);
        return PAM_SUCCESS;
}

PAM_LSASHM_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        (void)flags;
        (void)argc;
        (void)argv;
        struct logon *l = logon_get(pamh);
        if (!l || !l->token)
                return PAM_IGNORE;
        logon_close(l);
        l->session_open = false;
        return PAM_SUCCESS;
}

/* Passwords are changed the package's own way (lsashm-passwd for the
 * sample package): not through this module. */
PAM_LSASHM_EXPORT int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        (void)pamh;
        (void)flags;
        (void)argc;
        (void)argv;
        return PAM_IGNORE;
}
