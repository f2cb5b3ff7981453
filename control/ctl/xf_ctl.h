/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a unix stream socket speaking newline-delimited JSON, one
 * request line and one response line (docs/CONTROL.md). The server runs on the
 * control thread only, never on a dataplane core; it is non-blocking, so a slow or
 * half-finished client never holds up the others.
 *
 * Request:  {"v":1,"id":7,"cmd":"status","args":{...}}
 * Response: {"v":1,"id":7,"ok":true,"result":{...}}
 *           {"v":1,"id":7,"ok":false,"error":{"code":"bad_request","message":"..."}}
 */
#ifndef XF_CTL_H
#define XF_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define XF_CTL_VERSION     1
#define XF_CTL_REQUEST_MAX (64u * 1024u) /**< bytes of one request line, newline included */
#define XF_CTL_CLIENTS_MAX 32u           /**< connections served at once */
/** Response bytes a client may leave unread; past it the client is dropped (logged). */
#define XF_CTL_OUTPUT_MAX (1024u * 1024u)

/** Error codes of a failed response ("code" member). */
enum xf_ctl_err {
	XF_CTL_E_BAD_JSON = 1, /**< "bad_json": the line is not a JSON object */
	XF_CTL_E_BAD_REQUEST,  /**< "bad_request": missing or mistyped v, cmd, args */
	XF_CTL_E_VERSION,      /**< "version": a protocol version we do not speak */
	XF_CTL_E_UNKNOWN_CMD,  /**< "unknown_command" */
	XF_CTL_E_TOO_LARGE,    /**< "too_large": request over XF_CTL_REQUEST_MAX */
	XF_CTL_E_INVALID_ARGS, /**< "invalid_args": the command refused its arguments */
	XF_CTL_E_NOT_FOUND,    /**< "not_found": no such job, session, ... */
	XF_CTL_E_BUSY,         /**< "busy": try again later */
	XF_CTL_E_FAILED,       /**< "failed": the command ran and failed */
	XF_CTL_E_MAX,
};

/** Wire name of an error code ("bad_json"). Never NULL. */
const char *xf_ctl_err_str(enum xf_ctl_err err);

/** What a handler returns: a result object, or an error code and message. */
struct xf_ctl_reply {
	json_t *result;      /**< owned reference, on success; NULL means {} */
	enum xf_ctl_err err; /**< 0 on success */
	char message[256];   /**< on error: what went wrong, for a person */
};

/**
 * A command handler. args is the request's "args" object (never NULL: {} when
 * absent), borrowed. Fill reply; use xf_ctl_reply_error() for failures.
 */
typedef void (*xf_ctl_handler_fn)(void *arg, json_t *args, struct xf_ctl_reply *reply);

/** Set an error on a reply, printf-style. */
__attribute__((format(printf, 3, 4))) void
xf_ctl_reply_error(struct xf_ctl_reply *reply, enum xf_ctl_err err, const char *fmt, ...);

struct xf_ctl_server;

/** Who may connect, besides root and the daemon's own uid. */
struct xf_ctl_access {
	const char *group; /**< group name allowed to connect (socket mode 0660), or NULL/"" */
};

/**
 * Create the listening socket at path (an existing stale socket is replaced; any
 * other file there is an error), mode 0600, or 0660 owned by the group.
 *
 * @return the server, or NULL with errno (ENAMETOOLONG path too long for sun_path,
 *         EEXIST a non-socket file is in the way, EADDRINUSE a running daemon owns
 *         the socket, ENOENT no such group, or the socket/bind/listen error).
 */
struct xf_ctl_server *xf_ctl_server_create(const char *path, const struct xf_ctl_access *access);

/** Close every connection and the listener, and remove the socket file. NULL is a no-op. */
void xf_ctl_server_destroy(struct xf_ctl_server *srv);

/**
 * Register a command. Names are at most 31 bytes; at most 32 commands.
 * @return 0, -EEXIST if already registered, -ENOSPC if the table is full, -EINVAL.
 */
int xf_ctl_server_register(struct xf_ctl_server *srv, const char *cmd, xf_ctl_handler_fn fn,
                           void *arg);

/**
 * Serve: accept, read, answer, for at most timeout_ms (0: only what is ready now;
 * -1: until one event was handled).
 * @return the number of requests answered, or -errno from poll.
 */
int xf_ctl_server_poll(struct xf_ctl_server *srv, int timeout_ms);

/** Counters, for stats. */
struct xf_ctl_stats {
	unsigned long requests; /**< answered */
	unsigned long errors;   /**< answered with ok:false */
	unsigned long refused;  /**< connections refused by peer credentials or the limit */
	unsigned long dropped;  /**< connections closed mid-request, for oversize, or for
	                             leaving over XF_CTL_OUTPUT_MAX bytes of responses unread */
	unsigned int clients;   /**< connected now */
};

void xf_ctl_server_stats(const struct xf_ctl_server *srv, struct xf_ctl_stats *st);

/**
 * Client: connect to path, send {"v":1,"id":1,"cmd":cmd,"args":args}, read one
 * response line, within timeout_ms.
 *
 * @param args     Borrowed; NULL sends {}.
 * @param response Set to the whole response object (owned by the caller) on success.
 * @return 0 if a response arrived (check its "ok"); -ETIMEDOUT; -EPROTO if the
 *         response is not a JSON object; -ECONNRESET if the server closed first;
 *         or the connect error (-ENOENT, -ECONNREFUSED, -EACCES).
 */
int xf_ctl_call(const char *path, const char *cmd, json_t *args, int timeout_ms, json_t **response);

#endif /* XF_CTL_H */
