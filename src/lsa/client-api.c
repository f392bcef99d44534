/* SPDX-License-Identifier: MIT */
/*
 * The client side of ntsecapi.h, over the package host's protocol
 * (lsa/lsa-wire.h): one SOCK_SEQPACKET connection per handle, one request
 * and its one reply at a time.
 *
 * The reply region. A package returns buffers whose embedded pointers it
 * computes on the host's side (ClientBufferBase + offset), so the client's
 * address of every return buffer must be known before the host writes it. At
 * connect we therefore reserve REPLY_RESERVE bytes of address space,
 * PROT_NONE, and tell the host where; it answers how much of it it will use.
 * The host's reply section (a sealed memfd it creates on the first client
 * buffer) comes with the first CALL_REPLY that needs it and is mapped
 * read-only over the start of the reservation with MAP_FIXED, once the
 * descriptor has proven to be a regular file of exactly that size, sealed
 * against shrinking (so a mapped page can never raise SIGBUS) and opened
 * read-only (so nothing we do changes what the host later reads back). Until
 * then, and past the host's part, the reservation stays PROT_NONE: it keeps
 * other mappings out of addresses the host may hand out.
 *
 * Handles and buffers. A handle is the address of a struct lsa_conn, looked
 * up in the registry of live connections by pointer value before anything
 * touches it: a NULL, made-up or stale handle is refused, never dereferenced.
 * Each connection remembers the return buffers it handed out, so that
 * LsaFreeReturnBuffer frees exactly those. A connection deregistered while
 * some are still outstanding becomes a zombie: its socket is closed (the host
 * then wipes its reply section, so those buffers read zeros), but its region
 * stays mapped until the last of them is freed, so reading a buffer the
 * program still holds never faults. LsaFreeReturnBuffer refuses anything
 * else (interior, freed, foreign pointers) with STATUS_INVALID_PARAMETER;
 * it forgets the buffer even when the host cannot be told (the connection
 * broke: STATUS_PORT_DISCONNECTED), so it is never to be freed twice.
 *
 * Frees held back. LsaFreeReturnBuffer sends nothing: it notes the offset
 * (up to LSA_WIRE_MAX_FREES of them), and the next CALL carries them, so a
 * call and the free of its buffer cost one round trip and wake the host
 * once. Any other request sends them first, in one FREE; a free that finds
 * the list full sends it and the held ones in one FREE; closing the socket
 * releases them all (the host releases everything a connection held). The
 * host wipes a buffer when it frees it: later than LsaFreeReturnBuffer
 * returns, by up to LSA_WIRE_MAX_FREES frees (docs/security.md).
 *
 * Failures. The host is trusted no further than the kernel makes it. A send
 * or receive error, the end of the stream, a malformed or unexpected reply,
 * or a descriptor that fails its checks breaks the connection: that call and
 * every later one on the handle return STATUS_PORT_DISCONNECTED, and only
 * LsaDeregisterLogonProcess still succeeds.
 *
 * Timeouts. What the host answers by itself (connect, lookup, map) and the
 * notices we send it (free, unmap) wait at most the connection's timeout,
 * chosen at connect ($LSASHM_TIMEOUT_MS, else LSASHM_DEFAULT_TIMEOUT_MS), for
 * room to send and for the reply: a host that accepts and never answers
 * cannot hang us. The call fails with STATUS_IO_TIMEOUT and the connection
 * breaks like any other failure, since a late reply could not be told from
 * the next one. A CALL has no deadline: a package may take as long as it
 * needs, and the wait still ends the moment the socket hangs up.
 *
 * Submit buffers. Up to LSA_WIRE_MAX_SUBMIT bytes travel in the CALL
 * packet; a larger one is written into a memfd, sealed against writing,
 * shrinking and growing, and passed with the packet, so that the host can
 * use it without a copy through the socket and we cannot change it under
 * the package. The host refuses one past its max-submit-size (default
 * 1 MiB) with STATUS_INVALID_BUFFER_SIZE.
 *
 * Status codes beyond Windows' own:
 *   STATUS_OBJECT_NAME_NOT_FOUND  no socket at the path (or the path is too long)
 *   STATUS_ACCESS_DENIED          the socket exists but we may not connect
 *   STATUS_PORT_DISCONNECTED      nobody listens, the host went away, or it
 *                                 broke the protocol (a bad CONNECT_REPLY too)
 *   STATUS_INSUFFICIENT_RESOURCES out of descriptors, or a mapping failed
 *   STATUS_NO_MEMORY              out of memory or address space
 *   STATUS_IO_TIMEOUT             the host did not take the connection, or
 *                                 answer a connect, lookup or map, in time
 *
 * Locks. registry_lock guards the list of connections and, in each, refs,
 * dead and the outstanding buffers; and the list of views. A connection's own
 * lock serializes its requests and guards its socket and reply mapping. Order:
 * registry_lock, then a connection's lock; registry_lock is never taken while
 * a connection's lock is held, and never held across I/O.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lsa/client-internal.h"
#include "lsa/lsa-wire.h"
#include "lsa/ntstatus-errno.h"
#include "lsashm/ntsecapi.h"
#include "lsashm/share.h" /* LSASHM_DEFAULT_SOCKET */
#include "share/deadline.h"
#include "share/fdpass.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* A shrinking file would SIGBUS us on pages we were told are there. A
 * writable descriptor could grow the file, so the host seals its size
 * before it hands one out; a read-only one (the reply section, read-only
 * views) shares a file that may still grow. */
#define REQUIRED_SEALS F_SEAL_SHRINK
#define SIZE_SEALS (F_SEAL_GROW | F_SEAL_SEAL)

/* Address space only (PROT_NONE, MAP_NORESERVE): costs no memory, and leaves
 * the host room to grow the reply section up to its own cap. */
#define REPLY_RESERVE (16u * 1024u * 1024u)
_Static_assert(REPLY_RESERVE % LSA_WIRE_REPLY_ALIGN == 0, "the host checks the reply region's alignment");
_Static_assert(REPLY_RESERVE >= LSA_WIRE_REPLY_MIN && REPLY_RESERVE <= LSA_WIRE_REPLY_MAX,
               "the host refuses reply regions outside its limits");
_Static_assert(LSASHM_MAX_PACKAGE_NAME == LSA_WIRE_MAX_NAME, "names refused here are those the wire cannot carry");

struct lsa_conn {
        struct lsa_conn *next;

        /* Under registry_lock. */
        unsigned refs;              /* calls in progress on this connection */
        bool dead;                  /* deregistered: no longer a handle */
        uint64_t *outstanding;      /* offsets of the return buffers handed out */
        size_t n_out, cap_out;
        size_t tokens;              /* tokens from LsaLogonUser still open (logon-api.c) */
        size_t pending;             /* calls in progress that may add one */

        /* Set before the connection is registered, then fixed. */
        uint8_t *reply_base;        /* REPLY_RESERVE bytes, ours until destroyed */
        uint64_t reply_size;        /* the part the host uses */
        int timeout_ms;             /* for everything but a CALL */

        /* Under lock. */
        pthread_mutex_t lock;
        int fd;                     /* closed only by LsaDeregisterLogonProcess */
        bool broken;
        bool reply_mapped;
        int reply_fd;               /* the reply section, once mapped: its size says what is backed */
        uint64_t reply_backed;      /* its size when last asked: it never shrinks */
        uint8_t *msg;               /* LSA_WIRE_MAX_MESSAGE bytes: each request, then its reply */
        uint64_t held[LSA_WIRE_MAX_FREES]; /* freed return buffers the host has not heard of */
        unsigned n_held;
};

/* A section mapped with LsashmMapSection. */
struct lsa_view {
        struct lsa_view *next;
        uint8_t *base;
        size_t size;
        uint64_t section_id;
        struct lsa_conn *conn;      /* NULL once the connection is destroyed */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lsa_conn *conns;
static struct lsa_view *views;

/* ---- connections: registry and lifetime ---- */

/* The live connection h names, with a reference; NULL if there is none. Only
 * pointer values are compared: h is dereferenced only once it is found. */
static struct lsa_conn *conn_get(HANDLE h)
{
        struct lsa_conn *found = NULL;

        pthread_mutex_lock(&registry_lock);
        for (struct lsa_conn *c = conns; c; c = c->next) {
                if ((void *)c == h && !c->dead) {
                        c->refs++;
                        found = c;
                        break;
                }
        }
        pthread_mutex_unlock(&registry_lock);
        return found;
}

/* Under registry_lock: when nothing can reach c any more (deregistered, no
 * call in progress, no buffer outstanding), take it out of the registry and
 * detach its views; the caller destroys it after unlocking. */
static bool conn_finished_locked(struct lsa_conn *c)
{
        if (!c->dead || c->refs || c->n_out || c->tokens)
                return false;
        for (struct lsa_conn **p = &conns; *p; p = &(*p)->next) {
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        }
        for (struct lsa_view *v = views; v; v = v->next)
                if (v->conn == c)
                        v->conn = NULL;
        return true;
}

/* Also for a connection that never got registered. */
static void conn_destroy(struct lsa_conn *c)
{
        if (c->reply_base)
                munmap(c->reply_base, REPLY_RESERVE);
        if (c->fd >= 0)
                close(c->fd);
        if (c->reply_fd >= 0)
                close(c->reply_fd);
        pthread_mutex_destroy(&c->lock);
        free(c->outstanding);
        if (c->msg)
                explicit_bzero(c->msg, LSA_WIRE_MAX_MESSAGE);
        free(c->msg);
        free(c);
}

static void conn_put(struct lsa_conn *c)
{
        pthread_mutex_lock(&registry_lock);
        assert(c->refs > 0);
        c->refs--;
        bool finished = conn_finished_locked(c);
        pthread_mutex_unlock(&registry_lock);
        if (finished)
                conn_destroy(c);
}

/* ---- requests ---- */

/* Under c->lock. Shut down at once rather than at deregistration, so that the
 * host releases what it holds for us now. */
static void conn_break(struct lsa_conn *c)
{
        c->broken = true;
        if (c->fd >= 0)
                shutdown(c->fd, SHUT_RDWR);
}

static bool reply_may_carry_fd(enum lsa_wire_type t)
{
        return t == LSA_WIRE_CALL_REPLY || t == LSA_WIRE_MAP_REPLY || t == LSA_WIRE_STATUS_REPLY ||
               t == LSA_WIRE_LOGON_REPLY || t == LSA_WIRE_SESSIONS_REPLY || t == LSA_WIRE_SESSION_DATA_REPLY;
}

/* The deadline of a request the host answers by itself. */
static int64_t conn_deadline(const struct lsa_conn *c)
{
        return deadline_after_ms(c->timeout_ms);
}

/* What a failed conn_transact or conn_notify tells the caller. */
static NTSTATUS broken_status(int r)
{
        return lsa_status_from_errno(r, STATUS_PORT_DISCONNECTED);
}

/* Under c->lock: send req, receive its one reply into *ret with the
 * descriptor it carried in *ret_fd (-1: none), both before deadline. 0, or
 * with the connection broken -ETIMEDOUT (no room or no reply in time) or
 * -ECONNRESET (anything else). fdpass sends with MSG_NOSIGNAL, so a host
 * that went away is an error here, never SIGPIPE. */
static int conn_transact_fd(struct lsa_conn *c, const struct lsa_wire_message *req, int pass_fd,
                            int64_t deadline, struct lsa_wire_message *ret, int *ret_fd);

/* Under c->lock: the held frees, sent ahead of a request that does not
 * carry them. */
static int frees_flush(struct lsa_conn *c);

static int conn_transact(struct lsa_conn *c, const struct lsa_wire_message *req, int64_t deadline,
                         struct lsa_wire_message *ret, int *ret_fd)
{
        return conn_transact_fd(c, req, -1, deadline, ret, ret_fd);
}

/* conn_transact, with pass_fd (>= 0: stays ours) sent along with req. */
static int conn_transact_fd(struct lsa_conn *c, const struct lsa_wire_message *req, int pass_fd,
                            int64_t deadline, struct lsa_wire_message *ret, int *ret_fd)
{
        enum lsa_wire_type want = lsa_wire_reply_type(req->type);
        int fd = -1;

        *ret_fd = -1;
        if (c->broken)
                return -ECONNRESET;
        size_t len;
        if (req->type == LSA_WIRE_CALL) {
                /* The held frees ride along: the host applies them first. */
                struct lsa_wire_message call = *req;
                call.call.frees.n = c->n_held;
                memcpy(call.call.frees.offset, c->held, c->n_held * sizeof(c->held[0]));
                c->n_held = 0;
                len = lsa_wire_encode(&call, c->msg);
        } else {
                int r = frees_flush(c);
                if (r < 0)
                        return r;
                len = lsa_wire_encode(req, c->msg);
        }
        /* Callers checked every length: a request that cannot be encoded is our bug. */
        assert(len > 0 && want != 0);
        ssize_t n = len && want ? deadline_send_fd(c->fd, c->msg, len, pass_fd, deadline) : -EINVAL;
        /* A CALL carries the submit buffer, often a password: gone from
         * our buffer as soon as it is sent. */
        explicit_bzero(c->msg, len);
        /* With no deadline, one blocking receive: a poll first would cost
         * a system call per reply for nothing (a hang-up, or
         * LsaDeregisterLogonProcess's shutdown, still ends it). */
        if (n == 0 && deadline == DEADLINE_NEVER)
                n = fdpass_recv(c->fd, c->msg, LSA_WIRE_MAX_MESSAGE, &fd, reply_may_carry_fd(want), false);
        else if (n == 0)
                n = deadline_recv(c->fd, c->msg, LSA_WIRE_MAX_MESSAGE, &fd, reply_may_carry_fd(want), deadline);
        if (n <= 0)
                goto broken;
        if (lsa_wire_decode(c->msg, (size_t)n, 0, ret) < 0 || ret->type != want) {
                if (fd >= 0)
                        close(fd);
                n = -EBADMSG;
                goto broken;
        }
        *ret_fd = fd;
        return 0;
broken:
        conn_break(c);
        return n == -ETIMEDOUT ? -ETIMEDOUT : -ECONNRESET;
}

/* Under c->lock: send a notice (FREE, UNMAP, CLOSE_TOKEN), which the host
 * does not answer, as it is. 0, or as conn_transact when the connection is
 * (now) broken: a host that leaves no room for it within the timeout reads
 * nothing of ours any more. */
static int notice_send(struct lsa_conn *c, const struct lsa_wire_message *req)
{
        if (c->broken)
                return -ECONNRESET;
        size_t len = lsa_wire_encode(req, c->msg);
        assert(len > 0 && lsa_wire_reply_type(req->type) == 0);
        int r = len ? deadline_send(c->fd, c->msg, len, conn_deadline(c)) : -EINVAL;
        if (r < 0) {
                conn_break(c);
                return r == -ETIMEDOUT ? -ETIMEDOUT : -ECONNRESET;
        }
        return 0;
}

/* Under c->lock: one FREE with offset and every held free; none is held
 * after (a broken connection's host released them all anyway). */
static int frees_send(struct lsa_conn *c, uint64_t offset)
{
        struct lsa_wire_message req = { .type = LSA_WIRE_FREE };
        req.free.offset = offset;
        req.free.more.n = c->n_held;
        memcpy(req.free.more.offset, c->held, c->n_held * sizeof(c->held[0]));
        c->n_held = 0;
        return notice_send(c, &req);
}

/* All but CALL: 0 or as notice_send. */
static int frees_flush(struct lsa_conn *c)
{
        if (!c->n_held)
                return 0;
        uint64_t first = c->held[--c->n_held];
        return frees_send(c, first);
}

/* Under c->lock: a notice, after the held frees. */
static int conn_notify(struct lsa_conn *c, const struct lsa_wire_message *req)
{
        int r = frees_flush(c);
        return r < 0 ? r : notice_send(c, req);
}

/* ---- for logon-api.c (lsa/client-internal.h) ---- */

/* This thread's id, asked of the kernel once per thread: a fork's child
 * (whose one thread is the one that forked) asks again. */
static _Thread_local uint32_t cached_tid;
static pthread_once_t tid_once = PTHREAD_ONCE_INIT;

static void tid_forget(void)
{
        cached_tid = 0;
}

static void tid_init(void)
{
        (void)pthread_atfork(NULL, NULL, tid_forget);
}

uint32_t lsa_thread_id(void)
{
        if (!cached_tid) {
                pthread_once(&tid_once, tid_init);
                cached_tid = (uint32_t)gettid();
        }
        return cached_tid;
}

struct lsa_conn *lsa_conn_get(HANDLE h)
{
        return conn_get(h);
}

void lsa_conn_put(struct lsa_conn *c)
{
        conn_put(c);
}

void lsa_conn_token_hold(struct lsa_conn *c)
{
        pthread_mutex_lock(&registry_lock);
        c->tokens++;
        pthread_mutex_unlock(&registry_lock);
}

void lsa_conn_token_close(struct lsa_conn *c, uint64_t token_id)
{
        pthread_mutex_lock(&registry_lock);
        assert(c->tokens > 0);
        c->tokens--;
        c->refs++;
        pthread_mutex_unlock(&registry_lock);
        struct lsa_wire_message req = { .type = LSA_WIRE_CLOSE_TOKEN };
        req.close_token.token_id = token_id;
        pthread_mutex_lock(&c->lock);
        /* A broken connection's host forgot the token already. */
        if (c->fd >= 0)
                (void)conn_notify(c, &req);
        pthread_mutex_unlock(&c->lock);
        conn_put(c); /* the last token of a deregistered handle closes it */
}

/* ---- connect ---- */

static NTSTATUS socket_connect(struct lsa_conn *c, int64_t deadline)
{
        /* secure_getenv: a set-user-ID program must not be pointed at an LSA
         * of its caller's choosing; it always talks to the system's. */
        const char *path = secure_getenv("LSASHM_SOCKET");
        if (!path || !*path)
                path = LSASHM_DEFAULT_SOCKET;
        if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
                return STATUS_OBJECT_NAME_NOT_FOUND;
        c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return errno == ENOMEM || errno == ENOBUFS ? STATUS_NO_MEMORY : STATUS_INSUFFICIENT_RESOURCES;
        int r = deadline_connect(c->fd, path, deadline);
        return lsa_status_from_errno(r, STATUS_PORT_DISCONNECTED);
}

/* Connect in mode, with the logon process name (name_len bytes) for
 * LSA_WIRE_MODE_LOGON, and register the connection. */
static NTSTATUS conn_open(uint32_t mode, const char *name, uint8_t name_len, struct lsa_conn **ret,
                          ULONG *ret_security_mode)
{
        struct lsa_conn *c = calloc(1, sizeof(*c));
        NTSTATUS st;

        if (!c)
                return STATUS_NO_MEMORY;
        c->fd = -1;
        c->reply_fd = -1;
        pthread_mutex_init(&c->lock, NULL);
        c->msg = malloc(LSA_WIRE_MAX_MESSAGE);
        void *base = mmap(NULL, REPLY_RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base != MAP_FAILED)
                c->reply_base = base;
        if (!c->msg || base == MAP_FAILED) {
                st = STATUS_NO_MEMORY;
                goto fail;
        }
        /* One deadline for the connect and the CONNECT exchange: a full
         * backlog followed by a silent host is still one timeout. */
        c->timeout_ms = deadline_default_timeout_ms();
        int64_t deadline = conn_deadline(c);
        st = socket_connect(c, deadline);
        if (!NT_SUCCESS(st))
                goto fail;

        struct lsa_wire_message req = { .type = LSA_WIRE_CONNECT }, m;
        req.connect.mode = mode;
        req.connect.reply_base = (uint64_t)(uintptr_t)c->reply_base;
        req.connect.reply_size = REPLY_RESERVE;
        req.connect.name_len = name_len;
        if (name_len)
                memcpy(req.connect.name, name, name_len);
        int fd;
        int r = conn_transact(c, &req, deadline, &m, &fd);
        if (r < 0) {
                st = broken_status(r);
                goto fail;
        }
        assert(fd < 0); /* CONNECT_REPLY may not carry one: fdpass_recv refused it */
        if (!NT_SUCCESS(m.connect_reply.status)) {
                st = m.connect_reply.status;
                goto fail;
        }
        /* The host may use less than we reserved, never more, and only whole
         * aligned units: anything else is a host we cannot trust with
         * addresses, reported like any other protocol violation. */
        uint64_t size = m.connect_reply.reply_size;
        if (size == 0 || size % LSA_WIRE_REPLY_ALIGN || size > REPLY_RESERVE) {
                st = STATUS_PORT_DISCONNECTED;
                goto fail;
        }
        c->reply_size = size;
        if (ret_security_mode)
                *ret_security_mode = m.connect_reply.security_mode;

        pthread_mutex_lock(&registry_lock);
        c->next = conns;
        conns = c;
        pthread_mutex_unlock(&registry_lock);
        *ret = c;
        return STATUS_SUCCESS;
fail:
        conn_destroy(c);
        return st;
}

/* A counted ANSI string whose fields agree with each other. */
static int lsa_string_ok(const LSA_STRING *s)
{
        if (s->Length > s->MaximumLength)
                return 0;
        return s->Length == 0 || s->Buffer != NULL;
}

NTSTATUS NTAPI LsaConnectUntrusted(PHANDLE LsaHandle)
{
        struct lsa_conn *c;

        if (LsaHandle == NULL)
                return STATUS_INVALID_PARAMETER;
        *LsaHandle = NULL;
        NTSTATUS st = conn_open(LSA_WIRE_MODE_UNTRUSTED, NULL, 0, &c, NULL);
        if (NT_SUCCESS(st))
                *LsaHandle = c;
        return st;
}

NTSTATUS NTAPI LsaRegisterLogonProcess(PLSA_STRING LogonProcessName, PHANDLE LsaHandle,
                                       PLSA_OPERATIONAL_MODE SecurityMode)
{
        struct lsa_conn *c;

        if (LsaHandle)
                *LsaHandle = NULL;
        if (SecurityMode)
                *SecurityMode = 0;
        if (LsaHandle == NULL || SecurityMode == NULL)
                return STATUS_INVALID_PARAMETER;
        if (LogonProcessName == NULL || !lsa_string_ok(LogonProcessName))
                return STATUS_INVALID_PARAMETER;
        if (LogonProcessName->Length > LSASHM_MAX_PACKAGE_NAME)
                return STATUS_NAME_TOO_LONG;
        /* The host sees names as C strings: one with a NUL inside cannot be
         * given to it faithfully. */
        if (LogonProcessName->Length && memchr(LogonProcessName->Buffer, '\0', LogonProcessName->Length))
                return STATUS_INVALID_PARAMETER;
        NTSTATUS st = conn_open(LSA_WIRE_MODE_LOGON, LogonProcessName->Buffer,
                                (uint8_t)LogonProcessName->Length, &c, SecurityMode);
        if (NT_SUCCESS(st))
                *LsaHandle = c;
        return st;
}

/* ---- lookup and call ---- */

static NTSTATUS lookup_package(struct lsa_conn *c, const LSA_STRING *name, ULONG *ret_package)
{
        if (name->Length > LSASHM_MAX_PACKAGE_NAME)
                return STATUS_NAME_TOO_LONG;
        /* No package is named by nothing, or by a string a C string cannot
         * hold: the answer is known without asking. */
        if (name->Length == 0 || memchr(name->Buffer, '\0', name->Length))
                return STATUS_NO_SUCH_PACKAGE;

        struct lsa_wire_message req = { .type = LSA_WIRE_LOOKUP }, m;
        req.lookup.name_len = (uint8_t)name->Length;
        memcpy(req.lookup.name, name->Buffer, name->Length);
        int fd;
        pthread_mutex_lock(&c->lock);
        int r = conn_transact(c, &req, conn_deadline(c), &m, &fd);
        pthread_mutex_unlock(&c->lock);
        if (r < 0)
                return broken_status(r);
        if (NT_SUCCESS(m.lookup_reply.status))
                *ret_package = m.lookup_reply.package;
        return m.lookup_reply.status;
}

NTSTATUS NTAPI LsaLookupAuthenticationPackage(HANDLE LsaHandle, PLSA_STRING PackageName,
                                              PULONG AuthenticationPackage)
{
        if (AuthenticationPackage)
                *AuthenticationPackage = 0;
        struct lsa_conn *c = conn_get(LsaHandle);
        if (!c)
                return STATUS_INVALID_HANDLE;
        NTSTATUS st;
        if (PackageName == NULL || AuthenticationPackage == NULL || !lsa_string_ok(PackageName))
                st = STATUS_INVALID_PARAMETER;
        else
                st = lookup_package(c, PackageName, AuthenticationPackage);
        conn_put(c);
        return st;
}

/* Room for one more outstanding buffer, claimed before the request goes out:
 * once the host has handed a buffer to us, we must be able to remember it. */
static bool outstanding_reserve(struct lsa_conn *c)
{
        bool ok = true;

        pthread_mutex_lock(&registry_lock);
        size_t need = c->n_out + c->pending + 1;
        if (need > c->cap_out) {
                size_t cap = c->cap_out ? c->cap_out * 2 : 16;
                uint64_t *p = realloc(c->outstanding, cap * sizeof(*p));
                if (p) {
                        c->outstanding = p;
                        c->cap_out = cap;
                } else {
                        ok = false;
                }
        }
        if (ok)
                c->pending++;
        pthread_mutex_unlock(&registry_lock);
        return ok;
}

/* Under c->lock: the reply section's descriptor, checked, then mapped over
 * the start of our reservation; we keep it on success. On failure the caller
 * closes fd and breaks the connection.
 *
 * The host commits the section as it hands out buffers, and the file is only
 * as large as what it committed: we map the whole part the host uses, but a
 * page past the end of the file is a SIGBUS, so a return buffer is taken
 * only if it lies below the file's size at that moment (reply_buffer_backed). */
static NTSTATUS reply_section_map(struct lsa_conn *c, int fd)
{
        struct stat st;

        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
            (uint64_t)st.st_size > c->reply_size)
                return STATUS_PORT_DISCONNECTED;
        int seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0 || (seals & REQUIRED_SEALS) != REQUIRED_SEALS)
                return STATUS_PORT_DISCONNECTED;
        /* Read-only for us: a writable descriptor would let this process
         * change buffers the host reads back, and is refused. */
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || (fl & O_ACCMODE) != O_RDONLY)
                return STATUS_PORT_DISCONNECTED;
        void *p = mmap(c->reply_base, (size_t)c->reply_size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
        if (p == MAP_FAILED) {
                /* A failed MAP_FIXED may have unmapped the range: take it back,
                 * so that nothing else lands where the host places our buffers
                 * and our final munmap cannot hit another mapping. */
                (void)mmap(c->reply_base, (size_t)c->reply_size, PROT_NONE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
                return STATUS_INSUFFICIENT_RESOURCES;
        }
        c->reply_mapped = true;
        c->reply_fd = fd;
        return STATUS_SUCCESS;
}

/* Under c->lock: [offset, end) of the reply section is backed by the file
 * (sealed against shrinking: once below its size, always below it). */
static bool reply_buffer_backed(struct lsa_conn *c, uint64_t end)
{
        /* The file only grows: ask the kernel only past what it said last. */
        if (end <= c->reply_backed)
                return true;
        struct stat st;
        if (c->reply_fd < 0 || fstat(c->reply_fd, &st) < 0 || st.st_size < 0)
                return false;
        c->reply_backed = (uint64_t)st.st_size;
        return end <= c->reply_backed;
}

/* Under c->lock: what a CALL_REPLY brought besides its statuses. The section
 * descriptor comes exactly once, with its flag; a return buffer lies wholly
 * inside the part of the region the host uses, once that is mapped. */
static NTSTATUS call_reply_take(struct lsa_conn *c, uint32_t flags, uint64_t return_offset,
                                uint32_t return_length, int fd)
{
        bool section = flags & LSA_WIRE_REPLY_SECTION;
        NTSTATUS st = STATUS_SUCCESS;

        if (section != (fd >= 0) || (section && c->reply_mapped))
                st = STATUS_PORT_DISCONNECTED;
        else if (section)
                st = reply_section_map(c, fd);
        if (fd >= 0 && fd != c->reply_fd)
                close(fd);
        if (NT_SUCCESS(st) && (flags & LSA_WIRE_REPLY_HAS_BUFFER)) {
                uint64_t end;
                if (!c->reply_mapped || return_length == 0 ||
                    __builtin_add_overflow(return_offset, (uint64_t)return_length, &end) ||
                    end > c->reply_size || !reply_buffer_backed(c, end))
                        st = STATUS_PORT_DISCONNECTED;
        }
        if (!NT_SUCCESS(st))
                conn_break(c);
        return st;
}

NTSTATUS lsa_conn_buffer_request(struct lsa_conn *c, const struct lsa_wire_message *req, int pass_fd,
                                 struct lsa_wire_message *m, void **ret_buffer)
{
        *ret_buffer = NULL;
        if (!outstanding_reserve(c))
                return STATUS_NO_MEMORY;
        int fd;
        NTSTATUS st;
        bool has_buffer = false;
        uint32_t flags = 0, len = 0;
        uint64_t off = 0;
        pthread_mutex_lock(&c->lock);
        /* No deadline: the package takes the time it takes. */
        if (conn_transact_fd(c, req, pass_fd, DEADLINE_NEVER, m, &fd) < 0) {
                st = STATUS_PORT_DISCONNECTED;
        } else {
                if (m->type == LSA_WIRE_LOGON_REPLY) {
                        flags = m->logon_reply.flags;
                        off = m->logon_reply.profile_offset;
                        len = m->logon_reply.profile_length;
                } else {
                        flags = m->call_reply.flags;
                        off = m->call_reply.return_offset;
                        len = m->call_reply.return_length;
                }
                st = call_reply_take(c, flags, off, len, fd);
        }
        pthread_mutex_unlock(&c->lock);

        if (NT_SUCCESS(st))
                has_buffer = flags & LSA_WIRE_REPLY_HAS_BUFFER;
        pthread_mutex_lock(&registry_lock);
        c->pending--;
        if (has_buffer)
                c->outstanding[c->n_out++] = off;
        pthread_mutex_unlock(&registry_lock);
        if (has_buffer)
                *ret_buffer = c->reply_base + off;
        return st;
}

NTSTATUS lsa_submit_memfd(const void *submit, ULONG len, int *ret_fd)
{
        int fd = memfd_create("lsashm-submit", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return errno == ENOMEM ? STATUS_NO_MEMORY : STATUS_INSUFFICIENT_RESOURCES;
        const uint8_t *p = submit;
        size_t done = 0;
        while (done < len) {
                ssize_t n = pwrite(fd, p + done, len - done, (off_t)done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int e = n < 0 ? errno : ENOSPC;
                        close(fd);
                        /* EFAULT: the buffer is not readable (the kernel says
                         * so instead of our faulting); else memory, in effect. */
                        return e == EFAULT ? STATUS_ACCESS_VIOLATION : STATUS_NO_MEMORY;
                }
                done += (size_t)n;
        }
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
                close(fd);
                return STATUS_INSUFFICIENT_RESOURCES;
        }
        *ret_fd = fd;
        return STATUS_SUCCESS;
}

static NTSTATUS call_package(struct lsa_conn *c, ULONG package, const void *submit, ULONG submit_len,
                             PVOID *ret_buffer, PULONG ret_length, PNTSTATUS ret_protocol)
{
        int submit_fd = -1;
        if (submit_len > LSA_WIRE_MAX_SUBMIT) {
                NTSTATUS st = lsa_submit_memfd(submit, submit_len, &submit_fd);
                if (!NT_SUCCESS(st)) {
                        *ret_protocol = st;
                        return st;
                }
        }
        struct lsa_wire_message req = { .type = LSA_WIRE_CALL }, m;
        req.call.package = package;
        req.call.thread_id = lsa_thread_id();
        req.call.submit_base = (uint64_t)(uintptr_t)submit;
        req.call.length = submit_len;
        req.call.data = submit_fd >= 0 ? NULL : submit;
        void *buf;
        NTSTATUS st = lsa_conn_buffer_request(c, &req, submit_fd, &m, &buf);
        if (submit_fd >= 0)
                close(submit_fd); /* the host has its own, and a copy-on-write view at most */
        if (!NT_SUCCESS(st)) {
                *ret_protocol = st;
                return st;
        }
        if (buf) {
                *ret_buffer = buf;
                *ret_length = m.call_reply.return_length;
        }
        /* Two levels, as on Windows: whether the message was delivered and
         * handled, and what the package made of it. */
        *ret_protocol = m.call_reply.protocol_status;
        return m.call_reply.status;
}

NTSTATUS NTAPI LsaCallAuthenticationPackage(HANDLE LsaHandle, ULONG AuthenticationPackage,
                                            PVOID ProtocolSubmitBuffer, ULONG SubmitBufferLength,
                                            PVOID *ProtocolReturnBuffer, PULONG ReturnBufferLength,
                                            PNTSTATUS ProtocolStatus)
{
        NTSTATUS st;
        bool asked = false;

        if (ProtocolReturnBuffer)
                *ProtocolReturnBuffer = NULL;
        if (ReturnBufferLength)
                *ReturnBufferLength = 0;
        struct lsa_conn *c = conn_get(LsaHandle);
        if (!c)
                st = STATUS_INVALID_HANDLE;
        else if (ProtocolReturnBuffer == NULL || ReturnBufferLength == NULL || ProtocolStatus == NULL)
                st = STATUS_INVALID_PARAMETER;
        else if (SubmitBufferLength != 0 && ProtocolSubmitBuffer == NULL)
                st = STATUS_INVALID_PARAMETER;
        else if (SubmitBufferLength > LSA_WIRE_MAX_SUBMIT_MEMFD)
                st = STATUS_INVALID_BUFFER_SIZE; /* past any host's max-submit-size */
        else {
                st = call_package(c, AuthenticationPackage, ProtocolSubmitBuffer, SubmitBufferLength,
                                  ProtocolReturnBuffer, ReturnBufferLength, ProtocolStatus);
                asked = true;
        }
        /* A program that looks only at *ProtocolStatus must not read success
         * from a call that never reached the package (call_package sets it). */
        if (!asked && ProtocolStatus)
                *ProtocolStatus = st;
        if (c)
                conn_put(c);
        return st;
}

/* ---- free and deregister ---- */

NTSTATUS NTAPI LsaFreeReturnBuffer(PVOID Buffer)
{
        uintptr_t a = (uintptr_t)Buffer;
        struct lsa_conn *owner = NULL;
        bool live = false, finished = false;
        uint64_t offset = 0;

        if (Buffer == NULL)
                return STATUS_SUCCESS;
        /* LsaEnumerateLogonSessions' and LsaGetLogonSessionData's: ours. */
        if (lsa_local_buffer_free(Buffer))
                return STATUS_SUCCESS;
        pthread_mutex_lock(&registry_lock);
        for (struct lsa_conn *c = conns; c; c = c->next) {
                uintptr_t base = (uintptr_t)c->reply_base;
                if (a < base || a - base >= c->reply_size)
                        continue;
                /* Regions never overlap: no other connection can hold it. */
                offset = a - base;
                for (size_t i = 0; i < c->n_out; i++) {
                        if (c->outstanding[i] == offset) {
                                c->outstanding[i] = c->outstanding[--c->n_out];
                                owner = c;
                                break;
                        }
                }
                if (owner && !owner->dead) {
                        live = true;
                        owner->refs++;
                } else if (owner) {
                        finished = conn_finished_locked(owner);
                }
                break;
        }
        pthread_mutex_unlock(&registry_lock);

        /* Anything but a buffer a call returned and nobody freed yet: an
         * interior pointer, a freed one, one we never handed out. */
        if (!owner)
                return STATUS_INVALID_PARAMETER;
        if (!live) {
                /* A zombie: the host forgot its buffers when the socket closed. */
                if (finished)
                        conn_destroy(owner);
                return STATUS_SUCCESS;
        }
        /* Held back for the next request (see "Frees held back"). */
        int r = 0;
        pthread_mutex_lock(&owner->lock);
        if (owner->broken)
                r = -ECONNRESET;
        else if (owner->n_held < LSA_WIRE_MAX_FREES)
                owner->held[owner->n_held++] = offset;
        else
                r = frees_send(owner, offset);
        pthread_mutex_unlock(&owner->lock);
        conn_put(owner);
        return r < 0 ? broken_status(r) : STATUS_SUCCESS;
}

NTSTATUS NTAPI LsaDeregisterLogonProcess(HANDLE LsaHandle)
{
        struct lsa_conn *c = NULL;

        pthread_mutex_lock(&registry_lock);
        for (struct lsa_conn *i = conns; i; i = i->next) {
                if ((void *)i == LsaHandle && !i->dead) {
                        i->dead = true;
                        i->refs++;
                        c = i;
                        break;
                }
        }
        bool keep = c && c->tokens;
        pthread_mutex_unlock(&registry_lock);
        if (!c)
                return STATUS_INVALID_HANDLE;
        if (keep) {
                /* Tokens from this handle live on, and with them their
                 * sessions: the socket stays open (the handle is gone) until
                 * the last of them is closed. */
                conn_put(c);
                return STATUS_SUCCESS;
        }
        /* Wake a call blocked on this handle in another thread rather than
         * wait for it: the handle is going away under it. Only we close c->fd,
         * so it is still this connection's socket. */
        shutdown(c->fd, SHUT_RDWR);
        pthread_mutex_lock(&c->lock);
        close(c->fd);
        c->fd = -1;
        c->broken = true;
        pthread_mutex_unlock(&c->lock);
        conn_put(c);
        return STATUS_SUCCESS;
}

/* ---- sections (lsashm extensions) ---- */

/* Everything about a mapped section's descriptor must match the reply. */
static bool map_fd_ok(int fd, const struct lsa_wire_map_reply *r)
{
        struct stat st;

        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0)
                return false;
        if (r->size == 0 || r->size > (uint64_t)st.st_size || r->size > UINT32_MAX || r->size > SIZE_MAX)
                return false;
        int seals = fcntl(fd, F_GET_SEALS);
        int need = REQUIRED_SEALS | (r->writable ? SIZE_SEALS : 0);
        if (seals < 0 || (seals & need) != need)
                return false;
        if (r->writable && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
                return false;
        int fl = fcntl(fd, F_GETFL);
        return fl >= 0 && (fl & O_ACCMODE) == (r->writable ? O_RDWR : O_RDONLY);
}

/* Under c->lock: tell the host, which keeps count of who maps what. */
static void section_unmap_request(struct lsa_conn *c, uint64_t id)
{
        struct lsa_wire_message req = { .type = LSA_WIRE_UNMAP };

        req.unmap.section_id = id;
        (void)conn_notify(c, &req);
}

/* Under c->lock: the MAP_REPLY and its descriptor (closed here) into v. */
static NTSTATUS map_reply_take(struct lsa_conn *c, uint64_t id, const struct lsa_wire_map_reply *r, int fd,
                               bool frozen_only, struct lsa_view *v)
{
        if (!NT_SUCCESS(r->status) && fd < 0)
                return r->status;
        if (!NT_SUCCESS(r->status) || fd < 0 || !map_fd_ok(fd, r)) {
                if (fd >= 0)
                        close(fd);
                conn_break(c);
                return STATUS_PORT_DISCONNECTED;
        }
        /* Asked for a frozen section: the kernel's word for it, the seals
         * on the descriptor itself, and nothing writable. */
        int seals = frozen_only ? fcntl(fd, F_GET_SEALS) : 0;
        if (frozen_only && (seals < 0 || !(seals & F_SEAL_WRITE) || r->writable)) {
                close(fd);
                section_unmap_request(c, id);
                return STATUS_OBJECT_TYPE_MISMATCH;
        }
        void *base = mmap(NULL, (size_t)r->size, PROT_READ | (r->writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
        int e = errno;
        /* The mapping holds the section; no descriptor is kept per view. */
        close(fd);
        if (base == MAP_FAILED) {
                /* The host counts the mapping it granted: give it back. */
                section_unmap_request(c, id);
                return lsa_status_from_errno(-e, STATUS_INSUFFICIENT_RESOURCES);
        }
        v->base = base;
        v->size = (size_t)r->size;
        return STATUS_SUCCESS;
}

static NTSTATUS map_section(struct lsa_conn *c, uint64_t id, bool frozen_only, PVOID *ret_base, PULONG ret_size)
{
        struct lsa_view *v = calloc(1, sizeof(*v));
        if (!v)
                return STATUS_NO_MEMORY;

        struct lsa_wire_message req = { .type = LSA_WIRE_MAP }, m;
        req.map.section_id = id;
        int fd;
        NTSTATUS st;
        pthread_mutex_lock(&c->lock);
        int r = conn_transact(c, &req, conn_deadline(c), &m, &fd);
        if (r < 0)
                st = broken_status(r);
        else
                st = map_reply_take(c, id, &m.map_reply, fd, frozen_only, v);
        pthread_mutex_unlock(&c->lock);
        if (st != STATUS_SUCCESS) {
                free(v);
                return st;
        }
        v->section_id = id;
        v->conn = c;
        pthread_mutex_lock(&registry_lock);
        v->next = views;
        views = v;
        pthread_mutex_unlock(&registry_lock);
        *ret_base = v->base;
        *ret_size = (ULONG)v->size;
        return STATUS_SUCCESS;
}

static NTSTATUS map_section_call(HANDLE LsaHandle, ULONGLONG SectionId, bool frozen_only, PVOID *BaseAddress,
                                 PULONG ViewSize)
{
        if (BaseAddress)
                *BaseAddress = NULL;
        if (ViewSize)
                *ViewSize = 0;
        struct lsa_conn *c = conn_get(LsaHandle);
        if (!c)
                return STATUS_INVALID_HANDLE;
        NTSTATUS st;
        if (SectionId == 0 || BaseAddress == NULL || ViewSize == NULL)
                st = STATUS_INVALID_PARAMETER;
        else
                st = map_section(c, SectionId, frozen_only, BaseAddress, ViewSize);
        conn_put(c);
        return st;
}

NTSTATUS NTAPI LsashmMapSection(HANDLE LsaHandle, ULONGLONG SectionId, PVOID *BaseAddress, PULONG ViewSize)
{
        return map_section_call(LsaHandle, SectionId, false, BaseAddress, ViewSize);
}

NTSTATUS NTAPI LsashmMapFrozenSection(HANDLE LsaHandle, ULONGLONG SectionId, PVOID *BaseAddress, PULONG ViewSize)
{
        return map_section_call(LsaHandle, SectionId, true, BaseAddress, ViewSize);
}

NTSTATUS NTAPI LsashmUnmapSection(PVOID BaseAddress)
{
        struct lsa_view *v = NULL;
        struct lsa_conn *c = NULL;

        if (BaseAddress == NULL)
                return STATUS_NOT_MAPPED_VIEW;
        pthread_mutex_lock(&registry_lock);
        for (struct lsa_view **p = &views; *p; p = &(*p)->next) {
                if ((*p)->base == BaseAddress) {
                        v = *p;
                        *p = v->next;
                        break;
                }
        }
        if (v && v->conn) {
                c = v->conn;
                c->refs++;
        }
        pthread_mutex_unlock(&registry_lock);
        if (!v)
                return STATUS_NOT_MAPPED_VIEW;
        munmap(v->base, v->size);
        if (c) {
                /* A deregistered or broken connection is not asked: its
                 * socket is closed, and the host forgot its mappings. */
                pthread_mutex_lock(&c->lock);
                section_unmap_request(c, v->section_id);
                pthread_mutex_unlock(&c->lock);
                conn_put(c);
        }
        free(v);
        return STATUS_SUCCESS;
}
