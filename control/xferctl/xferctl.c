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

#include "xferctl.h"

/*
 * One call; on success *result is the "result" member (owned by the caller).
 * Returns an exit code.
 */
int
ctl_call(const struct opts *o, const char *cmd, json_t *args, json_t **result)
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
	        "  push SRC_DIR PEER:DEST_DIR [--wait] [-n] [-i] [-H] [-o] [-g] [--owner-names]\n"
	        "       [-X] [-A] [--checksum] [--compress|--no-compress] [--lanes N]\n"
	        "       [--delete [--max-delete N]]\n"
	        "       [FILTERS]                 push a tree to a peer named in the config,\n"
	        "                                 into its first volume; PEER::VOLUME/DEST_DIR\n"
	        "                                 (or PEER::VOLUME) names another of its volumes\n"
	        "      -n, --dry-run         decide everything and write nothing on the peer\n"
	        "      -i, --itemize-changes print rsync's YXcstpoguax line for each change\n"
	        "                            (with --wait; else: itemize JOB_ID)\n"
	        "      -H, --hard-links      files that share an inode in SRC_DIR share one\n"
	        "                            on the peer (needs a peer that knows them)\n"
	        "      -o, --owner           set each entry's owner on the peer, by number\n"
	        "                            (its volume needs keep_owner: true)\n"
	        "      -g, --group           set each entry's group on the peer, by number\n"
	        "      --owner-names         with -o, -g: by name instead (the peer sets the\n"
	        "                            ids the names have there, the number where it\n"
	        "                            has no such name)\n"
	        "      -X, --xattrs          set each file's and directory's user.* extended\n"
	        "                            attributes on the peer (and security.*, trusted.*\n"
	        "                            where its volume's xattr_namespaces keeps them)\n"
	        "      -A, --acls            set their access and default ACLs on the peer\n"
	        "      --compress            compress literal data per frame where it saves\n"
	        "                            1/16 or more (incompressible data goes as is)\n"
	        "                            (without either: transfer.compress, or the\n"
	        "                            peer's volume asks: volumes[].compress)\n"
	        "      --no-compress         do not, whatever transfer.compress or the peer's\n"
	        "                            volume says\n"
	        "      --lanes N             carry it over N sessions (1..16; transfer.lanes\n"
	        "                            by default), its files split by bytes\n"
	        "      --delete              then delete on the peer what SRC_DIR lacks in DEST_DIR\n"
	        "      --max-delete N        delete at most N entries (and say how many were left)\n"
	        "      FILTERS, in rsync's rule syntax, first match wins (docs/FILTERS.md):\n"
	        "      --exclude PATTERN     leave out what matches ('+ PAT' includes)\n"
	        "      --include PATTERN     keep what matches, whatever later rules say\n"
	        "      --filter RULE         '- PAT', '+ PAT', 'exclude PAT', 'include PAT'\n"
	        "      --exclude-from FILE   one --exclude pattern a line ('-': stdin);\n"
	        "                            '#' or ';' starts a comment line\n"
	        "      --include-from FILE   one --include pattern a line\n");
	/* Two strings: one would be longer than C's 4,095-byte guarantee. */
	fprintf(out,
	        "  pull PEER:SRC_DIR DEST_DIR [--wait] [-n] [-H] [-o] [-g] [--owner-names]\n"
	        "       [-X] [-A] [--checksum] [--compress|--no-compress]\n"
	        "       [--delete [--max-delete N]] [FILTERS]\n"
	        "                                 ask the peer to push its SRC_DIR (absolute,\n"
	        "                                 beneath its control.push_roots; it must allow\n"
	        "                                 us peers[].allow_pull) into DEST_DIR of our\n"
	        "                                 first volume (::VOLUME[/DEST_DIR]: another);\n"
	        "                                 the options as push's (-o, -g: our volume\n"
	        "                                 needs keep_owner: true); --wait follows the\n"
	        "                                 push until it has arrived\n"
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
	        "exit codes: 0 ok, 1 error reply, refused reload, push or pull with failed files,\n"
	        "            refused pull, or\n"
	        "            capture short of N frames,\n"
	        "            2 usage, 3 unreachable\n",
	        DEFAULT_SOCKET);
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
	printf("\n%-10s %-8s %10s %10s\n", "PORT", "STEERING", "RULES", "REFUSED");
	json_array_foreach(get(r, "ports"), i, e)
	{
		printf("%-10s %-8s %10lld %10lld\n", str(e, "name"), str(e, "steering"),
		       num(e, "flow_rules"), num(e, "flow_rules_refused"));
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

	printf("%-5s %-10s %5s %10s %10s %8s %14s %12s  %s\n", "JOB", "STATE", "LANES", "FILES",
	       "DONE", "FAILED", "BYTES", "SHARE/FAIR", "SRC -> PEER:DEST");
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
		printf("%-5lld %-10s %5lld %10lld %10lld %8lld %14lld %12s  %s -> %s:%s%s%s%s\n",
		       num(j, "id"), str(j, "state"),
		       json_is_integer(get(j, "lanes")) ? num(j, "lanes") : 1LL,
		       num(j, "files_total"), num(j, "files_done"), num(j, "files_failed"),
		       num(j, "bytes_done"), share, str(j, "src"), str(j, "peer"),
		       vol[0] != '\0' ? ":" : "", vol, vol[0] != '\0' ? "/" : "", str(j, "dest"));
	}
	if (json_is_object(get(r, "fairness"))) {
		json_t *f = get(r, "fairness");

		printf("running: %lld, fairness (Jain's index of their rates, 1 = equal): %.2f\n",
		       num(f, "running"), json_number_value(get(f, "jain")));
	}
}

/* Commands that take no arguments or one id, and their human printers. */
static int
cmd_simple(const struct opts *o, const char *cmd, json_t *args, void (*show)(json_t *))
{
	json_t *result = NULL;
	int rc = ctl_call(o, cmd, args, &result);

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
	int rc = ctl_call(o, "reload", NULL, &result);

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
	rc = ctl_call(o, "capture", args, &result);
	json_decref(args);
	json_decref(result);
	for (result = NULL; rc == 0; result = NULL) {
		rc = ctl_call(o, "capture_status", NULL, &result);
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
	if (strcmp(cmd, "pull") == 0) {
		return cmd_pull(&o, argc, argv);
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
