/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket: requests and replies, hostile clients, peer credentials.
 * The server runs in a thread of its own, as it does on the daemon's control thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_ctl.h"
#include "xf_test_ctl.h"

static struct xf_test_ctl ctl;
static atomic_int status_calls;

static void
h_status(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	(void)arg;
	(void)args;
	atomic_fetch_add(&status_calls, 1);
	reply->result =
	        json_pack("{s:s, s:i}", "state", "running", "calls", atomic_load(&status_calls));
}

static void
h_echo(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	json_t *n = json_object_get(args, "n");

	(void)arg;
	if (!json_is_integer(n)) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS, "args.n: expected an integer");
		return;
	}
	reply->result = json_pack("{s:I}", "n", json_integer_value(n) * 2);
}

static int
suite_init(void)
{
	static const struct xf_test_ctl_cmd cmds[] = {
		{ "status", h_status },
		{ "echo", h_echo },
		{ NULL, NULL },
	};

	/* Other uids must be able to reach the socket file for the credential tests. */
	return xf_test_ctl_open(&ctl, "/tmp/xf-ctl-XXXXXX", 0755, cmds);
}

static int
suite_clean(void)
{
	xf_test_ctl_close(&ctl);
	return 0;
}

static void
set_sun_path(struct sockaddr_un *sa, const char *path)
{
	size_t len = strlen(path);

	CU_ASSERT_FATAL(len < sizeof(sa->sun_path));
	memcpy(sa->sun_path, path, len + 1);
}

static int
raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	set_sun_path(&sa, ctl.sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0) {
			close(fd);
		}
		return -errno;
	}
	return fd;
}

/* Read one line (without the newline) with a generous timeout; "" on EOF. */
static int
read_line(int fd, char *buf, size_t cap)
{
	size_t off = 0;

	while (off + 1 < cap) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10000) <= 0) {
			return -ETIMEDOUT;
		}
		n = recv(fd, buf + off, 1, 0);
		if (n <= 0) {
			break;
		}
		if (buf[off] == '\n') {
			break;
		}
		off++;
	}
	buf[off] = '\0';
	return (int)off;
}

/* Send raw bytes, read one reply, return its error code ("" if ok). */
static void
raw_request(int fd, const char *text, char *code, size_t cap)
{
	char line[4096];
	json_t *resp;

	CU_ASSERT_EQUAL_FATAL(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
	CU_ASSERT_FATAL(read_line(fd, line, sizeof(line)) > 0);
	resp = json_loads(line, 0, NULL);
	CU_ASSERT_FATAL(json_is_object(resp));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(resp, "v")), XF_CTL_VERSION);
	if (json_is_true(json_object_get(resp, "ok"))) {
		snprintf(code, cap, "%s", "");
	} else {
		json_t *err = json_object_get(resp, "error");

		CU_ASSERT(json_is_string(json_object_get(err, "message")));
		snprintf(code, cap, "%s", json_string_value(json_object_get(err, "code")));
	}
	json_decref(resp);
}

static void
test_status_and_args(void)
{
	json_t *resp = NULL, *args;

	CU_ASSERT_EQUAL_FATAL(xf_ctl_call(ctl.sock_path, "status", NULL, 5000, &resp), 0);
	CU_ASSERT(json_is_true(json_object_get(resp, "ok")));
	CU_ASSERT_STRING_EQUAL(
	        json_string_value(json_object_get(json_object_get(resp, "result"), "state")),
	        "running");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(resp, "id")), 1);
	json_decref(resp);

	args = json_pack("{s:i}", "n", 21);
	CU_ASSERT_EQUAL_FATAL(xf_ctl_call(ctl.sock_path, "echo", args, 5000, &resp), 0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(resp, "result"), "n")),
	                42);
	json_decref(resp);
	json_decref(args);

	args = json_pack("{s:s}", "n", "x");
	CU_ASSERT_EQUAL_FATAL(xf_ctl_call(ctl.sock_path, "echo", args, 5000, &resp), 0);
	CU_ASSERT(json_is_false(json_object_get(resp, "ok")));
	CU_ASSERT_STRING_EQUAL(
	        json_string_value(json_object_get(json_object_get(resp, "error"), "code")),
	        "invalid_args");
	json_decref(resp);
	json_decref(args);

	CU_ASSERT_EQUAL_FATAL(xf_ctl_call(ctl.sock_path, "no-such", NULL, 5000, &resp), 0);
	CU_ASSERT_STRING_EQUAL(
	        json_string_value(json_object_get(json_object_get(resp, "error"), "code")),
	        "unknown_command");
	json_decref(resp);
}

/* Every malformed request gets an error reply and the connection keeps serving. */
static void
test_malformed_requests(void)
{
	static const struct {
		const char *text;
		const char *code;
	} cases[] = {
		{ "{bad\n", "bad_json" },
		{ "[1,2,3]\n", "bad_json" },
		{ "\"status\"\n", "bad_json" },
		{ "{\"v\":1,\"cmd\":\"status\",\"cmd\":\"echo\"}\n", "bad_json" },
		{ "{\"v\":1}\n", "bad_request" },
		{ "{\"cmd\":\"status\"}\n", "bad_request" },
		{ "{\"v\":\"1\",\"cmd\":\"status\"}\n", "bad_request" },
		{ "{\"v\":1,\"cmd\":7}\n", "bad_request" },
		{ "{\"v\":1,\"cmd\":\"status\",\"args\":[]}\n", "bad_request" },
		{ "{\"v\":2,\"cmd\":\"status\"}\n", "version" },
		{ "{\"v\":1,\"cmd\":\"status\"}\n", "" },
		{ "{\"v\":1,\"cmd\":\"\\u0000status\"}\n", "bad_json" },
	};
	char code[64];
	int fd = raw_connect();

	CU_ASSERT_FATAL(fd >= 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		raw_request(fd, cases[i].text, code, sizeof(code));
		CU_ASSERT_STRING_EQUAL(code, cases[i].code);
		if (strcmp(code, cases[i].code) != 0) {
			fprintf(stderr, "case %zu: %s -> '%s'\n", i, cases[i].text, code);
		}
	}
	/* Two requests in one write are two replies, in order. */
	raw_request(fd, "{\"v\":1,\"cmd\":\"nope\"}\n{\"v\":1,\"cmd\":\"status\"}\n", code,
	            sizeof(code));
	CU_ASSERT_STRING_EQUAL(code, "unknown_command");
	{
		char line[4096];

		CU_ASSERT(read_line(fd, line, sizeof(line)) > 0);
		CU_ASSERT(strstr(line, "\"ok\":true") != NULL);
	}
	close(fd);
}

static void
test_oversized_request(void)
{
	size_t len = XF_CTL_REQUEST_MAX + 4096;
	char *big = malloc(len + 1);
	char line[4096];
	int fd = raw_connect();
	size_t off = 0;
	struct xf_ctl_stats before, after;

	CU_ASSERT_FATAL(fd >= 0 && big != NULL);
	xf_ctl_server_stats(ctl.srv, &before);
	memset(big, 'x', len);
	big[len] = '\0';
	/* The server answers and closes once its buffer is full; later sends may fail. */
	while (off < len) {
		ssize_t n = send(fd, big + off, len - off, MSG_NOSIGNAL);

		if (n <= 0) {
			break;
		}
		off += (size_t)n;
	}
	CU_ASSERT(read_line(fd, line, sizeof(line)) > 0);
	CU_ASSERT(strstr(line, "too_large") != NULL);
	CU_ASSERT_EQUAL(read_line(fd, line, sizeof(line)), 0); /* then EOF */
	close(fd);
	free(big);
	xf_ctl_server_stats(ctl.srv, &after);
	CU_ASSERT(after.dropped > before.dropped);
}

static void
test_disconnect_mid_request(void)
{
	struct xf_ctl_stats before, after;
	json_t *resp = NULL;
	int fd = raw_connect();

	CU_ASSERT_FATAL(fd >= 0);
	xf_ctl_server_stats(ctl.srv, &before);
	CU_ASSERT(send(fd, "{\"v\":1,\"cmd\":\"sta", 17, MSG_NOSIGNAL) == 17);
	close(fd);
	/* The server noticed, dropped the half request, and still serves. */
	CU_ASSERT_EQUAL_FATAL(xf_ctl_call(ctl.sock_path, "status", NULL, 5000, &resp), 0);
	CU_ASSERT(json_is_true(json_object_get(resp, "ok")));
	json_decref(resp);
	for (int i = 0; i < 500; i++) {
		xf_ctl_server_stats(ctl.srv, &after);
		if (after.dropped > before.dropped) {
			break;
		}
		CU_ASSERT_EQUAL_FATAL(xf_ctl_call(ctl.sock_path, "status", NULL, 5000, &resp), 0);
		json_decref(resp);
	}
	CU_ASSERT(after.dropped > before.dropped);
}

/*
 * A client that sends requests and never reads the answers is dropped once more than
 * XF_CTL_OUTPUT_MAX bytes wait for it; the server keeps serving others. Without the cap
 * the server would read all 16 MiB of requests and hold every answer.
 */
static void
test_unread_output_capped(void)
{
	static const char req[] = "{\"v\":1,\"cmd\":\"echo\",\"args\":{\"n\":12345}}\n";
	size_t chunk_len = 64 * 1024, sent = 0;
	char *chunk = malloc(chunk_len);
	struct xf_ctl_stats before, after;
	json_t *resp = NULL;
	int fd = raw_connect();
	char buf[65536];
	ssize_t n;

	CU_ASSERT_FATAL(fd >= 0 && chunk != NULL);
	xf_ctl_server_stats(ctl.srv, &before);
	for (size_t off = 0; off + sizeof(req) - 1 <= chunk_len; off += sizeof(req) - 1) {
		memcpy(chunk + off, req, sizeof(req) - 1);
	}
	chunk_len -= chunk_len % (sizeof(req) - 1);
	/* Blocking sends: they stall while the server has not read, and fail once it closed. */
	while (sent < 16u * 1024u * 1024u) {
		n = send(fd, chunk, chunk_len, MSG_NOSIGNAL);
		if (n <= 0) {
			break;
		}
		sent += (size_t)n;
	}
	CU_ASSERT(sent < 16u * 1024u * 1024u);
	/* What the server had flushed before closing can still be read, then EOF (or RST). */
	do {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		CU_ASSERT_FATAL(poll(&p, 1, 10000) == 1);
		n = recv(fd, buf, sizeof(buf), 0);
	} while (n > 0);
	close(fd);
	free(chunk);
	xf_ctl_server_stats(ctl.srv, &after);
	CU_ASSERT(after.dropped > before.dropped);
	CU_ASSERT_EQUAL_FATAL(xf_ctl_call(ctl.sock_path, "status", NULL, 5000, &resp), 0);
	CU_ASSERT(json_is_true(json_object_get(resp, "ok")));
	json_decref(resp);
}

/* Past XF_CTL_CLIENTS_MAX connections, newcomers are refused with a reason. */
static void
test_connection_limit(void)
{
	int fds[XF_CTL_CLIENTS_MAX];
	char code[64];
	char line[4096];
	int extra;

	for (unsigned int i = 0; i < XF_CTL_CLIENTS_MAX; i++) {
		fds[i] = raw_connect();
		CU_ASSERT_FATAL(fds[i] >= 0);
		/* A round trip proves the server holds this connection in a slot. */
		raw_request(fds[i], "{\"v\":1,\"cmd\":\"status\"}\n", code, sizeof(code));
		CU_ASSERT_STRING_EQUAL(code, "");
	}
	extra = raw_connect();
	CU_ASSERT_FATAL(extra >= 0);
	CU_ASSERT(read_line(extra, line, sizeof(line)) > 0);
	CU_ASSERT(strstr(line, "too many control connections") != NULL);
	close(extra);
	for (unsigned int i = 0; i < XF_CTL_CLIENTS_MAX; i++) {
		close(fds[i]);
	}
	/* Every slot comes back once the clients are gone; the next test needs one, and
	 * would be refused while the server has not yet seen the closes. */
	CU_ASSERT_EQUAL(xf_test_ctl_wait_idle(&ctl), 0);
}

/* Fork a child that becomes uid/gid 65534 and tries a request; returns its verdict. */
enum { CHILD_OK = 10, CHILD_REFUSED = 11, CHILD_EACCES = 12, CHILD_ERR = 13 };

static int
as_other_uid(const char *path, gid_t gid)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		char buf[512] = { 0 };
		ssize_t n;
		int fd;

		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(65534) < 0) {
			_exit(CHILD_ERR);
		}
		set_sun_path(&sa, path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			_exit(errno == EACCES ? CHILD_EACCES : CHILD_ERR);
		}
		/* A refused client may find the door already shut: ignore EPIPE, read the reason.
		 */
		(void)send(fd, "{\"v\":1,\"cmd\":\"status\"}\n", 23, MSG_NOSIGNAL);
		n = read(fd, buf, sizeof(buf) - 1);
		if (n <= 0) {
			_exit(CHILD_ERR);
		}
		if (strstr(buf, "permission denied") != NULL) {
			_exit(CHILD_REFUSED);
		}
		_exit(strstr(buf, "\"ok\":true") != NULL ? CHILD_OK : CHILD_ERR);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		return -1;
	}
	return WEXITSTATUS(status);
}

static void
test_other_uid_refused(void)
{
	struct xf_ctl_stats before, after;
	struct stat st;

	if (geteuid() != 0) {
		/* Changing uid needs root; this case alone cannot run. */
		fprintf(stderr, "test_other_uid_refused: not root, case not run\n");
		return;
	}
	/* Owner-only socket: the file mode stops the other uid at connect. */
	CU_ASSERT_EQUAL_FATAL(stat(ctl.sock_path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(as_other_uid(ctl.sock_path, 65534), CHILD_EACCES);

	/* Even when the file mode lets it in, the peer credentials do not. */
	xf_ctl_server_stats(ctl.srv, &before);
	CU_ASSERT_EQUAL_FATAL(chmod(ctl.sock_path, 0666), 0);
	CU_ASSERT_EQUAL(as_other_uid(ctl.sock_path, 65534), CHILD_REFUSED);
	CU_ASSERT_EQUAL(chmod(ctl.sock_path, 0600), 0);
	xf_ctl_server_stats(ctl.srv, &after);
	CU_ASSERT_EQUAL(after.refused, before.refused + 1);
}

static void
test_group_access(void)
{
	struct xf_ctl_access acc = { .group = "nogroup" };
	struct group *g = getgrnam("nogroup");
	char path[160];
	struct xf_ctl_server *gsrv;
	struct stat st;
	pid_t pid;
	int verdict = -1, status;

	if (geteuid() != 0 || g == NULL) {
		fprintf(stderr, "test_group_access: needs root and group nogroup, case not run\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/group.sock", ctl.dir);
	gsrv = xf_ctl_server_create(path, &acc);
	CU_ASSERT_FATAL(gsrv != NULL);
	CU_ASSERT_EQUAL(xf_ctl_server_register(gsrv, "status", h_status, NULL), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0660);
	CU_ASSERT_EQUAL(st.st_gid, g->gr_gid);

	/* The child talks to gsrv while this thread serves it. */
	pid = fork();
	if (pid == 0) {
		int v = as_other_uid(path, g->gr_gid);

		_exit(v < 0 ? CHILD_ERR : v);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		xf_ctl_server_poll(gsrv, 20);
	}
	if (WIFEXITED(status)) {
		verdict = WEXITSTATUS(status);
	}
	CU_ASSERT_EQUAL(verdict, CHILD_OK);
	xf_ctl_server_destroy(gsrv);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
}

static void
test_create_errors(void)
{
	char path[160];
	struct xf_ctl_server *s2;
	char longpath[200];
	int fd;

	/* A regular file in the way is never replaced. */
	snprintf(path, sizeof(path), "%s/regular", ctl.dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	errno = 0;
	CU_ASSERT_PTR_NULL(xf_ctl_server_create(path, NULL));
	CU_ASSERT_EQUAL(errno, EEXIST);
	unlink(path);

	/* A live daemon's socket is never taken over... */
	errno = 0;
	CU_ASSERT_PTR_NULL(xf_ctl_server_create(ctl.sock_path, NULL));
	CU_ASSERT_EQUAL(errno, EADDRINUSE);

	/* ...but a stale one, left by a crash (bound, never unlinked), is replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", ctl.dir);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		set_sun_path(&sa, path);
		CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		close(fd);
	}
	s2 = xf_ctl_server_create(path, NULL);
	CU_ASSERT_PTR_NOT_NULL(s2);
	xf_ctl_server_destroy(s2);

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	errno = 0;
	CU_ASSERT_PTR_NULL(xf_ctl_server_create(longpath, NULL));
	CU_ASSERT_EQUAL(errno, ENAMETOOLONG);

	{
		struct xf_ctl_access access = { .group = "no-such-group-xf" };

		snprintf(path, sizeof(path), "%s/g.sock", ctl.dir);
		errno = 0;
		CU_ASSERT_PTR_NULL(xf_ctl_server_create(path, &access));
		CU_ASSERT_EQUAL(errno, ENOENT);
	}

	CU_ASSERT_EQUAL(xf_ctl_server_register(ctl.srv, "status", h_status, NULL), -EEXIST);
	CU_ASSERT_EQUAL(xf_ctl_server_register(ctl.srv, "", h_status, NULL), -EINVAL);
}

static void
test_client_errors(void)
{
	char path[160];
	json_t *resp = (json_t *)1;

	snprintf(path, sizeof(path), "%s/absent.sock", ctl.dir);
	CU_ASSERT_EQUAL(xf_ctl_call(path, "status", NULL, 1000, &resp), -ENOENT);
	CU_ASSERT_PTR_NULL(resp);
}

static const struct xf_test tests[] = {
	{ "status and args", test_status_and_args },
	{ "malformed requests", test_malformed_requests },
	{ "oversized request", test_oversized_request },
	{ "disconnect mid request", test_disconnect_mid_request },
	{ "connection limit", test_connection_limit },
	{ "unread output capped", test_unread_output_capped },
	{ "other uid refused", test_other_uid_refused },
	{ "group access", test_group_access },
	{ "create errors", test_create_errors },
	{ "client errors", test_client_errors },
};

int
main(void)
{
	return xf_test_main("ctl", suite_init, suite_clean, XF_TESTS(tests));
}
