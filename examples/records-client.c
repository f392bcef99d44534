/* SPDX-License-Identifier: MIT */
/*
 * lsashm-example-records-client [add KEY VALUE | lookup KEY | list]
 *
 * A client of the example package "LsashmRecords" (records-package.c),
 * written only against <lsashm/ntsecapi.h> and libc, as a Windows program
 * would be against the SDK's ntsecapi.h.
 *
 *   add KEY VALUE   RecordsAdd; needs a trusted connection (run as root)
 *   lookup KEY      RecordsLookup; prints KEY=VALUE
 *   list            RecordsGetTable, then maps the shared table and prints
 *                   every record without further calls
 *   (nothing)       a demo: add three records (if trusted), look one up,
 *                   list them all, and print "records-client: ok"
 *
 * It connects with LsaRegisterLogonProcess (trusted) when the host allows
 * it (root, or lsashmd's logon-group), otherwise with LsaConnectUntrusted. The host's socket is $LSASHM_SOCKET, else
 * /run/lsashm/lsashm.sock. Exit status: 0 on success, 1 on any failure.
 *
 * Neither the return buffers nor the shared table are trusted: embedded
 * pointers must lie inside their buffer, offsets inside the view, and
 * lengths inside their arrays before anything is read through them.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lsashm/ntsecapi.h>

#include "records-protocol.h"

struct records_client {
        HANDLE lsa;
        ULONG package;
        BOOLEAN trusted;
};

static const char *status_name(NTSTATUS st)
{
        static const struct {
                NTSTATUS status;
                const char *name;
        } names[] = {
                { STATUS_SUCCESS, "STATUS_SUCCESS" },
                { STATUS_NOT_IMPLEMENTED, "STATUS_NOT_IMPLEMENTED" },
                { STATUS_INVALID_HANDLE, "STATUS_INVALID_HANDLE" },
                { STATUS_INVALID_PARAMETER, "STATUS_INVALID_PARAMETER" },
                { STATUS_NO_MEMORY, "STATUS_NO_MEMORY" },
                { STATUS_ACCESS_DENIED, "STATUS_ACCESS_DENIED" },
                { STATUS_OBJECT_NAME_NOT_FOUND, "STATUS_OBJECT_NAME_NOT_FOUND" },
                { RECORDS_STATUS_KEY_EXISTS, "STATUS_OBJECT_NAME_COLLISION" },
                { STATUS_PORT_DISCONNECTED, "STATUS_PORT_DISCONNECTED" },
                { STATUS_PORT_CONNECTION_REFUSED, "STATUS_PORT_CONNECTION_REFUSED" },
                { STATUS_QUOTA_EXCEEDED, "STATUS_QUOTA_EXCEEDED" },
                { STATUS_PRIVILEGE_NOT_HELD, "STATUS_PRIVILEGE_NOT_HELD" },
                { STATUS_INSUFFICIENT_RESOURCES, "STATUS_INSUFFICIENT_RESOURCES" },
                { STATUS_NOT_SUPPORTED, "STATUS_NOT_SUPPORTED" },
                { STATUS_INTERNAL_ERROR, "STATUS_INTERNAL_ERROR" },
                { STATUS_NO_SUCH_PACKAGE, "STATUS_NO_SUCH_PACKAGE" },
                { STATUS_NOT_FOUND, "STATUS_NOT_FOUND" },
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (names[i].status == st)
                        return names[i].name;
        return "an NTSTATUS";
}

static void report(const char *what, NTSTATUS st)
{
        fprintf(stderr, "records-client: %s: 0x%08X (%s)\n", what, (unsigned)st, status_name(st));
}

/* Prints bytes that came from the package, escaping what a terminal would
 * act on. */
static void print_bytes(const CHAR *s, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)s[i];
                if (ch >= 0x20 && ch < 0x7F && ch != '\\')
                        putchar(ch);
                else
                        printf("\\x%02X", ch);
        }
}

/* ---- Connection ---- */

static int client_open(struct records_client *c)
{
        NTSTATUS st;
        memset(c, 0, sizeof(*c));
        /* A logon process if the host allows it (root, or its logon
         * group): only those may add records. Otherwise untrusted. */
        CHAR process[] = "records-client";
        LSA_STRING logon = { sizeof(process) - 1, sizeof(process), process };
        LSA_OPERATIONAL_MODE mode;
        st = LsaRegisterLogonProcess(&logon, &c->lsa, &mode);
        if (NT_SUCCESS(st)) {
                c->trusted = TRUE;
        } else if (st == STATUS_PORT_CONNECTION_REFUSED) {
                st = LsaConnectUntrusted(&c->lsa);
                if (!NT_SUCCESS(st)) {
                        report("LsaConnectUntrusted", st);
                        return -1;
                }
        } else {
                report("LsaRegisterLogonProcess", st);
                return -1;
        }
        CHAR package[] = RECORDS_PACKAGE_NAME;
        LSA_STRING name = { sizeof(package) - 1, sizeof(package), package };
        st = LsaLookupAuthenticationPackage(c->lsa, &name, &c->package);
        if (!NT_SUCCESS(st)) {
                report("LsaLookupAuthenticationPackage(" RECORDS_PACKAGE_NAME ")", st);
                LsaDeregisterLogonProcess(c->lsa);
                c->lsa = NULL;
                return -1;
        }
        return 0;
}

static void client_close(struct records_client *c)
{
        if (c->lsa)
                LsaDeregisterLogonProcess(c->lsa);
        c->lsa = NULL;
}

/* One message. Returns 0 when the package answered STATUS_SUCCESS. A failed
 * call is reported here; a refusal by the package is left to the caller,
 * which finds it in *ret_protocol (STATUS_SUCCESS if the call itself failed)
 * and may accept some. */
static int client_call(struct records_client *c, const char *what, PVOID submit, ULONG length, PVOID *ret_buffer,
                       PULONG ret_length, NTSTATUS *ret_protocol)
{
        PVOID buffer = NULL;
        ULONG buffer_length = 0;
        NTSTATUS protocol = STATUS_SUCCESS;
        NTSTATUS st = LsaCallAuthenticationPackage(c->lsa, c->package, submit, length, &buffer, &buffer_length,
                                                   &protocol);
        /* Only the package's own answer: a failed call is reported here. */
        if (ret_protocol)
                *ret_protocol = NT_SUCCESS(st) ? protocol : STATUS_SUCCESS;
        if (!NT_SUCCESS(st)) {
                char msg[96];
                snprintf(msg, sizeof(msg), "LsaCallAuthenticationPackage(%s)", what);
                report(msg, st);
                return -1;
        }
        if (!NT_SUCCESS(protocol)) {
                LsaFreeReturnBuffer(buffer);
                return -1;
        }
        if (ret_buffer) {
                *ret_buffer = buffer;
                *ret_length = buffer_length;
        } else {
                LsaFreeReturnBuffer(buffer);
        }
        return 0;
}

/* ---- Messages ---- */

static int check_key(const char *key)
{
        size_t n = strlen(key);
        if (n == 0 || n > RECORDS_MAX_KEY) {
                fprintf(stderr, "records-client: a key is 1 to %u bytes\n", RECORDS_MAX_KEY);
                return -1;
        }
        return 0;
}

/* RecordsAdd. *ret_protocol: as for client_call; STATUS_SUCCESS too when
 * the arguments are refused before any call. */
static int records_add(struct records_client *c, const char *key, const char *value, NTSTATUS *ret_protocol)
{
        size_t klen = strlen(key), vlen = strlen(value);
        *ret_protocol = STATUS_SUCCESS;
        if (check_key(key) < 0)
                return -1;
        if (vlen > RECORDS_MAX_VALUE) {
                fprintf(stderr, "records-client: a value is at most %u bytes\n", RECORDS_MAX_VALUE);
                return -1;
        }
        /* The strings travel in the submit buffer itself, behind the
         * request; their Buffer fields are our addresses of them, which the
         * package rebases. */
        struct {
                RECORDS_ADD_REQUEST req;
                CHAR data[RECORDS_MAX_KEY + RECORDS_MAX_VALUE];
        } msg;
        memset(&msg, 0, sizeof(msg));
        memcpy(msg.data, key, klen);
        memcpy(msg.data + klen, value, vlen);
        msg.req.MessageType = RecordsAddMessage;
        msg.req.Flags = 0;
        msg.req.Key = (LSA_STRING){ (USHORT)klen, (USHORT)klen, msg.data };
        msg.req.Value = (LSA_STRING){ (USHORT)vlen, (USHORT)vlen, msg.data + klen };
        ULONG length = (ULONG)(sizeof(msg.req) + klen + vlen);
        return client_call(c, "RecordsAdd", &msg, length, NULL, NULL, ret_protocol);
}

/* Is the string's Buffer inside [buffer, buffer + length), with all its
 * bytes? */
static int reply_string_ok(const LSA_STRING *s, const void *buffer, ULONG length)
{
        uintptr_t start = (uintptr_t)buffer, p = (uintptr_t)s->Buffer;
        if (s->Length == 0)
                return 1;
        if (p < start || p - start >= length)
                return 0;
        return s->Length <= length - (p - start);
}

/* RecordsLookup; prints KEY=VALUE. *ret_protocol as for records_add. */
static int records_lookup(struct records_client *c, const char *key, NTSTATUS *ret_protocol)
{
        size_t klen = strlen(key);
        *ret_protocol = STATUS_SUCCESS;
        if (check_key(key) < 0)
                return -1;
        struct {
                RECORDS_LOOKUP_REQUEST req;
                CHAR data[RECORDS_MAX_KEY];
        } msg;
        memset(&msg, 0, sizeof(msg));
        memcpy(msg.data, key, klen);
        msg.req.MessageType = RecordsLookupMessage;
        msg.req.Key = (LSA_STRING){ (USHORT)klen, (USHORT)klen, msg.data };

        PVOID buffer;
        ULONG length;
        if (client_call(c, "RecordsLookup", &msg, (ULONG)(sizeof(msg.req) + klen), &buffer, &length,
                        ret_protocol) < 0)
                return -1;
        int r = -1;
        RECORDS_LOOKUP_RESPONSE resp;
        if (!buffer || length < sizeof(resp)) {
                fprintf(stderr, "records-client: RecordsLookup: reply of %u bytes is too short\n",
                        (unsigned)length);
                goto out;
        }
        memcpy(&resp, buffer, sizeof(resp));
        if (resp.MessageType != RecordsLookupMessage || !reply_string_ok(&resp.Key, buffer, length) ||
            !reply_string_ok(&resp.Value, buffer, length)) {
                fprintf(stderr, "records-client: RecordsLookup: malformed reply\n");
                goto out;
        }
        print_bytes(resp.Key.Buffer, resp.Key.Length);
        putchar('=');
        print_bytes(resp.Value.Buffer, resp.Value.Length);
        putchar('\n');
        r = 0;
out:
        LsaFreeReturnBuffer(buffer);
        return r;
}

/* RecordsGetTable, then read the table straight from the shared section. */
static int records_list(struct records_client *c)
{
        RECORDS_GET_TABLE_REQUEST req = { .MessageType = RecordsGetTableMessage };
        PVOID buffer;
        ULONG length;
        NTSTATUS protocol;
        if (client_call(c, "RecordsGetTable", &req, sizeof(req), &buffer, &length, &protocol) < 0) {
                if (protocol != STATUS_SUCCESS)
                        report("RecordsGetTable", protocol);
                return -1;
        }
        RECORDS_GET_TABLE_RESPONSE info;
        int ok = buffer && length >= sizeof(info);
        if (ok)
                memcpy(&info, buffer, sizeof(info));
        LsaFreeReturnBuffer(buffer);
        if (!ok || info.MessageType != RecordsGetTableMessage || info.Version != RECORDS_TABLE_VERSION ||
            info.RecordSize != sizeof(RECORDS_RECORD) || info.Capacity == 0) {
                fprintf(stderr, "records-client: RecordsGetTable: unexpected reply\n");
                return -1;
        }

        PVOID base;
        ULONG size;
        NTSTATUS st = LsashmMapSection(c->lsa, info.SectionId, &base, &size);
        if (!NT_SUCCESS(st)) {
                report("LsashmMapSection", st);
                return -1;
        }
        int r = -1;
        /* 64-bit sums of 32-bit values: none can wrap. */
        uint64_t table_end = (uint64_t)info.TableOffset + sizeof(RECORDS_TABLE_HEADER);
        uint64_t records_end = (uint64_t)info.RecordsOffset + (uint64_t)info.Capacity * info.RecordSize;
        if (table_end > size || records_end > size || info.TableOffset % sizeof(ULONG) != 0) {
                fprintf(stderr, "records-client: the table does not fit the %u-byte view\n", (unsigned)size);
                goto out;
        }
        RECORDS_TABLE_HEADER *header = (RECORDS_TABLE_HEADER *)((UCHAR *)base + info.TableOffset);
        const UCHAR *records = (const UCHAR *)base + info.RecordsOffset;
        if (header->Magic != RECORDS_TABLE_MAGIC || header->Version != RECORDS_TABLE_VERSION ||
            header->RecordsOffset != info.RecordsOffset) {
                fprintf(stderr, "records-client: no records table at offset %u\n", (unsigned)info.TableOffset);
                goto out;
        }
        /* Acquire pairs with the package's release: records below count
         * are complete. */
        ULONG count = __atomic_load_n(&header->Count, __ATOMIC_ACQUIRE);
        if (count > info.Capacity) {
                fprintf(stderr, "records-client: count %u exceeds capacity %u; reading %u\n", (unsigned)count,
                        (unsigned)info.Capacity, (unsigned)info.Capacity);
                count = info.Capacity;
        }
        printf("%u of %u records (section %016llX, %u bytes mapped):\n", (unsigned)count, (unsigned)info.Capacity,
               (unsigned long long)info.SectionId, (unsigned)size);
        for (ULONG i = 0; i < count; i++) {
                /* Copy first: the view may change under us; the copy cannot. */
                RECORDS_RECORD rec;
                memcpy(&rec, records + (size_t)i * info.RecordSize, sizeof(rec));
                ULONG klen = rec.KeyLength < RECORDS_MAX_KEY ? rec.KeyLength : RECORDS_MAX_KEY;
                ULONG vlen = rec.ValueLength < RECORDS_MAX_VALUE ? rec.ValueLength : RECORDS_MAX_VALUE;
                printf("  %3u  ", (unsigned)i);
                print_bytes(rec.Key, klen);
                putchar('=');
                print_bytes(rec.Value, vlen);
                if (rec.Flags)
                        printf("  (flags 0x%08X)", (unsigned)rec.Flags);
                putchar('\n');
        }
        r = 0;
out:
        st = LsashmUnmapSection(base);
        if (!NT_SUCCESS(st)) {
                report("LsashmUnmapSection", st);
                r = -1;
        }
        return r;
}

/* ---- Commands ---- */

static int command_add(struct records_client *c, const char *key, const char *value)
{
        NTSTATUS protocol;
        if (records_add(c, key, value, &protocol) == 0) {
                printf("added %s\n", key);
                return 0;
        }
        if (protocol == STATUS_ACCESS_DENIED)
                report("RecordsAdd: adding needs a trusted connection (run as root)", protocol);
        else if (protocol == RECORDS_STATUS_KEY_EXISTS)
                report("RecordsAdd: the key is already there", protocol);
        else if (protocol != STATUS_SUCCESS)
                report("RecordsAdd", protocol);
        return -1;
}

static int command_lookup(struct records_client *c, const char *key)
{
        NTSTATUS protocol;
        if (records_lookup(c, key, &protocol) == 0)
                return 0;
        if (protocol == STATUS_NOT_FOUND)
                report("RecordsLookup: no such key", protocol);
        else if (protocol != STATUS_SUCCESS)
                report("RecordsLookup", protocol);
        return -1;
}

static int command_demo(struct records_client *c)
{
        static const char *const demo[][2] = {
                { "alpha", "the first record" },
                { "beta", "the second record" },
                { "gamma", "the third record" },
        };
        NTSTATUS protocol;
        for (size_t i = 0; i < sizeof(demo) / sizeof(demo[0]); i++) {
                if (records_add(c, demo[i][0], demo[i][1], &protocol) == 0) {
                        printf("added %s\n", demo[i][0]);
                } else if (protocol == RECORDS_STATUS_KEY_EXISTS) {
                        printf("%s was already there\n", demo[i][0]); /* a second demo run */
                } else if (protocol == STATUS_ACCESS_DENIED && !c->trusted) {
                        printf("untrusted connection: adding refused, as it should be (run as root to add)\n");
                        break;
                } else {
                        if (protocol != STATUS_SUCCESS)
                                report("RecordsAdd", protocol);
                        return -1;
                }
        }
        if (records_lookup(c, "beta", &protocol) < 0) {
                if (protocol == STATUS_NOT_FOUND && !c->trusted) {
                        printf("beta: not found (nobody has added it yet)\n");
                } else {
                        if (protocol != STATUS_SUCCESS)
                                report("RecordsLookup", protocol);
                        return -1;
                }
        }
        if (records_lookup(c, "no-such-key", &protocol) == 0 || protocol != STATUS_NOT_FOUND) {
                fprintf(stderr, "records-client: a missing key was not reported as STATUS_NOT_FOUND\n");
                return -1;
        }
        return records_list(c);
}

static void usage(const char *argv0)
{
        fprintf(stderr, "usage: %s [add KEY VALUE | lookup KEY | list]\n", argv0);
}

int main(int argc, char **argv)
{
        enum { DEMO, ADD, LOOKUP, LIST } command;
        if (argc == 1) {
                command = DEMO;
        } else if (strcmp(argv[1], "add") == 0 && argc == 4) {
                command = ADD;
        } else if (strcmp(argv[1], "lookup") == 0 && argc == 3) {
                command = LOOKUP;
        } else if (strcmp(argv[1], "list") == 0 && argc == 2) {
                command = LIST;
        } else {
                usage(argv[0]);
                return 1;
        }

        struct records_client c;
        if (client_open(&c) < 0)
                return 1;
        int r;
        switch (command) {
        case DEMO:
                r = command_demo(&c);
                break;
        case ADD:
                r = command_add(&c, argv[2], argv[3]);
                break;
        case LOOKUP:
                r = command_lookup(&c, argv[2]);
                break;
        default:
                r = records_list(&c);
                break;
        }
        client_close(&c);
        if (r == 0 && command == DEMO)
                printf("records-client: ok\n");
        return r == 0 ? 0 : 1;
}
