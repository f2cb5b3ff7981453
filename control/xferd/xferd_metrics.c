/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus endpoint (metrics.listen, off by default): GET /metrics answers every
 * counter of `xferctl stats` and of each job of `xferctl jobs` in the text exposition
 * format 0.0.4 (docs/OPERATIONS.md, "Metrics").
 *
 * Threads: libmicrohttpd serves HTTP on a thread of its own, created by the control
 * thread and so confined to the control core's CPUs (EAL pinned it): never on an RX or
 * worker core. The counters belong to the control thread (the running configuration,
 * the job slots), so the HTTP thread never reads them: a scrape takes a ticket and
 * waits; the control thread, once per round of its loop (at most 50 ms), renders the
 * text from the very JSON that `xferctl stats` and `jobs` answer, publishes it and
 * wakes the waiters. Nothing is rendered when nobody scrapes.
 *
 * Names: counters end in _total, units are spelled in the name (bytes, seconds), and
 * the entities are labels (port, queue, core, ring, reason, volume, job, peer). The
 * mapping is by section, not by key, so a counter added to `xferctl stats` appears here
 * without a change (the e2e test checks that every one does).
 */
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>
#include <rte_version.h>

#include "xf_base.h"
#include "xf_config.h"
#include "xf_engine.h"
#include "xferd.h"

/* How long a scrape waits for the control thread before it gets the last text. */
#define SCRAPE_WAIT_MS 2000
/* Scrapers are few (Prometheus, an operator's curl): a bound on what one can hold. */
#define MAX_CONNECTIONS 16
#define CONN_TIMEOUT_S  10
/* Samples of one scrape: ~120 of stats, 30 per job for 64 jobs, with room. */
#define MAX_SAMPLES 4096

struct xferd_metrics {
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned long asked;     /**< tickets handed to scrapes */
	unsigned long published; /**< the text answers every ticket up to this one */
	bool closing;
	char *text; /**< the last rendering, NULL before the first */
	size_t len;
};

/* ------------------------------------------------------------------------------------ */
/* Rendering (control thread)                                                            */

struct sample {
	char name[96];
	const char *type; /**< "counter" or "gauge" */
	const char *help;
	char labels[512]; /**< 'k="v",...' without braces, "" for none */
	double value;
};

struct render {
	struct sample *s;
	unsigned int n;
	bool overflow;
};

/* A label value as the exposition format quotes it: \\, \" and \n escaped. */
static void
label_append(char *buf, size_t size, const char *key, const char *val)
{
	size_t n = strlen(buf);

	if (n + 1 >= size) {
		return;
	}
	n += (size_t)snprintf(buf + n, size - n, "%s%s=\"", n > 0 ? "," : "", key);
	for (const char *p = val; *p != '\0' && n + 3 < size; p++) {
		if (*p == '\\' || *p == '"') {
			buf[n++] = '\\';
			buf[n++] = *p;
		} else if (*p == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else {
			buf[n++] = *p;
		}
	}
	if (n + 1 < size) {
		buf[n++] = '"';
	}
	buf[n < size ? n : size - 1] = '\0';
}

static struct sample *add(struct render *r, const char *type, const char *help, const char *labels,
                          double value, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static struct sample *
add(struct render *r, const char *type, const char *help, const char *labels, double value,
    const char *fmt, ...)
{
	struct sample *s;
	va_list ap;

	if (r->n == MAX_SAMPLES) {
		r->overflow = true;
		return NULL;
	}
	s = &r->s[r->n++];
	va_start(ap, fmt);
	vsnprintf(s->name, sizeof(s->name), fmt, ap);
	va_end(ap);
	s->type = type;
	s->help = help;
	snprintf(s->labels, sizeof(s->labels), "%s", labels);
	s->value = value;
	return s;
}

static const char *
str_of(json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));

	return v != NULL ? v : "?";
}

static bool
number(json_t *v, double *out)
{
	if (json_is_integer(v)) {
		*out = (double)json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		*out = json_real_value(v);
		return true;
	}
	return false;
}

/* Every number of obj as PREFIX_KEY_total, a counter with the given labels. */
static void
counters(struct render *r, json_t *obj, const char *prefix, const char *labels, const char *help)
{
	const char *key;
	json_t *v;
	double x;

	json_object_foreach(obj, key, v)
	{
		if (number(v, &x)) {
			add(r, "counter", help, labels, x, "%s%s_total", prefix, key);
		}
	}
}

/*
 * An entry of a list of `xferctl stats` (a port, a volume): labels gets its name as the
 * label `label`; an info gauge `name` carries that and every other string field.
 */
static void
entity_info(struct render *r, json_t *v, const char *label, char *labels, size_t size,
            const char *help, const char *name)
{
	const char *key;
	json_t *field;
	char info[512];

	labels[0] = '\0';
	label_append(labels, size, label, str_of(v, "name"));
	snprintf(info, sizeof(info), "%s", labels);
	json_object_foreach(v, key, field)
	{
		if (json_is_string(field) && strcmp(key, "name") != 0) {
			label_append(info, sizeof(info), key, json_string_value(field));
		}
	}
	add(r, "gauge", help, info, 1, "%s", name);
}

/* The sections of `xferctl stats` (xferd_stats_json). */
static void
render_stats(struct render *r, json_t *st)
{
	const char *section, *key;
	json_t *sec, *v;
	char labels[512];
	double x;
	size_t i;

	json_object_foreach(st, section, sec)
	{
		if (strcmp(section, "ports") == 0) {
			json_array_foreach(sec, i, v)
			{
				entity_info(r, v, "port", labels, sizeof(labels),
				            "xferctl stats: ports[], the settings in effect",
				            "xferd_port_info");
				counters(r, v, "xferd_port_", labels, "xferctl stats: ports[]");
			}
		} else if (strcmp(section, "queues") == 0) {
			json_array_foreach(sec, i, v)
			{
				char q[16];
				json_t *c = json_deep_copy(v);

				snprintf(
				        q, sizeof(q), "%lld",
				        (long long)json_integer_value(json_object_get(v, "queue")));
				labels[0] = '\0';
				label_append(labels, sizeof(labels), "queue", q);
				json_object_del(c, "queue"); /* a label, not a counter */
				counters(r, c, "xferd_queue_", labels, "xferctl stats: queues[]");
				json_decref(c);
			}
		} else if (strcmp(section, "cores") == 0) {
			json_array_foreach(sec, i, v)
			{
				char core[16];

				snprintf(
				        core, sizeof(core), "%lld",
				        (long long)json_integer_value(json_object_get(v, "lcore")));
				labels[0] = '\0';
				label_append(labels, sizeof(labels), "core", core);
				label_append(labels, sizeof(labels), "role", str_of(v, "role"));
				add(r, "gauge", "xferctl stats: cores[], the lcores and their role",
				    labels, 1, "xferd_core_info");
			}
		} else if (strcmp(section, "rings") == 0) {
			json_array_foreach(sec, i, v)
			{
				labels[0] = '\0';
				label_append(labels, sizeof(labels), "ring", str_of(v, "name"));
				if (number(json_object_get(v, "count"), &x)) {
					add(r, "gauge",
					    "xferctl stats: rings[].count, entries queued", labels,
					    x, "xferd_ring_used_entries");
				}
				if (number(json_object_get(v, "free"), &x)) {
					add(r, "gauge", "xferctl stats: rings[].free, entries free",
					    labels, x, "xferd_ring_free_entries");
				}
			}
		} else if (strcmp(section, "drops") == 0) {
			json_object_foreach(sec, key, v)
			{
				if (number(v, &x)) {
					labels[0] = '\0';
					label_append(labels, sizeof(labels), "reason", key);
					add(r, "counter", "xferctl stats: drops, by reason", labels,
					    x, "xferd_drops_total");
				}
			}
		} else if (strcmp(section, "volumes") == 0) {
			json_array_foreach(sec, i, v)
			{
				json_t *c = json_deep_copy(v);

				entity_info(r, v, "volume", labels, sizeof(labels),
				            "xferctl stats: volumes[], the settings in effect",
				            "xferd_volume_info");
				/* Receive sessions open now: a gauge; the rest only grow. */
				if (number(json_object_get(v, "sessions"), &x)) {
					add(r, "gauge", "xferctl stats: volumes[].sessions", labels,
					    x, "xferd_volume_sessions");
				}
				json_object_del(c, "sessions");
				counters(r, c, "xferd_volume_", labels, "xferctl stats: volumes[]");
				json_decref(c);
			}
		} else if (json_is_object(sec)) {
			/* dataplane and control: xferd_KEY_total; the others are prefixed. */
			bool flat = strcmp(section, "dataplane") == 0 ||
			            strcmp(section, "control") == 0;
			char prefix[64];

			snprintf(prefix, sizeof(prefix), "xferd_%s%s", flat ? "" : section,
			         flat ? "" : "_");
			labels[0] = '\0';
			json_object_foreach(sec, key, v)
			{
				if (json_is_string(v)) {
					label_append(labels, sizeof(labels), key,
					             json_string_value(v));
				}
			}
			if (labels[0] != '\0') {
				add(r, "gauge", "xferctl stats: the section's settings", labels, 1,
				    "%sinfo", prefix);
			}
			counters(r, sec, prefix, "", "xferctl stats");
		}
	}
}

/* A job's numbers: the name, type and scale of those that are not a plain count. */
static const struct {
	const char *key, *name, *type;
	double scale;
} job_fields[] = {
	{ "files_total", "xferd_job_files", "gauge", 1 },
	{ "bytes_total", "xferd_job_size_bytes", "gauge", 1 },
	{ "bytes_done", "xferd_job_done_bytes_total", "counter", 1 },
	{ "bytes_literal", "xferd_job_literal_bytes_total", "counter", 1 },
	{ "bytes_matched", "xferd_job_matched_bytes_total", "counter", 1 },
	{ "wire_bytes_sent", "xferd_job_wire_sent_bytes_total", "counter", 1 },
	{ "wire_bytes_received", "xferd_job_wire_received_bytes_total", "counter", 1 },
	{ "rate_bps", "xferd_job_rate_bytes_per_second", "gauge", 1.0 / 8 }, /* base unit */
	{ "eta_s", "xferd_job_eta_seconds", "gauge", 1 },
	{ "elapsed_ms", "xferd_job_elapsed_seconds", "gauge", 1e-3 },
	{ "rtt_us", "xferd_job_rtt_seconds", "gauge", 1e-6 },
	{ "pto_backoff_max", "xferd_job_pto_backoff_max", "gauge", 1 },
	{ "queued_ms", "xferd_job_queued_seconds", "gauge", 1e-3 },
	{ "share", "xferd_job_share", "gauge", 1 },
	{ "fair_share", "xferd_job_fair_share", "gauge", 1 },
};

static void
render_jobs(struct render *r, json_t *jobs)
{
	json_t *j, *v;
	const char *key;
	size_t i;

	json_array_foreach(jobs, i, j)
	{
		char labels[512] = "", info[512], id[16];

		snprintf(id, sizeof(id), "%lld",
		         (long long)json_integer_value(json_object_get(j, "id")));
		label_append(labels, sizeof(labels), "job", id);
		label_append(labels, sizeof(labels), "peer", str_of(j, "peer"));
		snprintf(info, sizeof(info), "%s", labels);
		json_object_foreach(j, key, v)
		{
			double x;
			unsigned int f;

			if (json_is_string(v) && strcmp(key, "peer") != 0) {
				label_append(info, sizeof(info), key, json_string_value(v));
				continue;
			}
			if (json_is_object(v) && strcmp(key, "compress") == 0) {
				/* frames_tried, ...: xferd_job_compress_frames_tried_total */
				counters(r, v, "xferd_job_compress_", labels,
				         "xferctl jobs: compress");
				label_append(info, sizeof(info), "compress",
				             json_is_true(json_object_get(v, "on")) ? "true"
				                                                    : "false");
				/* job, peer volume, ...: docs/PROTOCOL.md 6.16 */
				label_append(info, sizeof(info), "compress_why", str_of(v, "why"));
				continue;
			}
			if (json_is_boolean(v)) { /* dry_run, itemize, checksum: how it runs */
				label_append(info, sizeof(info), key,
				             json_is_true(v) ? "true" : "false");
				continue;
			}
			if (!number(v, &x) || strcmp(key, "id") == 0) {
				continue;
			}
			for (f = 0; f < XF_ARRAY_SIZE(job_fields); f++) {
				if (strcmp(job_fields[f].key, key) == 0) {
					break;
				}
			}
			if (f < XF_ARRAY_SIZE(job_fields)) {
				add(r, job_fields[f].type, "xferctl jobs", labels,
				    x * job_fields[f].scale, "%s", job_fields[f].name);
			} else {
				/* files_*, retransmits, lost, ...: counts over the job's life */
				add(r, "counter", "xferctl jobs", labels, x, "xferd_job_%s_total",
				    key);
			}
		}
		add(r, "gauge", "xferctl jobs: state, source, destination, file I/O", info, 1,
		    "xferd_job_info");
	}
}

static void
render_status(struct render *r, struct xferd *d)
{
	struct xf_engine_stats st;
	char labels[512] = "";

	xf_engine_stats(d->engine, &st);
	label_append(labels, sizeof(labels), "name", d->cfg->appliance.name);
	label_append(labels, sizeof(labels), "version", XFERD_VERSION);
	label_append(labels, sizeof(labels), "dpdk", rte_version());
	add(r, "gauge", "xferctl status: the appliance", labels, 1, "xferd_build_info");
	add(r, "gauge", "xferctl status: uptime_s", "", (double)(time(NULL) - d->started),
	    "xferd_uptime_seconds");
	add(r, "gauge", "xferctl status: sessions, receiving", "", st.sessions,
	    "xferd_receive_sessions");
	add(r, "counter", "reloads applied", "", (double)d->reloads, "xferd_reloads_total");
	add(r, "counter", "reloads refused", "", (double)d->reloads_refused,
	    "xferd_reloads_refused_total");
	labels[0] = '\0';
	label_append(labels, sizeof(labels), "port", d->cfg->ports[0].name);
	add(r, "gauge", "xferctl status: ports[].link_up", labels, st.link_up ? 1 : 0,
	    "xferd_port_link_up");
	add(r, "gauge", "xferctl status: ports[].speed_mbps, in bytes (the base unit)", labels,
	    (double)st.link_speed_mbps * 1e6 / 8, "xferd_port_speed_bytes_per_second");
}

/* The samples grouped by name (the format wants a family's samples together), each
 * family with its HELP and TYPE. */
static int
render_text(struct xferd *d, char **text, size_t *len)
{
	struct render r = { .s = calloc(MAX_SAMPLES, sizeof(struct sample)) };
	json_t *st, *jobs;
	FILE *f;

	if (r.s == NULL) {
		return -ENOMEM;
	}
	st = xferd_stats_json(d);
	jobs = xferd_jobs_json(d);
	render_status(&r, d);
	render_stats(&r, st);
	render_jobs(&r, jobs);
	json_decref(st);
	json_decref(jobs);
	f = open_memstream(text, len);
	if (f == NULL) {
		free(r.s);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < r.n; i++) {
		bool first = true;

		for (unsigned int k = 0; k < i && first; k++) {
			first = strcmp(r.s[k].name, r.s[i].name) != 0;
		}
		if (!first) {
			continue; /* printed with its family */
		}
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", r.s[i].name, r.s[i].help, r.s[i].name,
		        r.s[i].type);
		for (unsigned int k = i; k < r.n; k++) {
			const struct sample *s = &r.s[k];

			if (strcmp(s->name, r.s[i].name) != 0) {
				continue;
			}
			/* Counts exactly (below 2^53 a double holds them), the rest to 10
			 * significant digits. */
			fprintf(f,
			        s->value == (double)(int64_t)s->value ? "%s%s%s%s %.0f\n"
			                                              : "%s%s%s%s %.10g\n",
			        s->name, s->labels[0] ? "{" : "", s->labels,
			        s->labels[0] ? "}" : "", s->value);
		}
	}
	if (r.overflow) {
		XF_LOG(WARNING, "metrics", "more than %d samples: the rest left out", MAX_SAMPLES);
	}
	free(r.s);
	return fclose(f) == 0 ? 0 : -EIO;
}

void
xferd_metrics_poll(struct xferd *d)
{
	struct xferd_metrics *m = d->metrics;
	unsigned long want;
	char *text = NULL;
	size_t len = 0;

	if (m == NULL) {
		return;
	}
	pthread_mutex_lock(&m->lock);
	want = m->asked;
	pthread_mutex_unlock(&m->lock);
	if (want == m->published) {
		return; /* nobody waits: render nothing */
	}
	if (render_text(d, &text, &len) < 0) {
		XF_LOG(WARNING, "metrics", "rendering failed: the last text is served");
		free(text);
		text = NULL;
	}
	pthread_mutex_lock(&m->lock);
	if (text != NULL) {
		free(m->text);
		m->text = text;
		m->len = len;
	}
	m->published = want;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/* ------------------------------------------------------------------------------------ */
/* HTTP (libmicrohttpd's thread)                                                         */

/* Wait for a rendering newer than this scrape, then copy it. NULL: none yet. */
static char *
scrape(struct xferd_metrics *m, size_t *len)
{
	struct timespec until;
	unsigned long ticket;
	char *copy = NULL;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += SCRAPE_WAIT_MS / 1000;
	pthread_mutex_lock(&m->lock);
	ticket = ++m->asked;
	while (m->published < ticket && !m->closing) {
		if (pthread_cond_timedwait(&m->cond, &m->lock, &until) == ETIMEDOUT) {
			break;
		}
	}
	if (m->text != NULL) {
		copy = malloc(m->len);
		if (copy != NULL) {
			memcpy(copy, m->text, m->len);
			*len = m->len;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return copy;
}

static enum MHD_Result
reply_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	struct MHD_Response *resp =
	        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (resp == NULL) {
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
		MHD_add_response_header(resp, "Allow", "GET, HEAD");
	}
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *upload, size_t *upload_size, void **state)
{
	static int started;
	struct xferd_metrics *m = cls;
	struct MHD_Response *resp;
	enum MHD_Result rc;
	size_t len = 0;
	char *text;

	(void)version;
	(void)upload;
	if (*state == NULL) {
		*state = &started; /* headers only so far: answer when the request is whole */
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0; /* a body is not wanted: dropped */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n");
	}
	if (strcmp(url, "/metrics") != 0) {
		return reply_text(c, MHD_HTTP_NOT_FOUND,
		                  "not found: the metrics are at /metrics\n");
	}
	text = scrape(m, &len);
	if (text == NULL) {
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no metrics yet\n");
	}
	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	rc = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

int
xferd_metrics_start(struct xferd *d)
{
	struct xferd_metrics *m;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	pthread_condattr_t ca;
	uint32_t addr;
	uint16_t port;

	if (d->cfg->metrics.listen[0] == '\0') {
		return 0;
	}
	if (xf_config_parse_listen(d->cfg->metrics.listen, &addr, &port) < 0) {
		return -EINVAL; /* the loader checked it */
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		return -ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	sa.sin_addr.s_addr = htonl(addr);
	sa.sin_port = htons(port);
	/* Its thread is made here, on the control thread, and inherits its CPU affinity
	 * and its blocked signals (SIGHUP and the others stay with the signalfd). */
	m->mhd = MHD_start_daemon(
	        MHD_USE_INTERNAL_POLLING_THREAD, port, NULL, NULL, answer, m, MHD_OPTION_SOCK_ADDR,
	        (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
	        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S, MHD_OPTION_END);
	if (m->mhd == NULL) {
		XF_LOG(ERR, "metrics", "cannot listen on %s (address in use, or not this host's)",
		       d->cfg->metrics.listen);
		pthread_cond_destroy(&m->cond);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return -EADDRNOTAVAIL;
	}
	d->metrics = m;
	XF_LOG(NOTICE, "metrics", "Prometheus metrics on http://%s/metrics",
	       d->cfg->metrics.listen);
	return 0;
}

void
xferd_metrics_stop(struct xferd *d)
{
	struct xferd_metrics *m = d->metrics;

	if (m == NULL) {
		return;
	}
	/* Waiting scrapes return at once with the last text; then the thread is joined. */
	pthread_mutex_lock(&m->lock);
	m->closing = true;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	MHD_stop_daemon(m->mhd);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m->text);
	free(m);
	d->metrics = NULL;
}
