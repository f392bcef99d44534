/* SPDX-License-Identifier: MIT */
/*
 * Loading and unloading packages, in Windows' order: dlopen,
 * SpLsaModeInitialize(SECPKG_INTERFACE_VERSION), then for each table it
 * returns InitializePackage (if present) with the full function table,
 * SpInitialize exactly once with real parameters, and GetInfo for the name
 * clients look up. A library without SpLsaModeInitialize but with
 * LsaApInitializePackage is an authentication package (AP-only): its LsaAp*
 * entry points are found by name and LsaApInitializePackage, called once
 * with the full function table, names it. Unloading calls Shutdown, deletes the package's sections
 * (host_packages_release_owned: sections are a layer above) and dlcloses the
 * library once its last package is gone.
 *
 * A package's table is copied, and only the members that exist in the
 * version the package returned: a package built for an older interface has
 * a shorter table, and reading past it would read someone else's memory.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "host/host-packages.h"

static LSA_SECPKG_FUNCTION_TABLE function_table;
static bool function_table_ready;

/* SECPKG_PARAMETERS point at strings the package may keep: they live as
 * long as the process. */
static WCHAR domain_name[256];
static WCHAR dns_domain_name[256];
static SECPKG_PARAMETERS parameters;

/* Members of SECPKG_FUNCTION_TABLE that exist in each interface version. */
static unsigned members_for_version(ULONG version)
{
        static const struct {
                ULONG version;
                unsigned members;
        } known[] = {
                { SECPKG_INTERFACE_VERSION_11, 43 }, { SECPKG_INTERFACE_VERSION_10, 42 },
                { SECPKG_INTERFACE_VERSION_9, 39 },  { SECPKG_INTERFACE_VERSION_8, 38 },
                { SECPKG_INTERFACE_VERSION_7, 36 },  { SECPKG_INTERFACE_VERSION_6, 35 },
                { SECPKG_INTERFACE_VERSION_5, 34 },  { SECPKG_INTERFACE_VERSION_4, 30 },
                { SECPKG_INTERFACE_VERSION_3, 29 },  { SECPKG_INTERFACE_VERSION_2, 28 },
                { SECPKG_INTERFACE_VERSION, 27 },
        };
        /* The highest version bit the package claims decides; a version
         * newer than ours gets every member we know. */
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
                if (version >= known[i].version)
                        return known[i].members;
        return 0;
}

static size_t ascii_to_utf16(const char *s, WCHAR *out, size_t cap)
{
        size_t n = 0;
        for (; s[n] && n + 1 < cap; n++)
                out[n] = (WCHAR)(unsigned char)s[n];
        out[n] = 0;
        return n;
}

static void parameters_init(void)
{
        char host[256] = "localhost";
        gethostname(host, sizeof(host) - 1);
        host[sizeof(host) - 1] = '\0';
        size_t n = ascii_to_utf16(host, domain_name, 256);
        size_t m = ascii_to_utf16(host, dns_domain_name, 256);
        parameters = (SECPKG_PARAMETERS){
                .Version = 2,
                .MachineState = SECPKG_STATE_STANDALONE | SECPKG_STATE_ENCRYPTION_PERMITTED |
                                SECPKG_STATE_STRONG_ENCRYPTION_PERMITTED,
                .SetupMode = 0,
                .DomainSid = NULL,
                .DomainName = { (USHORT)(n * 2), (USHORT)(n * 2 + 2), domain_name },
                .DnsDomainName = { (USHORT)(m * 2), (USHORT)(m * 2 + 2), dns_domain_name },
        };
}

/* UTF-16 (n units) to UTF-8 in out (cap bytes incl. NUL); -1 if it does
 * not fit or is not valid UTF-16. */
static int utf16_to_utf8(const WCHAR *s, size_t n, char *out, size_t cap)
{
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
                uint32_t cp = s[i];
                if (cp >= 0xD800 && cp < 0xDC00) {
                        if (i + 1 >= n || s[i + 1] < 0xDC00 || s[i + 1] >= 0xE000)
                                return -1;
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (s[++i] - 0xDC00u);
                } else if (cp >= 0xDC00 && cp < 0xE000) {
                        return -1;
                }
                if (cp == 0)
                        return -1;
                unsigned len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
                if (o + len >= cap)
                        return -1;
                if (len == 1) {
                        out[o++] = (char)cp;
                } else {
                        static const uint8_t lead[] = { 0, 0, 0xC0, 0xE0, 0xF0 };
                        for (unsigned k = len; k-- > 1;) {
                                out[o + k] = (char)(0x80 | (cp & 0x3F));
                                cp >>= 6;
                        }
                        out[o] = (char)(lead[len] | cp);
                        o += len;
                }
        }
        out[o] = '\0';
        return 0;
}

struct host_package *host_find_package_name(struct host *h, const char *name)
{
        /* Windows looks package names up without regard to case. */
        for (unsigned i = 0; i < h->npackages; i++)
                if (strcasecmp(h->packages[i]->name, name) == 0)
                        return h->packages[i];
        return NULL;
}

struct host_package *host_find_package_utf16(struct host *h, const UNICODE_STRING *name)
{
        char utf8[LSA_WIRE_MAX_NAME + 1];
        if (!name || !name->Buffer || name->Length % 2 || name->Length > name->MaximumLength ||
            utf16_to_utf8(name->Buffer, name->Length / 2, utf8, sizeof(utf8)) < 0)
                return NULL;
        return host_find_package_name(h, utf8);
}

/* The AuthenticationPackageName InitializePackage gave: an LSA_STRING and
 * its Buffer, both LSA heap, freed as Windows frees them. Usually two
 * blocks; a package may also put the characters behind the struct in one
 * block, and then that block is all there is to free. The struct is read
 * only once it is known to be a live block large enough to hold it. */
static void package_name_free(struct host_package *p)
{
        PLSA_STRING s = p->ap_name;
        p->ap_name = NULL;
        if (!s)
                return;
        struct host_package *outer = host_active_package;
        host_active_package = p; /* refusals are this package's */
        size_t len;
        if (host_heap_block(s, &len) && len >= sizeof(*s)) {
                uintptr_t b = (uintptr_t)s->Buffer, start = (uintptr_t)s;
                bool inside = b >= start && b - start < len;
                if (s->Buffer && !inside)
                        host_heap_free_checked(s->Buffer, "unloading, its AuthenticationPackageName Buffer");
        }
        host_heap_free_checked(s, "unloading, its AuthenticationPackageName");
        host_active_package = outer;
}

static void package_free(struct host_package *p)
{
        host_package_status_forget(p->id);
        package_name_free(p);
        free(p);
}

/* Is another package still using this library? */
static bool library_in_use(const struct host *h, const void *dl, const struct host_package *except)
{
        for (unsigned i = 0; i < h->npackages; i++)
                if (h->packages[i] != except && h->packages[i]->dl == dl)
                        return true;
        return false;
}

void host_package_unload(struct host *h, struct host_package *p)
{
        if (p->table.Shutdown) {
                struct host_package *outer = host_active_package;
                host_active_package = p;
                host_active_entry = "Shutdown";
                NTSTATUS st = p->table.Shutdown();
                host_active_package = outer;
                if (!NT_SUCCESS(st))
                        host_logf(h, HOST_LOG_WARNING "package %s: Shutdown returned 0x%08X", p->name, (unsigned)st);
        }
        host_packages_release_owned(h, p);
        for (unsigned i = 0; i < h->npackages; i++) {
                if (h->packages[i] == p) {
                        memmove(&h->packages[i], &h->packages[i + 1],
                                (h->npackages - i - 1) * sizeof(h->packages[0]));
                        h->npackages--;
                        break;
                }
        }
        void *dl = p->dl;
        unsigned threads = host_package_threads_wait(p, 1000);
        if (threads) {
                /* Its code still runs, and names p as its package: both
                 * stay (the process is about to exit). */
                host_logf(h, HOST_LOG_WARNING "unloaded package %s: %u thread%s of its own still running: its library "
                             "stays loaded", p->name, threads, threads == 1 ? "" : "s");
                return;
        }
        host_logf(h, HOST_LOG_INFO "unloaded package %s", p->name);
        package_free(p);
        if (dl && !library_in_use(h, dl, NULL))
                dlclose(dl);
}

/* Bring up one table of a library; the package is in h->packages on success. */
static int init_package(struct host *h, const char *path, void *dl, ULONG version,
                        const SECPKG_FUNCTION_TABLE *table, unsigned members)
{
        static unsigned next_id;
        if (h->npackages >= HOST_MAX_PACKAGES) {
                host_logf(h, HOST_LOG_ERR "package %s: not loaded: %u packages already", path, HOST_MAX_PACKAGES);
                return -ENOSPC;
        }
        struct host_package *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->id = next_id;
        host_package_status_register(p->id);
        p->dl = dl;
        p->version = version;
        snprintf(p->path, sizeof(p->path), "%s", path);
        memcpy(&p->table, table, members * sizeof(void *));
        snprintf(p->name, sizeof(p->name), "(loading %s)", path);

        struct host_package *outer = host_active_package;
        host_active_package = p;
        NTSTATUS st = STATUS_SUCCESS;
        const char *step = "";
        if (p->table.InitializePackage) {
                host_active_entry = step = "InitializePackage";
                /* The full table, not just its 11-member prefix: some
                 * packages use members past the dispatch table. */
                st = p->table.InitializePackage(p->id, (PLSA_DISPATCH_TABLE)&function_table, NULL, NULL,
                                                &p->ap_name);
        }
        if (NT_SUCCESS(st) && p->table.Initialize) {
                host_active_entry = step = "SpInitialize";
                st = p->table.Initialize(p->id, &parameters, &function_table);
        }
        SecPkgInfoW info;
        memset(&info, 0, sizeof(info));
        bool named = false;
        if (NT_SUCCESS(st) && p->table.GetInfo) {
                host_active_entry = step = "GetInfo";
                st = p->table.GetInfo(&info);
                if (NT_SUCCESS(st) && info.Name) {
                        size_t n = 0;
                        while (n < 256 && info.Name[n])
                                n++;
                        named = n > 0 && n < 256 &&
                                utf16_to_utf8(info.Name, n, p->name, sizeof(p->name)) == 0;
                }
        }
        if (NT_SUCCESS(st) && !named && p->ap_name && p->ap_name->Buffer && p->ap_name->Length > 0 &&
            p->ap_name->Length <= LSA_WIRE_MAX_NAME && !memchr(p->ap_name->Buffer, 0, p->ap_name->Length)) {
                memcpy(p->name, p->ap_name->Buffer, p->ap_name->Length);
                p->name[p->ap_name->Length] = '\0';
                named = true;
        }
        host_active_package = outer;
        const char *why = NULL;
        char status[64];
        if (!NT_SUCCESS(st)) {
                snprintf(status, sizeof(status), "%s returned 0x%08X", step, (unsigned)st);
                why = status;
        } else if (!named) {
                why = "no name (GetInfo gave none, nor did InitializePackage)";
        } else if (host_find_package_name(h, p->name)) {
                why = "a package of that name is already loaded";
        }
        if (why) {
                host_logf(h, HOST_LOG_ERR "package %s: not loaded: %s", path, why);
                /* Initialised far enough to own something: let it clean up. */
                if (NT_SUCCESS(st) && p->table.Shutdown) {
                        host_active_package = p;
                        host_active_entry = "Shutdown";
                        p->table.Shutdown();
                        host_active_package = outer;
                }
                host_packages_release_owned(h, p);
                package_free(p);
                return -EINVAL;
        }
        p->info = info;
        p->info.Name = NULL; /* the package's memory: we keep our copy of the name */
        p->info.Comment = NULL;
        next_id++;
        h->packages[h->npackages++] = p;
        host_logf(h, HOST_LOG_INFO "loaded package %s (id %u, version 0x%08X) from %s", p->name, p->id,
                  (unsigned)version, path);
        return 0;
}

/* An authentication package (AP) without SpLsaModeInitialize: its LsaAp*
 * entry points, exported by name, are the first members of
 * SECPKG_FUNCTION_TABLE, in the same order. */
#define AP_ONLY_MEMBERS 8u
_Static_assert(offsetof(SECPKG_FUNCTION_TABLE, LogonUserEx2) / sizeof(void *) == AP_ONLY_MEMBERS - 1,
               "the LsaAp* entry points open SECPKG_FUNCTION_TABLE");

static bool ap_only_table(void *dl, SECPKG_FUNCTION_TABLE *t)
{
        memset(t, 0, sizeof(*t));
        *(void **)&t->InitializePackage = dlsym(dl, LSA_AP_NAME_INITIALIZE_PACKAGE);
        if (!t->InitializePackage)
                return false;
        *(void **)&t->LogonUser = dlsym(dl, LSA_AP_NAME_LOGON_USER);
        *(void **)&t->LogonUserEx = dlsym(dl, LSA_AP_NAME_LOGON_USER_EX);
        *(void **)&t->LogonUserEx2 = dlsym(dl, LSA_AP_NAME_LOGON_USER_EX2);
        *(void **)&t->CallPackage = dlsym(dl, LSA_AP_NAME_CALL_PACKAGE);
        *(void **)&t->CallPackageUntrusted = dlsym(dl, LSA_AP_NAME_CALL_PACKAGE_UNTRUSTED);
        *(void **)&t->CallPackagePassthrough = dlsym(dl, LSA_AP_NAME_CALL_PACKAGE_PASSTHROUGH);
        *(void **)&t->LogonTerminated = dlsym(dl, LSA_AP_NAME_LOGON_TERMINATED);
        return true;
}

int host_load_package(struct host *h, const char *path)
{
        if (!h || !path)
                return -EINVAL;
        if (!function_table_ready) {
                host_packages_table_fill(&function_table);
                parameters_init();
                function_table_ready = true;
        }
        char bad[96];
        if (host_package_file_check(path, bad, sizeof(bad)) < 0) { /* before dlopen can fault on it */
                host_logf(h, "package %s: not loaded: %s", path, bad);
                return -ENOEXEC;
        }
        void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                const char *e = dlerror();
                host_logf(h, HOST_LOG_ERR "package %s: not loaded: %s", path, e ? e : "dlopen failed");
                return -ENOENT;
        }
        /* dlopen hands back the library already loaded under another path
         * or the same one: initialising it again would reset the state of
         * the package that is serving. */
        if (library_in_use(h, dl, NULL)) {
                host_logf(h, HOST_LOG_ERR "package %s: not loaded: that library is already loaded", path);
                dlclose(dl);
                return -EEXIST;
        }
        SpLsaModeInitializeFn init;
        *(void **)&init = dlsym(dl, SECPKG_LSAMODEINIT_NAME);
        if (!init) {
                SECPKG_FUNCTION_TABLE ap;
                if (ap_only_table(dl, &ap)) {
                        int r = init_package(h, path, dl, 0, &ap, AP_ONLY_MEMBERS);
                        if (r < 0)
                                dlclose(dl);
                        return r;
                }
                host_logf(h, HOST_LOG_ERR "package %s: not loaded: neither %s nor %s", path, SECPKG_LSAMODEINIT_NAME,
                          LSA_AP_NAME_INITIALIZE_PACKAGE);
                dlclose(dl);
                return -ENOEXEC;
        }
        ULONG version = 0, count = 0;
        PSECPKG_FUNCTION_TABLE tables = NULL;
        NTSTATUS st = init(SECPKG_INTERFACE_VERSION, &version, &tables, &count);
        unsigned members = members_for_version(version);
        const char *why = NULL;
        char buf[96];
        if (!NT_SUCCESS(st)) {
                snprintf(buf, sizeof(buf), "%s returned 0x%08X", SECPKG_LSAMODEINIT_NAME, (unsigned)st);
                why = buf;
        } else if (!tables || count == 0) {
                why = "it returned no function table";
        } else if (count > HOST_MAX_PACKAGES) {
                why = "it returned too many function tables";
        } else if (members == 0) {
                snprintf(buf, sizeof(buf), "unsupported interface version 0x%08X", (unsigned)version);
                why = buf;
        }
        if (why) {
                host_logf(h, HOST_LOG_ERR "package %s: not loaded: %s", path, why);
                dlclose(dl);
                return -EINVAL;
        }
        int loaded = 0, r = 0;
        for (ULONG i = 0; i < count; i++) {
                int e = init_package(h, path, dl, version, &tables[i], members);
                if (e == 0)
                        loaded++;
                else
                        r = e;
        }
        if (!loaded) {
                dlclose(dl);
                return r;
        }
        return 0;
}

void host_packages_logon_terminated(const LUID *logon_id)
{
        struct host *h = host_global;
        if (!h)
                return;
        for (unsigned i = 0; i < h->npackages; i++) {
                struct host_package *p = h->packages[i];
                if (!p->table.LogonTerminated)
                        continue;
                LUID copy = *logon_id; /* each package gets its own: it may write to it */
                struct host_package *outer = host_active_package;
                host_active_package = p;
                host_active_entry = "LogonTerminated";
                p->table.LogonTerminated(&copy);
                host_active_package = outer;
        }
}

/* ---- what --check shows of a loaded package ---- */

static const struct {
        const char *name;
        size_t offset;
} entry_points[] = {
        { "InitializePackage", offsetof(SECPKG_FUNCTION_TABLE, InitializePackage) },
        { "LogonUser", offsetof(SECPKG_FUNCTION_TABLE, LogonUser) },
        { "CallPackage", offsetof(SECPKG_FUNCTION_TABLE, CallPackage) },
        { "LogonTerminated", offsetof(SECPKG_FUNCTION_TABLE, LogonTerminated) },
        { "CallPackageUntrusted", offsetof(SECPKG_FUNCTION_TABLE, CallPackageUntrusted) },
        { "CallPackagePassthrough", offsetof(SECPKG_FUNCTION_TABLE, CallPackagePassthrough) },
        { "LogonUserEx", offsetof(SECPKG_FUNCTION_TABLE, LogonUserEx) },
        { "LogonUserEx2", offsetof(SECPKG_FUNCTION_TABLE, LogonUserEx2) },
        { "Initialize", offsetof(SECPKG_FUNCTION_TABLE, Initialize) },
        { "Shutdown", offsetof(SECPKG_FUNCTION_TABLE, Shutdown) },
        { "GetInfo", offsetof(SECPKG_FUNCTION_TABLE, GetInfo) },
        { "AcceptCredentials", offsetof(SECPKG_FUNCTION_TABLE, AcceptCredentials) },
        { "AcquireCredentialsHandle", offsetof(SECPKG_FUNCTION_TABLE, AcquireCredentialsHandle) },
        { "QueryCredentialsAttributes", offsetof(SECPKG_FUNCTION_TABLE, QueryCredentialsAttributes) },
        { "FreeCredentialsHandle", offsetof(SECPKG_FUNCTION_TABLE, FreeCredentialsHandle) },
        { "SaveCredentials", offsetof(SECPKG_FUNCTION_TABLE, SaveCredentials) },
        { "GetCredentials", offsetof(SECPKG_FUNCTION_TABLE, GetCredentials) },
        { "DeleteCredentials", offsetof(SECPKG_FUNCTION_TABLE, DeleteCredentials) },
        { "InitLsaModeContext", offsetof(SECPKG_FUNCTION_TABLE, InitLsaModeContext) },
        { "AcceptLsaModeContext", offsetof(SECPKG_FUNCTION_TABLE, AcceptLsaModeContext) },
        { "DeleteContext", offsetof(SECPKG_FUNCTION_TABLE, DeleteContext) },
        { "ApplyControlToken", offsetof(SECPKG_FUNCTION_TABLE, ApplyControlToken) },
        { "GetUserInfo", offsetof(SECPKG_FUNCTION_TABLE, GetUserInfo) },
        { "GetExtendedInformation", offsetof(SECPKG_FUNCTION_TABLE, GetExtendedInformation) },
        { "QueryContextAttributes", offsetof(SECPKG_FUNCTION_TABLE, QueryContextAttributes) },
        { "AddCredentials", offsetof(SECPKG_FUNCTION_TABLE, AddCredentials) },
        { "SetExtendedInformation", offsetof(SECPKG_FUNCTION_TABLE, SetExtendedInformation) },
        { "SetContextAttributes", offsetof(SECPKG_FUNCTION_TABLE, SetContextAttributes) },
        { "SetCredentialsAttributes", offsetof(SECPKG_FUNCTION_TABLE, SetCredentialsAttributes) },
        { "ChangeAccountPassword", offsetof(SECPKG_FUNCTION_TABLE, ChangeAccountPassword) },
        { "QueryMetaData", offsetof(SECPKG_FUNCTION_TABLE, QueryMetaData) },
        { "ExchangeMetaData", offsetof(SECPKG_FUNCTION_TABLE, ExchangeMetaData) },
        { "GetCredUIContext", offsetof(SECPKG_FUNCTION_TABLE, GetCredUIContext) },
        { "UpdateCredentials", offsetof(SECPKG_FUNCTION_TABLE, UpdateCredentials) },
        { "ValidateTargetInfo", offsetof(SECPKG_FUNCTION_TABLE, ValidateTargetInfo) },
        { "PostLogonUser", offsetof(SECPKG_FUNCTION_TABLE, PostLogonUser) },
        { "GetRemoteCredGuardLogonBuffer", offsetof(SECPKG_FUNCTION_TABLE, GetRemoteCredGuardLogonBuffer) },
        { "GetRemoteCredGuardSupplementalCreds", offsetof(SECPKG_FUNCTION_TABLE, GetRemoteCredGuardSupplementalCreds) },
        { "GetTbalSupplementalCreds", offsetof(SECPKG_FUNCTION_TABLE, GetTbalSupplementalCreds) },
        { "LogonUserEx3", offsetof(SECPKG_FUNCTION_TABLE, LogonUserEx3) },
        { "PreLogonUserSurrogate", offsetof(SECPKG_FUNCTION_TABLE, PreLogonUserSurrogate) },
        { "PostLogonUserSurrogate", offsetof(SECPKG_FUNCTION_TABLE, PostLogonUserSurrogate) },
        { "ExtractTargetInfo", offsetof(SECPKG_FUNCTION_TABLE, ExtractTargetInfo) },
};

int host_package_describe(const struct host *h, unsigned index, char *buf, size_t len)
{
        if (!h || index >= h->npackages || !buf || len == 0)
                return -ENOENT;
        const struct host_package *p = h->packages[index];
        int n = snprintf(buf, len,
                         "%s: id %u, interface version 0x%08X, capabilities 0x%08X, version %u, RPC id 0x%04X, "
                         "max token %u bytes; entry points:",
                         p->name, p->id, (unsigned)p->version, (unsigned)p->info.fCapabilities,
                         (unsigned)p->info.wVersion, (unsigned)p->info.wRPCID, (unsigned)p->info.cbMaxToken);
        for (size_t i = 0; i < sizeof(entry_points) / sizeof(entry_points[0]) && n >= 0 && (size_t)n < len; i++) {
                void *fn;
                memcpy(&fn, (const char *)&p->table + entry_points[i].offset, sizeof(fn));
                if (fn)
                        n += snprintf(buf + n, len - (size_t)n, " %s", entry_points[i].name);
        }
        return n < 0 ? -EINVAL : 0;
}
