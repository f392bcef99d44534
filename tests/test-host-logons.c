/* SPDX-License-Identifier: MIT */
/*
 * Logons: authentication packages that export only LsaAp* functions
 * (tests/packages/test-ap-package.c), LsaLogonUser end to end, the tokens it
 * returns, logon sessions and their end, LsaEnumerateLogonSessions and
 * LsaGetLogonSessionData, and the sessions report. Clients are real
 * processes (host-fixture.h); the host runs in this one, so that after each
 * scenario the test looks at what is left: no logon session, no LSA heap
 * block of the package's.
 */
#include "host-fixture.h"
#include "host-raw.h"
#include "packages/test-ap-package.h"

/* ---- in children ---- */

/* MSV1_0_INTERACTIVE_LOGON with its strings behind it, pointing at them as
 * this process addresses them. */
struct auth {
        MSV1_0_INTERACTIVE_LOGON m;
        WCHAR chars[128];
};

static ULONG wide(const char *a, WCHAR *w)
{
        ULONG n = 0;
        for (; a[n]; n++)
                w[n] = (WCHAR)a[n];
        return n;
}

static void auth_make(struct auth *a, const char *user, const char *password)
{
        memset(a, 0, sizeof(*a));
        a->m.MessageType = MsV1_0InteractiveLogon;
        WCHAR *at = a->chars;
        UNICODE_STRING *s[3] = { &a->m.LogonDomainName, &a->m.UserName, &a->m.Password };
        const char *v[3] = { "DOM", user, password };
        for (int i = 0; i < 3; i++) {
                ULONG n = wide(v[i], at);
                s[i]->Buffer = at;
                s[i]->Length = s[i]->MaximumLength = (USHORT)(n * 2);
                at += n;
        }
}

struct logon {
        NTSTATUS st, sub;
        PVOID profile;
        ULONG profile_len;
        LUID id;
        HANDLE token;
};

static struct logon c_logon_user(HANDLE h, ULONG pkg, const char *user, const char *password)
{
        struct auth a;
        auth_make(&a, user, password);
        CHAR origin_name[] = "test-logons";
        LSA_STRING origin = { sizeof(origin_name) - 1, sizeof(origin_name), origin_name };
        TOKEN_SOURCE source = { .SourceName = "tlogons", .SourceIdentifier = { 7, 0 } };
        QUOTA_LIMITS q;
        struct logon r;
        memset(&r, 0, sizeof(r));
        r.st = LsaLogonUser(h, &origin, Interactive, pkg, &a, sizeof(a), NULL, &source, &r.profile, &r.profile_len,
                            &r.id, &r.token, &q, &r.sub);
        return r;
}

static TAP_STATS_REPLY c_stats(HANDLE h, ULONG pkg)
{
        ULONG msg = TAP_STATS;
        struct res r = c_call(h, pkg, &msg, sizeof(msg));
        TAP_STATS_REPLY s;
        memcpy(&s, c_expect_buffer(r, sizeof(s)), sizeof(s));
        c_free(r.buf);
        return s;
}

static NTSTATUS c_session_op(HANDLE h, ULONG pkg, ULONG op, LUID id)
{
        TAP_SESSION_REQUEST req = { .MessageType = op, .LogonId = id };
        struct res r = c_call(h, pkg, &req, sizeof(req));
        CHECK_ST(r.st, STATUS_SUCCESS);
        return r.proto;
}

static bool luid_eq(LUID a, LUID b)
{
        return a.LowPart == b.LowPart && a.HighPart == b.HighPart;
}

static bool sid_is_unix(const void *sid, ULONG kind, ULONG id)
{
        const UCHAR *b = sid;
        ULONG sub[2];
        memcpy(sub, b + 8, sizeof(sub));
        return b[0] == 1 && b[1] == 2 && b[7] == 22 && sub[0] == kind && sub[1] == id;
}

static bool ustr_is(const UNICODE_STRING *s, const char *a)
{
        size_t n = strlen(a);
        if (s->Length != n * 2 || !s->Buffer)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s->Buffer[i] != (WCHAR)a[i])
                        return false;
        return true;
}

static bool listed(LUID id)
{
        ULONG n = 0;
        PLUID list = NULL;
        CHECK_ST(LsaEnumerateLogonSessions(&n, &list), STATUS_SUCCESS);
        bool found = false;
        for (ULONG i = 0; i < n; i++)
                found = found || luid_eq(list[i], id);
        CHECK_ST(LsaFreeReturnBuffer(list), STATUS_SUCCESS);
        return found;
}

/* The token of alice: her SIDs, her uid and gids, her logon session. */
static void check_alice_token(HANDLE token, LUID id)
{
        UCHAR buf[512];
        ULONG need = 0;
        CHECK_ST(NtQueryInformationToken(token, TokenUser, buf, 4, &need), STATUS_BUFFER_TOO_SMALL);
        CHECK(need > sizeof(TOKEN_USER));
        CHECK_ST(NtQueryInformationToken(token, TokenUser, buf, sizeof(buf), &need), STATUS_SUCCESS);
        TOKEN_USER *u = (void *)buf;
        CHECK(sid_is_unix(u->User.Sid, 1, TAP_UID));
        CHECK_ST(NtQueryInformationToken(token, TokenGroups, buf, sizeof(buf), &need), STATUS_SUCCESS);
        TOKEN_GROUPS *g = (void *)buf;
        CHECK_EQ(g->GroupCount, 3u);
        const SID_AND_ATTRIBUTES *ga = g->Groups; /* ANYSIZE_ARRAY: GroupCount of them */
        CHECK(sid_is_unix(ga[0].Sid, 2, TAP_GID));
        CHECK(sid_is_unix(ga[1].Sid, 2, TAP_GID2));
        CHECK_EQ(ga[0].Attributes, (ULONG)(SE_GROUP_MANDATORY | SE_GROUP_ENABLED));
        CHECK_ST(NtQueryInformationToken(token, TokenStatistics, buf, sizeof(buf), &need), STATUS_SUCCESS);
        TOKEN_STATISTICS *ts = (void *)buf;
        CHECK(luid_eq(ts->AuthenticationId, id));
        CHECK_EQ(ts->GroupCount, 3u);
        CHECK_ST(NtQueryInformationToken(token, TokenSource, buf, sizeof(buf), &need), STATUS_SUCCESS);
        CHECK(memcmp(((TOKEN_SOURCE *)(void *)buf)->SourceName, "tlogons", 7) == 0);
        CHECK_ST(NtQueryInformationToken(token, TokenPrivileges, buf, sizeof(buf), &need), STATUS_INVALID_INFO_CLASS);
        ULONG uid = 0, gids[4], ngids = 0;
        CHECK_ST(LsashmGetTokenUnixIds(token, &uid, gids, 4, &ngids), STATUS_SUCCESS);
        CHECK_EQ(uid, TAP_UID);
        CHECK_EQ(ngids, 2u); /* S-1-5-32-545 maps to nothing */
        CHECK_EQ(gids[0], TAP_GID);
        CHECK_EQ(gids[1], TAP_GID2);
        CHECK_ST(LsashmGetTokenUnixIds(token, &uid, gids, 1, &ngids), STATUS_BUFFER_TOO_SMALL);
        CHECK_EQ(ngids, 2u);
}

static void child_ex2_logon(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG pkg = c_lookup(h, TAP_NAME_EX2);
        TAP_STATS_REPLY before = c_stats(h, pkg);
        CHECK_EQ(before.InitializeCalls, 1u);
        CHECK(before.GotFullTable);

        struct logon r = c_logon_user(h, pkg, TAP_USER_OK, TAP_PASSWORD);
        CHECK_ST(r.st, STATUS_SUCCESS);
        CHECK_ST(r.sub, STATUS_SUCCESS);
        CHECK(r.token != NULL);
        /* The profile buffer: a client buffer, its string pointing inside. */
        CHECK(r.profile != NULL && r.profile_len >= sizeof(TAP_PROFILE));
        const TAP_PROFILE *p = r.profile;
        CHECK_EQ(p->MessageType, TAP_PROFILE_TYPE);
        CHECK(ustr_is(&p->User, TAP_USER_OK));
        CHECK((UCHAR *)p->User.Buffer >= (UCHAR *)r.profile &&
              (UCHAR *)p->User.Buffer + p->User.Length <= (UCHAR *)r.profile + r.profile_len);
        CHECK_ST(LsaFreeReturnBuffer(r.profile), STATUS_SUCCESS);
        check_alice_token(r.token, r.id);

        TAP_STATS_REPLY s = c_stats(h, pkg);
        CHECK_EQ(s.LogonUserEx2Calls, before.LogonUserEx2Calls + 1);
        CHECK_EQ(s.LogonUserCalls, before.LogonUserCalls); /* the highest variant only */
        CHECK(s.ClientInfoOk);
        CHECK_EQ(s.ClientPid, (ULONG)getpid());
        CHECK(luid_eq(s.LastLogon, r.id));

        /* The session, as LsaGetLogonSessionData and the list show it. */
        CHECK(listed(r.id));
        PSECURITY_LOGON_SESSION_DATA d = NULL;
        CHECK_ST(LsaGetLogonSessionData(&r.id, &d), STATUS_SUCCESS);
        CHECK(d != NULL);
        CHECK(luid_eq(d->LogonId, r.id));
        CHECK(ustr_is(&d->UserName, TAP_USER_OK));
        CHECK(ustr_is(&d->LogonDomain, "DOM"));
        CHECK(ustr_is(&d->AuthenticationPackage, TAP_NAME_EX2));
        CHECK(ustr_is(&d->Upn, "alice@test.example"));
        CHECK_EQ(d->LogonType, (ULONG)Interactive);
        CHECK(d->Sid && sid_is_unix(d->Sid, 1, TAP_UID));
        CHECK(d->LogonTime.QuadPart > INT64_C(116444736000000000)); /* after 1970 */
        CHECK_ST(LsaFreeReturnBuffer(d), STATUS_SUCCESS);
        CHECK_ST(LsaFreeReturnBuffer(d), STATUS_INVALID_PARAMETER);
        LUID none = { 0x12345, 0x7B7B };
        CHECK_ST(LsaGetLogonSessionData(&none, &d), STATUS_NO_SUCH_LOGON_SESSION);
        CHECK(d == NULL);

        /* lsashm sessions lists it. */
        CHECK_EQ(ask_until(Q_LOGON_SESSIONS, 0, 1u), 1u);
        CHECK_EQ(ask(Q_SESSIONS_REPORT, 0), 1u);

        /* Closing the token ends the session: LogonTerminated with its id. */
        CHECK_ST(LsashmCloseToken(r.token), STATUS_SUCCESS);
        CHECK_ST(LsashmCloseToken(r.token), STATUS_INVALID_HANDLE);
        s = c_stats(h, pkg);
        CHECK_EQ(s.Terminated, before.Terminated + 1);
        CHECK(luid_eq(s.LastTerminated, r.id));
        CHECK(!listed(r.id));
        CHECK_EQ(ask_until(Q_LOGON_SESSIONS, 0, 0u), 0u);
        UCHAR buf[64];
        ULONG need;
        CHECK_ST(NtQueryInformationToken(r.token, TokenUser, buf, sizeof(buf), &need), STATUS_INVALID_HANDLE);
        CHECK_ST(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
}

static void test_logons_ex2_end_to_end(void **state)
{
        (void)state;
        expect_client_ok(child_ex2_logon, NULL);
        assert_int_equal(host_sessions_count(), 0);
        char path[128], text[4096] = { 0 };
        snprintf(path, sizeof(path), "%s/sessions.txt", g_dir);
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        unlink(path);
        assert_true(n > 0);
        assert_non_null(strstr(text, "Logon sessions: 1"));
        assert_non_null(strstr(text, TAP_NAME_EX2));
        assert_non_null(strstr(text, "DOM\\" TAP_USER_OK));
        assert_non_null(strstr(text, "Interactive"));
        assert_non_null(strstr(text, " 1000 "));
        snprintf(path, sizeof(path), "%s/sessions.json", g_dir);
        f = fopen(path, "re");
        assert_non_null(f);
        memset(text, 0, sizeof(text));
        n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        unlink(path);
        assert_true(json_balanced(text));
        assert_non_null(strstr(text, "\"user\":\"" TAP_USER_OK "\""));
        assert_non_null(strstr(text, "\"uid\":1000"));
        assert_non_null(strstr(text, "\"package\":\"" TAP_NAME_EX2 "\""));
}

/* ap-plain: LsaApLogonUser alone, V1 and Null token information, a user
 * SID with no uid. */
static void child_plain_logon(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG pkg = c_lookup(h, TAP_NAME_PLAIN);
        TAP_STATS_REPLY before = c_stats(h, pkg);
        CHECK_EQ(before.InitializeCalls, 1u);

        struct logon v1 = c_logon_user(h, pkg, TAP_USER_V1, TAP_PASSWORD);
        CHECK_ST(v1.st, STATUS_SUCCESS);
        check_alice_token(v1.token, v1.id);
        CHECK_ST(LsaFreeReturnBuffer(v1.profile), STATUS_SUCCESS);

        struct logon nul = c_logon_user(h, pkg, TAP_USER_NULL, TAP_PASSWORD);
        CHECK_ST(nul.st, STATUS_SUCCESS);
        UCHAR buf[256];
        ULONG need, uid, gids[2], ngids;
        CHECK_ST(NtQueryInformationToken(nul.token, TokenUser, buf, sizeof(buf), &need), STATUS_SUCCESS);
        static const UCHAR anonymous[12] = { 1, 1, 0, 0, 0, 0, 0, 5, 7, 0, 0, 0 };
        CHECK(memcmp(((TOKEN_USER *)(void *)buf)->User.Sid, anonymous, sizeof(anonymous)) == 0);
        CHECK_ST(LsashmGetTokenUnixIds(nul.token, &uid, gids, 2, &ngids), STATUS_NONE_MAPPED);
        CHECK_EQ(ngids, 1u);
        CHECK_EQ(gids[0], TAP_GID);
        CHECK_ST(LsaFreeReturnBuffer(nul.profile), STATUS_SUCCESS);

        TAP_STATS_REPLY s = c_stats(h, pkg);
        CHECK_EQ(s.LogonUserCalls, before.LogonUserCalls + 2);
        CHECK_EQ(ask_until(Q_LOGON_SESSIONS, 0, 2u), 2u);
        /* Every package hears of every session's end: two more to come. */
        ask(Q_PUT, s.Terminated + 2);
        /* Exiting with both tokens open: the host ends both sessions. */
}

/* ap-ex: LsaApLogonUserEx, its MachineName kept (not shown by
 * LsaGetLogonSessionData, which has no field for it). */
static void child_ex_logon(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG pkg = c_lookup(h, TAP_NAME_EX);
        TAP_STATS_REPLY before = c_stats(h, pkg);
        struct logon r = c_logon_user(h, pkg, TAP_USER_OK, TAP_PASSWORD);
        CHECK_ST(r.st, STATUS_SUCCESS);
        check_alice_token(r.token, r.id);
        TAP_STATS_REPLY s = c_stats(h, pkg);
        CHECK_EQ(s.LogonUserExCalls, before.LogonUserExCalls + 1);
        CHECK_EQ(s.LogonUserCalls, before.LogonUserCalls);
        PSECURITY_LOGON_SESSION_DATA d = NULL;
        CHECK_ST(LsaGetLogonSessionData(&r.id, &d), STATUS_SUCCESS);
        CHECK(ustr_is(&d->AuthenticationPackage, TAP_NAME_EX));
        CHECK_EQ(d->Upn.Length, 0u); /* no primary credentials from LogonUserEx */
        CHECK_ST(LsaFreeReturnBuffer(d), STATUS_SUCCESS);
        CHECK_ST(LsaFreeReturnBuffer(r.profile), STATUS_SUCCESS);
        CHECK_ST(LsashmCloseToken(r.token), STATUS_SUCCESS);
}

static void test_logons_ex(void **state)
{
        (void)state;
        expect_client_ok(child_ex_logon, NULL);
        assert_int_equal(host_sessions_count(), 0);
}

static void child_stats_after_exit(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG pkg = c_lookup(h, TAP_NAME_PLAIN);
        TAP_STATS_REPLY s = c_stats(h, pkg);
        CHECK_EQ(s.Terminated, (ULONG)ask(Q_GET, 0));
        CHECK(s.CallsUntrusted > 0);
}

static void test_logons_plain_and_client_exit(void **state)
{
        (void)state;
        expect_client_ok(child_plain_logon, NULL);
        assert_int_equal(host_sessions_count(), 0);
        expect_client_ok(child_stats_after_exit, NULL);
}

/* Every status LsaLogonUser can return for these packages, and nothing is
 * left by the failures: no session, no LSA heap block. */
static void child_statuses(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG pkg = c_lookup(h, TAP_NAME_EX2);
        TAP_STATS_REPLY before = c_stats(h, pkg);

        struct logon r = c_logon_user(h, pkg, TAP_USER_OK, "wrong");
        CHECK_ST(r.st, STATUS_LOGON_FAILURE);
        CHECK_ST(r.sub, TAP_SUB_WRONG_PASSWORD);
        CHECK(r.token == NULL && r.profile == NULL);

        r = c_logon_user(h, pkg, TAP_USER_NOSESSION, TAP_PASSWORD);
        CHECK_ST(r.st, STATUS_NO_SUCH_LOGON_SESSION);
        CHECK(r.token == NULL && r.profile == NULL);

        r = c_logon_user(h, pkg, TAP_USER_FAILCREATED, TAP_PASSWORD);
        CHECK_ST(r.st, STATUS_LOGON_FAILURE);
        TAP_STATS_REPLY s = c_stats(h, pkg);
        CHECK_EQ(s.Terminated, before.Terminated + 1); /* its session, ended by the host */
        CHECK(luid_eq(s.LastTerminated, s.LastLogon));

        r = c_logon_user(h, pkg, TAP_USER_BADPROFILE, TAP_PASSWORD);
        CHECK_ST(r.st, STATUS_INTERNAL_ERROR);
        CHECK(r.token == NULL && r.profile == NULL);

        struct logon ok = c_logon_user(h, pkg, TAP_USER_OK, TAP_PASSWORD);
        CHECK_ST(ok.st, STATUS_SUCCESS);
        r = c_logon_user(h, pkg, TAP_USER_REUSE, TAP_PASSWORD);
        CHECK_ST(r.st, STATUS_LOGON_SESSION_COLLISION);
        CHECK(listed(ok.id)); /* the other logon's session is untouched */
        CHECK_ST(LsashmCloseToken(ok.token), STATUS_SUCCESS);
        CHECK_ST(LsaFreeReturnBuffer(ok.profile), STATUS_SUCCESS);

        /* Malformed token information: refused, the session ended. */
        static const char *const bad[] = { TAP_USER_BAD_V2_OUTSIDE, TAP_USER_BAD_COUNT,     TAP_USER_BAD_COUNT_FIT,
                                           TAP_USER_BAD_NOUSER,     TAP_USER_BAD_NOPRIMARY, TAP_USER_BAD_SID,
                                           TAP_USER_BAD_SID_STACK,  TAP_USER_BAD_DACL,      TAP_USER_BAD_NOINFO };
        s = c_stats(h, pkg);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                r = c_logon_user(h, pkg, bad[i], TAP_PASSWORD);
                if (r.st != STATUS_INTERNAL_ERROR)
                        fprintf(stderr, "child: %s: 0x%08X\n", bad[i], (unsigned)r.st);
                CHECK_ST(r.st, STATUS_INTERNAL_ERROR);
                CHECK(r.token == NULL && r.profile == NULL);
        }
        TAP_STATS_REPLY after = c_stats(h, pkg);
        CHECK_EQ(after.Terminated, s.Terminated + (ULONG)(sizeof(bad) / sizeof(bad[0])));
        CHECK_EQ(ask_until(Q_LOGON_SESSIONS, 0, 0u), 0u);

        /* Refused before the host sees them. */
        struct auth a;
        auth_make(&a, TAP_USER_OK, TAP_PASSWORD);
        CHAR on[] = "x";
        LSA_STRING origin = { 1, 2, on };
        TOKEN_SOURCE src = { .SourceName = "t" };
        PVOID prof;
        ULONG plen;
        LUID id;
        HANDLE tok;
        QUOTA_LIMITS q;
        NTSTATUS sub;
        CHECK_ST(LsaLogonUser(NULL, &origin, Interactive, pkg, &a, sizeof(a), NULL, &src, &prof, &plen, &id, &tok, &q,
                              &sub),
                 STATUS_INVALID_HANDLE);
        CHECK_ST(LsaLogonUser(h, &origin, Interactive, pkg, &a, sizeof(a), NULL, &src, &prof, &plen, &id, NULL, &q,
                              &sub),
                 STATUS_INVALID_PARAMETER);
        CHECK_ST(LsaLogonUser(h, NULL, Interactive, pkg, &a, sizeof(a), NULL, &src, &prof, &plen, &id, &tok, &q, &sub),
                 STATUS_INVALID_PARAMETER);
        CHECK_ST(LsaLogonUser(h, &origin, Interactive, pkg, NULL, 8, NULL, &src, &prof, &plen, &id, &tok, &q, &sub),
                 STATUS_INVALID_PARAMETER);
        CHECK_ST(LsaLogonUser(h, &origin, (SECURITY_LOGON_TYPE)99, pkg, &a, sizeof(a), NULL, &src, &prof, &plen, &id,
                              &tok, &q, &sub),
                 STATUS_INVALID_LOGON_TYPE);
        /* Past what any host takes: refused before a byte is read. */
        CHECK_ST(LsaLogonUser(h, &origin, Interactive, pkg, &a, LSA_WIRE_MAX_AUTH + 1u, NULL, &src, &prof, &plen, &id,
                              &tok, &q, &sub),
                 STATUS_INVALID_BUFFER_SIZE);
        /* LocalGroups: added after the package's; bounded; each a SID. */
        struct {
                TOKEN_GROUPS g;
                SID_AND_ATTRIBUTES more[70];
        } local;
        memset(&local, 0, sizeof(local));
        UCHAR extra[16] = { 1, 2, 0, 0, 0, 0, 0, 22, 2, 0, 0, 0, 0x92, 0x10, 0, 0 }; /* S-1-22-2-4242 */
        SID_AND_ATTRIBUTES *entries = local.g.Groups;
        for (int i = 0; i < 71; i++) {
                entries[i].Sid = extra;
                entries[i].Attributes = SE_GROUP_ENABLED;
        }
        local.g.GroupCount = 1;
        CHECK_ST(LsaLogonUser(h, &origin, Interactive, pkg, &a, sizeof(a), &local.g, &src, &prof, &plen, &id, &tok, &q,
                              &sub),
                 STATUS_SUCCESS);
        ULONG uid, gids[4], ngids;
        CHECK_ST(LsashmGetTokenUnixIds(tok, &uid, gids, 4, &ngids), STATUS_SUCCESS);
        CHECK_EQ(ngids, 3u);
        CHECK_EQ(gids[2], 4242u);
        CHECK_ST(LsashmCloseToken(tok), STATUS_SUCCESS);
        CHECK_ST(LsaFreeReturnBuffer(prof), STATUS_SUCCESS);
        local.g.GroupCount = 65;
        CHECK_ST(LsaLogonUser(h, &origin, Interactive, pkg, &a, sizeof(a), &local.g, &src, &prof, &plen, &id, &tok, &q,
                              &sub),
                 STATUS_TOO_MANY_CONTEXT_IDS);
        local.g.GroupCount = 2;
        UCHAR not_a_sid[16] = { 2, 2 };
        entries[1].Sid = not_a_sid;
        CHECK_ST(LsaLogonUser(h, &origin, Interactive, pkg, &a, sizeof(a), &local.g, &src, &prof, &plen, &id, &tok, &q,
                              &sub),
                 STATUS_INVALID_SID);
        /* CLOSE_TOKEN is a notice: a worker may still be closing it. */
        CHECK_EQ(ask_until(Q_LOGON_SESSIONS, 0, 0), 0u);
        char longname[200];
        memset(longname, 'n', sizeof(longname));
        LSA_STRING lo = { 200, 200, longname };
        CHECK_ST(LsaLogonUser(h, &lo, Interactive, pkg, &a, sizeof(a), NULL, &src, &prof, &plen, &id, &tok, &q, &sub),
                 STATUS_NAME_TOO_LONG);
        /* The host's refusals. */
        CHECK_ST(LsaLogonUser(h, &origin, Interactive, 0xFFFF, &a, sizeof(a), NULL, &src, &prof, &plen, &id, &tok, &q,
                              &sub),
                 STATUS_NO_SUCH_PACKAGE);
        HANDLE u = c_untrusted();
        CHECK_ST(LsaLogonUser(u, &origin, Interactive, pkg, &a, sizeof(a), NULL, &src, &prof, &plen, &id, &tok, &q,
                              &sub),
                 STATUS_NOT_LOGON_PROCESS);
        CHECK(tok == NULL);
        LsaDeregisterLogonProcess(u);
        /* A token is no handle for anything else, and the other way round. */
        CHECK_ST(LsashmCloseToken(h), STATUS_INVALID_HANDLE);
        CHECK_ST(LsashmCloseToken(NULL), STATUS_INVALID_HANDLE);
        CHECK_ST(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
}

static void test_logons_statuses_and_malformed_tokens(void **state)
{
        (void)state;
        struct host_heap_stats before, after;
        host_heap_stats(&before);
        expect_client_ok(child_statuses, NULL);
        assert_int_equal(host_sessions_count(), 0);
        host_heap_stats(&after);
        /* Everything the package handed over is freed, refused or not. */
        assert_int_equal(after.live_blocks, before.live_blocks);
}

/* Token information the host cannot walk (static memory, an unknown type):
 * refused, no crash; the package's parts of it are its own loss. */
static void child_unwalkable(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG pkg = c_lookup(h, TAP_NAME_EX2);
        struct logon r = c_logon_user(h, pkg, TAP_USER_BAD_STATIC, TAP_PASSWORD);
        CHECK_ST(r.st, STATUS_INTERNAL_ERROR);
        r = c_logon_user(h, pkg, TAP_USER_BAD_TYPE, TAP_PASSWORD);
        CHECK_ST(r.st, STATUS_INTERNAL_ERROR);
        CHECK_EQ(ask_until(Q_LOGON_SESSIONS, 0, 0u), 0u);
        /* The host still serves. */
        r = c_logon_user(h, pkg, TAP_USER_OK, TAP_PASSWORD);
        CHECK_ST(r.st, STATUS_SUCCESS);
        CHECK_ST(LsashmCloseToken(r.token), STATUS_SUCCESS);
}

static void test_logons_unwalkable_token_info(void **state)
{
        (void)state;
        expect_client_ok(child_unwalkable, NULL);
        assert_int_equal(host_sessions_count(), 0);
}

/* A client killed while the package is in LogonUser (on a worker): the
 * logon finishes and holds its connection meanwhile, while the host serves
 * others; its reply finds no one, the connection is dropped, its token
 * closed and the session it made ends (LogonTerminated). */
static void child_killed_mid_logon(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_untrusted();
        ULONG pkg = c_lookup(h, TAP_NAME_EX2);
        TAP_STATS_REPLY before = c_stats(h, pkg);
        uint64_t conns = ask(Q_CONNS, 0), dropped = ask(Q_DROPPED, 0);
        pid_t pid = tu_fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                HANDLE lh = c_logon();
                ULONG lp = c_lookup(lh, TAP_NAME_EX2);
                c_logon_user(lh, lp, TAP_USER_SLOW, TAP_PASSWORD);
                _exit(3); /* never: killed first */
        }
        int64_t end = tu_now_ms() + STEP_MS;
        while (!log_has_line(TAP_SLOW_LINE) && tu_now_ms() < end)
                tu_sleep_ms(2);
        CHECK(log_has_line(TAP_SLOW_LINE));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status));
        /* The logon goes on, holding its connection; others are served. */
        int64_t t0 = tu_now_ms();
        CHECK_EQ(ask(Q_CONNS, 0), conns + 1);
        TAP_STATS_REPLY during = c_stats(h, pkg);
        CHECK(tu_now_ms() - t0 < TAP_SLOW_MS / 2);
        CHECK_EQ(during.Terminated, before.Terminated);
        /* Then: reply dropped, token closed, session deleted. */
        CHECK_EQ(ask_until(Q_CONNS, 0, conns), conns);
        TAP_STATS_REPLY after = c_stats(h, pkg);
        CHECK_EQ(after.LogonUserEx2Calls, before.LogonUserEx2Calls + 1);
        CHECK_EQ(after.Terminated, before.Terminated + 1);
        CHECK(luid_eq(after.LastTerminated, after.LastLogon));
        CHECK(!luid_eq(after.LastLogon, before.LastLogon));
        CHECK_EQ(ask_until(Q_LOGON_SESSIONS, 0, 0u), 0u);
        CHECK_EQ(ask(Q_DROPPED, 0), dropped + 1);
        CHECK_ST(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
}

static void test_logons_client_killed_mid_logon(void **state)
{
        (void)state;
        unlink(g_log_path);
        expect_client_ok(child_killed_mid_logon, NULL);
        assert_int_equal(host_sessions_count(), 0);
}

/* ================= large authentication information ================= */

/* len bytes of authentication information for user: the
 * MSV1_0_INTERACTIVE_LOGON first, its strings at the end (the package
 * rebases them across the whole buffer), filler between. */
static UCHAR *auth_big(ULONG len, const char *user, const char *password)
{
        UCHAR *b = malloc(len);
        CHECK(b != NULL);
        for (ULONG i = 0; i < len; i++)
                b[i] = (UCHAR)(i * 13u + 5u);
        struct auth a;
        auth_make(&a, user, password);
        size_t chars = (size_t)(a.m.LogonDomainName.Length + a.m.UserName.Length + a.m.Password.Length);
        UCHAR *tail = b + ((len - chars) & ~(size_t)1); /* WCHARs: 2-byte aligned */
        memcpy(tail, a.chars, chars);
        ptrdiff_t shift = tail - (UCHAR *)a.chars;
        a.m.LogonDomainName.Buffer = (PWSTR)(void *)((UCHAR *)a.m.LogonDomainName.Buffer + shift);
        a.m.UserName.Buffer = (PWSTR)(void *)((UCHAR *)a.m.UserName.Buffer + shift);
        a.m.Password.Buffer = (PWSTR)(void *)((UCHAR *)a.m.Password.Buffer + shift);
        memcpy(b, &a.m, sizeof(a.m));
        return b;
}

static struct logon c_logon_buf(HANDLE h, ULONG pkg, void *auth, ULONG len)
{
        CHAR origin_name[] = "test-logons";
        LSA_STRING origin = { sizeof(origin_name) - 1, sizeof(origin_name), origin_name };
        TOKEN_SOURCE source = { .SourceName = "tlogons", .SourceIdentifier = { 7, 0 } };
        QUOTA_LIMITS q;
        struct logon r;
        memset(&r, 0, sizeof(r));
        r.st = LsaLogonUser(h, &origin, Interactive, pkg, auth, len, NULL, &source, &r.profile, &r.profile_len, &r.id,
                            &r.token, &q, &r.sub);
        return r;
}

static void big_logon(HANDLE h, ULONG pkg, ULONG len, NTSTATUS want)
{
        UCHAR *b = auth_big(len, TAP_USER_OK, TAP_PASSWORD);
        UCHAR last = b[len - 1];
        struct logon r = c_logon_buf(h, pkg, b, len);
        CHECK_ST(r.st, want);
        if (want == STATUS_SUCCESS) {
                const TAP_PROFILE *p = r.profile;
                CHECK(p != NULL && r.profile_len >= sizeof(*p));
                CHECK(ustr_is(&p->User, TAP_USER_OK)); /* the strings at the end were found */
                CHECK_EQ(p->ClientPid, (ULONG)getpid());
                CHECK_ST(LsaFreeReturnBuffer(r.profile), STATUS_SUCCESS);
                check_alice_token(r.token, r.id);
                CHECK_ST(LsashmCloseToken(r.token), STATUS_SUCCESS);
        } else {
                CHECK(r.token == NULL && r.profile == NULL);
        }
        CHECK(b[len - 1] == last);
        free(b);
}

static void child_large_auth(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG pkg = c_lookup(h, TAP_NAME_EX2);
        big_logon(h, pkg, LSA_WIRE_MAX_SUBMIT, STATUS_SUCCESS);
        big_logon(h, pkg, LSA_WIRE_MAX_SUBMIT + 1, STATUS_SUCCESS);
        big_logon(h, pkg, 1u << 20, STATUS_SUCCESS);
        big_logon(h, pkg, (1u << 20) + 1, STATUS_INVALID_BUFFER_SIZE); /* past max-submit-size */
        /* An unreadable buffer: the client library says so, nothing is sent. */
        void *none = mmap(NULL, 2 * LSA_WIRE_MAX_SUBMIT, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(none != MAP_FAILED);
        struct logon r = c_logon_buf(h, pkg, none, 2 * LSA_WIRE_MAX_SUBMIT);
        CHECK_ST(r.st, STATUS_ACCESS_VIOLATION);
        munmap(none, 2 * LSA_WIRE_MAX_SUBMIT);
        /* The connection is as good as before. */
        big_logon(h, pkg, 3u << 18, STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_LOGON_SESSIONS, 0, 0u), 0u);
        CHECK_ST(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
}

/* Authentication information of 64 KiB + 1 and 1 MiB logs on (a sealed
 * memfd carries it), its embedded strings rebased; 1 MiB + 1 is refused
 * with STATUS_INVALID_BUFFER_SIZE; nothing is left behind. */
static void test_logons_large_auth(void **state)
{
        (void)state;
        g_host->cfg.max_submit = 1u << 20;
        int fds = tu_count_fds();
        expect_client_ok(child_large_auth, NULL);
        assert_int_equal(g_host->cs.n, 0);
        assert_int_equal(tu_count_fds(), fds);
        assert_int_equal(host_sessions_count(), 0);
}

/* A logon connection made by hand, TestApEx2 looked up: its id. */
static int raw_logon_client(uint32_t *ret_id)
{
        int s = tu_seqpacket_connect(g_sock, SOCK_NONBLOCK);
        assert_true(s >= 0);
        struct lsa_wire_message m = { .type = LSA_WIRE_CONNECT };
        m.connect.mode = LSA_WIRE_MODE_LOGON;
        m.connect.reply_base = 0x7f0000000000ull;
        m.connect.reply_size = 16u << 20;
        raw_send(s, &m, -1);
        struct lsa_wire_message r = raw_reply(s);
        assert_int_equal(r.type, LSA_WIRE_CONNECT_REPLY);
        assert_int_equal(r.connect_reply.status, STATUS_SUCCESS);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_LOOKUP };
        m.lookup.name_len = (uint8_t)strlen(TAP_NAME_EX2);
        memcpy(m.lookup.name, TAP_NAME_EX2, m.lookup.name_len);
        raw_send(s, &m, -1);
        r = raw_reply(s);
        assert_int_equal(r.type, LSA_WIRE_LOOKUP_REPLY);
        assert_int_equal(r.lookup_reply.status, STATUS_SUCCESS);
        *ret_id = r.lookup_reply.package;
        return s;
}

#define RAW_AUTH_BASE 0x10000u

static struct lsa_wire_message raw_logon_msg(uint32_t id, const uint8_t *auth, uint32_t len)
{
        struct lsa_wire_message m = { .type = LSA_WIRE_LOGON };
        m.logon.package = id;
        m.logon.logon_type = Interactive;
        m.logon.auth_base = RAW_AUTH_BASE;
        m.logon.auth_len = len;
        m.logon.auth = len <= LSA_WIRE_MAX_SUBMIT ? auth : NULL;
        memcpy(m.logon.source_name, "raw", 3);
        return m;
}

/* An authentication buffer as the client at RAW_AUTH_BASE would send it. */
static uint8_t *raw_auth(uint32_t len)
{
        uint8_t *b = calloc(1, len);
        assert_non_null(b);
        struct auth a;
        auth_make(&a, TAP_USER_OK, TAP_PASSWORD);
        size_t chars = (size_t)(a.m.LogonDomainName.Length + a.m.UserName.Length + a.m.Password.Length);
        uintptr_t tail = (len - chars) & ~(uintptr_t)1; /* WCHARs: 2-byte aligned */
        memcpy(b + tail, a.chars, chars);
        UNICODE_STRING *str[3] = { &a.m.LogonDomainName, &a.m.UserName, &a.m.Password };
        for (int i = 0; i < 3; i++)
                str[i]->Buffer = (PWSTR)(RAW_AUTH_BASE + tail + (uintptr_t)((UCHAR *)str[i]->Buffer - (UCHAR *)a.chars));
        memcpy(b, &a.m, sizeof(a.m));
        return b;
}

/* A memfd not sealed against every change, or not of the size the LOGON
 * says, is refused (STATUS_INVALID_PARAMETER), logged, and the connection
 * goes on; a good one logs on; past max-submit-size, refused. A LOGON past
 * 64 KiB without its memfd, or a small one with one, is dropped. */
static void test_logons_memfd_checked(void **state)
{
        (void)state;
        const uint32_t size = LSA_WIRE_MAX_SUBMIT + 1;
        uint8_t *auth = raw_auth(size);
        uint32_t id;
        g_host->cfg.max_submit = 1u << 20;
        int s = raw_logon_client(&id);
        unsigned since = g_nlog;
        for (int how = MEMFD_UNSEALED; how <= MEMFD_GOOD; how++) {
                /* Bytes that do not grow a short file back to size. */
                int fd = make_memfd(auth, how == MEMFD_GOOD ? size : size - 1, size, (enum bad_memfd)how);
                struct lsa_wire_message m = raw_logon_msg(id, auth, size);
                raw_send(s, &m, fd);
                close(fd);
                struct lsa_wire_message r = raw_reply(s);
                assert_int_equal(r.type, LSA_WIRE_LOGON_REPLY);
                if (how != MEMFD_GOOD) {
                        assert_int_equal(r.logon_reply.status, STATUS_INVALID_PARAMETER);
                        assert_int_equal(r.logon_reply.token_id, 0);
                } else {
                        assert_int_equal(r.logon_reply.status, STATUS_SUCCESS);
                        assert_true(r.logon_reply.token_id != 0);
                        assert_true(r.logon_reply.flags & LSA_WIRE_REPLY_HAS_BUFFER);
                }
        }
        assert_int_equal(log_count_since(since, "memfd", NULL), MEMFD_GOOD);
        assert_int_equal(host_sessions_count(), 1);
        /* Past max-submit-size: refused before anything is mapped. */
        g_host->cfg.max_submit = 128u * 1024u;
        uint8_t *big = raw_auth(128u * 1024u + 1);
        int fd = make_memfd(big, 128u * 1024u + 1, 128u * 1024u + 1, MEMFD_GOOD);
        struct lsa_wire_message m = raw_logon_msg(id, big, 128u * 1024u + 1);
        raw_send(s, &m, fd);
        close(fd);
        struct lsa_wire_message r = raw_reply(s);
        assert_int_equal(r.logon_reply.status, STATUS_INVALID_BUFFER_SIZE);
        g_host->cfg.max_submit = 1u << 20;
        free(big);
        close(s); /* its token goes with it, and the session */
        pump_idle(20);
        assert_int_equal(g_host->cs.n, 0);
        assert_int_equal(host_sessions_count(), 0);

        /* Protocol errors: dropped. */
        uint64_t dropped = g_host->cs.dropped;
        s = raw_logon_client(&id);
        m = raw_logon_msg(id, auth, size);
        raw_send(s, &m, -1);
        raw_expect_hangup(s);
        close(s);
        s = raw_logon_client(&id);
        fd = make_memfd(auth, 256, 256, MEMFD_GOOD);
        m = raw_logon_msg(id, auth, 256);
        raw_send(s, &m, fd);
        close(fd);
        raw_expect_hangup(s);
        close(s);
        pump_idle(20);
        assert_int_equal(g_host->cs.dropped, dropped + 2);
        assert_int_equal(g_host->cs.n, 0);
        free(auth);
}

/* The codec: a LOGON past 64 KiB carries no authentication bytes (its
 * memfd does) and says so; one with bytes too is malformed. */
static void test_logons_wire_large_auth(void **state)
{
        (void)state;
        static uint8_t buf[LSA_WIRE_MAX_MESSAGE];
        struct lsa_wire_message m = raw_logon_msg(3, NULL, LSA_WIRE_MAX_SUBMIT + 1), d;
        size_t len = lsa_wire_encode(&m, buf);
        assert_true(len > 0);
        assert_int_equal(lsa_wire_decode(buf, len, 1, &d), 0);
        assert_int_equal(d.logon.auth_len, LSA_WIRE_MAX_SUBMIT + 1);
        assert_null(d.logon.auth);
        assert_true(lsa_wire_carries_fd(&d));
        buf[len] = 0;
        buf[4] = (uint8_t)(len + 1);
        assert_int_equal(lsa_wire_decode(buf, len + 1, 1, &d), -EBADMSG);
        m.logon.auth_len = LSA_WIRE_MAX_AUTH + 1;
        assert_int_equal(lsa_wire_encode(&m, buf), 0);
        uint8_t small[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        m = raw_logon_msg(3, small, sizeof(small));
        len = lsa_wire_encode(&m, buf);
        assert_int_equal(lsa_wire_decode(buf, len, 1, &d), 0);
        assert_false(lsa_wire_carries_fd(&d));
        assert_memory_equal(d.logon.auth, small, sizeof(small));
}

/* ================= logons on the worker pool ================= */

static void child_slow_logon_stalls_no_one_else(void *arg, int index)
{
        (void)arg;
        (void)index;
        uint32_t quiet = crowd_p99();
        int done[2];
        CHECK(pipe2(done, O_CLOEXEC) == 0);
        pid_t slow = tu_fork();
        CHECK(slow >= 0);
        if (slow == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                HANDLE h = c_logon();
                ULONG pkg = c_lookup(h, TAP_NAME_EX2);
                uint64_t t0 = now_us();
                struct logon r = c_logon_user(h, pkg, TAP_USER_SLOW, TAP_PASSWORD);
                uint64_t took = now_us() - t0;
                CHECK_ST(r.st, STATUS_SUCCESS);
                CHECK(took >= (TAP_SLOW_MS - 50) * 1000u);
                CHECK_ST(LsaFreeReturnBuffer(r.profile), STATUS_SUCCESS);
                CHECK_ST(LsashmCloseToken(r.token), STATUS_SUCCESS);
                CHECK(write(done[1], &took, sizeof(took)) == (ssize_t)sizeof(took));
                _exit(0);
        }
        close(done[1]);
        int64_t end = tu_now_ms() + STEP_MS;
        while (!log_has_line(TAP_SLOW_LINE) && tu_now_ms() < end)
                tu_sleep_ms(2);
        CHECK(log_has_line(TAP_SLOW_LINE));
        uint32_t loaded = crowd_p99();
        uint64_t took;
        CHECK(tu_read_all(done[0], &took, sizeof(took)));
        close(done[0]);
        CHECK(tu_exited_ok(tu_wait(slow, 60, NULL)));
        fprintf(stderr, "child: p99 of %d clients' calls: %u us quiet, %u us while one LogonUser sleeps %u ms\n",
                CROWD, quiet, loaded, TAP_SLOW_MS);
        CHECK(crowd_p99_unharmed(quiet, loaded, TAP_SLOW_MS));
}

/* A LogonUser that sleeps 2 s delays only its own client: 100 others'
 * calls keep their p99 (within 2x a quiet run, plus a margin). */
static void test_logons_slow_logon_stalls_no_one_else(void **state)
{
        (void)state;
        g_host->cs.cfg.per_uid = 4 * CROWD;
        unlink(g_log_path);
        expect_client_ok(child_slow_logon_stalls_no_one_else, NULL);
        assert_int_equal(host_sessions_count(), 0);
}

static void child_slow_logon(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG pkg = c_lookup(h, TAP_NAME_EX2);
        struct logon r = c_logon_user(h, pkg, TAP_USER_SLOW, TAP_PASSWORD);
        CHECK_ST(r.st, STATUS_SUCCESS);
        /* GetClientInfo inside this LogonUser answered for this client. */
        CHECK_EQ(((const TAP_PROFILE *)r.profile)->ClientPid, (ULONG)getpid());
        check_alice_token(r.token, r.id);
        CHECK_ST(LsaFreeReturnBuffer(r.profile), STATUS_SUCCESS);
        CHECK_ST(LsashmCloseToken(r.token), STATUS_SUCCESS);
        CHECK_ST(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
}

/* Two slow logons from two clients at once take about one LogonUser's
 * time, not two. */
static void test_logons_two_at_once(void **state)
{
        (void)state;
        int64_t t0 = tu_now_ms();
        expect_clients_ok(child_slow_logon, NULL, 2, NULL);
        int64_t took = tu_now_ms() - t0;
        fprintf(stderr, "two %u ms logons at once: %lld ms\n", TAP_SLOW_MS, (long long)took);
        assert_true(took >= TAP_SLOW_MS - 50);
        assert_true(took < TAP_SLOW_MS * 3 / 2);
        assert_int_equal(host_sessions_count(), 0);
}

#define INFO_LOGONS 40

static void child_client_info_logons(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG pkg = c_lookup(h, TAP_NAME_EX2);
        for (int i = 0; i < INFO_LOGONS; i++) {
                struct logon r = c_logon_user(h, pkg, TAP_USER_OK, TAP_PASSWORD);
                CHECK_ST(r.st, STATUS_SUCCESS);
                CHECK_EQ(((const TAP_PROFILE *)r.profile)->ClientPid, (ULONG)getpid());
                CHECK_ST(LsaFreeReturnBuffer(r.profile), STATUS_SUCCESS);
                CHECK_ST(LsashmCloseToken(r.token), STATUS_SUCCESS);
        }
        CHECK_ST(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
}

/* Four clients log on over and over at once, on different workers:
 * GetClientInfo inside each LogonUser names that logon's client. */
static void test_logons_client_info_per_logon(void **state)
{
        (void)state;
        expect_clients_ok(child_client_info_logons, NULL, 4, NULL);
        assert_int_equal(host_sessions_count(), 0);
}

/* A token outlives LsaDeregisterLogonProcess of its handle; who sees which
 * sessions. */
static void child_token_outlives_handle(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG pkg = c_lookup(h, TAP_NAME_EX2);
        struct logon r = c_logon_user(h, pkg, TAP_USER_OK, TAP_PASSWORD);
        CHECK_ST(r.st, STATUS_SUCCESS);
        CHECK_ST(LsaDeregisterLogonProcess(h), STATUS_SUCCESS);
        /* The profile buffer and the token live on. */
        CHECK_EQ(((const TAP_PROFILE *)r.profile)->MessageType, TAP_PROFILE_TYPE);
        check_alice_token(r.token, r.id);
        CHECK(listed(r.id));
        CHECK_EQ(ask_until(Q_LOGON_SESSIONS, 0, 1u), 1u);
        /* Others: uid 1000 sees its own session, nobody none. */
        for (int who = 0; who < 2; who++) {
                pid_t pid = tu_fork();
                CHECK(pid >= 0);
                if (pid == 0) {
                        struct tu_creds cr = { .uid = who ? NOBODY : TAP_UID, .gid = who ? NOBODY : TAP_GID };
                        tu_become(&cr);
                        PSECURITY_LOGON_SESSION_DATA d;
                        bool sees = listed(r.id);
                        NTSTATUS st = LsaGetLogonSessionData(&r.id, &d);
                        if (st == STATUS_SUCCESS)
                                LsaFreeReturnBuffer(d);
                        _exit(sees == !who && st == (who ? STATUS_NO_SUCH_LOGON_SESSION : STATUS_SUCCESS) ? 0 : 1);
                }
                int status;
                waitpid(pid, &status, 0);
                CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        CHECK_ST(LsaFreeReturnBuffer(r.profile), STATUS_SUCCESS);
        CHECK_ST(LsashmCloseToken(r.token), STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_LOGON_SESSIONS, 0, 0), 0u);
        CHECK(!listed(r.id));
}

static void test_logons_token_outlives_handle(void **state)
{
        (void)state;
        expect_client_ok(child_token_outlives_handle, NULL);
        assert_int_equal(host_sessions_count(), 0);
}

/* A token names its session, not a later one with the same LUID: the
 * package deletes the session while the token is open, and another logon
 * makes a session with the LUID; closing the first token leaves the second
 * logon's session alone. */
static void child_token_names_its_session(void *arg, int index)
{
        (void)arg;
        (void)index;
        HANDLE h = c_logon();
        ULONG pkg = c_lookup(h, TAP_NAME_EX2);
        struct logon r = c_logon_user(h, pkg, TAP_USER_OK, TAP_PASSWORD);
        CHECK_ST(r.st, STATUS_SUCCESS);
        CHECK_ST(c_session_op(h, pkg, TAP_DELETE_SESSION, r.id), STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_LOGON_SESSIONS, 0, 0u), 0u);
        struct logon again = c_logon_user(h, pkg, TAP_USER_RECREATE, TAP_PASSWORD);
        CHECK_ST(again.st, STATUS_SUCCESS);
        CHECK(luid_eq(again.id, r.id));
        CHECK_ST(c_session_op(h, pkg, TAP_CREATE_SESSION, r.id), STATUS_LOGON_SESSION_COLLISION);
        CHECK_ST(LsashmCloseToken(r.token), STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_LOGON_SESSIONS, 0, 1u), 1u);
        CHECK(listed(again.id));
        CHECK_ST(LsashmCloseToken(again.token), STATUS_SUCCESS);
        CHECK_EQ(ask_until(Q_LOGON_SESSIONS, 0, 0u), 0u);
        CHECK_ST(c_session_op(h, pkg, TAP_DELETE_SESSION, r.id), STATUS_NO_SUCH_LOGON_SESSION);
        CHECK_ST(LsaFreeReturnBuffer(r.profile), STATUS_SUCCESS);
        CHECK_ST(LsaFreeReturnBuffer(again.profile), STATUS_SUCCESS);
}

/* Sessions end on whichever worker closes their last token. */
static pthread_mutex_t g_deleted_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned g_deleted;
static LUID g_last_deleted;

static void count_deleted(const LUID *id)
{
        pthread_mutex_lock(&g_deleted_lock);
        g_deleted++;
        g_last_deleted = *id;
        pthread_mutex_unlock(&g_deleted_lock);
}

static unsigned deleted_count(void)
{
        pthread_mutex_lock(&g_deleted_lock);
        unsigned n = g_deleted;
        pthread_mutex_unlock(&g_deleted_lock);
        return n;
}

static void test_logons_token_names_its_session(void **state)
{
        (void)state;
        unsigned before = deleted_count();
        expect_client_ok(child_token_names_its_session, NULL);
        assert_int_equal(host_sessions_count(), 0);
        /* The hook for what is kept per session ran for both. */
        assert_int_equal(deleted_count() - before, 2);
        pthread_mutex_lock(&g_deleted_lock);
        assert_int_equal(g_last_deleted.HighPart, 0x7A7A);
        pthread_mutex_unlock(&g_deleted_lock);
}

/* The AP-only packages: loaded by name, their names freed at unload (one of
 * them one block with its LSA_STRING), taking part in status. */
static void test_logons_ap_packages_loaded(void **state)
{
        (void)state;
        assert_non_null(host_find_package_name(g_host, TAP_NAME_EX2));
        assert_non_null(host_find_package_name(g_host, TAP_NAME_PLAIN));
        char *text = host_report_text(0);
        assert_non_null(strstr(text, TAP_NAME_EX2));
        assert_non_null(strstr(text, "Logon sessions: 0"));
        free(text);
        char *json = host_report_text(1);
        assert_non_null(strstr(json, "\"logon_sessions\":0"));
        free(json);
}

/* Unloading frees the names (the plain one's in the same block as its
 * LSA_STRING) without a refused free. */
static void test_logons_ap_unload(void **state)
{
        (void)state;
        struct host_heap_stats before, after;
        host_heap_stats(&before);
        struct host_package *p = host_find_package_name(g_host, TAP_NAME_PLAIN);
        assert_non_null(p);
        host_package_unload(g_host, p);
        p = host_find_package_name(g_host, TAP_NAME_EX);
        assert_non_null(p);
        host_package_unload(g_host, p);
        p = host_find_package_name(g_host, TAP_NAME_EX2);
        assert_non_null(p);
        host_package_unload(g_host, p);
        host_heap_stats(&after);
        assert_int_equal(after.refused_frees, before.refused_frees);
        assert_int_equal(before.live_blocks - after.live_blocks, 5); /* ex2, ex: 2 blocks each, plain: 1 */
}

static int logons_setup(void **state)
{
        if (group_setup(state) < 0)
                return -1;
        host_session_deleted_hook = count_deleted;
        const char *files[] = { "test-pkg-ap-ex2.so", "test-pkg-ap-ex.so", "test-pkg-ap-plain.so" };
        for (size_t i = 0; i < 3; i++) {
                char path[512];
                snprintf(path, sizeof(path), "%s/%s", TEST_PACKAGE_DIR, files[i]);
                if (host_load_package(g_host, path) < 0)
                        return -1;
        }
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_logons_ap_packages_loaded, setup),
                cmocka_unit_test_setup(test_logons_ex2_end_to_end, setup),
                cmocka_unit_test_setup(test_logons_plain_and_client_exit, setup),
                cmocka_unit_test_setup(test_logons_ex, setup),
                cmocka_unit_test_setup(test_logons_statuses_and_malformed_tokens, setup),
                cmocka_unit_test_setup(test_logons_unwalkable_token_info, setup),
                cmocka_unit_test_setup(test_logons_client_killed_mid_logon, setup),
                cmocka_unit_test_setup(test_logons_token_outlives_handle, setup),
                cmocka_unit_test_setup(test_logons_token_names_its_session, setup),
                cmocka_unit_test_setup(test_logons_wire_large_auth, setup),
                cmocka_unit_test_setup(test_logons_large_auth, setup),
                cmocka_unit_test_setup(test_logons_memfd_checked, setup),
                cmocka_unit_test_setup(test_logons_two_at_once, setup),
                cmocka_unit_test_setup(test_logons_client_info_per_logon, setup),
                cmocka_unit_test_setup(test_logons_slow_logon_stalls_no_one_else, setup),
                cmocka_unit_test_setup(test_logons_ap_unload, setup),
        };
        if (!host_fixture_root("test-host-logons"))
                return 77;
        return cmocka_run_group_tests(tests, logons_setup, group_teardown);
}
