/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's control thread: EAL bring-up from the config, the control socket,
 * signals, reload and clean shutdown. The dataplane runs on the other lcores; this
 * thread only ever talks to it through the engine's API.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_errno.h>
#include <rte_version.h>

#include "xf_base.h"
#include "xf_config.h"
#include "xf_ctl.h"
#include "xf_engine.h"
#include "xferd.h"

#define EAL_ARGS_MAX 128

static const char *
log_level_name(int level)
{
	switch (level) {
	case XF_LOG_ERR:
		return "err";
	case XF_LOG_WARNING:
		return "warning";
	case XF_LOG_NOTICE:
		return "notice";
	case XF_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/*
 * Reload: build and validate a candidate, refuse it whole if any change needs a
 * restart, otherwise apply the reloadable part and swap. The running config is
 * untouched on every failure path.
 */
static int
reload_apply(struct xferd *d, json_t **report)
{
	struct xf_config *cand = NULL;
	json_t *changed = json_array(), *restart = json_array();
	bool needs_restart = false;
	char *text = NULL;
	size_t text_len = 0;
	FILE *mem;
	int n, rc;

	*report = NULL;
	rc = xferd_load_config(d->opts, &cand);
	if (rc < 0) {
		XF_LOG(ERR, "reload", "%s: configuration not valid, keeping the running one",
		       d->opts->config);
		d->reloads_refused++;
		json_decref(changed);
		json_decref(restart);
		return rc;
	}
	mem = open_memstream(&text, &text_len);
	if (mem == NULL) {
		xf_config_free(cand);
		json_decref(changed);
		json_decref(restart);
		return -ENOMEM;
	}
	n = xf_config_diff(d->cfg, cand, mem, &needs_restart);
	fclose(mem);
	/* One line per changed key: "KEY.PATH: OLD -> NEW (reloadable|restart)". */
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		json_array_append_new(changed, json_string(line));
		if (strstr(line, "(restart)") != NULL) {
			json_array_append_new(restart, json_string(line));
		}
	}
	free(text);
	if (needs_restart) {
		XF_LOG(WARNING, "reload", "refused: %zu change(s) need a restart",
		       json_array_size(restart));
		xf_config_free(cand);
		d->reloads_refused++;
	} else {
		struct xf_engine_params par = {
			.rate_bps = (uint64_t)cand->session.rate_mbit * 1000000ull,
			.congestion = (int)cand->session.congestion,
			.timeout_ms = cand->session.timeout_ms,
			.keepalive_ms = cand->session.keepalive_ms,
			.idle_poll = cand->cores.idle == XF_CONFIG_IDLE_POLL,
		};

		/* A reload keeps the volumes (their count and order need a restart). */
		for (unsigned int v = 0; v < cand->n_volumes; v++) {
			par.zip_volumes |= cand->volumes[v].compress ? 1u << v : 0;
		}

		/* The allowlist first: the one step that can fail on a valid config (more peers
		 * than slots over the run). Then the parameters: the loader checked keepalive <
		 * timeout, so this cannot fail; if it did, the engine would keep the old
		 * parameters and so does the config. */
		rc = xferd_peers_reload(d, cand);
		if (rc < 0) {
			xf_config_free(cand);
			d->reloads_refused++;
			json_decref(changed);
			json_decref(restart);
			return rc;
		}
		if (d->engine != NULL && xf_engine_set_params(d->engine, &par) < 0) {
			XF_LOG(ERR, "reload", "session parameters refused by the engine");
			xf_config_free(cand);
			d->reloads_refused++;
			json_decref(changed);
			json_decref(restart);
			return -EINVAL;
		}
		xf_log_threshold = d->opts->verbose ? XF_LOG_DEBUG : (int)cand->appliance.log_level;
		xf_config_free(d->cfg);
		d->cfg = cand;
		d->reloads++;
		XF_LOG(NOTICE, "reload", "applied %d change(s), log level %s", n,
		       log_level_name(xf_log_threshold));
	}
	*report = json_pack("{s:b, s:o, s:o}", "applied", !needs_restart, "changed", changed,
	                    "restart_needed", restart);
	return needs_restart ? -EBUSY : 0;
}

/*
 * A reload as systemd sees it (Type=notify, docs/OPERATIONS.md "Under systemd"):
 * RELOADING=1, then READY=1 once the outcome is known, whatever it is. sd_notify does
 * nothing when NOTIFY_SOCKET is not set (not started by systemd).
 */
static int
reload(struct xferd *d, json_t **report)
{
	int rc;

	sd_notify(0, "RELOADING=1");
	rc = reload_apply(d, report);
	sd_notifyf(0, "READY=1\nSTATUS=reload %s; %lu applied, %lu refused since start",
	           rc == 0 ? "applied" : "refused", d->reloads, d->reloads_refused);
	return rc;
}

static void
h_status(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	struct xferd *d = arg;
	struct xf_engine_stats st;
	unsigned int ids[XF_ENGINE_MAX_JOBS], n, running = 0;
	char ip[32], mac[24];
	const struct xf_config_port *port = &d->cfg->ports[0];

	(void)args;
	xf_engine_stats(d->engine, &st);
	n = xf_engine_jobs(d->engine, ids, XF_ENGINE_MAX_JOBS);
	for (unsigned int i = 0; i < n; i++) {
		struct xf_job_info j;

		running += xf_engine_job(d->engine, ids[i], &j) == 0 &&
		           (j.state == XF_JOB_RUNNING || j.state == XF_JOB_QUEUED);
	}
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u/%u", port->ipv4 >> 24, (port->ipv4 >> 16) & 0xff,
	         (port->ipv4 >> 8) & 0xff, port->ipv4 & 0xff, port->prefix_len);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", st.mac[0], st.mac[1], st.mac[2],
	         st.mac[3], st.mac[4], st.mac[5]);
	reply->result =
	        json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:[{s:s, s:b, s:i, s:s, s:s}]}",
	                  "name", d->cfg->appliance.name, "version", XFERD_VERSION, "dpdk",
	                  rte_version(), "state", d->stopping ? "stopping" : "running", "uptime_s",
	                  (json_int_t)(time(NULL) - d->started), "sessions", (int)st.sessions,
	                  "jobs", (int)running, "ports", "name", port->name, "link_up", st.link_up,
	                  "speed_mbps", (int)st.link_speed_mbps, "ipv4", ip, "mac", mac);
}

static void
h_reload(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	struct xferd *d = arg;
	json_t *report = NULL;
	int rc;

	(void)args;
	rc = reload(d, &report);
	if (report == NULL) {
		xf_ctl_reply_error(reply, XF_CTL_E_FAILED,
		                   "%s: configuration not valid (%s); the running one is kept; "
		                   "run xferd --check -c %s",
		                   d->opts->config, strerror(-rc), d->opts->config);
		return;
	}
	reply->result = report;
}

static void
h_shutdown(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	struct xferd *d = arg;

	(void)args;
	(void)reply;
	XF_LOG(NOTICE, "xferd", "shutdown requested over the control socket");
	d->stopping = true;
}

static int
eal_init(const struct xf_config *cfg)
{
	char *argv[EAL_ARGS_MAX], *copy[EAL_ARGS_MAX];
	int argc, rc;

	argc = xf_config_eal_args(cfg, argv, EAL_ARGS_MAX);
	if (argc < 0) {
		XF_LOG(ERR, "xferd", "EAL arguments: %s", strerror(-argc));
		return argc;
	}
	/* rte_eal_init permutes argv; keep the pointers to free them. */
	memcpy(copy, argv, sizeof(argv[0]) * (size_t)(argc + 1));
	rc = rte_eal_init(argc, argv);
	xf_config_eal_args_free(copy, argc);
	if (rc < 0) {
		XF_LOG(ERR, "xferd", "rte_eal_init: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

/* Signals are taken by a signalfd on the control thread only: block them everywhere
 * before EAL starts the lcore threads, which inherit the mask. */
static int
signals_block(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGPIPE);
	return pthread_sigmask(SIG_BLOCK, set, NULL) == 0 ? 0 : -errno;
}

static void
signals_handle(struct xferd *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		json_t *report = NULL;

		switch (si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
			XF_LOG(NOTICE, "xferd", "signal %d: stopping", (int)si.ssi_signo);
			d->stopping = true;
			break;
		case SIGHUP:
			reload(d, &report);
			json_decref(report);
			break;
		default:
			break;
		}
	}
}

int
xferd_run(const struct xferd_opts *o)
{
	struct xferd d = { .opts = o, .sigfd = -1, .started = time(NULL) };
	struct xf_ctl_access access = { 0 };
	struct xf_engine_conf ec;
	sigset_t set;
	int rc, status = 1;
	bool lanes_running = false;
	struct timespec now;
	long long last_ms = 0;

	xferd_journal_init();
	if (xferd_load_config(o, &d.cfg) < 0) {
		return 1;
	}
	xf_log_threshold = o->verbose ? XF_LOG_DEBUG : (int)d.cfg->appliance.log_level;
	if (xferd_crash_handlers_install() < 0) {
		XF_LOG(WARNING, "xferd", "crash handlers: %s", strerror(errno));
	}
	if (signals_block(&set) < 0) {
		goto out_cfg;
	}
	d.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d.sigfd < 0) {
		XF_LOG(ERR, "xferd", "signalfd: %s", strerror(errno));
		goto out_cfg;
	}
	if (eal_init(d.cfg) < 0) {
		goto out_sigfd;
	}
	xf_core_set_self(rte_lcore_id());
	if (xferd_engine_conf(d.cfg, &ec) < 0) {
		explicit_bzero(&ec, sizeof(ec));
		goto out_eal;
	}
	d.engine = xf_engine_create(&ec);
	explicit_bzero(&ec, sizeof(ec)); /* the keys: the engine holds its own copies */
	xferd_slots_init(&d);
	if (d.engine == NULL || xf_engine_launch(d.engine) < 0) {
		goto out_engine;
	}
	access.group = d.cfg->control.socket_group;
	d.ctl = xf_ctl_server_create(d.cfg->control.socket, &access);
	if (d.ctl == NULL) {
		XF_LOG(ERR, "xferd", "control socket %s: %s", d.cfg->control.socket,
		       strerror(errno));
		goto out_engine;
	}
	if (xf_ctl_server_register(d.ctl, "status", h_status, &d) < 0 ||
	    xf_ctl_server_register(d.ctl, "reload", h_reload, &d) < 0 ||
	    xf_ctl_server_register(d.ctl, "shutdown", h_shutdown, &d) < 0 ||
	    xferd_engine_register(&d, d.ctl) < 0 || xferd_capture_register(&d, d.ctl) < 0) {
		goto out_ctl;
	}
	/* Not fatal: EAL may run without telemetry (--no-telemetry in extra_args). */
	if (xferd_telemetry_init(&d) < 0) {
		XF_LOG(WARNING, "xferd", "DPDK telemetry commands not registered");
	}
	if (xferd_metrics_start(&d) < 0) {
		goto out_ctl;
	}
	XF_LOG(NOTICE, "xferd", "%s running (xferd %s, %s), control socket %s",
	       d.cfg->appliance.name, XFERD_VERSION, rte_version(), d.cfg->control.socket);
	/* Readiness line for scripts and tests: they wait for it, never sleep. */
	printf("xferd: ready\n");
	fflush(stdout);
	/* The same moment for systemd (Type=notify): the ports are started and the control
	 * socket answers. A no-op when NOTIFY_SOCKET is not set. */
	sd_notifyf(0, "READY=1\nSTATUS=%s running, control socket %s", d.cfg->appliance.name,
	           d.cfg->control.socket);

	while (!d.stopping) {
		/* A job of several lanes starts each phase at the poll after the last one
		 * ended: come back within 1 ms while one runs (docs/ENGINE.md, "Lanes"). */
		rc = xf_ctl_server_poll(d.ctl, lanes_running ? 1 : 50);
		if (rc < 0) {
			XF_LOG(ERR, "xferd", "control socket: %s", strerror(-rc));
			break;
		}
		signals_handle(&d);
		lanes_running = xf_engine_lanes_poll(d.engine);
		/* The rest after every poll, as without lanes, but while they run every 50 ms
		 * at most (a telemetry snapshot reads every counter). */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (lanes_running && now.tv_sec * 1000 + now.tv_nsec / 1000000 - last_ms < 50) {
			continue;
		}
		last_ms = now.tv_sec * 1000 + now.tv_nsec / 1000000;
		xf_engine_link_poll(d.engine); /* a gratuitous ARP at each link-up */
		xferd_pull_serve(&d);
		xferd_telemetry_refresh(&d);
		xferd_metrics_poll(&d);
	}
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
	/* Answer what is already queued (e.g. the shutdown reply), then close. */
	xf_ctl_server_poll(d.ctl, 0);
	status = 0;
	XF_LOG(NOTICE, "xferd", "stopped");
out_ctl:
	xferd_capture_stop();
	xferd_metrics_stop(&d);
	xf_ctl_server_destroy(d.ctl);
out_engine:
	/* Stop the loops: sessions end, unfinished files' temps are removed. */
	xf_engine_destroy(d.engine);
out_eal:
	rte_eal_cleanup();
out_sigfd:
	close(d.sigfd);
out_cfg:
	xf_config_free(d.cfg);
	return status;
}
