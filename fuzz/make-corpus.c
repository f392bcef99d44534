/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpora of the two wire targets: one valid message of
 * every type (several where a field changes the path the decoder takes),
 * encoded by the codecs themselves, one file each under
 * DIR/share-wire/ and DIR/lsa-wire/ (which must exist); and of the table
 * reader: small tables written by the builder, under DIR/nsscache/.
 *   fuzz-make-corpus fuzz/corpus
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsa/lsa-wire.h"
#include "nsscache/nsscache-build.h"
#include "share/wire.h"

static const char *dir;
static _Alignas(8) uint8_t buf[LSA_WIRE_MAX_MESSAGE];

static void write_seed(const char *target, const char *name, size_t len)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
        FILE *f = fopen(path, "wb");
        if (!f || len == 0 || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
                fprintf(stderr, "fuzz-make-corpus: cannot write %s\n", path);
                exit(1);
        }
}

static void share(const char *name, const struct wire_message *m)
{
        write_seed("share-wire", name, wire_encode(m, buf));
}

static void lsa(const char *name, const struct lsa_wire_message *m)
{
        write_seed("lsa-wire", name, lsa_wire_encode(m, buf));
}

static void share_seeds(void)
{
        struct wire_message m;

        m = (struct wire_message){ .type = WIRE_HELLO, .hello = { WIRE_VERSION, WIRE_FEATURES } };
        share("hello", &m);
        m = (struct wire_message){ .type = WIRE_HELLO_REPLY, .hello_reply = { WIRE_VERSION, 0, 64 } };
        share("hello-reply", &m);
        m = (struct wire_message){ .type = WIRE_OPEN, .open = { .request = 7, .flags = 0, .name_len = 4 } };
        memcpy(m.open.name, "keys", 4);
        share("open", &m);
        m.open.flags = WIRE_OPEN_READONLY;
        m.open.name_len = LSASHM_NAME_MAX;
        memset(m.open.name, 'n', LSASHM_NAME_MAX);
        share("open-readonly-longest-name", &m);
        m = (struct wire_message){ .type = WIRE_OPEN_REPLY,
                                   .open_reply = { 7, 0, 1, LSASHM_ACCESS_READ_WRITE, 65536, 64, 0x1f } };
        share("open-reply", &m);
        m.open_reply.access = LSASHM_ACCESS_READ;
        share("open-reply-readonly", &m);
        m = (struct wire_message){ .type = WIRE_OPEN_REPLY, .open_reply = { .request = 8, .status = -2 } };
        share("open-reply-enoent", &m);
        m = (struct wire_message){ .type = WIRE_CLOSE, .close = { .view = 1 } };
        share("close", &m);
        m = (struct wire_message){ .type = WIRE_OPEN, .open = { .request = 9, .name_len = 4, .n_closed = 3 } };
        memcpy(m.open.name, "keys", 4);
        m.open.closed[0] = 1, m.open.closed[1] = 2, m.open.closed[2] = 0xffffffffu;
        share("open-closing-three", &m);
        m.open.n_closed = WIRE_MAX_CLOSED;
        for (unsigned i = 0; i < WIRE_MAX_CLOSED; i++)
                m.open.closed[i] = 100 + i;
        share("open-closing-most", &m);
        m = (struct wire_message){ .type = WIRE_CLOSE, .close = { .view = 1, .n_more = WIRE_MAX_CLOSED } };
        for (unsigned i = 0; i < WIRE_MAX_CLOSED; i++)
                m.close.more[i] = 2 + i;
        share("close-many", &m);
        m = (struct wire_message){ .type = WIRE_REVOKED, .revoked = { 1 } };
        share("revoked", &m);
}

static void table(const char *name, const struct nsscache_build_input *in)
{
        struct nsscache_image *img;
        if (nsscache_image_plan(in, &img) < 0 || nsscache_image_size(img) > sizeof(buf) ||
            nsscache_image_write(img, buf, nsscache_image_size(img)) < 0) {
                fprintf(stderr, "fuzz-make-corpus: cannot build %s\n", name);
                exit(1);
        }
        write_seed("nsscache", name, nsscache_image_size(img));
        nsscache_image_free(img);
}

static void nsscache_seeds(void)
{
        static const char *const wheel[] = { "root", "alice" }, *const staff[] = { "alice", "bob", "alice" },
                                 *const ghost[] = { "nobody-in-passwd" };
        static const struct nsscache_user_in users[] = {
                { "root", "x", 0, 0, "root", "/root", "/bin/bash" },
                { "alice", "hash", 1000, 1000, "Alice,,,", "/home/alice", "/bin/bash" },
                { "bob", "x", 1001, 100, "", "/home/bob", "/bin/sh" },
                { "alice", "x", 1002, 100, "second alice", "/tmp", "/bin/false" },
                { "alias", "x", 1000, 1000, "second uid 1000", "/home/alias", "" },
        };
        static const struct nsscache_group_in groups[] = {
                { "root", 0, NULL, 0 },   { "wheel", 10, wheel, 2 }, { "staff", 50, staff, 3 },
                { "staff", 51, ghost, 1 }, { "same-gid", 10, ghost, 1 },
        };
        struct nsscache_build_input in = { .generation = 1, .seed = { 1, 2, 3, 4, 5, 6, 7, 8, 9 } };
        table("empty", &in);
        in.users = users;
        in.n_users = 3;
        table("users-only", &in);
        in.n_users = 5;
        in.groups = groups;
        in.n_groups = 5;
        in.generation = 2;
        table("duplicates", &in);
        in.seed[0] = 0xff;
        table("duplicates-other-seed", &in);
}

static void lsa_seeds(void)
{
        static const uint8_t submit[] = { 2, 0, 0, 0, 'h', 'i' };
        struct lsa_wire_message m;

        m = (struct lsa_wire_message){ .type = LSA_WIRE_CONNECT,
                                       .connect = { LSA_WIRE_MODE_UNTRUSTED, 0x7f0000000000, 1u << 20, 0, "" } };
        lsa("connect-untrusted", &m);
        m.connect.mode = LSA_WIRE_MODE_LOGON;
        m.connect.name_len = 5;
        memcpy(m.connect.name, "logon", 6);
        lsa("connect-logon", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_CONNECT, .connect = { .mode = LSA_WIRE_MODE_ADMIN } };
        lsa("connect-admin", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_CONNECT_REPLY, .connect_reply = { 0, 0, 1u << 20 } };
        lsa("connect-reply", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_CONNECT_REPLY,
                                       .connect_reply = { (int32_t)0xC0000022u, 0, 0 } };
        lsa("connect-reply-denied", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_LOOKUP, .lookup = { 9, "Negotiate" } };
        lsa("lookup", &m);
        m.lookup.name_len = LSA_WIRE_MAX_NAME;
        memset(m.lookup.name, 'p', LSA_WIRE_MAX_NAME);
        lsa("lookup-longest-name", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_LOOKUP_REPLY, .lookup_reply = { 0, 3 } };
        lsa("lookup-reply", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_CALL,
                                       .call = { .package = 3, .thread_id = 1234, .submit_base = 0x5555000010,
                                                 .length = sizeof(submit), .data = submit } };
        lsa("call", &m);
        m.call.length = 0;
        m.call.data = NULL;
        lsa("call-empty", &m);
        m.call.length = LSA_WIRE_MAX_SUBMIT + 1; /* in a memfd: no bytes here */
        lsa("call-memfd", &m);
        m.call.frees.n = 2; /* with frees held back */
        m.call.frees.offset[0] = 4096;
        m.call.frees.offset[1] = 8192;
        lsa("call-memfd-frees", &m);
        m.call.length = sizeof(submit);
        m.call.data = submit;
        m.call.frees.n = LSA_WIRE_MAX_FREES;
        for (unsigned i = 0; i < LSA_WIRE_MAX_FREES; i++)
                m.call.frees.offset[i] = 4096u * (i + 1);
        lsa("call-frees-most", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_CALL_REPLY,
                                       .call_reply = { 0, 0, 4096, 16,
                                                       LSA_WIRE_REPLY_SECTION | LSA_WIRE_REPLY_HAS_BUFFER } };
        lsa("call-reply-section-buffer", &m);
        m.call_reply = (struct lsa_wire_call_reply){ (int32_t)0xC0000002u, 0, 0, 0, 0 };
        lsa("call-reply-not-implemented", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_FREE, .free = { .offset = 4096 } };
        lsa("free", &m);
        m.free.more.n = 3;
        m.free.more.offset[0] = 8192;
        m.free.more.offset[1] = 12288;
        m.free.more.offset[2] = 16384;
        lsa("free-more", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_MAP, .map = { 42 } };
        lsa("map", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_MAP_REPLY, .map_reply = { 0, 1, 8192, 0x1f } };
        lsa("map-reply", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_UNMAP, .unmap = { 42 } };
        lsa("unmap", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_STATUS, .status = { LSA_WIRE_STATUS_JSON } };
        lsa("status-json", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_STATUS_REPLY, .status_reply = { 0, 1234 } };
        lsa("status-reply", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_STATUS, .status = { LSA_WIRE_STATUS_SESSIONS_JSON } };
        lsa("status-sessions-json", &m);

        /* Logons: an MSV1_0_INTERACTIVE_LOGON-shaped authentication buffer. */
        static const uint8_t auth[] = { 2, 0, 0, 0, 0, 0, 0, 0, 6, 0, 6, 0, 0, 0, 0, 0, 0x30, 0, 0, 0x10,
                                        0x55, 0x55, 0, 0, 'D', 0, 'O', 0, 'M', 0 };
        m = (struct lsa_wire_message){ .type = LSA_WIRE_LOGON };
        m.logon = (struct lsa_wire_logon){ .package = 1, .logon_type = 2, .thread_id = 77,
                                           .auth_base = 0x5555100000, .auth_len = sizeof(auth),
                                           .source_name = "pam", .source_id = 9, .origin_len = 5,
                                           .origin = "login", .auth = auth };
        lsa("logon", &m);
        /* A token: S-1-22-1-1000, then S-1-22-2-1000 and S-1-5-32-545. */
        uint8_t sids[3 * (5 + 16)];
        uint32_t sids_len = 0;
        static const uint8_t user[16] = { 1, 2, 0, 0, 0, 0, 0, 22, 1, 0, 0, 0, 0xE8, 3, 0, 0 };
        static const uint8_t group[16] = { 1, 2, 0, 0, 0, 0, 0, 22, 2, 0, 0, 0, 0xE8, 3, 0, 0 };
        static const uint8_t users[16] = { 1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x21, 2, 0, 0 };
        uint8_t local[5 + 16];
        uint32_t local_len = 0;
        lsa_wire_sid_put(local, sizeof(local), &local_len, 7, users);
        m.logon.nlocal = 1;
        m.logon.local_len = local_len;
        m.logon.local = local;
        lsa("logon-local-groups", &m);
        lsa_wire_sid_put(sids, sizeof(sids), &sids_len, 0, user);
        lsa_wire_sid_put(sids, sizeof(sids), &sids_len, 7, group);
        lsa_wire_sid_put(sids, sizeof(sids), &sids_len, 7, users);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_LOGON_REPLY };
        m.logon_reply = (struct lsa_wire_logon_reply){ .flags = LSA_WIRE_REPLY_HAS_BUFFER, .profile_offset = 8192,
                                                       .profile_length = 40, .token_id = 5,
                                                       .logon_id = 0x7A7A00000001, .expiration = INT64_MAX,
                                                       .nsids = 3, .sids = sids, .sids_len = sids_len };
        lsa("logon-reply", &m);
        m.logon_reply = (struct lsa_wire_logon_reply){ .status = (int32_t)0xC000006Du,
                                                       .sub_status = (int32_t)0xC000006Au };
        lsa("logon-reply-failure", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_CLOSE_TOKEN, .close_token = { 5 } };
        lsa("close-token", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_SESSIONS };
        lsa("sessions", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_SESSIONS_REPLY,
                                       .call_reply = { 0, 0, 4096, 16, LSA_WIRE_REPLY_HAS_BUFFER } };
        lsa("sessions-reply", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_SESSION_DATA, .session_data = { 0x7A7A00000001 } };
        lsa("session-data", &m);
        m = (struct lsa_wire_message){ .type = LSA_WIRE_SESSION_DATA_REPLY,
                                       .call_reply = { (int32_t)0xC000005Fu, 0, 0, 0, 0 } };
        lsa("session-data-reply-none", &m);
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: fuzz-make-corpus DIR\n");
                return 2;
        }
        dir = argv[1];
        share_seeds();
        lsa_seeds();
        nsscache_seeds();
        return 0;
}
