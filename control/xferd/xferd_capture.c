/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `xferctl capture`: the control commands `capture` (start) and `capture_status`, and
 * the writer thread that drains the RX cores' capture rings into a pcapng file
 * (drivers/capture/xf_capture.h, docs/OPERATIONS.md "Capturing on the appliance").
 *
 * The writer is a thread of its own, off the dataplane cores (it inherits the control
 * thread's CPU set): writing the file may block, and neither the RX cores nor the
 * control socket may wait for a disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "xf_base.h"
#include "xf_capture.h"
#include "xf_config.h"
#include "xf_ctl.h"
#include "xf_engine.h"
#include "xferd.h"

/* Bounds of the command's arguments (docs/CONTROL.md). */
#define CAP_COUNT_MAX   10000000u
#define CAP_TIMEOUT_MAX 86400000u /* 24 h, in ms */
#define CAP_TIMEOUT_DEF 60000u
#define CAP_PATH_MAX    4095u
/* The writer's nap when the rings are empty. */
#define CAP_IDLE_NS 1000000L

enum cap_state {
	CAP_IDLE = 0, /**< never started */
	CAP_RUNNING,
	CAP_DONE,    /**< count frames written */
	CAP_TIMEOUT, /**< timeout_ms passed first */
	CAP_FAILED,  /**< the file could not be written */
	CAP_STOPPED, /**< the daemon is stopping */
};

static const char *const state_names[] = {
	"idle", "running", "done", "timeout", "failed", "stopped"
};

/* The one capture of the daemon. The control thread starts it and joins the writer;
 * the writer publishes its counters under the lock. */
static struct {
	pthread_mutex_t lock;
	pthread_t thread;
	bool joinable;
	atomic_bool stop; /**< control thread -> writer: end now */
	struct xf_capture *cap;
	unsigned int writer_core;
	/* Under lock: */
	enum cap_state state;
	char path[CAP_PATH_MAX + 1];
	uint64_t count, written, missed;
	uint64_t timeout_ms, elapsed_ms;
} g_cap = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
publish(enum cap_state state, uint64_t start)
{
	struct xf_capture_stats st;

	xf_capture_stats(g_cap.cap, &st);
	pthread_mutex_lock(&g_cap.lock);
	g_cap.state = state;
	g_cap.written = st.written;
	g_cap.missed = st.missed;
	g_cap.elapsed_ms = now_ms() - start;
	pthread_mutex_unlock(&g_cap.lock);
}

static void *
writer_main(void *arg)
{
	const struct timespec nap = { 0, CAP_IDLE_NS };
	uint64_t start = now_ms(), deadline;
	enum cap_state state = CAP_RUNNING;

	(void)arg;
	xf_core_set_self(g_cap.writer_core);
	pthread_mutex_lock(&g_cap.lock);
	deadline = start + g_cap.timeout_ms;
	pthread_mutex_unlock(&g_cap.lock);
	while (state == CAP_RUNNING) {
		int n = xf_capture_drain(g_cap.cap);

		if (n < 0) {
			state = CAP_FAILED;
		} else if (xf_capture_full(g_cap.cap)) {
			state = CAP_DONE;
		} else if (atomic_load_explicit(&g_cap.stop, memory_order_relaxed)) {
			state = CAP_STOPPED;
		} else if (now_ms() >= deadline) {
			state = CAP_TIMEOUT;
		} else if (n == 0) {
			nanosleep(&nap, NULL);
		}
		if (n > 0 || state != CAP_RUNNING) {
			publish(CAP_RUNNING, start);
		}
	}
	xf_capture_end(g_cap.cap);
	publish(state, start);
	if (state == CAP_FAILED) {
		XF_LOG(ERR, "xferd", "capture to %s: the file could not be written", g_cap.path);
	} else {
		XF_LOG(NOTICE, "xferd", "capture to %s %s: %llu frames written, %llu missed",
		       g_cap.path, state_names[state], (unsigned long long)g_cap.written,
		       (unsigned long long)g_cap.missed);
	}
	return NULL;
}

/* Join a writer that finished (or, stopping, end it). Control thread. */
static void
reap(bool stop)
{
	bool running;

	if (!g_cap.joinable) {
		return;
	}
	pthread_mutex_lock(&g_cap.lock);
	running = g_cap.state == CAP_RUNNING;
	pthread_mutex_unlock(&g_cap.lock);
	if (running && !stop) {
		return;
	}
	atomic_store_explicit(&g_cap.stop, true, memory_order_relaxed);
	pthread_join(g_cap.thread, NULL);
	g_cap.joinable = false;
}

/* args.NAME as an integer in [lo, hi], or def when absent. @return false (reply set). */
static bool
int_arg(json_t *args, const char *name, json_int_t lo, json_int_t hi, json_int_t def, uint64_t *out,
        struct xf_ctl_reply *reply)
{
	json_t *v = json_object_get(args, name);

	if (v == NULL && def >= 0) {
		*out = (uint64_t)def;
		return true;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS,
		                   "args.%s: expected an integer from %lld to %lld", name,
		                   (long long)lo, (long long)hi);
		return false;
	}
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* args.port: the port's name or its index. */
static bool
port_arg(const struct xferd *d, json_t *args, struct xf_ctl_reply *reply)
{
	json_t *v = json_object_get(args, "port");
	const char *name = d->cfg->ports[0].name;

	if ((json_is_integer(v) && json_integer_value(v) == 0) ||
	    (json_is_string(v) && strcmp(json_string_value(v), name) == 0)) {
		return true;
	}
	xf_ctl_reply_error(reply,
	                   json_is_integer(v) || json_is_string(v) ? XF_CTL_E_NOT_FOUND
	                                                           : XF_CTL_E_INVALID_ARGS,
	                   "args.port: expected the port's name ('%s') or index (0)", name);
	return false;
}

/* args.path: absolute, at most CAP_PATH_MAX bytes. @return its fd (a new file), or -1. */
static int
path_arg(json_t *args, struct xf_ctl_reply *reply)
{
	json_t *v = json_object_get(args, "path");
	const char *path = json_string_value(v);
	int fd;

	if (path == NULL || path[0] != '/' || json_string_length(v) > CAP_PATH_MAX ||
	    strlen(path) != json_string_length(v)) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS,
		                   "args.path: expected an absolute path of at most %u bytes",
		                   CAP_PATH_MAX);
		return -1;
	}
	/* A new file only, never one in place or through a symlink: the daemon runs as
	 * root, and a capture is readable by its owner only. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		xf_ctl_reply_error(reply, XF_CTL_E_FAILED, "%s: %s", path, strerror(errno));
	}
	return fd;
}

static void
h_capture(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	struct xferd *d = arg;
	uint64_t count, timeout;
	int fd, rc;

	reap(false);
	if (g_cap.joinable) {
		xf_ctl_reply_error(reply, XF_CTL_E_BUSY, "a capture is running (to %s)",
		                   g_cap.path);
		return;
	}
	if (!port_arg(d, args, reply) ||
	    !int_arg(args, "count", 1, CAP_COUNT_MAX, -1, &count, reply) ||
	    !int_arg(args, "timeout_ms", 1, CAP_TIMEOUT_MAX, CAP_TIMEOUT_DEF, &timeout, reply)) {
		return;
	}
	if (g_cap.cap == NULL) {
		g_cap.writer_core = rte_get_main_lcore();
		g_cap.cap = xf_engine_capture(d->engine, g_cap.writer_core);
		if (g_cap.cap == NULL) {
			xf_ctl_reply_error(reply, XF_CTL_E_FAILED, "capture pools: %s",
			                   strerror(errno));
			return;
		}
	}
	fd = path_arg(args, reply);
	if (fd < 0) {
		return;
	}
	rc = xf_capture_begin(g_cap.cap, fd, count);
	if (rc < 0) {
		xf_ctl_reply_error(reply, XF_CTL_E_FAILED, "pcapng: %s", strerror(-rc));
		close(fd);
		unlink(json_string_value(json_object_get(args, "path")));
		return;
	}
	pthread_mutex_lock(&g_cap.lock);
	g_cap.state = CAP_RUNNING;
	snprintf(g_cap.path, sizeof(g_cap.path), "%s",
	         json_string_value(json_object_get(args, "path")));
	g_cap.count = count;
	g_cap.timeout_ms = timeout;
	g_cap.written = g_cap.missed = g_cap.elapsed_ms = 0;
	pthread_mutex_unlock(&g_cap.lock);
	atomic_store_explicit(&g_cap.stop, false, memory_order_relaxed);
	rc = pthread_create(&g_cap.thread, NULL, writer_main, NULL);
	if (rc != 0) {
		xf_capture_end(g_cap.cap);
		g_cap.state = CAP_FAILED;
		xf_ctl_reply_error(reply, XF_CTL_E_FAILED, "writer thread: %s", strerror(rc));
		return;
	}
	g_cap.joinable = true;
	XF_LOG(NOTICE, "xferd", "capture of %llu frames to %s started", (unsigned long long)count,
	       g_cap.path);
	reply->result = json_pack("{s:s, s:I}", "path", g_cap.path, "count", (json_int_t)count);
}

static void
h_capture_status(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	(void)arg;
	(void)args;
	reap(false);
	pthread_mutex_lock(&g_cap.lock);
	reply->result = json_pack(
	        "{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "state", state_names[g_cap.state], "path",
	        g_cap.path, "count", (json_int_t)g_cap.count, "written", (json_int_t)g_cap.written,
	        "missed", (json_int_t)g_cap.missed, "elapsed_ms", (json_int_t)g_cap.elapsed_ms,
	        "timeout_ms", (json_int_t)g_cap.timeout_ms);
	pthread_mutex_unlock(&g_cap.lock);
}

int
xferd_capture_register(struct xferd *d, struct xf_ctl_server *ctl)
{
	if (xf_ctl_server_register(ctl, "capture", h_capture, d) < 0 ||
	    xf_ctl_server_register(ctl, "capture_status", h_capture_status, d) < 0) {
		return -EINVAL;
	}
	return 0;
}

void
xferd_capture_stop(void)
{
	reap(true);
}
