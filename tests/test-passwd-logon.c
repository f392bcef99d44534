/* SPDX-License-Identifier: MIT */
/*
 * The sample authentication package lsashm-passwd.so in a real lsashmd,
 * through the client API only (ntsecapi.h), with its database made by the
 * lsashm-passwd command: every logon status (right and wrong password,
 * unknown user, lockout after LSASHM_PASSWD_LOCKOUT failures, disabled,
 * expired, password expired, must change), the token's Unix ids and logon
 * session, the credential the package keeps per session (GetCredentials
 * through its query message) gone with the session, LogonTerminated when
 * the token is closed and when the client dies, and the password change
 * from a logon process only. Root only (lsashmd, logon processes).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lsashm/ntsecapi.h"
#include "lsashm/ntstatus.h"
#include "passwd-protocol.h"
#include "test-util.h"

#ifndef LSASHMD_PATH
#define LSASHMD_PATH ""
#endif
#ifndef PASSWD_PACKAGE_PATH
#define PASSWD_PACKAGE_PATH ""
#endif
#ifndef PASSWD_COMMAND_PATH
#define PASSWD_COMMAND_PATH ""
#endif

#define LOCKOUT 3

static char g_dir[64];
static char g_sock[128];
static char g_db[128];
static char g_err[128];
static pid_t g_lsashmd = -1;

/* ---- the database, through the command ---- */

static void passwd_cmd(const char *password, const char *args)
{
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "printf '%%s\\n' '%s' | LSASHM_PASSWD_COST=min LSASHM_PASSWD_DB='%s' '%s' %s",
                 password ? password : "", g_db, PASSWD_COMMAND_PATH, args);
        int status = system(cmd);
        if (status != 0)
                fail_msg("%s: status %d", cmd, status);
}

/* ---- the client side ---- */

static LSA_STRING lsa_str(const char *s)
{
        PCHAR p;
        memcpy(&p, &s, sizeof(p));
        return (LSA_STRING){ (USHORT)strlen(s), (USHORT)strlen(s), p };
}

static HANDLE connect_trusted(void)
{
        LSA_STRING name = lsa_str("test-passwd-logon");
        LSA_OPERATIONAL_MODE mode;
        HANDLE h = NULL;
        assert_int_equal(LsaRegisterLogonProcess(&name, &h, &mode), STATUS_SUCCESS);
        return h;
}

static ULONG package_id(HANDLE h)
{
        LSA_STRING pkg = lsa_str(PASSWD_PACKAGE_NAME);
        ULONG id = 0;
        assert_int_equal(LsaLookupAuthenticationPackage(h, &pkg, &id), STATUS_SUCCESS);
        return id;
}

struct interactive {
        MSV1_0_INTERACTIVE_LOGON head;
        WCHAR strings[3][64];
};

static void unicode_set(UNICODE_STRING *u, WCHAR *buf, const char *s)
{
        size_t n = strlen(s);
        for (size_t i = 0; i < n; i++)
                buf[i] = (WCHAR)(unsigned char)s[i];
        u->Length = u->MaximumLength = (USHORT)(n * 2);
        u->Buffer = buf;
}

struct logon_result {
        NTSTATUS status;
        NTSTATUS sub;
        LUID luid;
        HANDLE token;
        PASSWD_PROFILE profile;
};

static struct logon_result logon(HANDLE h, const char *domain, const char *user, const char *password)
{
        struct interactive in;
        memset(&in, 0, sizeof(in));
        in.head.MessageType = MsV1_0InteractiveLogon;
        unicode_set(&in.head.LogonDomainName, in.strings[0], domain);
        unicode_set(&in.head.UserName, in.strings[1], user);
        unicode_set(&in.head.Password, in.strings[2], password);
        LSA_STRING origin = lsa_str("test");
        TOKEN_SOURCE source = { "test", { 0, 0 } };
        PVOID profile = NULL;
        ULONG profile_length = 0;
        QUOTA_LIMITS quotas;
        struct logon_result r = { 0 };
        r.status = LsaLogonUser(h, &origin, Interactive, package_id(h), &in, sizeof(in), NULL, &source, &profile,
                                &profile_length, &r.luid, &r.token, &quotas, &r.sub);
        if (r.status == STATUS_SUCCESS) {
                assert_non_null(profile);
                assert_int_equal(profile_length, sizeof(PASSWD_PROFILE));
                memcpy(&r.profile, profile, sizeof(r.profile));
                assert_int_equal(LsaFreeReturnBuffer(profile), STATUS_SUCCESS);
        } else {
                assert_null(profile);
                assert_null(r.token);
        }
        return r;
}

static PASSWD_STATS stats(HANDLE h)
{
        PASSWD_REQUEST req = { PasswdQueryStats };
        PVOID ret = NULL;
        ULONG len = 0;
        NTSTATUS proto;
        assert_int_equal(LsaCallAuthenticationPackage(h, package_id(h), &req, sizeof(req), &ret, &len, &proto),
                         STATUS_SUCCESS);
        assert_int_equal(len, sizeof(PASSWD_STATS));
        PASSWD_STATS s;
        memcpy(&s, ret, sizeof(s));
        LsaFreeReturnBuffer(ret);
        return s;
}

/* The user name the package keeps as the session's credential. */
static NTSTATUS session_user(HANDLE h, LUID luid, char *out, size_t size, ULONG *uid)
{
        PASSWD_QUERY_SESSION_REQUEST req = { PasswdQuerySession, luid };
        PVOID ret = NULL;
        ULONG len = 0;
        NTSTATUS proto;
        NTSTATUS st = LsaCallAuthenticationPackage(h, package_id(h), &req, sizeof(req), &ret, &len, &proto);
        if (st == STATUS_SUCCESS) {
                assert_int_equal(len, sizeof(PASSWD_SESSION));
                PASSWD_SESSION s;
                memcpy(&s, ret, sizeof(s));
                snprintf(out, size, "%s", s.UserName);
                *uid = s.Uid;
                LsaFreeReturnBuffer(ret);
        }
        return st;
}

/* Wait (a few seconds at most) until the package has seen n terminations. */
static PASSWD_STATS stats_wait_terminated(HANDLE h, ULONG n)
{
        PASSWD_STATS s = stats(h);
        for (int i = 0; i < 500 && s.LogonsTerminated < n; i++) {
                tu_sleep_ms(10);
                s = stats(h);
        }
        return s;
}

/* ---- fixture ---- */

static int group_setup(void **state)
{
        (void)state;
        if (geteuid() != 0) {
                print_message("skipped: needs root (lsashmd, logon processes)\n");
                exit(77);
        }
        if (!*LSASHMD_PATH || !*PASSWD_PACKAGE_PATH || !*PASSWD_COMMAND_PATH) {
                print_message("skipped: lsashmd, lsashm-passwd.so or lsashm-passwd not built\n");
                exit(77);
        }
        snprintf(g_dir, sizeof(g_dir), "/tmp/lsashm-passwd-XXXXXX");
        assert_non_null(mkdtemp(g_dir));
        snprintf(g_sock, sizeof(g_sock), "%s/lsashm.sock", g_dir);
        snprintf(g_db, sizeof(g_db), "%s/passwd.db", g_dir);
        snprintf(g_err, sizeof(g_err), "%s/lsashmd.err", g_dir);
        passwd_cmd("alice-pw", "add alice 2001 2001 27,2001,3000");
        passwd_cmd("bob-pw", "add bob 2002 2002");
        passwd_cmd("carol-pw", "add carol 2003 2003 --flags disabled");
        passwd_cmd("dave-pw", "add dave 2004 2004 --flags account-expired");
        passwd_cmd("erin-pw", "add erin 2005 2005 --flags password-expired");
        passwd_cmd("frank-pw", "add frank 2006 2006 --flags must-change");
        passwd_cmd("gina-pw", "add gina 2007 2007");

        char conf[160], notify[160], env_db[200], env_lock[64];
        snprintf(conf, sizeof(conf), "%s/lsashmd.conf", g_dir);
        snprintf(notify, sizeof(notify), "%s/notify", g_dir);
        FILE *f = fopen(conf, "w");
        assert_non_null(f);
        fclose(f);
        snprintf(env_db, sizeof(env_db), "%s", g_db);
        snprintf(env_lock, sizeof(env_lock), "%d", LOCKOUT);
        setenv("LSASHM_PASSWD_DB", env_db, 1);
        setenv("LSASHM_PASSWD_LOCKOUT", env_lock, 1);
        g_lsashmd = tu_lsashmd_start(LSASHMD_PATH, conf, g_sock, PASSWD_PACKAGE_PATH, notify, g_err, 30);
        if (g_lsashmd < 0) {
                char *log = tu_slurp(g_err);
                fail_msg("lsashmd did not start: %s", log ? log : "");
        }
        setenv("LSASHM_SOCKET", g_sock, 1);
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        if (g_lsashmd > 0)
                tu_kill_and_reap(g_lsashmd);
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
        if (system(cmd) != 0)
                return -1;
        return 0;
}

/* ---- tests ---- */

static void test_passwd_logon_right_password(void **state)
{
        (void)state;
        HANDLE h = connect_trusted();
        PASSWD_STATS before = stats(h);
        struct logon_result r = logon(h, "", "alice", "alice-pw");
        assert_int_equal(r.status, STATUS_SUCCESS);
        assert_non_null(r.token);
        assert_int_equal(r.profile.Uid, 2001);
        assert_int_equal(r.profile.Gid, 2001);

        /* The token: S-1-22-1-2001, groups 2001 (primary), 27, 3000. */
        ULONG uid = 0, gids[8], ngids = 0;
        assert_int_equal(LsashmGetTokenUnixIds(r.token, &uid, gids, 8, &ngids), STATUS_SUCCESS);
        assert_int_equal(uid, 2001);
        assert_int_equal(ngids, 3);
        assert_int_equal(gids[0], 2001);
        assert_int_equal(gids[1], 27);
        assert_int_equal(gids[2], 3000);
        TOKEN_STATISTICS ts;
        ULONG len = 0;
        assert_int_equal(NtQueryInformationToken(r.token, TokenStatistics, &ts, sizeof(ts), &len), STATUS_SUCCESS);
        assert_memory_equal(&ts.AuthenticationId, &r.luid, sizeof(LUID));

        /* The session's credential, through GetCredentials in the package. */
        char name[80];
        ULONG cuid = 0;
        assert_int_equal(session_user(h, r.luid, name, sizeof(name), &cuid), STATUS_SUCCESS);
        assert_string_equal(name, "alice");
        assert_int_equal(cuid, 2001);
        PASSWD_STATS mid = stats(h);
        assert_int_equal(mid.Logons, before.Logons + 1);
        assert_int_equal(mid.LiveSessions, before.LiveSessions + 1);

        /* Closing the token ends the session: LogonTerminated, and the
         * credential is gone with it. */
        assert_int_equal(LsashmCloseToken(r.token), STATUS_SUCCESS);
        PASSWD_STATS after = stats_wait_terminated(h, before.LogonsTerminated + 1);
        assert_int_equal(after.LogonsTerminated, before.LogonsTerminated + 1);
        assert_int_equal(after.LiveSessions, before.LiveSessions);
        assert_int_equal(session_user(h, r.luid, name, sizeof(name), &cuid), STATUS_NO_SUCH_LOGON_SESSION);
        assert_int_equal(LsashmCloseToken(r.token), STATUS_INVALID_HANDLE);

        /* The domain: empty, "." or this host's name. */
        r = logon(h, ".", "alice", "alice-pw");
        assert_int_equal(r.status, STATUS_SUCCESS);
        assert_int_equal(LsashmCloseToken(r.token), STATUS_SUCCESS);
        char host[256];
        assert_int_equal(gethostname(host, sizeof(host)), 0);
        r = logon(h, host, "alice", "alice-pw");
        assert_int_equal(r.status, STATUS_SUCCESS);
        assert_int_equal(LsashmCloseToken(r.token), STATUS_SUCCESS);
        r = logon(h, "ELSEWHERE", "alice", "alice-pw");
        assert_int_equal(r.status, STATUS_LOGON_FAILURE);
        assert_int_equal(r.sub, STATUS_NO_SUCH_USER);
        LsaDeregisterLogonProcess(h);
}

static void test_passwd_logon_failures(void **state)
{
        (void)state;
        HANDLE h = connect_trusted();
        PASSWD_STATS before = stats(h);
        struct logon_result r = logon(h, "", "bob", "wrong");
        assert_int_equal(r.status, STATUS_LOGON_FAILURE);
        assert_int_equal(r.sub, STATUS_WRONG_PASSWORD);
        r = logon(h, "", "nosuchuser", "x");
        assert_int_equal(r.status, STATUS_LOGON_FAILURE);
        assert_int_equal(r.sub, STATUS_NO_SUCH_USER);
        r = logon(h, "", "bad:name", "x");
        assert_int_equal(r.sub, STATUS_NO_SUCH_USER);
        /* A good password after a bad one resets the count. */
        r = logon(h, "", "bob", "bob-pw");
        assert_int_equal(r.status, STATUS_SUCCESS);
        assert_int_equal(LsashmCloseToken(r.token), STATUS_SUCCESS);

        /* Account restrictions: told only with the right password. */
        const struct {
                const char *user, *pw;
                NTSTATUS sub;
        } restricted[] = {
                { "carol", "carol-pw", STATUS_ACCOUNT_DISABLED },
                { "dave", "dave-pw", STATUS_ACCOUNT_EXPIRED },
                { "erin", "erin-pw", STATUS_PASSWORD_EXPIRED },
                { "frank", "frank-pw", STATUS_PASSWORD_MUST_CHANGE },
        };
        for (size_t i = 0; i < sizeof(restricted) / sizeof(restricted[0]); i++) {
                r = logon(h, "", restricted[i].user, restricted[i].pw);
                assert_int_equal(r.status, STATUS_ACCOUNT_RESTRICTION);
                assert_int_equal(r.sub, restricted[i].sub);
                r = logon(h, "", restricted[i].user, "wrong");
                assert_int_equal(r.status, STATUS_LOGON_FAILURE);
                assert_int_equal(r.sub, STATUS_WRONG_PASSWORD);
        }
        PASSWD_STATS after = stats(h);
        assert_int_equal(after.FailedLogons, before.FailedLogons + 11);
        assert_int_equal(after.Logons, before.Logons + 1);
        LsaDeregisterLogonProcess(h);
}

static void test_passwd_logon_lockout(void **state)
{
        (void)state;
        HANDLE h = connect_trusted();
        for (int i = 0; i < LOCKOUT; i++) {
                struct logon_result r = logon(h, "", "gina", "wrong");
                assert_int_equal(r.sub, STATUS_WRONG_PASSWORD);
        }
        /* Locked: even the right password. */
        struct logon_result r = logon(h, "", "gina", "gina-pw");
        assert_int_equal(r.status, STATUS_ACCOUNT_LOCKED_OUT);
        /* The administrator unlocks; the file changed under the package. */
        passwd_cmd(NULL, "unlock gina");
        r = logon(h, "", "gina", "gina-pw");
        assert_int_equal(r.status, STATUS_SUCCESS);
        assert_int_equal(LsashmCloseToken(r.token), STATUS_SUCCESS);
        LsaDeregisterLogonProcess(h);
}

static NTSTATUS change_password(HANDLE h, const char *user, const char *old, const char *new, NTSTATUS *proto)
{
        struct {
                PASSWD_CHANGE_PASSWORD_REQUEST req;
                WCHAR s[3][64];
        } m;
        memset(&m, 0, sizeof(m));
        m.req.MessageType = PasswdChangePassword;
        unicode_set(&m.req.UserName, m.s[0], user);
        unicode_set(&m.req.OldPassword, m.s[1], old);
        unicode_set(&m.req.NewPassword, m.s[2], new);
        PVOID ret = NULL;
        ULONG len = 0;
        return LsaCallAuthenticationPackage(h, package_id(h), &m, sizeof(m), &ret, &len, proto);
}

static void test_passwd_change_password(void **state)
{
        (void)state;
        HANDLE h = connect_trusted();
        NTSTATUS proto;
        assert_int_equal(change_password(h, "frank", "wrong", "new-pw", &proto), STATUS_SUCCESS);
        assert_int_equal(proto, STATUS_LOGON_FAILURE);
        assert_int_equal(change_password(h, "frank", "frank-pw", "", &proto), STATUS_SUCCESS);
        assert_int_equal(proto, STATUS_PASSWORD_RESTRICTION);
        assert_int_equal(change_password(h, "frank", "frank-pw", "frank-new", &proto), STATUS_SUCCESS);
        assert_int_equal(proto, STATUS_SUCCESS);
        /* must-change is cleared: the new password logs on, the old does not. */
        struct logon_result r = logon(h, "", "frank", "frank-pw");
        assert_int_equal(r.sub, STATUS_WRONG_PASSWORD);
        r = logon(h, "", "frank", "frank-new");
        assert_int_equal(r.status, STATUS_SUCCESS);
        assert_int_equal(LsashmCloseToken(r.token), STATUS_SUCCESS);

        /* Untrusted callers may not change passwords nor read sessions;
         * they may read the stats. */
        HANDLE u = NULL;
        assert_int_equal(LsaConnectUntrusted(&u), STATUS_SUCCESS);
        assert_int_equal(change_password(u, "frank", "frank-new", "other", &proto), STATUS_ACCESS_DENIED);
        char name[80];
        ULONG uid;
        LUID any = { 1, 0 };
        assert_int_equal(session_user(u, any, name, sizeof(name), &uid), STATUS_ACCESS_DENIED);
        (void)stats(u);
        LsaDeregisterLogonProcess(u);
        LsaDeregisterLogonProcess(h);
}

/* A client that dies holding a token: its session ends all the same. */
static void test_passwd_logon_client_dies(void **state)
{
        (void)state;
        HANDLE h = connect_trusted();
        PASSWD_STATS before = stats(h);
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                HANDLE c = connect_trusted();
                struct logon_result r = logon(c, "", "bob", "bob-pw");
                char ok = r.status == STATUS_SUCCESS ? 'y' : 'n';
                if (write(p[1], &ok, 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        close(p[1]);
        char ok = 0;
        assert_int_equal(tu_read_byte(p[0], 20000, &ok), 1);
        close(p[0]);
        assert_int_equal(ok, 'y');
        assert_int_equal(stats(h).LiveSessions, before.LiveSessions + 1);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        PASSWD_STATS after = stats_wait_terminated(h, before.LogonsTerminated + 1);
        assert_int_equal(after.LogonsTerminated, before.LogonsTerminated + 1);
        assert_int_equal(after.LiveSessions, before.LiveSessions);
        LsaDeregisterLogonProcess(h);
}

/* Malformed authentication information: refused, lsashmd unharmed. */
static void test_passwd_logon_malformed(void **state)
{
        (void)state;
        HANDLE h = connect_trusted();
        struct interactive in;
        memset(&in, 0, sizeof(in));
        in.head.MessageType = MsV1_0InteractiveLogon;
        unicode_set(&in.head.UserName, in.strings[1], "alice");
        unicode_set(&in.head.Password, in.strings[2], "alice-pw");
        LSA_STRING origin = lsa_str("test");
        TOKEN_SOURCE source = { "test", { 0, 0 } };
        PVOID profile;
        ULONG plen;
        LUID luid;
        HANDLE token;
        QUOTA_LIMITS q;
        NTSTATUS sub;
        ULONG id = package_id(h);
        /* A string pointing outside the buffer. */
        in.head.Password.Buffer = (PWSTR)(uintptr_t)0x1000;
        assert_int_equal(LsaLogonUser(h, &origin, Interactive, id, &in, sizeof(in), NULL, &source, &profile, &plen,
                                      &luid, &token, &q, &sub),
                         STATUS_INVALID_PARAMETER);
        /* A length past the end. */
        unicode_set(&in.head.Password, in.strings[2], "alice-pw");
        in.head.Password.Length = 4000;
        assert_int_equal(LsaLogonUser(h, &origin, Interactive, id, &in, sizeof(in), NULL, &source, &profile, &plen,
                                      &luid, &token, &q, &sub),
                         STATUS_INVALID_PARAMETER);
        /* An odd length. */
        in.head.Password.Length = 3;
        assert_int_equal(LsaLogonUser(h, &origin, Interactive, id, &in, sizeof(in), NULL, &source, &profile, &plen,
                                      &luid, &token, &q, &sub),
                         STATUS_INVALID_PARAMETER);
        /* Too short, and of another kind. */
        assert_int_equal(LsaLogonUser(h, &origin, Interactive, id, &in, 4, NULL, &source, &profile, &plen, &luid,
                                      &token, &q, &sub),
                         STATUS_INVALID_PARAMETER);
        in.head.MessageType = MsV1_0NetworkLogon;
        assert_int_equal(LsaLogonUser(h, &origin, Interactive, id, &in, sizeof(in), NULL, &source, &profile, &plen,
                                      &luid, &token, &q, &sub),
                         STATUS_INVALID_LOGON_TYPE);
        /* Still serving. */
        struct logon_result r = logon(h, "", "alice", "alice-pw");
        assert_int_equal(r.status, STATUS_SUCCESS);
        assert_int_equal(LsashmCloseToken(r.token), STATUS_SUCCESS);
        LsaDeregisterLogonProcess(h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_passwd_logon_right_password), cmocka_unit_test(test_passwd_logon_failures),
                cmocka_unit_test(test_passwd_logon_lockout),        cmocka_unit_test(test_passwd_change_password),
                cmocka_unit_test(test_passwd_logon_client_dies),    cmocka_unit_test(test_passwd_logon_malformed),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
