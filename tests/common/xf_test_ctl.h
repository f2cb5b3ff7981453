/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A control socket served by a thread of the test program, as the daemon serves it on its
 * control thread: a temp directory of its own (so tests running at once do not meet),
 * the socket DIR/ctl.sock with the test's handlers, and a thread polling it until the
 * suite ends.
 */
#ifndef XF_TEST_CTL_H
#define XF_TEST_CTL_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xf_ctl.h"

struct xf_test_ctl {
	char dir[64];        /**< the temp directory */
	char sock_path[128]; /**< DIR/ctl.sock */
	struct xf_ctl_server *srv;
	pthread_t thread;
	atomic_bool stop;
	bool started;
};

/* The server thread: it polls until xf_test_ctl_close(). */
static inline void *
xf_test_ctl_serve(void *arg)
{
	struct xf_test_ctl *t = arg;

	while (!atomic_load(&t->stop)) {
		xf_ctl_server_poll(t->srv, 20);
	}
	return NULL;
}

/** One command of the test server: its name and handler (arg NULL). */
struct xf_test_ctl_cmd {
	const char *cmd;
	xf_ctl_handler_fn fn;
};

/**
 * Make a temp directory from tmpl ("/tmp/NAME-XXXXXX") with mode, create the server on
 * DIR/ctl.sock with the commands of cmds (ended by a NULL cmd), and start the thread
 * that serves it.
 * @return 0, or -1 if a step failed.
 */
static inline int
xf_test_ctl_open(struct xf_test_ctl *t, const char *tmpl, mode_t mode,
                 const struct xf_test_ctl_cmd *cmds)
{
	snprintf(t->dir, sizeof(t->dir), "%s", tmpl);
	if (mkdtemp(t->dir) == NULL || chmod(t->dir, mode) != 0) {
		return -1;
	}
	snprintf(t->sock_path, sizeof(t->sock_path), "%s/ctl.sock", t->dir);
	t->srv = xf_ctl_server_create(t->sock_path, NULL);
	if (t->srv == NULL) {
		return -1;
	}
	for (; cmds->cmd != NULL; cmds++) {
		if (xf_ctl_server_register(t->srv, cmds->cmd, cmds->fn, NULL) != 0) {
			return -1;
		}
	}
	atomic_store(&t->stop, false);
	t->started = pthread_create(&t->thread, NULL, xf_test_ctl_serve, t) == 0;
	return t->started ? 0 : -1;
}

/**
 * Wait until the server has seen every connection of the test close (its poll loop
 * turns every 20 ms), so that the next test finds every slot free.
 * @return 0, or -ETIMEDOUT if connections are still held after 5 s.
 */
static inline int
xf_test_ctl_wait_idle(struct xf_test_ctl *t)
{
	struct xf_ctl_stats st;

	for (int i = 0; i < 5000; i++) {
		xf_ctl_server_stats(t->srv, &st);
		if (st.clients == 0) {
			return 0;
		}
		poll(NULL, 0, 1);
	}
	return -ETIMEDOUT;
}

/** Stop the thread, destroy the server (it removes the socket) and remove the directory. */
static inline void
xf_test_ctl_close(struct xf_test_ctl *t)
{
	if (t->started) {
		atomic_store(&t->stop, true);
		pthread_join(t->thread, NULL);
		t->started = false;
	}
	xf_ctl_server_destroy(t->srv);
	t->srv = NULL;
	rmdir(t->dir);
}

#endif /* XF_TEST_CTL_H */
