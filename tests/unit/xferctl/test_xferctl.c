/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xferctl against a stand-in daemon: a real control socket whose handlers follow
 * docs/CONTROL.md. Checks what the operator sees (tables, JSON, the push summary)
 * and the documented exit codes. argv[1] is the xferctl binary.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_ctl.h"
#include "xf_test_ctl.h"

static const char *xferctl;
static struct xf_test_ctl ctl;

/* A push job advances one step per "jobs" call; job 2 ends with a failed file. */
static atomic_int job_polls;
static atomic_int next_job = 1;
static char last_push_dest[256];
static char last_push_volume[256];   /**< args.volume of the last push, "(none)" if absent */
static char last_push_filters[1024]; /* args.filters of the last push, as JSON */
static json_int_t last_push_delete;  /* args.delete: -1 absent, else 0/1 */
static json_int_t last_push_max;     /* args.max_delete: -1 absent */
static int last_push_dry;            /* args.dry_run: -1 absent, else 0/1 */
static int last_push_itemize;        /* args.itemize: -1 absent, else 0/1 */
static int last_push_links;          /* args.hard_links: -1 absent, else 0/1 */
static int last_push_names;          /* args.owner_names: -1 absent, else 0/1 */
static int last_push_owner;          /* args.owner: -1 absent, else 0/1 */
static atomic_int itemize_calls;     /* itemize requests since the last push */

static void
h_status(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	(void)arg;
	(void)args;
	reply->result =
	        json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:[{s:s, s:b, s:i, s:s, s:s}]}", "name",
	                  "dev-a", "version", "0.1.0", "state", "running", "uptime_s", 42,
	                  "sessions", 1, "jobs", 0, "ports", "name", "wire0", "link_up", 1,
	                  "speed_mbps", 10000, "ipv4", "10.99.0.1/24", "mac", "02:00:00:00:00:01");
}

static void
h_stats(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	(void)arg;
	(void)args;
	reply->result = json_pack("{s:[{s:s, s:i, s:i, s:i, s:i, s:i}], s:[], s:[], s:{s:i, s:i}}",
	                          "ports", "name", "wire0", "rx_packets", 1000, "tx_packets", 900,
	                          "rx_bytes", 1500000, "tx_bytes", 120000, "rx_missed", 0, "cores",
	                          "rings", "drops", "bad_checksum", 3, "truncated", 7);
}

/* An optional bool argument: -1 absent, else 0 or 1. */
static int
opt_bool(json_t *args, const char *key)
{
	json_t *v = json_object_get(args, key);

	return v != NULL ? json_is_true(v) : -1;
}

static void
h_push(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	const char *src = json_string_value(json_object_get(args, "src"));
	const char *peer = json_string_value(json_object_get(args, "peer"));
	const char *dest = json_string_value(json_object_get(args, "dest"));

	(void)arg;
	if (src == NULL || peer == NULL || dest == NULL) {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS, "src, peer and dest are required");
		return;
	}
	if (strcmp(peer, "b") != 0) {
		xf_ctl_reply_error(reply, XF_CTL_E_NOT_FOUND, "no peer '%s' in the config", peer);
		return;
	}
	snprintf(last_push_dest, sizeof(last_push_dest), "%s", dest);
	snprintf(last_push_volume, sizeof(last_push_volume), "%s",
	         json_is_string(json_object_get(args, "volume"))
	                 ? json_string_value(json_object_get(args, "volume"))
	                 : "(none)");
	char *filters =
	        json_dumps(json_object_get(args, "filters"), JSON_COMPACT | JSON_ENCODE_ANY);

	snprintf(last_push_filters, sizeof(last_push_filters), "%s",
	         filters != NULL ? filters : "(none)");
	free(filters);
	last_push_delete = opt_bool(args, "delete");
	last_push_max = json_object_get(args, "max_delete") != NULL
	                        ? json_integer_value(json_object_get(args, "max_delete"))
	                        : -1;
	last_push_dry = opt_bool(args, "dry_run");
	last_push_itemize = opt_bool(args, "itemize");
	last_push_links = opt_bool(args, "hard_links");
	last_push_names = opt_bool(args, "owner_names");
	last_push_owner = opt_bool(args, "owner");
	atomic_store(&itemize_calls, 0);
	atomic_store(&job_polls, 0);
	reply->result = json_pack("{s:i}", "job", atomic_fetch_add(&next_job, 1));
}

static void
h_jobs(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	json_int_t id = json_integer_value(json_object_get(args, "id"));
	int polls = atomic_fetch_add(&job_polls, 1);
	bool done = polls >= 3;

	(void)arg;
	reply->result = json_pack(
	        "{s:[{s:I, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, "
	        "s:i, s:i, s:i, s:i}]}",
	        "jobs", "id", id, "state", done ? "done" : "running", "src", "/src", "peer", "b",
	        "dest", last_push_dest, "files_total", 10, "files_done", done ? 10 : polls * 3,
	        "files_sent", 7, "files_uptodate", 3 - (id == 2), "files_failed", id == 2 ? 1 : 0,
	        "bytes_total", 1 << 20, "bytes_done", done ? 1 << 20 : polls << 18, "bytes_literal",
	        1 << 20, "bytes_matched", 0, "wire_bytes_sent", 1100000, "wire_bytes_received",
	        9000, "elapsed_ms", 500, "retransmits", 2, "files_filtered", 4);
	/* A running job's share of the running jobs' rates (docs/CONTROL.md, jobs). */
	if (!done && reply->result != NULL) {
		json_t *j = json_array_get(json_object_get(reply->result, "jobs"), 0);

		json_object_set_new(j, "share", json_real(0.25));
		json_object_set_new(j, "fair_share", json_real(0.5));
		json_object_set_new(j, "volume", json_string(last_push_volume));
		json_object_set_new(reply->result, "fairness",
		                    json_pack("{s:i, s:f}", "running", 2, "jain", 0.8));
	}
	/* A --delete push deletes 5 extraneous entries, or max_delete of them. */
	if (done && last_push_delete == 1) {
		json_object_set_new(json_array_get(json_object_get(reply->result, "jobs"), 0),
		                    "delete",
		                    json_pack("{s:s, s:I, s:I}", "status",
		                              last_push_max >= 0 ? "limit" : "done", "deleted",
		                              last_push_max >= 0 ? last_push_max : 5, "kept",
		                              last_push_max >= 0 ? 5 - last_push_max : 0));
	}
}

/* A finished job's itemized lines in two pages: a deletion and a file, then a directory. */
static void
h_itemize(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	json_int_t from = json_integer_value(json_object_get(args, "from"));

	(void)arg;
	atomic_fetch_add(&itemize_calls, 1);
	if (from == 0) {
		reply->result =
		        json_pack("{s:[s, s], s:i, s:b, s:i}", "lines", "*deleting   old",
		                  ">f.st...... a/x", "next", 17, "end", 0, "deletions_unlisted", 2);
	} else if (from == 17) {
		reply->result = json_pack("{s:[s], s:i, s:b, s:i}", "lines", "cd+++++++++ new/",
		                          "next", 20, "end", 1, "deletions_unlisted", 2);
	} else {
		xf_ctl_reply_error(reply, XF_CTL_E_INVALID_ARGS, "from %lld", (long long)from);
	}
}

static void
h_cancel(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	(void)arg;
	if (json_integer_value(json_object_get(args, "id")) != 1) {
		xf_ctl_reply_error(reply, XF_CTL_E_NOT_FOUND, "no job %lld",
		                   (long long)json_integer_value(json_object_get(args, "id")));
	}
}

/* capture: the last request's args as JSON; capture_status answers "running" twice,
 * then "done" with every frame, or "timeout" with 3 when count was 13. */
static char last_capture[1024];
static atomic_int capture_polls;
static json_int_t capture_count;

static void
h_capture(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	char *s = json_dumps(args, JSON_SORT_KEYS | JSON_COMPACT);

	(void)arg;
	snprintf(last_capture, sizeof(last_capture), "%s", s != NULL ? s : "");
	free(s);
	capture_count = json_integer_value(json_object_get(args, "count"));
	atomic_store(&capture_polls, 0);
	reply->result = json_pack("{s:O, s:I}", "path", json_object_get(args, "path"), "count",
	                          capture_count);
}

static void
h_capture_status(void *arg, json_t *args, struct xf_ctl_reply *reply)
{
	int polls = atomic_fetch_add(&capture_polls, 1);
	bool timeout = capture_count == 13;

	(void)arg;
	(void)args;
	reply->result =
	        json_pack("{s:s, s:s, s:I, s:I, s:I}", "state",
	                  polls < 2 ? "running" : (timeout ? "timeout" : "done"), "path",
	                  "/x.pcapng", "count", capture_count, "written",
	                  polls < 2 ? 0 : (timeout ? 3 : capture_count), "missed", (json_int_t)4);
}

static int
suite_init(void)
{
	static const struct xf_test_ctl_cmd cmds[] = {
		{ "status", h_status },
		{ "stats", h_stats },
		{ "push", h_push },
		{ "jobs", h_jobs },
		{ "cancel", h_cancel },
		{ "capture", h_capture },
		{ "capture_status", h_capture_status },
		{ "itemize", h_itemize },
		{ NULL, NULL },
	};

	return xf_test_ctl_open(&ctl, "/tmp/xf-xferctl-XXXXXX", 0700, cmds);
}

static int
suite_clean(void)
{
	xf_test_ctl_close(&ctl);
	return 0;
}

/* Run xferctl with args (NULL-terminated); capture stdout+stderr; return exit code. */
static int
run(char *out, size_t cap, ...)
{
	char *argv[24];
	int argc = 0, pipefd[2], status;
	size_t off = 0;
	va_list ap;
	pid_t pid;

	argv[argc++] = (char *)xferctl;
	argv[argc++] = (char *)"-s";
	argv[argc++] = ctl.sock_path;
	va_start(ap, cap);
	while (argc < 23 && (argv[argc] = va_arg(ap, char *)) != NULL) {
		argc++;
	}
	va_end(ap);
	argv[argc] = NULL;
	if (pipe(pipefd) < 0) {
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		execv(xferctl, argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n = read(pipefd[0], out + off, cap - 1 - off);

		if (n <= 0) {
			break;
		}
		off += (size_t)n;
	}
	out[off] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		return -1;
	}
	return WEXITSTATUS(status);
}

static void
test_status(void)
{
	char out[8192];
	json_t *j;

	CU_ASSERT_EQUAL(run(out, sizeof(out), "status", NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "dev-a (xferd 0.1.0)"));
	CU_ASSERT_PTR_NOT_NULL(
	        strstr(out, "wire0: link up, 10000 Mbit/s, 10.99.0.1/24, 02:00:00:00:00:01"));

	CU_ASSERT_EQUAL(run(out, sizeof(out), "--json", "status", NULL), 0);
	j = json_loads(out, 0, NULL);
	CU_ASSERT_FATAL(json_is_object(j));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "name")), "dev-a");
	json_decref(j);
}

static void
test_stats_table(void)
{
	char out[8192];

	CU_ASSERT_EQUAL(run(out, sizeof(out), "stats", NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "wire0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "1500000"));
	/* Drop reasons sorted by name. */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "bad_checksum"));
	CU_ASSERT(strstr(out, "bad_checksum") < strstr(out, "truncated"));
}

static void
test_push_wait(void)
{
	char out[8192];

	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:backup/dir", "--wait", NULL), 0);

	CU_ASSERT_STRING_EQUAL(last_push_dest, "backup/dir");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Number of files: 10"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Number of files up to date: 3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Retransmitted frames: 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Number of entries filtered out: 4"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Job 1: done"));
	CU_ASSERT_STRING_EQUAL(last_push_filters, "[]");

	/* Job 2 commits all but one file: the exit code says so. */
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:x", "--wait", NULL), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Number of files failed: 1"));

	/* Without --wait: the job id, at once. */
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:y", NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "job 3 started"));
	CU_ASSERT_STRING_EQUAL(last_push_volume, "");

	/* PEER::VOLUME/DEST names the peer's volume; one colon never does. */
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b::archive/in/here", NULL), 0);
	CU_ASSERT_STRING_EQUAL(last_push_volume, "archive");
	CU_ASSERT_STRING_EQUAL(last_push_dest, "in/here");
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:archive/x", NULL), 0);
	CU_ASSERT_STRING_EQUAL(last_push_volume, "");
	CU_ASSERT_STRING_EQUAL(last_push_dest, "archive/x");
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b::archive", NULL), 0);
	CU_ASSERT_STRING_EQUAL(last_push_dest, "");
	/* An empty or dotted volume is a usage error; the daemon is not asked. */
	last_push_volume[0] = '\0';
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b::/x", NULL), 2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b::../x", NULL), 2);
	CU_ASSERT_STRING_EQUAL(last_push_volume, "");

	/* The jobs table: the destination as asked, a running job's share and the fair one. */
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b::archive/d", NULL), 0);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "jobs", NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "25%/50%"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "/src -> b::archive/d"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "running: 2, fairness"));
}

/*
 * -n and -i reach the daemon (absent without them); with --wait, -i prints every page of
 * the itemized lines, in order, before the summary, and how many deletions were not
 * named; itemize JOB_ID prints them alone; without -i nothing is asked.
 */
/* --owner-names goes as args.owner_names with -o or -g; alone, for push or pull, it is a
 * usage error that sends nothing. */
static void
test_push_owner_names(void)
{
	char out[8192];

	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "-o", "--owner-names", NULL),
	                0);
	CU_ASSERT_EQUAL(last_push_names, 1);
	CU_ASSERT_EQUAL(last_push_owner, 1);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "-g", NULL), 0);
	CU_ASSERT_EQUAL(last_push_names, -1);
	last_push_names = 7;
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "--owner-names", NULL), 2);
	CU_ASSERT_EQUAL(last_push_names, 7); /* nothing was sent */
	CU_ASSERT_EQUAL(run(out, sizeof(out), "pull", "b:/src", "m", "--owner-names", NULL), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "pull: --owner-names maps what -o and -g send"));
	CU_ASSERT_EQUAL(last_push_names, 7);
}

static void
test_push_dry_itemize(void)
{
	char out[8192];
	const char *a, *b, *c, *sum;

	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "--wait", "-n", "-i", NULL),
	                0);
	CU_ASSERT_EQUAL(last_push_dry, 1);
	CU_ASSERT_EQUAL(last_push_itemize, 1);
	CU_ASSERT_EQUAL(atomic_load(&itemize_calls), 2);
	a = strstr(out, "*deleting   old\n");
	b = strstr(out, ">f.st...... a/x\n");
	c = strstr(out, "cd+++++++++ new/\n(2 more deletions not itemized");
	sum = strstr(out, "Job ");
	CU_ASSERT(a != NULL && b != NULL && c != NULL && sum != NULL && a < b && b < c && c < sum);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "--wait", "--dry-run",
	                    "--itemize-changes", NULL),
	                0);
	CU_ASSERT_EQUAL(last_push_dry, 1);
	CU_ASSERT_EQUAL(last_push_itemize, 1);
	CU_ASSERT_EQUAL(last_push_links, -1);
	/* -H / --hard-links: args.hard_links, absent without. */
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "-H", NULL), 0);
	CU_ASSERT_EQUAL(last_push_links, 1);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "--hard-links", NULL), 0);
	CU_ASSERT_EQUAL(last_push_links, 1);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "--wait", NULL), 0);
	CU_ASSERT_EQUAL(last_push_dry, -1);
	CU_ASSERT_EQUAL(last_push_itemize, -1);
	CU_ASSERT_EQUAL(last_push_links, -1);
	CU_ASSERT_EQUAL(atomic_load(&itemize_calls), 0);
	CU_ASSERT_PTR_NULL(strstr(out, "a/x"));
	CU_ASSERT_EQUAL(run(out, sizeof(out), "itemize", "3", NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "*deleting   old\n>f.st...... a/x\ncd+++++++++ new/\n"));
	CU_ASSERT_EQUAL(run(out, sizeof(out), "itemize", "x", NULL), 2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "itemize", NULL), 2);
}

/* --delete and --max-delete reach the daemon, with filters too; the summary says what was
 * deleted, and a limit reached makes the push fail; the options' misuses stop xferctl
 * before it asks. */
static void
test_push_delete(void)
{
	char out[8192];

	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "--wait", "--delete", NULL),
	                0);
	CU_ASSERT_EQUAL(last_push_delete, 1);
	CU_ASSERT_EQUAL(last_push_max, -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Number of deleted files: 5\n"));
	CU_ASSERT_PTR_NULL(strstr(out, "Deletions"));
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "--wait", "--delete",
	                    "--max-delete", "3", NULL),
	                1);
	CU_ASSERT_EQUAL(last_push_max, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Number of deleted files: 3\n"));
	CU_ASSERT_PTR_NOT_NULL(
	        strstr(out, "Deletions stopped due to --max-delete limit (2 skipped)"));
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "--wait", NULL), 0);
	CU_ASSERT_EQUAL(last_push_delete, -1);
	CU_ASSERT_PTR_NULL(strstr(out, "deleted"));

	last_push_delete = 7;
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "--max-delete", "3", NULL), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "--max-delete needs --delete"));
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "--delete", "--max-delete",
	                    "-1", NULL),
	                2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "--delete", "--max-delete",
	                    "4294967295", NULL),
	                2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "expected a number from 0 to 4294967294"));
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:m", "--delete", "--max-delete",
	                    "3x", NULL),
	                2);
	CU_ASSERT_EQUAL(last_push_delete, 7); /* none of those reached the daemon */
	/* With filters: both reach it (the receiver keeps what the rules exclude). */
	CU_ASSERT_EQUAL(
	        run(out, sizeof(out), "push", "/src", "b:m", "--delete", "--exclude", "**", NULL),
	        0);
	CU_ASSERT_EQUAL(last_push_delete, 1);
	CU_ASSERT_STRING_EQUAL(last_push_filters, "[\"- **\"]");
}

/* Filter options reach the daemon as one list of --filter rules, in command-line order;
 * a bad rule stops xferctl before it asks (docs/FILTERS.md). */
static void
test_push_filters(void)
{
	char out[8192], file[192];
	FILE *fp;

	snprintf(file, sizeof(file), "%s/excludes", ctl.dir);
	fp = fopen(file, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fputs("# comment\r\nfrom1\n\n+ from2\n", fp);
	fclose(fp);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:f", "--exclude", "*.o",
	                    "--include", "keep/", "--filter", "exclude_x", "--exclude-from", file,
	                    "--exclude", "+ y", "--include-from", file, "--filter", "+ z z", NULL),
	                0);
	CU_ASSERT_STRING_EQUAL(last_push_filters,
	                       "[\"- *.o\",\"+ keep/\",\"- x\",\"- from1\",\"+ from2\","
	                       "\"+ y\",\"+ from1\",\"+ from2\",\"+ z z\"]");

	/* Refused before the daemon is asked: exit 2, the option, the rule and the reason. */
	snprintf(last_push_filters, sizeof(last_push_filters), "untouched");
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:f", "--filter", "-/ x", NULL), 2);
	CU_ASSERT_PTR_NOT_NULL(
	        strstr(out, "--filter '-/ x': modifier '/' (absolute path) is not supported"));
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:f", "--exclude", "a[b", NULL), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "--exclude 'a[b': unterminated '[' at byte 2"));
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:f", "--include", "!", NULL), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "'!' (clear the rules so far) is not supported"));
	fp = fopen(file, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fputs("ok\n; c\n[:alpha:\n", fp);
	fclose(fp);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:f", "--exclude-from", file, NULL),
	                2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "line 3: unterminated '[' at byte 1"));
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "b:f", "--exclude-from",
	                    "/nonexistent/rules", NULL),
	                2);
	CU_ASSERT_PTR_NOT_NULL(
	        strstr(out, "--exclude-from /nonexistent/rules: No such file or directory"));
	CU_ASSERT_STRING_EQUAL(last_push_filters, "untouched");
	CU_ASSERT_EQUAL(unlink(file), 0);
}

static void
test_capture(void)
{
	char out[8192], want[1024], cwd[512];

	CU_ASSERT_FATAL(getcwd(cwd, sizeof(cwd)) != NULL);
	/* Waits for the end; FILE made absolute; the port by name, or 0 as a number. */
	CU_ASSERT_EQUAL(run(out, sizeof(out), "capture", "--port", "wire0", "--count", "50",
	                    "rel/c.pcapng", NULL),
	                0);
	snprintf(want, sizeof(want),
	         "{\"count\":50,\"path\":\"%s/rel/c.pcapng\",\"port\":\"wire0\","
	         "\"timeout_ms\":60000}",
	         cwd);
	CU_ASSERT_STRING_EQUAL(last_capture, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "capture done: 50 of 50 frames written to /x.pcapng, "
	                                   "4 not captured"));
	CU_ASSERT(atomic_load(&capture_polls) >= 3);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "capture", "--count", "13", "--timeout", "2",
	                    "--port", "0", "/abs.pcapng", NULL),
	                1);
	CU_ASSERT_STRING_EQUAL(last_capture, "{\"count\":13,\"path\":\"/abs.pcapng\",\"port\":0,"
	                                     "\"timeout_ms\":2000}");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "capture timeout: 3 of 13 frames"));
	CU_ASSERT_EQUAL(run(out, sizeof(out), "capture-status", NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "capture timeout"));
	/* Usage: every argument bound-checked before anything is sent. */
	last_capture[0] = '\0';
	CU_ASSERT_EQUAL(run(out, sizeof(out), "capture", "--port", "0", "f", NULL), 2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "capture", "--count", "5", "f", NULL), 2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "capture", "--port", "0", "--count", "0", "f", NULL),
	                2);
	CU_ASSERT_EQUAL(
	        run(out, sizeof(out), "capture", "--port", "0", "--count", "10000001", "f", NULL),
	        2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "capture", "--port", "0", "--count", "-5", "f", NULL),
	                2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "capture", "--port", "0", "--count", "5x", "f", NULL),
	                2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "capture", "--port", "0", "--count", "5", NULL), 2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "capture", "--port", "0", "--count", "5", "--timeout",
	                    "0", "f", NULL),
	                2);
	CU_ASSERT_EQUAL(
	        run(out, sizeof(out), "capture", "--port", "0", "--count", "5", "f", "g", NULL), 2);
	CU_ASSERT_STRING_EQUAL(last_capture, "");
}

static void
test_errors_and_usage(void)
{
	char out[8192];
	char absent[160];

	/* Error replies: exit 1, the daemon's message shown. */
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "nobody:x", NULL), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "no peer 'nobody' in the config (not_found)"));
	CU_ASSERT_EQUAL(run(out, sizeof(out), "cancel", "7", NULL), 1);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "cancel", "1", NULL), 0);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "sessions", NULL), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "unknown_command"));

	/* Usage: exit 2. */
	CU_ASSERT_EQUAL(run(out, sizeof(out), NULL), 2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "frobnicate", NULL), 2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", NULL), 2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", "nocolon", NULL), 2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "push", "/src", ":dest", NULL), 2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "cancel", "x1", NULL), 2);
	CU_ASSERT_EQUAL(run(out, sizeof(out), "status", "extra", NULL), 2);

	/* Unreachable daemon: exit 3. */
	snprintf(absent, sizeof(absent), "%s/absent.sock", ctl.dir);
	{
		char *argv[] = { (char *)xferctl, (char *)"-s", absent, (char *)"status", NULL };
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			int devnull = open("/dev/null", O_WRONLY);

			dup2(devnull, STDERR_FILENO);
			execv(xferctl, argv);
			_exit(127);
		}
		CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
		CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	}
}

static const struct xf_test tests[] = {
	{ "status", test_status },
	{ "stats table", test_stats_table },
	{ "push --wait", test_push_wait },
	{ "push filters", test_push_filters },
	{ "push --delete, --max-delete", test_push_delete },
	{ "capture", test_capture },
	{ "push -n, -i; itemize", test_push_dry_itemize },
	{ "push --owner-names", test_push_owner_names },
	{ "errors and usage", test_errors_and_usage },
};

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH_TO_XFERCTL\n", argv[0]);
		return 1;
	}
	xferctl = argv[1];
	return xf_test_main("xferctl", suite_init, suite_clean, XF_TESTS(tests));
}
