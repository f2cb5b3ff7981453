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
	if (num(job, "files_redone") > 0) {
		/* DELTA files whose basis changed under the peer (docs/DELTA.md, "Sent again
		 * whole"); rsync logs each one's redo instead. */
		printf("Number of files sent again whole: %lld\n", num(job, "files_redone"));
	}
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

int
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
		{ "owner", no_argument, NULL, 'o' },
		{ "group", no_argument, NULL, 'g' },
		{ "lanes", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	bool wait = false, checksum = false, del = false, dry = false, itemize = false;
	bool links = false, owner = false, group = false;
	long long max_delete = -1, lanes = 0;
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
	while ((c = getopt_long(argc, argv, "wcniHog", longopts, NULL)) != -1) {
		if (c == 'w') {
			wait = true;
		} else if (c == 'o') {
			owner = true;
		} else if (c == 'g') {
			group = true;
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
		} else if (c == 'L') {
			errno = 0;
			lanes = strtoll(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || lanes < 1 ||
			    lanes > 16) {
				fprintf(stderr,
				        "xferctl: push: --lanes '%s': expected a number from 1 to 16\n",
				        optarg);
				xf_filter_free(filter);
				return EXIT_USAGE;
			}
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
		        "[-o|--owner] [-g|--group] [--checksum] [--compress|--no-compress] [--lanes N] "
		        "[--delete] [--max-delete N] "
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
	if (args != NULL && owner) {
		json_object_set_new(args, "owner", json_true());
	}
	if (args != NULL && group) {
		json_object_set_new(args, "group", json_true());
	}
	if (args != NULL && lanes > 0) {
		json_object_set_new(args, "lanes", json_integer(lanes));
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
	rc = ctl_call(o, "push", args, &result);
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
		rc = ctl_call(o, "jobs", args, &jobs);
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
