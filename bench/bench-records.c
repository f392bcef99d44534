/* SPDX-License-Identifier: MIT */
#include "bench-records.h"

#include <stdio.h>
#include <string.h>

#include "../examples/records-protocol.h"

struct add_msg {
        RECORDS_ADD_REQUEST req;
        char key[RECORDS_MAX_KEY];
        char value[RECORDS_MAX_VALUE];
};

struct lookup_msg {
        RECORDS_LOOKUP_REQUEST req;
        char key[RECORDS_MAX_KEY];
};

static void key_of(unsigned i, char *out)
{
        snprintf(out, RECORDS_MAX_KEY, "user%04u", i);
}

NTSTATUS bench_records_add(HANDLE lsa, ULONG package, unsigned count)
{
        for (unsigned i = 0; i < count; i++) {
                struct add_msg m;
                memset(&m, 0, sizeof(m));
                key_of(i, m.key);
                int vlen = snprintf(m.value, sizeof(m.value), "uid=%u home=/home/user%04u shell=/bin/sh", 1000 + i, i);
                m.req.MessageType = RecordsAddMessage;
                m.req.Key = (LSA_STRING){ (USHORT)strlen(m.key), RECORDS_MAX_KEY, m.key };
                m.req.Value = (LSA_STRING){ (USHORT)vlen, RECORDS_MAX_VALUE, m.value };
                PVOID ret = NULL;
                ULONG ret_len = 0;
                NTSTATUS proto;
                NTSTATUS st = LsaCallAuthenticationPackage(lsa, package, &m, sizeof(m), &ret, &ret_len, &proto);
                if (st != STATUS_SUCCESS)
                        return st;
                LsaFreeReturnBuffer(ret);
                if (proto != STATUS_SUCCESS && proto != RECORDS_STATUS_KEY_EXISTS)
                        return proto;
        }
        return STATUS_SUCCESS;
}

NTSTATUS bench_records_lookup(HANDLE lsa, ULONG package, unsigned i, NTSTATUS *protocol, int *first_byte)
{
        struct lookup_msg m;
        memset(&m, 0, sizeof(m));
        key_of(i, m.key);
        m.req.MessageType = RecordsLookupMessage;
        m.req.Key = (LSA_STRING){ (USHORT)strlen(m.key), RECORDS_MAX_KEY, m.key };
        PVOID ret = NULL;
        ULONG ret_len = 0;
        *first_byte = 0;
        NTSTATUS st = LsaCallAuthenticationPackage(lsa, package, &m, sizeof(m), &ret, &ret_len, protocol);
        if (st != STATUS_SUCCESS)
                return st;
        if (*protocol == STATUS_SUCCESS && ret_len >= sizeof(RECORDS_LOOKUP_RESPONSE)) {
                const RECORDS_LOOKUP_RESPONSE *r = ret;
                *first_byte = r->Value.Length ? r->Value.Buffer[0] : 0;
        } else if (*protocol == STATUS_SUCCESS) {
                *protocol = STATUS_INVALID_PARAMETER; /* a reply too short to hold a response */
        }
        LsaFreeReturnBuffer(ret);
        return STATUS_SUCCESS;
}
