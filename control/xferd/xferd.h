/* SPDX-License-Identifier: BSD-3-Clause */
/* The xferd program: command line, modes, and the run loop of the control thread. */
#ifndef XFERD_H
#define XFERD_H

#include <stdbool.h>
#include <stdint.h>

#include <time.h>

#include <jansson.h>

struct xf_config;
struct xf_ctl_server;
struct xf_engine;
struct xf_engine_conf;
struct xferd_metrics;

enum xferd_mode {
	XFERD_MODE_RUN = 0, /**< the daemon, in the foreground */
	XFERD_MODE_CHECK,   /**< validate the configuration, exit 0 or 1 */
	XFERD_MODE_DUMP,    /**< print the effective configuration */
	XFERD_MODE_HELP,    /**< usage was printed */
	XFERD_MODE_KEYGEN,  /**< xferd keygen FILE: new private key file, print public key */
	XFERD_MODE_PUBKEY,  /**< xferd pubkey -c FILE: print session.private_key_file's key */
};

struct xferd_opts {
	const char *config; /**< -c FILE */
	char **sets;        /**< --set KEY.PATH=VALUE, in order */
	unsigned int nsets;
	enum xferd_mode mode;
	bool json;           /**< --format json */
	bool verbose;        /**< -v */
	const char *keyfile; /**< xferd keygen FILE */
};

/** Parse argv. @return 0, -EINVAL (usage printed), -ENOMEM. */
int xferd_parse_args(int argc, char **argv, struct xferd_opts *o);
void xferd_opts_free(struct xferd_opts *o);

/** Load the file with the --set overrides, errors printed to stderr. @return 0 or -errno. */
int xferd_load_config(const struct xferd_opts *o, struct xf_config **cfg);

/** --check and --dump-config. @return the process exit code. */
int xferd_check(const struct xferd_opts *o);
int xferd_dump(const struct xferd_opts *o);

/** xferd keygen FILE and xferd pubkey -c FILE (xferd_keys.c). @return the exit code. */
int xferd_keygen(const struct xferd_opts *o);
int xferd_pubkey(const struct xferd_opts *o);

/**
 * Fatal signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) print the signal, the faulting
 * address and a backtrace on stderr, then end the process with that signal as before.
 * @return 0 or -1 (errno set).
 */
int xferd_crash_handlers_install(void);

/** Run the daemon until SIGINT, SIGTERM or `xferctl shutdown`. @return the exit code. */
int xferd_run(const struct xferd_opts *o);

/* Peers' engine slots (XF_CONFIG_MAX_PEERS) and their names' size (XF_CONFIG_NAME_MAX). */
#define XFERD_SLOTS     256u
#define XFERD_SLOT_NAME 64u

/** The running daemon, as the control thread sees it. */
struct xferd {
	const struct xferd_opts *opts;
	struct xf_config *cfg; /**< running configuration; replaced whole by reload */
	struct xf_engine *engine;
	struct xf_ctl_server *ctl;
	int sigfd;
	bool stopping;
	time_t started;
	unsigned long reloads;
	unsigned long reloads_refused;
	unsigned long push_filters_refused; /**< pushes refused for their filter rules */
	struct xferd_metrics *metrics;      /**< the /metrics endpoint, NULL when off */
	/** The engine's slot of each configured peer (cfg->peers[i]) and the name of the
	 *  peer in each slot ("": removed). Stable across reloads: a peer keeps its slot by
	 *  name, an added one takes a new slot (xf_engine_set_peers). */
	uint16_t peer_slot[XFERD_SLOTS];
	char slot_name[XFERD_SLOTS][XFERD_SLOT_NAME];
	unsigned int n_slots;
};

/** The configured peer in engine slot slot, or NULL (removed, or no such slot). */
const struct xf_config_peer *xferd_slot_peer(const struct xferd *d, unsigned int slot);

/** The name of the peer in engine slot slot ("?" when there is none). */
const char *xferd_slot_name(const struct xferd *d, unsigned int slot);

/** Start: slot i for peers[i] (the engine's configured table). */
void xferd_slots_init(struct xferd *d);

/**
 * Reload: the peers of cand to the engine (xf_engine_set_peers), slots kept by name.
 * On success the mapping is cand's; on failure it stays as it was.
 * @return 0, -ENOSPC (more peers than slots over the daemon's life), or the engine's
 *         -errno (logged).
 */
int xferd_peers_reload(struct xferd *d, const struct xf_config *cand);

/** The engine's configuration from the file's. @return 0 or -EINVAL (logged). */
int xferd_engine_conf(const struct xf_config *cfg, struct xf_engine_conf *ec);

/** The reply of `xferctl stats` and the job list of `xferctl jobs` (control thread). */
json_t *xferd_stats_json(struct xferd *d);
json_t *xferd_jobs_json(struct xferd *d);
struct xf_cc_info;
struct xf_ctl_reply;

/** The `jobs` command (xferd_jobs.c). */
void xferd_h_jobs(void *arg, json_t *args, struct xf_ctl_reply *reply);
/** A congestion controller's read-out, as `jobs` and `sessions` show it. */
json_t *xferd_cc_json(const struct xf_cc_info *cc);

/** Register `capture` and `capture_status` (xferd_capture.c). @return 0 or -EINVAL. */
int xferd_capture_register(struct xferd *d, struct xf_ctl_server *ctl);

/** End a running capture and join its writer (before the engine is destroyed). */
void xferd_capture_stop(void);

/*
 * The push command's shared argument readers (xferd_engine.c), for push and pull:
 * args.filters compiled (*out NULL without rules; refusals counted), args.delete and
 * args.max_delete, args.dry_run/itemize/hard_links/compress. @return 0 or -errno with
 * the reply set.
 */
struct xf_filter;
struct xf_ctl_reply;
struct xf_engine_push_req;
/* args.src (absolute), peer (its engine slot), dest (a leading '/' dropped), volume,
 * checksum into req. @return 0, or -EINVAL (reply set). */
int xferd_job_args(const struct xferd *d, json_t *args, struct xf_engine_push_req *req,
                   struct xf_ctl_reply *reply);
int xferd_push_filters(struct xferd *d, json_t *args, struct xf_filter **out,
                       struct xf_ctl_reply *reply);
int xferd_push_delete(json_t *args, struct xf_engine_push_req *req, struct xf_ctl_reply *reply);
int xferd_push_modes(const struct xferd *d, json_t *args, struct xf_engine_push_req *req,
                     struct xf_ctl_reply *reply);

/* xferd_pull.c: the pull command, and the judge of peers' pulls (docs/CONTROL.md, "Pull"). */
void xferd_h_pull(void *arg, json_t *args, struct xf_ctl_reply *reply);
/** A pull job's "pull" member of `jobs`: the push it asked for, as it arrives here. */
struct xf_job_info;
json_t *xferd_pull_json(const struct xferd *d, const struct xf_job_info *j);
/** The `pull` member of `stats`: the pulls peers asked of us, by outcome. */
struct xf_engine_stats;
json_t *xferd_pull_stats_json(const struct xf_engine_stats *st);
/** Judge the pulls peers asked for (control thread, once per loop round). */
void xferd_pull_serve(struct xferd *d);

/** Register the commands that read or drive the engine (jobs, push, ...). */
int xferd_engine_register(struct xferd *d, struct xf_ctl_server *ctl);

/**
 * Register the DPDK telemetry commands /xferd/status, stats, jobs, sessions (after
 * the engine runs). They read a snapshot the control thread publishes.
 * @return 0 or -errno (logged; the daemon runs on without them).
 */
int xferd_telemetry_init(struct xferd *d);

/** Publish a new telemetry snapshot; control thread only, once per loop round. */
void xferd_telemetry_refresh(struct xferd *d);

/**
 * The Prometheus endpoint of metrics.listen (xferd_metrics.c); nothing when it is "".
 * start: after the engine runs. @return 0, or -errno (logged: the address cannot be
 * bound). poll: once per round of the control loop, renders only when a scrape waits.
 */
int xferd_metrics_start(struct xferd *d);
void xferd_metrics_poll(struct xferd *d);
void xferd_metrics_stop(struct xferd *d);

/**
 * Logs to the journal with structured fields when stderr is the journal stream systemd
 * connected (JOURNAL_STREAM), to stderr otherwise (xferd_journal.c). Before any thread.
 */
void xferd_journal_init(void);
/** Is stderr the stream named by JOURNAL_STREAM? */
bool xferd_journal_stream(void);

#endif /* XFERD_H */
