/* SPDX-License-Identifier: MIT */
/*
 * The sharing protocol's decoder (src/share/wire.c) on any bytes, in both
 * directions. Properties of every packet it accepts:
 *   - re-encoding gives back the very same bytes: the format has one
 *     encoding per message (fixed layout, reserved bytes must be zero, the
 *     header's length must be the packet's), so nothing may be lost;
 *   - decoding those bytes again gives an equal message;
 *   - the same packet in the other direction is refused as -EPROTONOSUPPORT.
 * A refused packet must be refused with -EBADMSG or -EPROTONOSUPPORT.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "share/wire.h"

static bool message_equal(const struct wire_message *a, const struct wire_message *b)
{
        if (a->type != b->type)
                return false;
        switch (a->type) {
        case WIRE_HELLO:
                return a->hello.version == b->hello.version && a->hello.features == b->hello.features;
        case WIRE_HELLO_REPLY:
                return a->hello_reply.version == b->hello_reply.version &&
                       a->hello_reply.features == b->hello_reply.features &&
                       a->hello_reply.max_views == b->hello_reply.max_views;
        case WIRE_OPEN:
                return a->open.request == b->open.request && a->open.flags == b->open.flags &&
                       a->open.name_len == b->open.name_len &&
                       memcmp(a->open.name, b->open.name, a->open.name_len + 1u) == 0 &&
                       a->open.n_closed == b->open.n_closed &&
                       memcmp(a->open.closed, b->open.closed, a->open.n_closed * sizeof(uint32_t)) == 0;
        case WIRE_OPEN_REPLY:
                return a->open_reply.request == b->open_reply.request &&
                       a->open_reply.status == b->open_reply.status && a->open_reply.view == b->open_reply.view &&
                       a->open_reply.access == b->open_reply.access && a->open_reply.size == b->open_reply.size &&
                       a->open_reply.root == b->open_reply.root && a->open_reply.seals == b->open_reply.seals;
        case WIRE_CLOSE:
                return a->close.view == b->close.view && a->close.n_more == b->close.n_more &&
                       memcmp(a->close.more, b->close.more, a->close.n_more * sizeof(uint32_t)) == 0;
        case WIRE_REVOKED:
                return a->revoked.view == b->revoked.view;
        }
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static uint8_t buf[WIRE_MAX_MESSAGE];

        for (int to_server = 0; to_server <= 1; to_server++) {
                struct wire_message m, again, other;
                int r = wire_decode(data, size, to_server, &m);
                FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT);
                if (r < 0)
                        continue;
                FUZZ_CHECK(wire_decode(data, size, !to_server, &other) == -EPROTONOSUPPORT);
                if (m.type == WIRE_OPEN) {
                        FUZZ_CHECK(m.open.name[m.open.name_len] == '\0');
                        FUZZ_CHECK(wire_check_name(m.open.name, m.open.name_len) == 0);
                        FUZZ_CHECK(m.open.n_closed <= WIRE_MAX_CLOSED);
                }
                if (m.type == WIRE_CLOSE)
                        FUZZ_CHECK(m.close.n_more <= WIRE_MAX_CLOSED);
                size_t len = wire_encode(&m, buf);
                FUZZ_CHECK(len == size && memcmp(buf, data, size) == 0);
                FUZZ_CHECK(wire_decode(buf, len, to_server, &again) == 0);
                FUZZ_CHECK(message_equal(&m, &again));
        }
        return 0;
}
