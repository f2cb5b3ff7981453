/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xferctl: the operator's CLI, one request per invocation over xferd's control
 * socket (docs/CONTROL.md). Human tables by default, the raw JSON with --json.
 *
 * Exit codes: 0 success; 1 the daemon answered with an error, refused a reload, a push
 * ended with failed files, or a capture ended short of its count; 2 usage; 3 the daemon
 * could not be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xf_ctl.h"
#include "xf_dest.h"
#include "xf_filter.h"

#define EXIT_FAILED      1
#define EXIT_USAGE       2
#define EXIT_UNREACHABLE 3

#define DEFAULT_SOCKET  "/run/xferd/xferd.sock"
#define CALL_TIMEOUT_MS 10000

struct opts {
	const char *socket;
	bool json;
};

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: xferctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
	        "\n"
	        "commands:\n"
	        "  status                         is the appliance up, and what it runs\n"
	        "  stats                          ports, queues, rings, cores, volumes, drops\n"
	        "  sessions                       transfer sessions, both directions\n"
	        "  jobs                           push jobs started on this appliance\n"
	        "  push SRC_DIR PEER:DEST_DIR [--wait] [-n] [-i] [-H] [--checksum]\n"
	        "       [--compress|--no-compress] [--delete [--max-delete N]]\n"
	        "       [FILTERS]                 push a tree to a peer named in the config,\n"
	        "                                 into its first volume; PEER::VOLUME/DEST_DIR\n"
	        "                                 (or PEER::VOLUME) names another of its volumes\n"
	        "      -n, --dry-run         decide everything and write nothing on the peer\n"
	        "      -i, --itemize-changes print rsync's YXcstpoguax line for each change\n"
	        "                            (with --wait; else: itemize JOB_ID)\n"
	        "      -H, --hard-links      files that share an inode in SRC_DIR share one\n"
	        "                            on the peer (needs a peer that knows them)\n"
	        "      --compress            compress literal data per frame where it saves\n"
	        "                            1/16 or more (incompressible data goes as is)\n"
	        "      --no-compress         do not, whatever transfer.compress says\n"
	        "      --delete              then delete on the peer what SRC_DIR lacks in DEST_DIR\n"
	        "      --max-delete N        delete at most N entries (and say how many were left)\n"
	        "      FILTERS, in rsync's rule syntax, first match wins (docs/FILTERS.md):\n"
	        "      --exclude PATTERN     leave out what matches ('+ PAT' includes)\n"
	        "      --include PATTERN     keep what matches, whatever later rules say\n"
	        "      --filter RULE         '- PAT', '+ PAT', 'exclude PAT', 'include PAT'\n"
	        "      --exclude-from FILE   one --exclude pattern a line ('-': stdin);\n"
	        "                            '#' or ';' starts a comment line\n"
	        "      --include-from FILE   one --include pattern a line\n"
	        "  capture --port P --count N [--timeout S] FILE\n"
	        "                                 write the next N frames port P (its name or\n"
	        "                                 0) receives and sends to FILE (pcapng, a new\n"
	        "                                 file), without stopping transfers; waits for\n"
	        "                                 them, at most S seconds (default 60)\n"
	        "  capture-status                 the running or last capture: state, frames\n"
	        "                                 written, frames not captured\n"
	        "  itemize JOB_ID                 a finished push -i job's itemized changes\n"
	        "  cancel JOB_ID                  cancel a push job\n"
	        "  reload                         re-read the config file (as SIGHUP)\n"
	        "  shutdown                       stop the daemon cleanly\n"
	        "\n"
	        "options:\n"
	        "  -s, --socket PATH  control socket (default %s, or $XFERD_SOCKET)\n"
	        "  -j, --json         print the daemon's JSON reply as it is\n"
	        "  -h, --help         this text\n"
	        "\n"
	        "exit codes: 0 ok, 1 error reply, refused reload, push with failed files or\n"
	        "            capture short of N frames,\n"
	        "            2 usage, 3 unreachable\n",
	        DEFAULT_SOCKET);
}

static json_t *
get(json_t *obj, const char *key)
{
	return json_object_get(obj, key);
}

static long long
num(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v)) {
		return (long long)json_integer_value(v);
	}
	return json_is_real(v) ? (long long)json_real_value(v) : 0;
}

static const char *
str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "-";
}

/* "1.5 GiB" style, for people. */
static const char *
human_bytes(double v, char *buf, size_t cap)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned int u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, cap, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
	return buf;
}

/*
 * One call; on success *result is the "result" member (owned by the caller).
 * Returns an exit code.
 */
static int
call(const struct opts *o, const char *cmd, json_t *args, json_t **result)
{
	json_t *resp = NULL;
	int rc = xf_ctl_call(o->socket, cmd, args, CALL_TIMEOUT_MS, &resp);

	*result = NULL;
	if (rc < 0) {
		fprintf(stderr, "xferctl: %s: %s\n", o->socket, strerror(-rc));
		return EXIT_UNREACHABLE;
	}
	if (!json_is_true(get(resp, "ok"))) {
		json_t *err = get(resp, "error");

		if (o->json) {
			json_dumpf(resp, stdout, JSON_INDENT(2));
			putchar('\n');
		}
		fprintf(stderr, "xferctl: %s: %s (%s)\n", cmd, str(err, "message"),
		        str(err, "code"));
		json_decref(resp);
		return EXIT_FAILED;
	}
	*result = json_incref(get(resp, "result"));
	json_decref(resp);
	return 0;
}

static void
print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
}

static void
show_status(json_t *r)
{
	json_t *port;
	size_t i;

	printf("appliance  %s (xferd %s)\n", str(r, "name"), str(r, "version"));
	printf("state      %s, up %llds\n", str(r, "state"), num(r, "uptime_s"));
	printf("sessions   %lld\n", num(r, "sessions"));
	printf("jobs       %lld running\n", num(r, "jobs"));
	json_array_foreach(get(r, "ports"), i, port)
	{
		printf("port       %s: link %s, %lld Mbit/s, %s, %s\n", str(port, "name"),
		       json_is_true(get(port, "link_up")) ? "up" : "down", num(port, "speed_mbps"),
		       str(port, "ipv4"), str(port, "mac"));
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Print every member of a flat object of counters, sorted by name. */
static void
show_counters(const char *title, json_t *obj)
{
	const char **keys;
	size_t n = json_object_size(obj), i = 0;
	const char *key;
	json_t *v;

	if (n == 0) {
		return;
	}
	keys = calloc(n, sizeof(*keys));
	if (keys == NULL) {
		return;
	}
	json_object_foreach(obj, key, v)
	{
		keys[i++] = key;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	printf("%s\n", title);
	for (i = 0; i < n; i++) {
		printf("  %-32s %lld\n", keys[i], num(obj, keys[i]));
	}
	free(keys);
}

static void
show_stats(json_t *r)
{
	json_t *e;
	size_t i;

	printf("%-10s %14s %14s %16s %16s %10s\n", "PORT", "RX PKTS", "TX PKTS", "RX BYTES",
	       "TX BYTES", "MISSED");
	json_array_foreach(get(r, "ports"), i, e)
	{
		printf("%-10s %14lld %14lld %16lld %16lld %10lld\n", str(e, "name"),
		       num(e, "rx_packets"), num(e, "tx_packets"), num(e, "rx_bytes"),
		       num(e, "tx_bytes"), num(e, "rx_missed"));
	}
	printf("\n%-8s %-8s\n", "LCORE", "ROLE");
	json_array_foreach(get(r, "cores"), i, e)
	{
		printf("%-8lld %-8s\n", num(e, "lcore"), str(e, "role"));
	}
	printf("\n%-8s %14s %14s %16s %16s\n", "QUEUE", "RX PKTS", "TX PKTS", "RX BYTES",
	       "TX BYTES");
	json_array_foreach(get(r, "queues"), i, e)
	{
		printf("%-8lld %14lld %14lld %16lld %16lld\n", num(e, "queue"),
		       num(e, "rx_packets"), num(e, "tx_packets"), num(e, "rx_bytes"),
		       num(e, "tx_bytes"));
	}
	printf("\n%-24s %10s %10s\n", "RING", "COUNT", "FREE");
	json_array_foreach(get(r, "rings"), i, e)
	{
		printf("%-24s %10lld %10lld\n", str(e, "name"), num(e, "count"), num(e, "free"));
	}
	printf("\n%-16s %-8s %8s %10s %12s %12s %16s\n", "VOLUME", "IO", "SESSIONS", "OPENED",
	       "VERIFIED", "COMMITS", "BYTES WRITTEN");
	json_array_foreach(get(r, "volumes"), i, e)
	{
		printf("%-16s %-8s %8lld %10lld %12lld %12lld %16lld\n", str(e, "name"),
		       str(e, "io"), num(e, "sessions"), num(e, "sessions_opened"),
		       num(e, "files_verified"), num(e, "commits"), num(e, "bytes_written"));
	}
	putchar('\n');
	show_counters("drops by reason", get(r, "drops"));
	putchar('\n');
	show_counters("delta", get(r, "delta"));
	if (json_object_get(r, "fault") != NULL) {
		putchar('\n');
		show_counters("fault stage (ports[].fault, test-only)", get(r, "fault"));
	}
}

static void
show_sessions(json_t *r)
{
	json_t *s;
	size_t i;

	printf("%-10s %-16s %-9s %-10s %10s %10s %8s %14s %9s %8s\n", "ID", "PEER", "ROLE", "STATE",
	       "FILES", "COMMITTED", "FAILED", "BYTES", "RTT(us)", "RETRANS");
	json_array_foreach(get(r, "sessions"), i, s)
	{
		json_t *cc = get(s, "cc");

		printf("%-10llx %-16s %-9s %-10s %10lld %10lld %8lld %14lld %9lld %8lld\n",
		       num(s, "id"), str(s, "peer"), str(s, "role"), str(s, "state"),
		       num(s, "files_total"), num(s, "files_committed"), num(s, "files_failed"),
		       num(s, "bytes"), num(s, "rtt_us"), num(s, "retransmits"));
		/* the congestion controller, on a second line: rates in Mbit/s */
		if (json_is_object(cc)) {
			char cwnd[32] = "none";

			if (json_is_integer(json_object_get(cc, "cwnd_bytes"))) {
				snprintf(cwnd, sizeof(cwnd), "%lld B", num(cc, "cwnd_bytes"));
			}
			printf("%-10s cc %s %s: bw %.1f Mbit/s, min_rtt %lld us, pacing %.1f "
			       "Mbit/s, inflight %lld B, cwnd %s, loss %.1f%%\n",
			       "", str(cc, "algo"), str(cc, "state"),
			       (double)num(cc, "bw_bps") / 1e6, num(cc, "min_rtt_us"),
			       (double)num(cc, "pacing_bps") / 1e6, num(cc, "inflight_bytes"), cwnd,
			       (double)num(cc, "loss_pm") / 10);
		}
		/* its peer's key and its keys' age (session.security aead), on a line of its own */
		if (json_is_string(get(s, "key_fingerprint"))) {
			printf("%-10s keys %s: age %.1f s, %lld key updates, %lld new handshakes\n",
			       "", str(s, "key_fingerprint"), (double)num(s, "key_age_ms") / 1000,
			       num(s, "key_updates"), num(s, "rekeys"));
		}
	}
}

static void
show_jobs(json_t *r)
{
	json_t *j;
	size_t i;

	printf("%-5s %-10s %10s %10s %8s %14s %12s  %s\n", "JOB", "STATE", "FILES", "DONE",
	       "FAILED", "BYTES", "SHARE/FAIR", "SRC -> PEER:DEST");
	json_array_foreach(get(r, "jobs"), i, j)
	{
		const char *vol = json_is_string(get(j, "volume")) ? str(j, "volume") : "";
		char share[32] = "-";

		/* A running job's part of the running jobs' rates, and what an equal part is. */
		if (json_is_number(get(j, "share")) && json_is_number(get(j, "fair_share"))) {
			snprintf(share, sizeof(share), "%.0f%%/%.0f%%",
			         100 * json_number_value(get(j, "share")),
			         100 * json_number_value(get(j, "fair_share")));
		}

		/* The destination as the operator wrote it: PEER:DEST or PEER::VOLUME/DEST. */
		printf("%-5lld %-10s %10lld %10lld %8lld %14lld %12s  %s -> %s:%s%s%s%s\n",
		       num(j, "id"), str(j, "state"), num(j, "files_total"), num(j, "files_done"),
		       num(j, "files_failed"), num(j, "bytes_done"), share, str(j, "src"),
		       str(j, "peer"), vol[0] != '\0' ? ":" : "", vol, vol[0] != '\0' ? "/" : "",
		       str(j, "dest"));
	}
	if (json_is_object(get(r, "fairness"))) {
		json_t *f = get(r, "fairness");

		printf("running: %lld, fairness (Jain's index of their rates, 1 = equal): %.2f\n",
		       num(f, "running"), json_number_value(get(f, "jain")));
	}
}

static bool
job_finished(json_t *job)
{
	const char *state = str(job, "state");

	return strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
	       strcmp(state, "cancelled") == 0;
}

static void
progress_line(json_t *job)
{
	char done[32], rate[32];
	long long eta = num(job, "eta_s");

	human_bytes((double)num(job, "bytes_done"), done, sizeof(done));
	human_bytes((double)num(job, "rate_bps") / 8.0, rate, sizeof(rate));
	fprintf(stderr, "\r%lld/%lld files  %s  %s/s  ETA %lld:%02lld   ", num(job, "files_done"),
	        num(job, "files_total"), done, rate, eta / 60, eta % 60);
	fflush(stderr);
}

/* What --delete did, as rsync says it. @return whether it did all it was asked. */
static bool
delete_summary(json_t *del)
{
	const char *st = str(del, "status");

	printf("Number of deleted files: %lld\n", num(del, "deleted"));
	if (strcmp(st, "limit") == 0) {
		printf("Deletions stopped due to --max-delete limit (%lld skipped)\n",
		       num(del, "kept"));
	} else if (strcmp(st, "skipped") == 0) {
		printf("Deletions skipped: a file failed\n");
	} else if (strcmp(st, "error") == 0) {
		printf("Deletions incomplete: %lld entries could not be deleted\n",
		       num(del, "kept"));
	} else if (strcmp(st, "scan_errors") == 0) {
		printf("Deletions skipped: the scan of the source lost entries\n");
	} else if (strcmp(st, "done") != 0) {
		printf("Deletions: %s\n", st);
	}
	return strcmp(st, "done") == 0;
}

/* The summary after a push, in the spirit of rsync --stats. */
static void
push_summary(json_t *job)
{
	char b1[32], b2[32], b3[32], b4[32];
	double secs = (double)num(job, "elapsed_ms") / 1000.0;

	printf("Job %lld: %s%s\n", num(job, "id"), str(job, "state"),
	       json_is_true(get(job, "dry_run")) ? " (DRY RUN: nothing was written on the peer)"
	                                         : "");
	printf("Number of files: %lld\n", num(job, "files_total"));
	printf("Number of files transferred: %lld\n", num(job, "files_sent"));
	printf("Number of files up to date: %lld\n", num(job, "files_uptodate"));
	printf("Number of files failed: %lld\n", num(job, "files_failed"));
	printf("Number of entries filtered out: %lld\n", num(job, "files_filtered"));
	printf("Total file size: %s\n", human_bytes((double)num(job, "bytes_total"), b1, 32));
	printf("Literal data: %s\n", human_bytes((double)num(job, "bytes_literal"), b2, 32));
	printf("Matched data: %s\n", human_bytes((double)num(job, "bytes_matched"), b3, 32));
	if (json_is_true(get(get(job, "compress"), "on"))) {
		json_t *z = get(job, "compress");

		/* rsync -z --stats has no such line: its "sent" bytes are after compression. */
		printf("Literal data compressed: %s sent as %s (%lld of %lld frames tried)\n",
		       human_bytes((double)num(z, "bytes_raw"), b3, 32),
		       human_bytes((double)num(z, "bytes_wire"), b4, 32),
		       num(z, "frames_compressed"), num(z, "frames_tried"));
	}
	printf("Bytes on the wire: %s sent, %s received\n",
	       human_bytes((double)num(job, "wire_bytes_sent"), b4, 32),
	       human_bytes((double)num(job, "wire_bytes_received"), b1, 32));
	printf("Retransmitted frames: %lld\n", num(job, "retransmits"));
	printf("Duration: %.2f s (%s/s)\n", secs,
	       human_bytes(secs > 0 ? (double)num(job, "bytes_done") / secs : 0, b2, 32));
	if (json_is_object(get(job, "delete"))) {
		delete_summary(get(job, "delete"));
	}
	if (json_is_string(get(job, "error"))) {
		printf("Error: %s\n", str(job, "error"));
	}
}

/*
 * A finished job's itemized lines (push -i), as rsync -i prints them, page by page
 * (the itemize command). @return 0 or an exit code.
 */
static int
print_items(const struct opts *o, long long id)
{
	json_int_t from = 0;

	for (;;) {
		json_t *args = json_pack("{s:I, s:I}", "id", (json_int_t)id, "from", from);
		json_t *res = NULL, *lines;
		int rc = call(o, "itemize", args, &res);

		json_decref(args);
		if (rc != 0) {
			return rc;
		}
		lines = get(res, "lines");
		for (size_t i = 0; i < json_array_size(lines); i++) {
			printf("%s\n", json_string_value(json_array_get(lines, i)));
		}
		from = (json_int_t)num(res, "next");
		if (json_is_true(get(res, "end")) || json_array_size(lines) == 0) {
			if (num(res, "deletions_unlisted") > 0) {
				printf("(%lld more deletions not itemized: the peer's list is bounded)\n",
				       num(res, "deletions_unlisted"));
			}
			json_decref(res);
			return 0;
		}
		json_decref(res);
	}
}

/* Bytes read from one --exclude-from/--include-from file: comments included, so more
 * than the rules' own cap (XF_FILTER_TEXT_MAX), which xf_filter_add() applies. */
#define FILTER_FILE_MAX (1024u * 1024u)

/* Add the rules of an --exclude-from/--include-from file ("-": standard input). */
static int
filter_file(struct xf_filter *f, enum xf_filter_form form, const char *opt, const char *path)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *buf, err[512];
	size_t len;
	int rc = 0;

	if (fp == NULL) {
		fprintf(stderr, "xferctl: push: %s %s: %s\n", opt, path, strerror(errno));
		return EXIT_USAGE;
	}
	buf = malloc(FILTER_FILE_MAX + 1);
	if (buf == NULL) {
		fprintf(stderr, "xferctl: push: out of memory\n");
		rc = EXIT_FAILED;
	} else {
		len = fread(buf, 1, FILTER_FILE_MAX + 1, fp);
		if (ferror(fp)) {
			fprintf(stderr, "xferctl: push: %s %s: read error\n", opt, path);
			rc = EXIT_USAGE;
		} else if (len > FILTER_FILE_MAX) {
			fprintf(stderr, "xferctl: push: %s %s: larger than %u bytes\n", opt, path,
			        FILTER_FILE_MAX);
			rc = EXIT_USAGE;
		} else if (xf_filter_add_lines(f, form, buf, len, err, sizeof(err)) < 0) {
			fprintf(stderr, "xferctl: push: %s %s: %s\n", opt, path, err);
			rc = EXIT_USAGE;
		}
	}
	free(buf);
	if (fp != stdin) {
		fclose(fp);
	}
	return rc;
}

/* One filter option of push, parsed here so that a mistake is reported before the daemon
 * is asked; the daemon parses the rules again (they are untrusted there). */
static int
filter_opt(struct xf_filter *f, int c, const char *arg)
{
	static const struct {
		int c;
		const char *opt;
		enum xf_filter_form form;
		bool file;
	} forms[] = {
		{ 'X', "--exclude", XF_FILTER_FORM_EXCLUDE, false },
		{ 'I', "--include", XF_FILTER_FORM_INCLUDE, false },
		{ 'F', "--filter", XF_FILTER_FORM_RULE, false },
		{ 'x', "--exclude-from", XF_FILTER_FORM_EXCLUDE, true },
		{ 'Y', "--include-from", XF_FILTER_FORM_INCLUDE, true },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (forms[i].c != c) {
			continue;
		}
		if (forms[i].file) {
			return filter_file(f, forms[i].form, forms[i].opt, arg);
		}
		if (xf_filter_add(f, forms[i].form, arg, strlen(arg), err, sizeof(err)) < 0) {
			fprintf(stderr, "xferctl: push: %s '%s': %s\n", forms[i].opt, arg, err);
			return EXIT_USAGE;
		}
		return 0;
	}
	return EXIT_USAGE;
}

/* The filter's rules as the control socket carries them: an array of --filter rules. */
static json_t *
filter_json(const struct xf_filter *f)
{
	json_t *a = json_array();

	for (unsigned int i = 0; a != NULL && i < xf_filter_count(f); i++) {
		json_array_append_new(a, json_string(xf_filter_rule(f, i)));
	}
	return a;
}

static int
cmd_push(const struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "checksum", no_argument, NULL, 'c' },
		{ "exclude", required_argument, NULL, 'X' },
		{ "include", required_argument, NULL, 'I' },
		{ "filter", required_argument, NULL, 'F' },
		{ "exclude-from", required_argument, NULL, 'x' },
		{ "include-from", required_argument, NULL, 'Y' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "itemize-changes", no_argument, NULL, 'i' },
		{ "hard-links", no_argument, NULL, 'H' },
		{ "delete", no_argument, NULL, 'D' },
		{ "max-delete", required_argument, NULL, 'M' },
		{ "compress", no_argument, NULL, 'z' },
		{ "no-compress", no_argument, NULL, 'Z' },
		{ NULL, 0, NULL, 0 },
	};
	bool wait = false, checksum = false, del = false, dry = false, itemize = false;
	bool links = false;
	long long max_delete = -1;
	int compress = -1; /* -1: transfer.compress decides */
	char *end;
	const char *src, *target, *peer;
	size_t peer_len;
	struct xf_dest dest;
	json_t *args, *result = NULL;
	struct xf_filter *filter = xf_filter_new();
	long long id;
	int c, rc;

	if (filter == NULL) {
		fprintf(stderr, "xferctl: out of memory\n");
		return EXIT_FAILED;
	}
	optind = 0; /* glibc: rescan a new argv from scratch */
	while ((c = getopt_long(argc, argv, "wcniH", longopts, NULL)) != -1) {
		if (c == 'w') {
			wait = true;
		} else if (c == 'H') {
			links = true;
		} else if (c == 'n') {
			dry = true;
		} else if (c == 'i') {
			itemize = true;
		} else if (c == 'c') {
			checksum = true;
		} else if (c == 'D') {
			del = true;
		} else if (c == 'z' || c == 'Z') {
			compress = c == 'z';
		} else if (c == 'M') {
			errno = 0;
			max_delete = strtoll(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || max_delete < 0 ||
			    max_delete >= (long long)UINT32_MAX) {
				fprintf(stderr,
				        "xferctl: push: --max-delete '%s': expected a number from 0 to "
				        "%u\n",
				        optarg, UINT32_MAX - 1);
				xf_filter_free(filter);
				return EXIT_USAGE;
			}
		} else if ((rc = filter_opt(filter, c, optarg)) != 0) {
			xf_filter_free(filter);
			return rc;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr,
		        "xferctl: push SRC_DIR PEER:DEST_DIR|PEER::VOLUME[/DEST_DIR] [--wait] "
		        "[-n|--dry-run] [-i|--itemize-changes] [-H|--hard-links] "
		        "[--checksum] [--compress|--no-compress] [--delete] [--max-delete N] "
		        "[--exclude PAT] "
		        "[--include PAT] [--filter RULE] [--exclude-from FILE] "
		        "[--include-from FILE]\n");
		xf_filter_free(filter);
		return EXIT_USAGE;
	}
	if (max_delete >= 0 && !del) {
		fprintf(stderr, "xferctl: push: --max-delete needs --delete\n");
		xf_filter_free(filter);
		return EXIT_USAGE;
	}
	if (del && xf_filter_count(filter) != 0) {
		/* The rules are the sender's alone: the receiver would delete what they left
		 * out, which rsync protects. */
		fprintf(stderr, "xferctl: push: --delete with filter rules is not supported\n");
		xf_filter_free(filter);
		return EXIT_USAGE;
	}
	src = argv[optind];
	target = argv[optind + 1];
	rc = xf_dest_target(target, &peer, &peer_len, &dest);
	if (rc < 0) {
		fprintf(stderr,
		        "xferctl: push: '%s' is not PEER:DEST_DIR nor PEER::VOLUME[/DEST_DIR]%s\n",
		        target,
		        rc == -ENAMETOOLONG ? " (a volume name has at most 63 bytes)"
		        : strstr(target, "::") != NULL
		                ? " (VOLUME is one name, not empty, '.' nor '..')"
		                : "");
		xf_filter_free(filter);
		return EXIT_USAGE;
	}
	args = json_pack("{s:s, s:s%, s:s, s:s%, s:b, s:o}", "src", src, "peer", peer, peer_len,
	                 "dest", dest.path, "volume", dest.volume != NULL ? dest.volume : "",
	                 dest.volume_len, "checksum", checksum, "filters", filter_json(filter));
	xf_filter_free(filter);
	if (args != NULL && dry) {
		json_object_set_new(args, "dry_run", json_true());
	}
	if (args != NULL && itemize) {
		json_object_set_new(args, "itemize", json_true());
	}
	if (args != NULL && links) {
		json_object_set_new(args, "hard_links", json_true());
	}
	if (args != NULL && compress >= 0) {
		json_object_set_new(args, "compress", json_boolean(compress));
	}
	if (args != NULL && del) {
		json_object_set_new(args, "delete", json_true());
		if (max_delete >= 0) {
			json_object_set_new(args, "max_delete", json_integer(max_delete));
		}
	}
	rc = call(o, "push", args, &result);
	json_decref(args);
	if (rc != 0) {
		return rc;
	}
	id = num(result, "job");
	if (!wait) {
		if (o->json) {
			print_json(result);
		} else {
			printf("job %lld started\n", id);
		}
		json_decref(result);
		return 0;
	}
	json_decref(result);

	for (unsigned int round = 0;; round++) {
		json_t *jobs, *job;

		args = json_pack("{s:I}", "id", (json_int_t)id);
		rc = call(o, "jobs", args, &jobs);
		json_decref(args);
		if (rc != 0) {
			return rc;
		}
		job = json_array_get(get(jobs, "jobs"), 0);
		if (job == NULL) {
			fprintf(stderr, "xferctl: job %lld vanished\n", id);
			json_decref(jobs);
			return EXIT_FAILED;
		}
		if (job_finished(job)) {
			bool ok = strcmp(str(job, "state"), "done") == 0 &&
			          num(job, "files_failed") == 0 &&
			          (!json_is_object(get(job, "delete")) ||
			           strcmp(str(get(job, "delete"), "status"), "done") == 0);

			if (isatty(STDERR_FILENO)) {
				fputc('\n', stderr);
			}
			if (itemize && !o->json && (rc = print_items(o, id)) != 0) {
				json_decref(jobs);
				return rc;
			}
			if (o->json) {
				print_json(job);
			} else {
				push_summary(job);
			}
			json_decref(jobs);
			return ok ? 0 : EXIT_FAILED;
		}
		if (isatty(STDERR_FILENO) && !o->json && round % 10 == 0) {
			progress_line(job); /* 5 updates a second */
		}
		json_decref(jobs);
		/*
		 * Polling the daemon for the end, not synchronising: every 20 ms, so that a push
		 * of a fraction of a second does not wait up to 200 ms more to be reported (one
		 * small request to the control thread each time).
		 */
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	}
}

/* Commands that take no arguments or one id, and their human printers. */
static int
cmd_simple(const struct opts *o, const char *cmd, json_t *args, void (*show)(json_t *))
{
	json_t *result = NULL;
	int rc = call(o, cmd, args, &result);

	if (rc != 0) {
		return rc;
	}
	if (o->json || show == NULL) {
		if (o->json || json_object_size(result) > 0) {
			print_json(result);
		} else {
			printf("ok\n");
		}
	} else {
		show(result);
	}
	json_decref(result);
	return 0;
}

static void
show_reload(json_t *r)
{
	json_t *e;
	size_t i;

	printf("reload %s\n", json_is_true(get(r, "applied")) ? "applied" : "refused");
	json_array_foreach(get(r, "changed"), i, e)
	{
		printf("  changed: %s\n", json_string_value(e));
	}
	json_array_foreach(get(r, "restart_needed"), i, e)
	{
		printf("  needs a restart: %s\n", json_string_value(e));
	}
}

/* A reload the daemon refused (a change needs a restart) is a failure for scripts too. */
static int
cmd_reload(const struct opts *o)
{
	json_t *result = NULL;
	int rc = call(o, "reload", NULL, &result);

	if (rc != 0) {
		return rc;
	}
	if (o->json) {
		print_json(result);
	} else {
		show_reload(result);
	}
	rc = json_is_true(get(result, "applied")) ? 0 : EXIT_FAILED;
	json_decref(result);
	return rc;
}

static void
show_capture(json_t *r)
{
	printf("capture %s: %lld of %lld frames written to %s, %lld not captured (copies or "
	       "rings full)\n",
	       str(r, "state"), num(r, "written"), num(r, "count"), str(r, "path"),
	       num(r, "missed"));
}

/* A positive integer argument of at most max, or 0 (usage). */
static unsigned long long
pos_arg(const char *s, unsigned long long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	return (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v > max) ? 0 : v;
}

/*
 * capture --port P --count N [--timeout S] FILE: start it, then ask its state every
 * 20 ms until the daemon's writer has finished. FILE is made absolute here: the daemon
 * has another working directory.
 */
static int
cmd_capture(const struct opts *o, int argc, char **argv)
{
	const char *port = NULL, *file = NULL;
	unsigned long long count = 0, timeout_s = 60;
	char path[4096], cwd[4096];
	json_t *args, *result = NULL;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			port = argv[++i];
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			count = pos_arg(argv[++i], 10000000);
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			timeout_s = pos_arg(argv[++i], 86400);
		} else if (file == NULL && argv[i][0] != '-') {
			file = argv[i];
		} else {
			file = NULL;
			break;
		}
	}
	if (port == NULL || count == 0 || timeout_s == 0 || file == NULL) {
		fprintf(stderr, "xferctl: capture --port P --count N (1..10000000) "
		                "[--timeout S (1..86400)] FILE\n");
		return EXIT_USAGE;
	}
	if (file[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL) {
		fprintf(stderr, "xferctl: capture: getcwd: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s%s%s", file[0] == '/' ? "" : cwd,
	                     file[0] == '/' ? "" : "/", file) >= sizeof(path)) {
		fprintf(stderr, "xferctl: capture: path too long\n");
		return EXIT_USAGE;
	}
	/* The port by index when it is a number, else by name. */
	if (strcmp(port, "0") == 0) {
		args = json_pack("{s:i, s:I, s:I, s:s}", "port", 0, "count", (json_int_t)count,
		                 "timeout_ms", (json_int_t)(timeout_s * 1000), "path", path);
	} else {
		args = json_pack("{s:s, s:I, s:I, s:s}", "port", port, "count", (json_int_t)count,
		                 "timeout_ms", (json_int_t)(timeout_s * 1000), "path", path);
	}
	rc = call(o, "capture", args, &result);
	json_decref(args);
	json_decref(result);
	for (result = NULL; rc == 0; result = NULL) {
		rc = call(o, "capture_status", NULL, &result);
		if (rc != 0 || strcmp(str(result, "state"), "running") != 0) {
			break;
		}
		json_decref(result);
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	}
	if (rc != 0) {
		return rc;
	}
	if (o->json) {
		print_json(result);
	} else {
		show_capture(result);
	}
	rc = strcmp(str(result, "state"), "done") == 0 ? 0 : EXIT_FAILED;
	json_decref(result);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .socket = getenv("XFERD_SOCKET") };
	const char *cmd;
	int c;

	if (o.socket == NULL) {
		o.socket = DEFAULT_SOCKET;
	}
	/* "+": stop at the command, its own options are parsed by the command. */
	while ((c = getopt_long(argc, argv, "+s:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.socket = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;

	if (strcmp(cmd, "push") == 0) {
		return cmd_push(&o, argc, argv);
	}
	if (strcmp(cmd, "capture") == 0) {
		return cmd_capture(&o, argc, argv);
	}
	if (strcmp(cmd, "cancel") == 0 || strcmp(cmd, "itemize") == 0) {
		char *end;
		long long id;
		json_t *args;
		int rc;

		if (argc != 2 || (id = strtoll(argv[1], &end, 10)) <= 0 || *end != '\0') {
			fprintf(stderr, "xferctl: %s JOB_ID (a positive number)\n", cmd);
			return EXIT_USAGE;
		}
		if (cmd[0] == 'i') {
			return print_items(&o, id);
		}
		args = json_pack("{s:I}", "id", (json_int_t)id);
		rc = cmd_simple(&o, "cancel", args, NULL);
		json_decref(args);
		return rc;
	}
	if (argc != 1) {
		fprintf(stderr, "xferctl: %s takes no arguments\n", cmd);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "status") == 0) {
		return cmd_simple(&o, cmd, NULL, show_status);
	}
	if (strcmp(cmd, "stats") == 0) {
		return cmd_simple(&o, cmd, NULL, show_stats);
	}
	if (strcmp(cmd, "sessions") == 0) {
		return cmd_simple(&o, cmd, NULL, show_sessions);
	}
	if (strcmp(cmd, "jobs") == 0) {
		return cmd_simple(&o, cmd, NULL, show_jobs);
	}
	if (strcmp(cmd, "capture-status") == 0) {
		return cmd_simple(&o, "capture_status", NULL, show_capture);
	}
	if (strcmp(cmd, "reload") == 0) {
		return cmd_reload(&o);
	}
	if (strcmp(cmd, "shutdown") == 0) {
		return cmd_simple(&o, cmd, NULL, NULL);
	}
	fprintf(stderr, "xferctl: unknown command '%s' (xferctl --help)\n", cmd);
	return EXIT_USAGE;
}
