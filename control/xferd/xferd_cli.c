/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xferd's command line: parse options, and the modes that never start the
 * dataplane (--check, --dump-config). docs/CONFIG.md documents the file;
 * docs/OPERATIONS.md the daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xf_config.h"
#include "xferd.h"

#define XFERD_MAX_SETS 64

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: xferd -c FILE [--set KEY.PATH=VALUE]... [--check [--format text|json]]\n"
	        "             [--dump-config] [-v]\n"
	        "       xferd keygen FILE      new private key in FILE (mode 0600, must not\n"
	        "                              exist); prints the public key (base64)\n"
	        "       xferd pubkey -c FILE   prints the public key of session.private_key_file\n"
	        "\n"
	        "  -c, --config FILE     the YAML configuration (docs/CONFIG.md)\n"
	        "      --set K=V         override one key, validated like the file (repeatable)\n"
	        "      --check           validate the configuration and exit 0 (valid) or 1\n"
	        "      --format FMT      --check output: text (default) or json\n"
	        "      --dump-config     print the effective configuration, defaults filled in\n"
	        "  -v, --verbose         log at debug level\n"
	        "  -h, --help            this text\n"
	        "\n"
	        "Without --check or --dump-config, xferd runs in the foreground and logs to\n"
	        "stderr; SIGINT or SIGTERM stops it cleanly, SIGHUP reloads the configuration.\n");
}

int
xferd_parse_args(int argc, char **argv, struct xferd_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 'S' },
		{ "check", no_argument, NULL, 'C' },
		{ "format", required_argument, NULL, 'F' },
		{ "dump-config", no_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->sets = calloc(XFERD_MAX_SETS, sizeof(*o->sets));
	if (o->sets == NULL) {
		return -ENOMEM;
	}
	if (argc >= 2 && strcmp(argv[1], "keygen") == 0) {
		if (argc != 3 || argv[2][0] == '-') {
			fprintf(stderr, "xferd: usage: xferd keygen FILE\n");
			return -EINVAL;
		}
		o->mode = XFERD_MODE_KEYGEN;
		o->keyfile = argv[2];
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "pubkey") == 0) {
		/* The rest parses as usual; "pubkey" stands in for the program name. That call
		 * starts afresh, so the list allocated above goes first. */
		int rc;

		free(o->sets);
		rc = xferd_parse_args(argc - 1, argv + 1, o);

		if (rc == 0 && o->mode != XFERD_MODE_RUN) {
			fprintf(stderr, "xferd: pubkey takes -c FILE and --set only\n");
			return -EINVAL;
		}
		if (rc == 0) {
			o->mode = XFERD_MODE_PUBKEY;
		}
		return rc;
	}
	while ((c = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'S':
			if (o->nsets == XFERD_MAX_SETS) {
				fprintf(stderr, "xferd: at most %d --set options\n",
				        XFERD_MAX_SETS);
				return -EINVAL;
			}
			o->sets[o->nsets++] = optarg;
			break;
		case 'C':
			o->mode = XFERD_MODE_CHECK;
			break;
		case 'F':
			if (strcmp(optarg, "json") == 0) {
				o->json = true;
			} else if (strcmp(optarg, "text") != 0) {
				fprintf(stderr, "xferd: --format takes text or json, not '%s'\n",
				        optarg);
				return -EINVAL;
			}
			break;
		case 'D':
			o->mode = XFERD_MODE_DUMP;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			o->mode = XFERD_MODE_HELP;
			return 0;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "xferd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	if (o->config == NULL) {
		fprintf(stderr, "xferd: -c FILE is required\n");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

void
xferd_opts_free(struct xferd_opts *o)
{
	free(o->sets);
	o->sets = NULL;
}

int
xferd_load_config(const struct xferd_opts *o, struct xf_config **cfg)
{
	return xf_config_load(o->config, (const char *const *)o->sets, o->nsets, cfg, stderr);
}

int
xferd_check(const struct xferd_opts *o)
{
	struct xf_config_errors errs = { 0 };
	struct xf_config *cfg = NULL;
	int rc;

	rc = xf_config_load_errors(o->config, (const char *const *)o->sets, o->nsets, &cfg, &errs);
	if (o->json) {
		json_t *file = json_string(o->config);
		char *enc = file != NULL ? json_dumps(file, JSON_ENCODE_ANY) : NULL;

		/* The file name is the one string here not produced by the loader: encode it. */
		printf("{\"file\":%s,\"ok\":%s,\"errors\":", enc != NULL ? enc : "null",
		       rc == 0 ? "true" : "false");
		free(enc);
		json_decref(file);
		fflush(stdout);
		xf_config_errors_print_json(&errs, stdout);
		printf("}\n");
	} else if (rc == 0) {
		printf("%s: configuration ok\n", o->config);
	} else {
		xf_config_errors_print_text(&errs, stderr);
		fprintf(stderr, "%s: %u error%s\n", o->config, errs.count,
		        errs.count == 1 ? "" : "s");
	}
	xf_config_errors_clear(&errs);
	xf_config_free(cfg);
	return rc == 0 ? 0 : 1;
}

int
xferd_dump(const struct xferd_opts *o)
{
	struct xf_config *cfg = NULL;
	int rc = xferd_load_config(o, &cfg);

	if (rc < 0) {
		return 1;
	}
	rc = xf_config_dump(cfg, stdout);
	xf_config_free(cfg);
	return rc == 0 ? 0 : 1;
}
