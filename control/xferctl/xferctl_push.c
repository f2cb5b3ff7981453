/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xferctl push: the push's options (rsync's filters among them) turned into one `push`
 * request, its progress while it runs, its summary and its itemized changes
 * (docs/CONTROL.md).
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

#include "xf_dest.h"
#include "xf_filter.h"
#include "xferctl.h"

static bool
job_finished(json_t *job, void *arg)
{
	(void)arg;
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

/* The files that failed, by name, as far as the job names them (the first 16): on
 * stderr, as rsync reports each failure. */
static void
print_failures(json_t *job)
{
	json_t *fails = get(job, "failures");
	long long named = (long long)json_array_size(fails);

	for (size_t i = 0; i < json_array_size(fails); i++) {
		json_t *f = json_array_get(fails, i);

		fprintf(stderr, "xferctl: failed: %s (%s)\n",
		        str(f, "path")[0] != '\0' ? str(f, "path") : ".", str(f, "status"));
	}
	if (named > 0 && num(job, "files_failed") > named) {
		fprintf(stderr, "xferctl: and %lld more failed files, not named\n",
		        num(job, "files_failed") - named);
	}
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
	if (num(job, "files_redone") > 0) {
		/* DELTA files whose basis changed under the peer (docs/DELTA.md, "Sent again
		 * whole"); rsync logs each one's redo instead. */
		printf("Number of files sent again whole: %lld\n", num(job, "files_redone"));
	}
	printf("Number of files up to date: %lld\n", num(job, "files_uptodate"));
	printf("Number of files failed: %lld\n", num(job, "files_failed"));
	print_failures(job);
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
int
print_items(const struct opts *o, long long id)
{
	json_int_t from = 0;

	for (;;) {
		json_t *args = json_pack("{s:I, s:I}", "id", (json_int_t)id, "from", from);
		json_t *res = NULL, *lines;
		int rc = ctl_call(o, "itemize", args, &res);

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
		{ 'E', "--exclude", XF_FILTER_FORM_EXCLUDE, false },
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

/* The options push and pull share (rsync's), as parsed from the command line. */
struct push_opts {
	bool wait, checksum, del, dry, itemize, links, owner, group, owner_names, xattrs, acls;
	long long max_delete; /* -1: none */
	long long lanes;      /* 0: transfer.lanes decides */
	int compress;         /* -1: transfer.compress decides */
	struct xf_filter *filter;
};

/*
 * Parse push's (and pull's) options; cmd names the command in messages. On return 0,
 * optind is the first operand and po->filter is the caller's to free; else an exit code
 * (the filter freed).
 */
static int
push_opts_parse(const char *cmd, int argc, char **argv, struct push_opts *po)
{
	static const struct option longopts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "checksum", no_argument, NULL, 'c' },
		{ "exclude", required_argument, NULL, 'E' },
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
		{ "owner", no_argument, NULL, 'o' },
		{ "group", no_argument, NULL, 'g' },
		{ "owner-names", no_argument, NULL, 'N' },
		{ "xattrs", no_argument, NULL, 'X' },
		{ "acls", no_argument, NULL, 'A' },
		{ "lanes", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c, rc = 0;

	*po = (struct push_opts){ .max_delete = -1, .compress = -1, .filter = xf_filter_new() };
	if (po->filter == NULL) {
		fprintf(stderr, "xferctl: out of memory\n");
		return EXIT_FAILED;
	}
	optind = 0; /* glibc: rescan a new argv from scratch */
	while (rc == 0 && (c = getopt_long(argc, argv, "wcniHogXA", longopts, NULL)) != -1) {
		if (c == 'w') {
			po->wait = true;
		} else if (c == 'o') {
			po->owner = true;
		} else if (c == 'g') {
			po->group = true;
		} else if (c == 'N') {
			po->owner_names = true;
		} else if (c == 'X') {
			po->xattrs = true;
		} else if (c == 'A') {
			po->acls = true;
		} else if (c == 'L') {
			errno = 0;
			po->lanes = strtoll(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || po->lanes < 1 ||
			    po->lanes > 16) {
				fprintf(stderr,
				        "xferctl: %s: --lanes '%s': expected a number from 1 to 16\n",
				        cmd, optarg);
				rc = EXIT_USAGE;
			}
		} else if (c == 'H') {
			po->links = true;
		} else if (c == 'n') {
			po->dry = true;
		} else if (c == 'i') {
			po->itemize = true;
		} else if (c == 'c') {
			po->checksum = true;
		} else if (c == 'D') {
			po->del = true;
		} else if (c == 'z' || c == 'Z') {
			po->compress = c == 'z';
		} else if (c == 'M') {
			errno = 0;
			po->max_delete = strtoll(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || po->max_delete < 0 ||
			    po->max_delete >= (long long)UINT32_MAX) {
				fprintf(stderr,
				        "xferctl: %s: --max-delete '%s': expected a number from 0 "
				        "to %u\n",
				        cmd, optarg, UINT32_MAX - 1);
				rc = EXIT_USAGE;
			}
		} else {
			rc = filter_opt(po->filter, c, optarg);
		}
	}
	if (rc == 0 && po->max_delete >= 0 && !po->del) {
		fprintf(stderr, "xferctl: %s: --max-delete needs --delete\n", cmd);
		rc = EXIT_USAGE;
	}
	if (rc != 0) {
		xf_filter_free(po->filter);
		po->filter = NULL;
	}
	return rc;
}

/* The options into the request's args (filters included; po->filter is freed). */
static json_t *
push_opts_json(struct push_opts *po, json_t *args)
{
	if (args != NULL) {
		json_object_set_new(args, "checksum", json_boolean(po->checksum));
		json_object_set_new(args, "filters", filter_json(po->filter));
	}
	xf_filter_free(po->filter);
	po->filter = NULL;
	if (args != NULL && po->dry) {
		json_object_set_new(args, "dry_run", json_true());
	}
	if (args != NULL && po->itemize) {
		json_object_set_new(args, "itemize", json_true());
	}
	if (args != NULL && po->links) {
		json_object_set_new(args, "hard_links", json_true());
	}
	if (args != NULL && po->owner) {
		json_object_set_new(args, "owner", json_true());
	}
	if (args != NULL && po->group) {
		json_object_set_new(args, "group", json_true());
	}
	if (args != NULL && po->owner_names) {
		json_object_set_new(args, "owner_names", json_true());
	}
	if (args != NULL && po->xattrs) {
		json_object_set_new(args, "xattrs", json_true());
	}
	if (args != NULL && po->acls) {
		json_object_set_new(args, "acls", json_true());
	}
	if (args != NULL && po->lanes > 0) {
		json_object_set_new(args, "lanes", json_integer(po->lanes));
	}
	if (args != NULL && po->compress >= 0) {
		json_object_set_new(args, "compress", json_boolean(po->compress));
	}
	if (args != NULL && po->del) {
		json_object_set_new(args, "delete", json_true());
		if (po->max_delete >= 0) {
			json_object_set_new(args, "max_delete", json_integer(po->max_delete));
		}
	}
	return args;
}

/*
 * Poll job id until cond says it is over, every 20 ms: polling the daemon for the end,
 * not synchronising, so that a job of a fraction of a second does not wait up to 200 ms
 * more to be reported (one small request to the control thread each time). *job is the
 * last snapshot (the caller's to free with *jobs). @return 0 or an exit code.
 */
static int
job_follow(const struct opts *o, long long id, bool (*over)(json_t *job, void *arg), void *arg,
           json_t **jobs, json_t **job)
{
	for (unsigned int round = 0;; round++) {
		json_t *args = json_pack("{s:I}", "id", (json_int_t)id);
		int rc = ctl_call(o, "jobs", args, jobs);

		json_decref(args);
		if (rc != 0) {
			return rc;
		}
		*job = json_array_get(get(*jobs, "jobs"), 0);
		if (*job == NULL) {
			fprintf(stderr, "xferctl: job %lld vanished\n", id);
			json_decref(*jobs);
			return EXIT_FAILED;
		}
		if (over(*job, arg)) {
			if (isatty(STDERR_FILENO) && !o->json) {
				fputc('\n', stderr);
			}
			return 0;
		}
		if (isatty(STDERR_FILENO) && !o->json && round % 10 == 0) {
			progress_line(*job); /* 5 updates a second */
		}
		json_decref(*jobs);
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	}
}

/*
 * Ask the daemon for a push or pull job (cmd) with the options (po->filter freed).
 * Without --wait, say its id and set *id 0. @return 0 or an exit code.
 */
static int
job_request(const struct opts *o, const char *cmd, struct push_opts *po, const char *src,
            const char *peer, size_t peer_len, const struct xf_dest *dest, long long *id)
{
	json_t *result = NULL;
	json_t *args = push_opts_json(po, json_pack("{s:s, s:s%, s:s, s:s%}", "src", src, "peer",
	                                            peer, peer_len, "dest", dest->path, "volume",
	                                            dest->volume != NULL ? dest->volume : "",
	                                            dest->volume_len));
	int rc = ctl_call(o, cmd, args, &result);

	json_decref(args);
	*id = 0;
	if (rc != 0) {
		return rc;
	}
	if (po->wait) {
		*id = num(result, "job");
	} else if (o->json) {
		print_json(result);
	} else {
		printf("job %lld started%s\n", num(result, "job"),
		       strcmp(cmd, "pull") == 0 ? " (pull)" : "");
	}
	json_decref(result);
	return 0;
}

int
cmd_push(const struct opts *o, int argc, char **argv)
{
	const char *src, *target, *peer;
	size_t peer_len;
	struct xf_dest dest;
	struct push_opts po;
	json_t *jobs, *job;
	long long id;
	bool ok;
	int rc;

	rc = push_opts_parse("push", argc, argv, &po);
	if (rc != 0) {
		return rc;
	}
	if (argc - optind != 2) {
		fprintf(stderr,
		        "xferctl: push SRC_DIR PEER:DEST_DIR|PEER::VOLUME[/DEST_DIR] [--wait] "
		        "[-n|--dry-run] [-i|--itemize-changes] [-H|--hard-links] "
		        "[-o|--owner] [-g|--group] [--owner-names] [-X|--xattrs] [-A|--acls] [--checksum] "
		        "[--compress|--no-compress] "
		        "[--lanes N] [--delete] [--max-delete N] "
		        "[--exclude PAT] "
		        "[--include PAT] [--filter RULE] [--exclude-from FILE] "
		        "[--include-from FILE]\n");
		xf_filter_free(po.filter);
		return EXIT_USAGE;
	}
	if (po.owner_names && !po.owner && !po.group) {
		fprintf(stderr,
		        "xferctl: push: --owner-names maps what -o and -g send: give one\n");
		xf_filter_free(po.filter);
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
		xf_filter_free(po.filter);
		return EXIT_USAGE;
	}
	rc = job_request(o, "push", &po, src, peer, peer_len, &dest, &id);
	if (rc != 0 || id == 0) {
		return rc;
	}
	rc = job_follow(o, id, job_finished, NULL, &jobs, &job);
	if (rc != 0) {
		return rc;
	}
	ok = strcmp(str(job, "state"), "done") == 0 && num(job, "files_failed") == 0 &&
	     (!json_is_object(get(job, "delete")) ||
	      strcmp(str(get(job, "delete"), "status"), "done") == 0);

	if (po.itemize && !o->json && (rc = print_items(o, id)) != 0) {
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

/* How long `pull --wait` waits for the peer's push to arrive once the peer accepted. */
#define PULL_ARRIVE_NS (60ull * 1000 * 1000 * 1000)

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The peer's push is over (ended or refused here), or did not come in time. */
static bool
pull_over(json_t *job, void *arg)
{
	const char *st = str(get(job, "pull"), "state");

	return strcmp(st, "ended") == 0 || strcmp(st, "refused") == 0 ||
	       (strcmp(st, "waiting") == 0 && mono_ns() > *(uint64_t *)arg);
}

/* The summary of a pull: what the peer's push did here. @return whether it all arrived. */
static bool
pull_summary(json_t *job, bool dry)
{
	json_t *p = get(job, "pull");
	const char *st = str(p, "state");
	bool ok = json_is_true(get(p, "complete")) && num(p, "files_failed") == 0;

	printf("Pull job %lld: %s%s\n", num(job, "id"), ok ? "done" : "failed",
	       dry ? " (DRY RUN: nothing was written here)" : "");
	printf("Number of files: %lld\n", num(p, "files_total"));
	printf("Number of files transferred: %lld\n", num(p, "files_written"));
	printf("Number of files failed: %lld\n", num(p, "files_failed"));
	if (strcmp(st, "waiting") == 0) {
		printf("Error: the peer accepted, but its push did not arrive within %llu s\n",
		       PULL_ARRIVE_NS / 1000000000ull);
	} else if (strcmp(st, "refused") == 0) {
		printf("Error: the peer's push named a destination this appliance does not "
		       "serve\n");
	} else if (!json_is_true(get(p, "complete"))) {
		printf("Error: the peer's push ended before every file was settled\n");
	}
	return ok;
}

int
cmd_pull(const struct opts *o, int argc, char **argv)
{
	const char *source, *colon, *target;
	char local[4096 + 2];
	const char *peer;
	size_t peer_len;
	struct xf_dest dest;
	struct push_opts po;
	json_t *jobs, *job;
	uint64_t deadline;
	long long id;
	bool ok;
	int rc;

	rc = push_opts_parse("pull", argc, argv, &po);
	if (rc != 0) {
		return rc;
	}
	if (argc - optind != 2 || po.itemize || po.lanes > 0) {
		fprintf(stderr, "%s",
		        po.itemize ? "xferctl: pull: -i is not supported (the itemized list would "
		                     "be the peer's: it is the sender)\n"
		        : po.lanes > 0
		                ? "xferctl: pull: --lanes is not supported (the pull request "
		                  "does not carry it)\n"
		                : "xferctl: pull PEER:SRC_DIR DEST_DIR|::VOLUME[/DEST_DIR] "
		                  "[--wait] [-n|--dry-run] [-H|--hard-links] [-o|--owner] "
		                  "[-g|--group] [--owner-names] [-X|--xattrs] "
		                  "[-A|--acls] [--checksum] "
		                  "[--compress|--no-compress] [--delete] [--max-delete N] "
		                  "[--exclude PAT] [--include PAT] [--filter RULE] "
		                  "[--exclude-from FILE] [--include-from FILE]\n");
		xf_filter_free(po.filter);
		return EXIT_USAGE;
	}
	if (po.owner_names && !po.owner && !po.group) {
		fprintf(stderr,
		        "xferctl: pull: --owner-names maps what -o and -g send: give one\n");
		xf_filter_free(po.filter);
		return EXIT_USAGE;
	}
	source = argv[optind];
	target = argv[optind + 1];
	colon = strchr(source, ':');
	if (colon == NULL || colon == source || colon[1] != '/') {
		fprintf(stderr, "xferctl: pull: '%s' is not PEER:/ABSOLUTE/SRC_DIR\n", source);
		xf_filter_free(po.filter);
		return EXIT_USAGE;
	}
	/* The local destination is read as a push target's would be, for a peer "-". */
	snprintf(local, sizeof(local), "-%s%s", target[0] == ':' ? "" : ":", target);
	rc = strlen(target) > 4096 ? -ENAMETOOLONG : xf_dest_target(local, &peer, &peer_len, &dest);
	if (rc < 0) {
		fprintf(stderr,
		        "xferctl: pull: '%s' is not DEST_DIR nor ::VOLUME[/DEST_DIR] (a volume "
		        "of this appliance)\n",
		        target);
		xf_filter_free(po.filter);
		return EXIT_USAGE;
	}
	rc = job_request(o, "pull", &po, colon + 1, source, (size_t)(colon - source), &dest, &id);
	if (rc != 0 || id == 0) {
		return rc;
	}
	/* First the peer's answer: the pull job ends done (its push starts) or failed. */
	rc = job_follow(o, id, job_finished, NULL, &jobs, &job);
	if (rc != 0) {
		return rc;
	}
	if (strcmp(str(job, "state"), "done") != 0) {
		if (o->json) {
			print_json(job);
		} else {
			printf("Pull job %lld: %s\nError: %s\n", id, str(job, "state"),
			       str(job, "error"));
		}
		json_decref(jobs);
		return EXIT_FAILED;
	}
	json_decref(jobs);
	/* Then the push it started, as it arrives here under the job's session id. */
	deadline = mono_ns() + PULL_ARRIVE_NS;
	rc = job_follow(o, id, pull_over, &deadline, &jobs, &job);
	if (rc != 0) {
		return rc;
	}
	if (o->json) {
		print_json(job);
		ok = json_is_true(get(get(job, "pull"), "complete")) &&
		     num(get(job, "pull"), "files_failed") == 0;
	} else {
		ok = pull_summary(job, po.dry);
	}
	json_decref(jobs);
	return ok ? 0 : EXIT_FAILED;
}
