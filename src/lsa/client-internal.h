/* SPDX-License-Identifier: MIT */
/*
 * Between the two halves of the client library: client-api.c (connections,
 * requests, return buffers) and logon-api.c (LsaLogonUser, tokens, logon
 * session queries).
 */
#ifndef LSASHM_LSA_CLIENT_INTERNAL_H
#define LSASHM_LSA_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "lsa/lsa-wire.h"
#include "lsashm/ntsecapi.h"

struct lsa_conn;

/* The live connection a handle names, with a reference (NULL: none). */
struct lsa_conn *lsa_conn_get(HANDLE h);
void lsa_conn_put(struct lsa_conn *c);
/* Send req, whose reply (CALL_REPLY's kind, or LOGON_REPLY) may bring the
 * reply section and a return buffer, with pass_fd (a sealed submit buffer)
 * unless -1, and receive it into *m. The buffer,
 * if any, is ours until LsaFreeReturnBuffer: *ret_buffer, else NULL. A
 * failure is the connection's (STATUS_PORT_DISCONNECTED, ...): the reply
 * is then not valid. */
NTSTATUS lsa_conn_buffer_request(struct lsa_conn *c, const struct lsa_wire_message *req, int pass_fd,
                                 struct lsa_wire_message *m, void **ret_buffer);
/* A submit (or authentication) buffer too large for the packet, in a memfd
 * sealed against every change (the host takes no other): its descriptor,
 * or a status (STATUS_ACCESS_VIOLATION: len bytes at buf are not readable). */
NTSTATUS lsa_submit_memfd(const void *buf, ULONG len, int *ret_fd);
/* A token came from c: c outlives its handle until the token is closed
 * (lsa_conn_token_close tells the host, and drops it). */
void lsa_conn_token_hold(struct lsa_conn *c);
void lsa_conn_token_close(struct lsa_conn *c, uint64_t token_id);

/* The calling thread's id (gettid), cached per thread: the thread_id a
 * CALL or LOGON tells the host. */
uint32_t lsa_thread_id(void);

/* logon-api.c: a buffer LsaEnumerateLogonSessions or LsaGetLogonSessionData
 * returned is freed (true); anything else is not one (false). */
bool lsa_local_buffer_free(void *p);

#endif
