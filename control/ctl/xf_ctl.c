/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket server and client (xf_ctl.h). Runs on the control thread: plain
 * poll(2), non-blocking sockets, one buffer per connection. Every byte a client
 * sends is untrusted: lines are bounded, JSON is parsed strictly (duplicate keys
 * rejected), and any failure becomes an error reply, never a crash.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xf_base.h"
#include "xf_ctl.h"

#define CMD_NAME_MAX 32
#define CMDS_MAX     32

struct ctl_cmd {
	char name[CMD_NAME_MAX];
	xf_ctl_handler_fn fn;
	void *arg;
};

struct ctl_client {
	int fd;   /**< -1 when the slot is free */
	char *in; /**< XF_CTL_REQUEST_MAX bytes */
	size_t in_len;
	char *out; /**< pending response bytes, malloc'd */
	size_t out_len;
	size_t out_off;
	bool closing; /**< close once out is flushed */
};

struct xf_ctl_server {
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	gid_t group;
	bool has_group;
	struct ctl_cmd cmds[CMDS_MAX];
	unsigned int ncmds;
	struct ctl_client clients[XF_CTL_CLIENTS_MAX];
	struct xf_ctl_stats stats;
};

static const char *const err_names[XF_CTL_E_MAX] = {
	[XF_CTL_E_BAD_JSON] = "bad_json",   [XF_CTL_E_BAD_REQUEST] = "bad_request",
	[XF_CTL_E_VERSION] = "version",     [XF_CTL_E_UNKNOWN_CMD] = "unknown_command",
	[XF_CTL_E_TOO_LARGE] = "too_large", [XF_CTL_E_INVALID_ARGS] = "invalid_args",
	[XF_CTL_E_NOT_FOUND] = "not_found", [XF_CTL_E_BUSY] = "busy",
	[XF_CTL_E_FAILED] = "failed",
};

const char *
xf_ctl_err_str(enum xf_ctl_err err)
{
	if ((unsigned int)err >= XF_CTL_E_MAX || err_names[err] == NULL) {
		return "unknown_error";
	}
	return err_names[err];
}

void
xf_ctl_reply_error(struct xf_ctl_reply *reply, enum xf_ctl_err err, const char *fmt, ...)
{
	va_list ap;

	reply->err = err;
	va_start(ap, fmt);
	vsnprintf(reply->message, sizeof(reply->message), fmt, ap);
	va_end(ap);
}

static int
fill_sockaddr(struct sockaddr_un *sa, const char *path)
{
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(sa->sun_path)) {
		return -ENAMETOOLONG;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, len + 1);
	return 0;
}

/*
 * Replace a stale socket left by a crashed run, but never another kind of file, and
 * never the socket of a daemon that is still running (it answers connect).
 */
static int
clear_stale_socket(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) < 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		return -EADDRINUSE;
	}
	return unlink(sa->sun_path) < 0 ? -errno : 0;
}

struct xf_ctl_server *
xf_ctl_server_create(const char *path, const struct xf_ctl_access *access)
{
	struct xf_ctl_server *srv;
	struct sockaddr_un sa;
	mode_t old_umask;
	int rc;

	rc = fill_sockaddr(&sa, path);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		return NULL;
	}
	for (unsigned int i = 0; i < XF_CTL_CLIENTS_MAX; i++) {
		srv->clients[i].fd = -1;
	}
	memcpy(srv->path, sa.sun_path, sizeof(srv->path));

	if (access != NULL && access->group != NULL && access->group[0] != '\0') {
		struct group grp, *found = NULL;
		char buf[4096];

		rc = getgrnam_r(access->group, &grp, buf, sizeof(buf), &found);
		if (found == NULL) {
			rc = rc != 0 ? -rc : -ENOENT;
			goto err_free;
		}
		srv->group = grp.gr_gid;
		srv->has_group = true;
	}

	rc = clear_stale_socket(&sa);
	if (rc < 0) {
		goto err_free;
	}
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0) {
		rc = -errno;
		goto err_free;
	}
	/* The socket must never exist with looser permissions, even for an instant. */
	old_umask = umask(srv->has_group ? 0117 : 0177);
	rc = bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_umask);
	if (rc < 0) {
		rc = -errno;
		goto err_close;
	}
	if (srv->has_group && (chown(path, (uid_t)-1, srv->group) < 0 || chmod(path, 0660) < 0)) {
		rc = -errno;
		goto err_unlink;
	}
	if (listen(srv->listen_fd, 16) < 0) {
		rc = -errno;
		goto err_unlink;
	}
	return srv;

err_unlink:
	unlink(path);
err_close:
	close(srv->listen_fd);
err_free:
	free(srv);
	errno = -rc;
	return NULL;
}

static void
client_close(struct xf_ctl_server *srv, struct ctl_client *c)
{
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	srv->stats.clients--;
}

void
xf_ctl_server_destroy(struct xf_ctl_server *srv)
{
	if (srv == NULL) {
		return;
	}
	for (unsigned int i = 0; i < XF_CTL_CLIENTS_MAX; i++) {
		if (srv->clients[i].fd >= 0) {
			client_close(srv, &srv->clients[i]);
		}
	}
	close(srv->listen_fd);
	unlink(srv->path);
	free(srv);
}

int
xf_ctl_server_register(struct xf_ctl_server *srv, const char *cmd, xf_ctl_handler_fn fn, void *arg)
{
	if (cmd == NULL || fn == NULL || cmd[0] == '\0' || strlen(cmd) >= CMD_NAME_MAX) {
		return -EINVAL;
	}
	for (unsigned int i = 0; i < srv->ncmds; i++) {
		if (strcmp(srv->cmds[i].name, cmd) == 0) {
			return -EEXIST;
		}
	}
	if (srv->ncmds == CMDS_MAX) {
		return -ENOSPC;
	}
	snprintf(srv->cmds[srv->ncmds].name, CMD_NAME_MAX, "%s", cmd);
	srv->cmds[srv->ncmds].fn = fn;
	srv->cmds[srv->ncmds].arg = arg;
	srv->ncmds++;
	return 0;
}

void
xf_ctl_server_stats(const struct xf_ctl_server *srv, struct xf_ctl_stats *st)
{
	*st = srv->stats;
}

/*
 * Queue one response line; the connection is flushed by the poll loop. A client that
 * sends requests and never reads the answers would grow its buffer without bound (the
 * daemon's memory): past XF_CTL_OUTPUT_MAX unread bytes it is dropped.
 */
static void
client_send(struct xf_ctl_server *srv, struct ctl_client *c, json_t *resp)
{
	char *text = json_dumps(resp, JSON_COMPACT);
	size_t len;
	char *grown;

	if (text == NULL) {
		c->closing = true;
		return;
	}
	len = strlen(text);
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + len + 1 > XF_CTL_OUTPUT_MAX) {
		XF_LOG(WARNING, "ctl",
		       "control client dropped: it left more than %u bytes of responses unread",
		       XF_CTL_OUTPUT_MAX);
		srv->stats.dropped++;
		free(text);
		c->closing = true;
		c->out_len = 0;
		return;
	}
	grown = realloc(c->out, c->out_len + len + 1);
	if (grown == NULL) {
		free(text);
		c->closing = true;
		return;
	}
	c->out = grown;
	memcpy(c->out + c->out_len, text, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	free(text);
}

static json_t *
error_response(json_t *id, enum xf_ctl_err err, const char *message)
{
	return json_pack("{s:i, s:O?, s:b, s:{s:s, s:s}}", "v", XF_CTL_VERSION, "id", id, "ok", 0,
	                 "error", "code", xf_ctl_err_str(err), "message", message);
}

static json_t *
dispatch(struct xf_ctl_server *srv, const char *line, size_t len)
{
	struct xf_ctl_reply reply = { 0 };
	json_error_t jerr;
	json_t *req, *v, *id, *cmd, *args, *resp;
	const struct ctl_cmd *found = NULL;
	char msg[256];

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL || !json_is_object(req)) {
		if (req == NULL) {
			snprintf(msg, sizeof(msg), "column %d: %s", jerr.column, jerr.text);
		} else {
			snprintf(msg, sizeof(msg), "a request is a JSON object");
		}
		json_decref(req);
		return error_response(NULL, XF_CTL_E_BAD_JSON, msg);
	}
	id = json_object_get(req, "id");
	if (id != NULL && !json_is_integer(id)) {
		id = NULL;
	}
	v = json_object_get(req, "v");
	cmd = json_object_get(req, "cmd");
	args = json_object_get(req, "args");
	if (!json_is_integer(v) || !json_is_string(cmd) ||
	    (args != NULL && !json_is_object(args))) {
		resp = error_response(id, XF_CTL_E_BAD_REQUEST,
		                      "expected {\"v\":1,\"cmd\":STRING,\"args\":OBJECT}");
		goto out;
	}
	if (json_integer_value(v) != XF_CTL_VERSION) {
		snprintf(msg, sizeof(msg), "version %lld not supported (this daemon speaks %d)",
		         (long long)json_integer_value(v), XF_CTL_VERSION);
		resp = error_response(id, XF_CTL_E_VERSION, msg);
		goto out;
	}
	for (unsigned int i = 0; i < srv->ncmds; i++) {
		if (strcmp(srv->cmds[i].name, json_string_value(cmd)) == 0) {
			found = &srv->cmds[i];
			break;
		}
	}
	if (found == NULL) {
		snprintf(msg, sizeof(msg), "unknown command '%.64s'", json_string_value(cmd));
		resp = error_response(id, XF_CTL_E_UNKNOWN_CMD, msg);
		goto out;
	}
	if (args == NULL) {
		args = json_object();
		found->fn(found->arg, args, &reply);
		json_decref(args);
	} else {
		found->fn(found->arg, args, &reply);
	}
	if (reply.err != 0) {
		json_decref(reply.result);
		resp = error_response(id, reply.err, reply.message);
	} else {
		resp = json_pack("{s:i, s:O?, s:b, s:o}", "v", XF_CTL_VERSION, "id", id, "ok", 1,
		                 "result", reply.result != NULL ? reply.result : json_object());
	}
out:
	json_decref(req);
	return resp;
}

static void
answer(struct xf_ctl_server *srv, struct ctl_client *c, json_t *resp)
{
	if (resp == NULL) {
		c->closing = true;
		return;
	}
	if (json_is_false(json_object_get(resp, "ok"))) {
		srv->stats.errors++;
	}
	srv->stats.requests++;
	client_send(srv, c, resp);
	json_decref(resp);
}

/* Handle every complete line in the input buffer. Returns requests answered. */
static int
client_process(struct xf_ctl_server *srv, struct ctl_client *c)
{
	int answered = 0;
	char *nl;

	while (!c->closing && (nl = memchr(c->in, '\n', c->in_len)) != NULL) {
		size_t line_len = (size_t)(nl - c->in);

		if (line_len > 0 && !(line_len == 1 && c->in[0] == '\r')) {
			answer(srv, c, dispatch(srv, c->in, line_len));
			answered++;
		}
		memmove(c->in, nl + 1, c->in_len - line_len - 1);
		c->in_len -= line_len + 1;
	}
	if (!c->closing && c->in_len == XF_CTL_REQUEST_MAX) {
		char msg[64];

		snprintf(msg, sizeof(msg), "request longer than %u bytes", XF_CTL_REQUEST_MAX);
		answer(srv, c, error_response(NULL, XF_CTL_E_TOO_LARGE, msg));
		srv->stats.dropped++;
		c->closing = true;
		answered++;
	}
	return answered;
}

static bool
peer_allowed(const struct xf_ctl_server *srv, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[64];
	socklen_t glen = sizeof(groups);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		return false;
	}
	if (cred.uid == 0 || cred.uid == geteuid()) {
		return true;
	}
	if (!srv->has_group) {
		return false;
	}
	if (cred.gid == srv->group) {
		return true;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0) {
		for (size_t i = 0; i < glen / sizeof(gid_t); i++) {
			if (groups[i] == srv->group) {
				return true;
			}
		}
	}
	return false;
}

static void
refuse(struct xf_ctl_server *srv, int fd, const char *why)
{
	json_t *resp = error_response(NULL, XF_CTL_E_FAILED, why);
	char *text = json_dumps(resp, JSON_COMPACT);

	srv->stats.refused++; /* counted before the client can see the answer */
	/* Best effort: a refused client gets one line, then the door. */
	if (text != NULL) {
		dprintf(fd, "%s\n", text);
		free(text);
	}
	json_decref(resp);
	close(fd);
}

static void
accept_clients(struct xf_ctl_server *srv)
{
	for (;;) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ctl_client *slot = NULL;

		if (fd < 0) {
			return; /* EAGAIN, or a transient error: try at the next poll */
		}
		if (!peer_allowed(srv, fd)) {
			refuse(srv, fd, "permission denied: peer credentials not allowed");
			continue;
		}
		for (unsigned int i = 0; i < XF_CTL_CLIENTS_MAX; i++) {
			if (srv->clients[i].fd < 0) {
				slot = &srv->clients[i];
				break;
			}
		}
		if (slot == NULL) {
			refuse(srv, fd, "too many control connections");
			continue;
		}
		slot->in = malloc(XF_CTL_REQUEST_MAX);
		if (slot->in == NULL) {
			refuse(srv, fd, "out of memory");
			continue;
		}
		slot->fd = fd;
		srv->stats.clients++;
	}
}

static int
client_read(struct xf_ctl_server *srv, struct ctl_client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, XF_CTL_REQUEST_MAX - c->in_len, 0);

		if (n > 0) {
			c->in_len += (size_t)n;
			if (c->in_len == XF_CTL_REQUEST_MAX) {
				return client_process(srv, c);
			}
			continue;
		}
		if (n == 0) {
			/* Peer closed; a partial request is abandoned, complete ones are answered.
			 */
			int answered = client_process(srv, c);

			if (c->in_len > 0) {
				srv->stats.dropped++;
			}
			c->closing = true;
			c->in_len = 0;
			return answered;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			c->closing = true;
			c->out_len = c->out_off = 0;
		}
		return client_process(srv, c);
	}
}

static void
client_flush(struct ctl_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				c->closing = true;
				c->out_off = c->out_len; /* the peer is gone: drop what is left */
			}
			break;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
	}
}

int
xf_ctl_server_poll(struct xf_ctl_server *srv, int timeout_ms)
{
	struct pollfd pfd[1 + XF_CTL_CLIENTS_MAX];
	struct ctl_client *owner[1 + XF_CTL_CLIENTS_MAX];
	unsigned int n = 0;
	int answered = 0, rc;

	pfd[n].fd = srv->listen_fd;
	pfd[n].events = POLLIN;
	owner[n++] = NULL;
	for (unsigned int i = 0; i < XF_CTL_CLIENTS_MAX; i++) {
		struct ctl_client *c = &srv->clients[i];

		if (c->fd < 0) {
			continue;
		}
		pfd[n].fd = c->fd;
		pfd[n].events = (c->closing ? 0 : POLLIN) | (c->out_len > 0 ? POLLOUT : 0);
		owner[n++] = c;
	}
	rc = poll(pfd, n, timeout_ms);
	if (rc < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	if (pfd[0].revents & POLLIN) {
		accept_clients(srv);
	}
	for (unsigned int i = 1; i < n; i++) {
		struct ctl_client *c = owner[i];

		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
			answered += client_read(srv, c);
		}
		if (c->out_len > 0) {
			client_flush(c);
		}
		if (c->closing && c->out_len == 0) {
			client_close(srv, c);
		}
	}
	return answered;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events until the deadline. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int rc;

		if (left <= 0) {
			return -ETIMEDOUT;
		}
		rc = poll(&p, 1, (int)XF_MIN(left, 1000));
		if (rc > 0) {
			return 0;
		}
		if (rc < 0 && errno != EINTR) {
			return -errno;
		}
	}
}

/* A send or recv that failed: wait for the socket if it would only block, else its error. */
static int
retry_fd(int fd, short events, int64_t deadline)
{
	if (errno == EAGAIN || errno == EINTR) {
		return wait_fd(fd, events, deadline);
	}
	return -errno;
}

int
xf_ctl_call(const char *path, const char *cmd, json_t *args, int timeout_ms, json_t **response)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct sockaddr_un sa;
	json_t *req;
	char *text = NULL, *buf = NULL;
	size_t len, off = 0, cap = 4096;
	int fd, rc;

	*response = NULL;
	rc = fill_sockaddr(&sa, path);
	if (rc < 0) {
		return rc;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out;
	}
	req = json_pack("{s:i, s:i, s:s, s:o}", "v", XF_CTL_VERSION, "id", 1, "cmd", cmd, "args",
	                args != NULL ? json_incref(args) : json_object());
	text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (text == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	len = strlen(text);
	text[len++] = '\n'; /* json_dumps left room: we overwrite the NUL */
	while (off < len) {
		ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);

		if (n < 0) {
			rc = retry_fd(fd, POLLOUT, deadline);
			if (rc < 0) {
				goto out;
			}
			continue;
		}
		off += (size_t)n;
	}
	buf = malloc(cap);
	if (buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	off = 0;
	for (;;) {
		ssize_t n;
		char *nl;

		if (off == cap) {
			char *grown = realloc(buf, cap * 2);

			if (grown == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			buf = grown;
			cap *= 2;
		}
		n = recv(fd, buf + off, cap - off, 0);
		if (n == 0) {
			rc = -ECONNRESET;
			goto out;
		}
		if (n < 0) {
			rc = retry_fd(fd, POLLIN, deadline);
			if (rc < 0) {
				goto out;
			}
			continue;
		}
		off += (size_t)n;
		nl = memchr(buf, '\n', off);
		if (nl != NULL) {
			*response =
			        json_loadb(buf, (size_t)(nl - buf), JSON_REJECT_DUPLICATES, NULL);
			rc = json_is_object(*response) ? 0 : -EPROTO;
			if (rc < 0) {
				json_decref(*response);
				*response = NULL;
			}
			goto out;
		}
	}
out:
	free(text);
	free(buf);
	close(fd);
	return rc;
}
