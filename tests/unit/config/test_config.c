/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the YAML configuration loader.
 *
 * Over 1,000 lines: one concern, the loader's contract (every key, bound, error and
 * printer of the schema), driven by one corpus and one set of fixtures.
 *
 * The files bad/NN-name.yaml are a corpus of broken configurations. Each file starts with one
 * comment line per expected error, in order:   # expect: LINE:COL KEY.PATH MESSAGE-FRAGMENT
 * (KEY.PATH "-" when the error has none). The loader must report exactly those errors.
 * @FIXTURES@ in a corpus file stands for this build's fixture directory, and the example
 * configs' /tmp/xferd-dev for a directory in it: the test loads copies with the paths
 * replaced, so that it writes nothing outside its build directory.
 *
 * Extra modes: test_config --show FILE [--set K=V ...] prints the errors (text and JSON);
 * test_config --gen-doc prints the generated key table of docs/CONFIG.md.
 */
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_config.h"
#include "xf_test.h"

#ifndef XF_SOURCE_ROOT
#error "XF_SOURCE_ROOT must be defined by the build"
#endif

/* Per build directory: several builds may run their tests at once on one machine. */
#define FIXTURES XF_FIXTURES_DIR
/* Where the dev pair's configs keep their volumes and sockets, and where they go here. */
#define DEV_DIR      "/tmp/xferd-dev"
#define DEV_FIXTURES FIXTURES "/xferd-dev"

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL) {
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
	CU_ASSERT_FATAL(chmod(path, mode) == 0);
}

static int
put_fixture(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		return -1;
	}
	fputs(text, f);
	return fclose(f) == 0 && chmod(path, mode) == 0 ? 0 : -1;
}

static int
make_dir(const char *path)
{
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/*
 * Suite set-up, all inside the build directory: the dev configs' volume directories and
 * key files for the psk_file checks.
 */
static int
make_fixtures(void)
{
	if (make_dir(FIXTURES) < 0 || make_dir(DEV_FIXTURES) < 0 ||
	    make_dir(DEV_FIXTURES "/a") < 0 || make_dir(DEV_FIXTURES "/b") < 0 ||
	    put_fixture(FIXTURES "/psk-0644", "not a secret\n", 0644) < 0 ||
	    put_fixture(FIXTURES "/psk-0600", "s3cret-key-material\n", 0600) < 0) {
		perror("test_config: fixtures in " FIXTURES);
		return -1;
	}
	return 0;
}

/* TEXT with every FROM replaced by TO, or NULL when out of memory. */
static char *
replace_all(const char *text, const char *from, const char *to)
{
	size_t nfrom = strlen(from), nto = strlen(to), n = 0;
	const char *p;
	char *out, *o;

	for (p = strstr(text, from); p != NULL; p = strstr(p + nfrom, from)) {
		n++;
	}
	out = malloc(strlen(text) + n * nto + 1);
	if (out == NULL) {
		return NULL;
	}
	o = out;
	for (p = text; n > 0; n--) {
		const char *hit = strstr(p, from);

		memcpy(o, p, (size_t)(hit - p));
		o += hit - p;
		memcpy(o, to, nto);
		o += nto;
		p = hit + nfrom;
	}
	strcpy(o, p);
	return out;
}

/*
 * Copy the source file REL into the fixture directory with its placeholder paths
 * replaced (see the top of this file); the copy's path goes to PATH.
 */
static void
relocate(const char *rel, char *path, size_t size)
{
	char src[512], *text, *step, *done;

	CU_ASSERT_FATAL((size_t)snprintf(src, sizeof(src), "%s/%s", XF_SOURCE_ROOT, rel) <
	                sizeof(src));
	CU_ASSERT_FATAL((size_t)snprintf(path, size, "%s/%s", FIXTURES, rel) < size);
	for (char *c = path + strlen(FIXTURES) + 1; *c != '\0'; c++) {
		*c = *c == '/' ? '-' : *c;
	}
	text = read_all(src);
	CU_ASSERT_FATAL(text != NULL);
	step = replace_all(text, "@FIXTURES@", FIXTURES);
	CU_ASSERT_FATAL(step != NULL);
	done = replace_all(step, DEV_DIR, DEV_FIXTURES);
	CU_ASSERT_FATAL(done != NULL);
	CU_ASSERT_FATAL(put_fixture(path, done, 0644) == 0);
	free(done);
	free(step);
	free(text);
}

static int
load(const char *rel, const char *const *sets, unsigned int nsets, struct xf_config **cfg,
     struct xf_config_errors *errs)
{
	char path[512];

	relocate(rel, path, sizeof(path));
	return xf_config_load_errors(path, sets, nsets, cfg, errs);
}

/* Load a file that must be valid; print the errors if it is not. */
static struct xf_config *
load_good(const char *rel, const char *const *sets, unsigned int nsets)
{
	struct xf_config_errors errs = { 0 };
	struct xf_config *cfg = NULL;
	int rc = load(rel, sets, nsets, &cfg, &errs);

	if (rc != 0) {
		fprintf(stderr, "\n%s: rc %d\n", rel, rc);
		xf_config_errors_print_text(&errs, stderr);
	}
	CU_ASSERT_EQUAL(rc, 0);
	xf_config_errors_clear(&errs);
	return cfg;
}

/* ---- the corpus of broken configurations -------------------------------------------- */

struct expect {
	unsigned int line, col;
	char key[128];
	char frag[256];
};

static int
parse_expects(const char *text, struct expect *ex, int max)
{
	int n = 0;

	for (const char *p = text; p != NULL && *p != '\0' && n < max;) {
		const char *nl = strchr(p, '\n');
		char line[512];
		int used = 0;

		snprintf(line, sizeof(line), "%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
		if (sscanf(line, "# expect: %u:%u %127s %n", &ex[n].line, &ex[n].col, ex[n].key,
		           &used) == 3 &&
		    used > 0) {
			snprintf(ex[n].frag, sizeof(ex[n].frag), "%s", line + used);
			if (strcmp(ex[n].key, "-") == 0) {
				ex[n].key[0] = '\0';
			}
			n++;
		}
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_bad_corpus(void)
{
	char dirpath[512], rel[512], path[512];
	char *names[256];
	int nnames = 0, checked = 0;
	DIR *d;
	struct dirent *de;

	snprintf(dirpath, sizeof(dirpath), "%s/tests/unit/config/bad", XF_SOURCE_ROOT);
	d = opendir(dirpath);
	CU_ASSERT_FATAL(d != NULL);
	while ((de = readdir(d)) != NULL && nnames < 256) {
		size_t len = strlen(de->d_name);

		if (len > 5 && strcmp(de->d_name + len - 5, ".yaml") == 0) {
			names[nnames++] = strdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, (size_t)nnames, sizeof(names[0]), cmp_names);
	CU_ASSERT(nnames >= 25);

	for (int i = 0; i < nnames; i++) {
		struct expect ex[16];
		struct xf_config_errors errs = { 0 };
		struct xf_config *cfg = NULL;
		char *text;
		int nex, rc;
		bool ok = true;

		snprintf(rel, sizeof(rel), "tests/unit/config/bad/%s", names[i]);
		relocate(rel, path, sizeof(path));
		text = read_all(path);
		CU_ASSERT_FATAL(text != NULL);
		nex = parse_expects(text, ex, 16);
		free(text);
		if (nex == 0) {
			fprintf(stderr, "\n%s: no '# expect:' line\n", names[i]);
			CU_FAIL("corpus file without expectation");
			continue;
		}
		rc = xf_config_load_errors(path, NULL, 0, &cfg, &errs);
		ok = rc == -EINVAL && cfg == NULL && errs.count == (unsigned int)nex;
		for (int j = 0; ok && j < nex; j++) {
			const struct xf_config_error *e = &errs.items[j];

			ok = e->line == ex[j].line && e->col == ex[j].col &&
			     strcmp(e->key, ex[j].key) == 0 &&
			     strstr(e->message, ex[j].frag) != NULL && strcmp(e->file, path) == 0;
		}
		if (!ok) {
			fprintf(stderr, "\n%s: rc %d, %u errors, expected %d:\n", names[i], rc,
			        errs.count, nex);
			for (int j = 0; j < nex; j++) {
				fprintf(stderr, "  expected %u:%u %s ...%s...\n", ex[j].line,
				        ex[j].col, ex[j].key, ex[j].frag);
			}
			xf_config_errors_print_text(&errs, stderr);
		}
		CU_ASSERT(ok);
		checked += ok;
		xf_config_free(cfg);
		xf_config_errors_clear(&errs);
		free(names[i]);
	}
	CU_ASSERT_EQUAL(checked, nnames);
}

/* ---- good configurations ------------------------------------------------------------- */

static void
test_dev_a_values(void)
{
	struct xf_config *c = load_good("config/dev/a.yaml", NULL, 0);

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(c->version, 1);
	CU_ASSERT_STRING_EQUAL(c->appliance.name, "dev-a");
	CU_ASSERT_EQUAL(c->appliance.log_level, XF_LOG_INFO);
	CU_ASSERT_STRING_EQUAL(c->eal.file_prefix, "xferd-a");
	CU_ASSERT_FALSE(c->eal.hugepages);
	CU_ASSERT_FALSE(c->eal.pci);
	CU_ASSERT_EQUAL(c->eal.memory_mb, 512);
	CU_ASSERT_EQUAL(c->eal.n_extra_args, 0);
	CU_ASSERT_EQUAL(c->cores.main, 0);
	CU_ASSERT_EQUAL(c->cores.n_rx, 1);
	CU_ASSERT_EQUAL(c->cores.rx[0], 1);
	CU_ASSERT_EQUAL(c->cores.n_workers, 1);
	CU_ASSERT_EQUAL(c->cores.workers[0], 1);
	CU_ASSERT_EQUAL(c->cores.n_cpus, 2);
	CU_ASSERT_EQUAL(c->cores.cpus[1], 1);
	CU_ASSERT_EQUAL(c->cores.idle, XF_CONFIG_IDLE_BACKOFF);
	CU_ASSERT_EQUAL(c->n_ports, 1);
	CU_ASSERT_STRING_EQUAL(c->ports[0].name, "wire0");
	CU_ASSERT_STRING_EQUAL(c->ports[0].device, "net_memif0,role=server,socket=" DEV_FIXTURES
	                                           "/memif.sock,bsize=9216");
	CU_ASSERT_EQUAL(c->ports[0].ipv4, (10u << 24) | (99u << 16) | 1u);
	CU_ASSERT_EQUAL(c->ports[0].prefix_len, 24);
	CU_ASSERT_EQUAL(c->ports[0].mtu, 9000);
	/* Defaults of the keys the file leaves out. */
	CU_ASSERT_EQUAL(c->ports[0].udp_port, 7010);
	CU_ASSERT_EQUAL(c->ports[0].rx_desc, 1024);
	CU_ASSERT_EQUAL(c->ports[0].tx_desc, 1024);
	CU_ASSERT_EQUAL(c->ports[0].n_neighbors, 0);
	CU_ASSERT_EQUAL(c->ports[0].fault.reorder_percent, 0);
	CU_ASSERT_EQUAL(c->ports[0].fault.seed, 1);
	CU_ASSERT_EQUAL(c->n_volumes, 1);
	CU_ASSERT_STRING_EQUAL(c->volumes[0].path, DEV_FIXTURES "/a");
	CU_ASSERT_EQUAL(c->volumes[0].fsync, XF_CONFIG_FSYNC_NONE);
	CU_ASSERT_EQUAL(c->volumes[0].fsync_batch, 64);
	CU_ASSERT_EQUAL(c->n_peers, 1);
	CU_ASSERT_STRING_EQUAL(c->peers[0].name, "b");
	CU_ASSERT_EQUAL(c->peers[0].ipv4, (10u << 24) | (99u << 16) | 2u);
	CU_ASSERT_EQUAL(c->peers[0].udp_port, 7010);
	CU_ASSERT_STRING_EQUAL(c->peers[0].port, "wire0"); /* resolved from the subnet */
	CU_ASSERT_EQUAL(c->peers[0].port_index, 0);
	CU_ASSERT_FALSE(c->peers[0].allow_pull); /* pulls are opt-in */
	CU_ASSERT_EQUAL(c->session.window_files, 1024);
	CU_ASSERT_EQUAL(c->session.max_sessions, 16);
	CU_ASSERT_EQUAL(c->session.window_max_frames, 4096);
	CU_ASSERT_EQUAL(c->session.rate_mbit, 0);
	CU_ASSERT_EQUAL(c->session.congestion, XF_CONFIG_CC_NONE);
	CU_ASSERT_EQUAL(c->session.timeout_ms, 10000);
	CU_ASSERT_EQUAL(c->session.keepalive_ms, 1000);
	CU_ASSERT_EQUAL(c->session.rekey_after_ms, 120000);
	CU_ASSERT_EQUAL(c->session.reject_after_ms, 180000);
	CU_ASSERT_EQUAL(c->session.key_update_frames, 1u << 22);
	CU_ASSERT_EQUAL(c->session.handshake_load, 64);
	CU_ASSERT_STRING_EQUAL(c->session.psk_file, "");
	CU_ASSERT_FALSE(c->transfer.checksum);
	CU_ASSERT_STRING_EQUAL(c->control.socket, DEV_FIXTURES "/a.sock");
	CU_ASSERT_STRING_EQUAL(c->control.socket_group, "");
	CU_ASSERT_EQUAL(c->control.n_push_roots, 1);
	CU_ASSERT_STRING_EQUAL(c->control.push_roots[0], "/tmp");
	xf_config_free(c);
}

/* A minimal file: every other key takes its documented default. */
static void
test_minimal_defaults(void)
{
	struct xf_config *c;

	write_file(FIXTURES "/minimal.yaml",
	           "version: 1\n"
	           "ports: [{name: p, device: net_null0, ipv4: 10.0.0.1/8}]\n"
	           "volumes: [{name: v, path: " FIXTURES "}]\n",
	           0644);
	CU_ASSERT_EQUAL_FATAL(xf_config_load(FIXTURES "/minimal.yaml", NULL, 0, &c, stderr), 0);
	CU_ASSERT_STRING_EQUAL(c->appliance.name, "xferd");
	CU_ASSERT_EQUAL(c->appliance.log_level, XF_LOG_NOTICE);
	CU_ASSERT_STRING_EQUAL(c->eal.file_prefix, "xferd");
	CU_ASSERT_TRUE(c->eal.hugepages);
	CU_ASSERT_TRUE(c->eal.pci);
	CU_ASSERT_EQUAL(c->eal.memory_mb, 1024);
	CU_ASSERT_EQUAL(c->cores.main, 0);
	CU_ASSERT_EQUAL(c->cores.n_rx, 1);
	CU_ASSERT_EQUAL(c->cores.rx[0], 1);
	CU_ASSERT_EQUAL(c->cores.n_workers, 1);
	CU_ASSERT_EQUAL(c->cores.workers[0], 2);
	CU_ASSERT_EQUAL(c->cores.n_cpus, 0);
	CU_ASSERT_EQUAL(c->ports[0].mtu, 1500);
	CU_ASSERT_EQUAL(c->ports[0].udp_checksum, XF_CONFIG_UDP_CSUM_AUTO);
	CU_ASSERT_EQUAL(c->transfer.io, XF_CONFIG_IO_AUTO);
	CU_ASSERT_EQUAL(c->volumes[0].fsync, XF_CONFIG_FSYNC_FILE);
	CU_ASSERT_EQUAL(c->n_peers, 0);
	CU_ASSERT_STRING_EQUAL(c->control.socket, "/run/xferd/xferd.sock");
	CU_ASSERT_EQUAL(c->session.max_sessions_per_peer, 8);
	/* an appliance pushes nothing until its operator lists what pushes may read */
	CU_ASSERT_EQUAL(c->control.n_push_roots, 0);
	xf_config_free(c);
}

static void
test_every_example_loads(void)
{
	/* The reference appliance's volumes live on its own disks: point them here. */
	static const char *const ref_sets[] = {
		("volumes[0].path=" FIXTURES),
		("volumes[1].path=" FIXTURES),
	};
	struct xf_config *c;

	c = load_good("config/dev/a.yaml", NULL, 0);
	xf_config_free(c);
	c = load_good("config/dev/b.yaml", NULL, 0);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_STRING_EQUAL(c->peers[0].name, "a");
	CU_ASSERT_STRING_EQUAL(c->eal.file_prefix, "xferd-b");
	CU_ASSERT_PTR_NOT_NULL(strstr(c->ports[0].device, "role=client"));
	xf_config_free(c);
	c = load_good("config/reference-appliance.yaml", ref_sets, 2);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(c->ports[0].mtu, 9000);
	CU_ASSERT_EQUAL(c->cores.n_rx, 4);
	CU_ASSERT_EQUAL(c->cores.n_workers, 8);
	CU_ASSERT_EQUAL(c->cores.idle, XF_CONFIG_IDLE_POLL);
	CU_ASSERT_EQUAL(c->volumes[0].fsync, XF_CONFIG_FSYNC_BATCH);
	CU_ASSERT_EQUAL(c->n_volumes, 2); /* each on the workers of its NUMA node */
	CU_ASSERT_EQUAL(c->volumes[0].n_workers, 4);
	CU_ASSERT_EQUAL(c->volumes[1].workers[0], 10);
	CU_ASSERT_STRING_EQUAL(c->volumes[0].path, FIXTURES);
	xf_config_free(c);
}

/*
 * A memif port in zero-copy mode starts only as a client whose DPDK memory is one file
 * per list (the PMD shares it with the server by descriptor; else rte_dev_probe fails
 * with "Zero-copy doesn't support multi-file segments"). Returns how many ports of c
 * ask for zero-copy, each checked for both.
 */
static unsigned int
check_memif_zc(const struct xf_config *c)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->n_ports; i++) {
		const char *dev = c->ports[i].device;
		bool sfs = false;

		if (strncmp(dev, "net_memif", 9) != 0 || strstr(dev, "zero-copy=yes") == NULL) {
			continue;
		}
		n++;
		CU_ASSERT_PTR_NOT_NULL(strstr(dev, "role=client"));
		for (unsigned int k = 0; k < c->eal.n_extra_args; k++) {
			sfs |= strcmp(c->eal.extra_args[k], "--single-file-segments") == 0;
		}
		CU_ASSERT_TRUE(sfs);
	}
	return n;
}

/* The dev pair's link: B, the memif client, in zero-copy mode (docs/ENGINE.md, "The dev
 * pair's link"); A, the server, copies (the PMD has no zero-copy server). */
static void
test_dev_memif_zero_copy(void)
{
	struct xf_config *c = load_good("config/dev/b.yaml", NULL, 0);

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(check_memif_zc(c), 1);
	xf_config_free(c);
	c = load_good("config/dev/a.yaml", NULL, 0);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(check_memif_zc(c), 0);
	CU_ASSERT_EQUAL(c->eal.n_extra_args, 0);
	xf_config_free(c);
}

/* Every directory entry of config/ (recursively) must load; dev volumes were created. */
static void
check_dir(const char *rel)
{
	char path[512];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/%s", XF_SOURCE_ROOT, rel);
	d = opendir(path);
	CU_ASSERT_FATAL(d != NULL);
	while ((de = readdir(d)) != NULL) {
		char sub[512];
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.') {
			continue;
		}
		snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name);
		if (de->d_type == DT_DIR) {
			check_dir(sub);
		} else if (len > 5 && strcmp(de->d_name + len - 5, ".yaml") == 0) {
			/* The reference appliance's two volumes and the packaged example's one
			 * relocated; the dev pair's as is. */
			static const char *const sets[] = {
				("volumes[0].path=" FIXTURES),
				("volumes[1].path=" FIXTURES),
			};
			bool dev = strstr(sub, "/dev/") != NULL;
			bool two = strstr(sub, "reference-appliance") != NULL;
			struct xf_config *c = load_good(sub, sets, dev ? 0 : two ? 2 : 1);

			if (c != NULL) {
				(void)check_memif_zc(c);
			}
			xf_config_free(c);
		}
	}
	closedir(d);
}

static void
test_config_dir_loads(void)
{
	check_dir("config");
}

/* ---- --set --------------------------------------------------------------------------- */

static void
test_set_good(void)
{
	static const char *const sets[] = {
		"ports[0].mtu=9000",
		"appliance.log_level=debug",
		"cores.workers=[2, 3]",
		"peers[1]={name: c, ipv4: 10.99.0.3, udp_port: 7020}",
		"session.psk_file=" FIXTURES "/psk-0600",
		"transfer={checksum: true}",
		"eal.extra_args=[\"--log-level=lib.eal:debug\", \"--in-memory\"]",
		"ports[0].neighbors[0]={ipv4: 10.99.0.2, mac: \"02:00:00:00:00:02\"}",
		"ports[0].fault.seed=42",
		"ports[0].udp_checksum=on",
		"transfer.io=inline",
		"peers[0].allow_pull=true",
	};
	struct xf_config *c = load_good("config/dev/a.yaml", sets, XF_ARRAY_SIZE(sets));

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(c->ports[0].mtu, 9000);
	CU_ASSERT_EQUAL(c->ports[0].udp_checksum, XF_CONFIG_UDP_CSUM_ON);
	CU_ASSERT_EQUAL(c->appliance.log_level, XF_LOG_DEBUG);
	CU_ASSERT_EQUAL(c->cores.n_workers, 2);
	CU_ASSERT_EQUAL(c->cores.workers[1], 3);
	CU_ASSERT_EQUAL(c->n_peers, 2);
	CU_ASSERT_STRING_EQUAL(c->peers[1].name, "c");
	CU_ASSERT_EQUAL(c->peers[1].udp_port, 7020);
	CU_ASSERT_TRUE(c->peers[0].allow_pull); /* set; the other keeps its default */
	CU_ASSERT_FALSE(c->peers[1].allow_pull);
	CU_ASSERT_STRING_EQUAL(c->session.psk_file, FIXTURES "/psk-0600");
	CU_ASSERT_TRUE(c->transfer.checksum);
	CU_ASSERT_EQUAL(c->transfer.io, XF_CONFIG_IO_INLINE);
	CU_ASSERT_EQUAL(c->eal.n_extra_args, 2);
	CU_ASSERT_STRING_EQUAL(c->eal.extra_args[1], "--in-memory");
	CU_ASSERT_EQUAL(c->ports[0].n_neighbors, 1);
	CU_ASSERT_EQUAL(c->ports[0].neighbors[0].mac[5], 2);
	CU_ASSERT_EQUAL(c->ports[0].fault.seed, 42);
	/* Untouched keys keep the file's values. */
	CU_ASSERT_EQUAL(c->eal.memory_mb, 512);
	xf_config_free(c);
}

struct set_case {
	const char *set;
	unsigned int col;
	const char *key;
	const char *frag;
};

static void
test_set_bad(void)
{
	static const struct set_case cases[] = {
		{ "ports[0].mut=9000", 10, "ports[0].mut", "did you mean 'mtu'" },
		{ "ports[0].mtu=80x", 14, "ports[0].mtu", "'80x' is not a valid integer" },
		{ "session.timeout", 1, "", "expected KEY.PATH=VALUE" },
		{ "ports[7].mtu=1500", 1, "ports[7].mtu", "out of range" },
		{ "ports[3].mtu=1500", 1, "ports[3].mtu", "out of range" },
		{ "eal.hugepages[0]=true", 5, "eal.hugepages[0]", "not a list" },
		{ "eal.pci=maybe", 9, "eal.pci", "expected true or false" },
		{ "transfer.io=uring", 13, "transfer.io",
		  "'uring' is not one of: auto, io_uring, inline" },
		{ "cores.rx=[1, 2", 10, "cores.rx", "YAML syntax error" },
		{ "cores..rx=1", 1, "cores..rx", "empty key" },
		{ "appliance.name=*x", 16, "appliance.name", "aliases are not allowed" },
		{ "session.timeout_ms={a: 1}", 20, "session.timeout_ms", "got a mapping" },
		{ "metrics.listen=127.0.0.1", 16, "metrics.listen", "is not IPV4:PORT" },
		{ "metrics.listen=127.0.0.1:0", 16, "metrics.listen", "is not IPV4:PORT" },
		{ "metrics.listen=127.0.0.1:65536", 16, "metrics.listen", "is not IPV4:PORT" },
		{ "metrics.listen=127.0.0.01:80", 16, "metrics.listen", "is not IPV4:PORT" },
		{ "metrics.listen=127.0.0.1:080", 16, "metrics.listen", "is not IPV4:PORT" },
		{ "metrics.listen=127.0.0.1:80x", 16, "metrics.listen", "is not IPV4:PORT" },
		{ "metrics.listen=localhost:80", 16, "metrics.listen", "is not IPV4:PORT" },
		/* keys refused no later than a new handshake starts would end every session */
		{ "session.reject_after_ms=120000", 25, "session.reject_after_ms",
		  "must be greater than rekey_after_ms (120000)" },
		{ "session.key_update_frames=1023", 27, "session.key_update_frames",
		  "out of range (1024..4194304)" },
		/* the fault stage's link: nothing bounds a delay or a queue without a rate */
		{ "ports[0].fault.delay_ms=20", 25, "ports[0].fault.delay_ms",
		  "needs ports[0].fault.rate_mbit" },
		{ "ports[0].fault.queue_bytes=100000", 28, "ports[0].fault.queue_bytes",
		  "needs ports[0].fault.rate_mbit" },
		{ "ports[0].fault.loss_ppm=1000001", 25, "ports[0].fault.loss_ppm",
		  "out of range (0..1000000)" },
		{ "ports[0].fault.burst_frames=0", 29, "ports[0].fault.burst_frames",
		  "out of range (1..1000000)" },
	};

	for (size_t i = 0; i < XF_ARRAY_SIZE(cases); i++) {
		const char *sets[] = { "appliance.name=ok", cases[i].set };
		struct xf_config_errors errs = { 0 };
		struct xf_config *c = NULL;
		int rc = load("config/dev/a.yaml", sets, 2, &c, &errs);
		bool ok = rc == -EINVAL && errs.count == 1 &&
		          strcmp(errs.items[0].file, "--set") == 0 && errs.items[0].line == 2 &&
		          errs.items[0].col == cases[i].col &&
		          strcmp(errs.items[0].key, cases[i].key) == 0 &&
		          strstr(errs.items[0].message, cases[i].frag) != NULL;

		if (!ok) {
			fprintf(stderr, "\n--set %s: rc %d, expected col %u key %s ...%s...\n",
			        cases[i].set, rc, cases[i].col, cases[i].key, cases[i].frag);
			xf_config_errors_print_text(&errs, stderr);
		}
		CU_ASSERT(ok);
		xf_config_free(c);
		xf_config_errors_clear(&errs);
	}
}

/* ports[].fault: the stage's units, and rate x delay plus the queue bounded by its slots. */
static void
test_fault_link(void)
{
	static const char *const ok_sets[] = {
		"ports[0].fault.rate_mbit=200",  "ports[0].fault.delay_ms=20",
		"ports[0].fault.loss_ppm=10000", "ports[0].fault.burst_ppm=2500",
		"ports[0].fault.burst_frames=4", "ports[0].fault.seed=9",
	};
	static const char *const big_sets[] = { "ports[0].fault.rate_mbit=10000",
		                                "ports[0].fault.delay_ms=100" };
	struct xf_config_errors errs = { 0 };
	struct xf_config *c = NULL;
	struct xf_fault_conf fc;

	CU_ASSERT_EQUAL_FATAL(load("config/dev/a.yaml", ok_sets, XF_ARRAY_SIZE(ok_sets), &c, &errs),
	                      0);
	xf_config_fault_conf(&c->ports[0], &fc);
	CU_ASSERT_EQUAL(fc.rate_bps, 200000000ull);
	CU_ASSERT_EQUAL(fc.delay_ns, 20000000ull);
	CU_ASSERT_EQUAL(fc.queue_bytes, 0); /* one BDP: 1 MB */
	CU_ASSERT_EQUAL(xf_fault_queue_bytes(&fc), 1000000);
	CU_ASSERT(fabs(fc.loss - 0.01) < 1e-12);
	CU_ASSERT(fabs(fc.ge.p_good_bad - 0.0025) < 1e-12);
	CU_ASSERT(fabs(fc.ge.p_bad_good - 0.25) < 1e-12);
	CU_ASSERT(fabs(fc.ge.loss_bad - 1.0) < 1e-12);
	CU_ASSERT_EQUAL(fc.reorder_p, 0.0);
	CU_ASSERT_EQUAL(fc.seed, 9);
	CU_ASSERT_EQUAL(fc.max_frame, 9014); /* config/dev: MTU 9000 */
	CU_ASSERT_EQUAL(xf_fault_check(&fc), 0);
	xf_config_free(c);
	c = NULL;
	/* 10 Gbit/s x 100 ms: 125 MB in flight, more than 2^18 frames of 60 B */
	CU_ASSERT_EQUAL(load("config/dev/a.yaml", big_sets, 2, &c, &errs), -EINVAL);
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	CU_ASSERT_STRING_EQUAL(errs.items[0].key, "ports[0].fault.rate_mbit");
	CU_ASSERT_PTR_NOT_NULL(strstr(errs.items[0].message, "the stage holds at most 262144"));
	xf_config_free(c);
	xf_config_errors_clear(&errs);
	c = NULL;
	/* 1 Gbit/s x 40 ms and a 6 MB queue at MTU 576: slots enough, but 18,700 frames of
	 * 590 B are more than half the mbuf pool */
	{
		static const char *const mbuf_sets[] = { "ports[0].mtu=576",
			                                 "ports[0].fault.rate_mbit=1000",
			                                 "ports[0].fault.delay_ms=40",
			                                 "ports[0].fault.queue_bytes=6000000" };

		CU_ASSERT_EQUAL(load("config/dev/a.yaml", mbuf_sets, 4, &c, &errs), -EINVAL);
		CU_ASSERT_EQUAL_FATAL(errs.count, 1);
		CU_ASSERT_STRING_EQUAL(errs.items[0].key, "ports[0].fault.rate_mbit");
		CU_ASSERT_PTR_NOT_NULL(strstr(errs.items[0].message, "at most 8191"));
		xf_config_free(c);
		xf_config_errors_clear(&errs);
	}
}

/* ---- error printers ------------------------------------------------------------------ */

static void
test_text_and_json_printers(void)
{
	static const char *const sets[] = { "ports[0].mtu=1" };
	static const char line3[] =
	        "  - {name: p, device: net_null0, ipv4: 10.0.0.1/8, \"udp_port\": 80x}";
	char *text = NULL, *json = NULL;
	size_t tlen = 0, jlen = 0;
	FILE *t = open_memstream(&text, &tlen);
	FILE *j = open_memstream(&json, &jlen);
	struct xf_config_errors errs = { 0 };
	struct xf_config *c = NULL;
	char expected[1024];

	snprintf(expected, sizeof(expected),
	         "version: 1\nports:\n%s\nvolumes: [{name: v, path: " FIXTURES "}]\n", line3);
	write_file(FIXTURES "/two.yaml", expected, 0644);
	CU_ASSERT_EQUAL(xf_config_load_errors(FIXTURES "/two.yaml", sets, 1, &c, &errs), -EINVAL);
	CU_ASSERT_EQUAL_FATAL(errs.count, 2);
	xf_config_errors_print_text(&errs, t);
	xf_config_errors_print_json(&errs, j);
	fclose(t);
	fclose(j);
	/*
	 * "80x" starts in column 64 of line 3 and the value of the override in column 14
	 * of "ports[0].mtu=1"; sources are printed indented by two, carets under the column.
	 */
	snprintf(expected, sizeof(expected),
	         "%s:3:64: error: ports[0].udp_port: '80x' is not a valid integer\n"
	         "  %s\n"
	         "  %*s^\n"
	         "--set:1:14: error: ports[0].mtu: 1 is out of range (576..9000)\n"
	         "  ports[0].mtu=1\n"
	         "  %*s^\n",
	         FIXTURES "/two.yaml", line3, 63, "", 13, "");
	CU_ASSERT_STRING_EQUAL(text, expected);
	CU_ASSERT_STRING_EQUAL(
	        json, "[\n {\"file\": \"" FIXTURES "/two.yaml\", \"line\": 3, \"col\": 64, "
	              "\"key\": \"ports[0].udp_port\", \"message\": \"'80x' is not a valid "
	              "integer\"},\n"
	              " {\"file\": \"--set\", \"line\": 1, \"col\": 14, \"key\": \"ports[0].mtu\", "
	              "\"message\": \"1 is out of range (576..9000)\"}\n]\n");
	free(text);
	free(json);
	xf_config_errors_clear(&errs);
}

static void
test_io_errors(void)
{
	struct xf_config *c = (struct xf_config *)1;

	CU_ASSERT_EQUAL(xf_config_load(FIXTURES "/does-not-exist.yaml", NULL, 0, &c, NULL),
	                -ENOENT);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(xf_config_load(FIXTURES, NULL, 0, &c, NULL), -EISDIR);
}

/* ---- dump, diff, EAL arguments -------------------------------------------------------- */

static char *
dump_to_string(const struct xf_config *c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	CU_ASSERT_EQUAL(xf_config_dump(c, f), 0);
	fclose(f);
	return s;
}

static void
roundtrip(const struct xf_config *c)
{
	char *first = dump_to_string(c), *second;
	struct xf_config *back = NULL;

	write_file(FIXTURES "/dump.yaml", first, 0644);
	CU_ASSERT_EQUAL_FATAL(xf_config_load(FIXTURES "/dump.yaml", NULL, 0, &back, stderr), 0);
	second = dump_to_string(back);
	CU_ASSERT_STRING_EQUAL(first, second);
	CU_ASSERT_EQUAL(xf_config_diff(c, back, stderr, NULL), 0);
	free(first);
	free(second);
	xf_config_free(back);
}

static void
test_dump_roundtrip(void)
{
	static const char *const sets[] = {
		"ports[0].neighbors=[{ipv4: 10.99.0.2, mac: \"02:aa:bb:cc:dd:ee\"}]",
		"eal.extra_args=[\"--vdev=net_null9\", \"a \\\"quoted\\\" \\\\ arg\"]",
		"session.psk_file=" FIXTURES "/psk-0600",
		"appliance.name=a.b_c-d",
	};
	struct xf_config *c = load_good("config/dev/a.yaml", sets, XF_ARRAY_SIZE(sets));
	char *text;

	CU_ASSERT_FATAL(c != NULL);
	roundtrip(c);
	/* The secret is referred to by path; its content never appears. */
	text = dump_to_string(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "psk_file: \"" FIXTURES "/psk-0600\""));
	CU_ASSERT_PTR_NULL(strstr(text, "s3cret"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "fsync_batch: 64")); /* defaults filled in */
	free(text);
	xf_config_free(c);
}

static void
test_diff(void)
{
	static const char *const reload_sets[] = {
		"appliance.log_level=debug",
		"cores.idle=poll",
		"session.rate_mbit=1000",
		"session.congestion=scavenger",
		"control.push_roots=[/tmp, /srv/out]",
		"volumes[0].compress=true",
	};
	static const char *const restart_sets[] = {
		"ports[0].mtu=1500",
		"cores.workers=[2, 3]",
		"session.timeout_ms=20000",
	};
	struct xf_config *a = load_good("config/dev/a.yaml", NULL, 0);
	struct xf_config *r = load_good("config/dev/a.yaml", reload_sets, 6);
	struct xf_config *s = load_good("config/dev/a.yaml", restart_sets, 3);
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	bool restart = true;

	CU_ASSERT_FATAL(a != NULL && r != NULL && s != NULL);
	CU_ASSERT_EQUAL(xf_config_diff(a, a, NULL, &restart), 0);
	CU_ASSERT_FALSE(restart);
	/* volumes[].compress: off unless said, and a reload turns it on (6.16). */
	CU_ASSERT_FALSE(a->volumes[0].compress);
	CU_ASSERT_TRUE(r->volumes[0].compress);
	CU_ASSERT_EQUAL(xf_config_diff(a, r, f, &restart), 6);
	CU_ASSERT_FALSE(restart);
	fflush(f);
	CU_ASSERT_STRING_EQUAL(out, "appliance.log_level: info -> debug (reloadable)\n"
	                            "cores.idle: backoff -> poll (reloadable)\n"
	                            "volumes[0].compress: false -> true (reloadable)\n"
	                            "session.rate_mbit: 0 -> 1000 (reloadable)\n"
	                            "session.congestion: none -> scavenger (reloadable)\n"
	                            "control.push_roots: [\"/tmp\"] -> [\"/tmp\", \"/srv/out\"] "
	                            "(reloadable)\n");
	fclose(f);
	free(out);
	out = NULL;
	f = open_memstream(&out, &n);
	CU_ASSERT_EQUAL(xf_config_diff(a, s, f, &restart), 3);
	CU_ASSERT_TRUE(restart);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(out, "cores.workers: [1] -> [2, 3] (restart)\n"
	                            "ports[0].mtu: 9000 -> 1500 (restart)\n"
	                            "session.timeout_ms: 10000 -> 20000 (reloadable)\n");
	free(out);
	xf_config_free(a);
	xf_config_free(r);
	xf_config_free(s);
}

static void
test_eal_args_dev(void)
{
	static const char *const expected[] = {
		"xferd",
		"--file-prefix=xferd-a",
		"--lcores=0@(0,1),1@(0,1)",
		"--main-lcore=0",
		"-m",
		"512",
		"--no-huge",
		"--no-pci",
		"--vdev=net_memif0,role=server,socket=" DEV_FIXTURES "/memif.sock,bsize=9216",
	};
	struct xf_config *c = load_good("config/dev/a.yaml", NULL, 0);
	char *argv[32];
	int argc;

	CU_ASSERT_FATAL(c != NULL);
	argc = xf_config_eal_args(c, argv, 32);
	CU_ASSERT_EQUAL_FATAL(argc, (int)XF_ARRAY_SIZE(expected));
	for (int i = 0; i < argc; i++) {
		CU_ASSERT_STRING_EQUAL(argv[i], expected[i]);
	}
	CU_ASSERT_PTR_NULL(argv[argc]);
	xf_config_eal_args_free(argv, argc);
	CU_ASSERT_EQUAL(xf_config_eal_args(c, argv, 5), -E2BIG);
	xf_config_free(c);
}

static void
test_eal_args_reference(void)
{
	/* The concatenation is meant (clang's -Wstring-concatenation warns on the first
	 * element of an array otherwise): parenthesised. */
	static const char *const sets[] = {
		("volumes[0].path=" FIXTURES),
		"eal.extra_args=[\"--log-level=pmd.net.ice:info\"]",
		"cores.main=1",
		("volumes[1].path=" FIXTURES),
	};
	static const char *const expected[] = {
		"xferd",
		"--file-prefix=xferd",
		"-l",
		"1,2,3,4,5,6,7,8,9,10,11,12,13",
		"--main-lcore=1",
		"-m",
		"4096",
		"-a",
		"0000:3b:00.0",
		"--log-level=pmd.net.ice:info",
	};
	struct xf_config *c = load_good("config/reference-appliance.yaml", sets, 4);
	char *argv[32];
	int argc;

	CU_ASSERT_FATAL(c != NULL);
	argc = xf_config_eal_args(c, argv, 32);
	CU_ASSERT_EQUAL_FATAL(argc, (int)XF_ARRAY_SIZE(expected));
	for (int i = 0; i < argc; i++) {
		CU_ASSERT_STRING_EQUAL(argv[i], expected[i]);
	}
	xf_config_eal_args_free(argv, argc);
	xf_config_free(c);
}

/* ---- robustness: mutated configurations never crash and always point somewhere ------ */

static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
test_mutations(void)
{
	static const char pool[] = " \t:-[]{}&*!\"'\n#0x|>?,~";
	char path[512];
	char *orig;
	size_t len;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned int valid = 0, invalid = 0;

	/* The copy with its paths in the fixtures: mutants of the original name
	 * /tmp/xferd-dev, which exists only where the dev pair once ran. */
	relocate("config/dev/a.yaml", path, sizeof(path));
	orig = read_all(path);
	CU_ASSERT_FATAL(orig != NULL);
	len = strlen(orig);
	for (int iter = 0; iter < 1500; iter++) {
		char *text = malloc(len * 2 + 2);
		size_t n = len;
		unsigned int lines = 1;
		int muts = 1 + (int)(next_rand(&seed) % 4);
		struct xf_config_errors errs = { 0 };
		struct xf_config *c = NULL;
		char *out = NULL;
		size_t outlen = 0;
		FILE *sink;
		int rc;

		memcpy(text, orig, len);
		for (int m = 0; m < muts; m++) {
			size_t at = (size_t)(next_rand(&seed) % n);

			switch (next_rand(&seed) % 3) {
			case 0: /* replace a byte */
				text[at] = pool[next_rand(&seed) % (sizeof(pool) - 1)];
				break;
			case 1: /* delete a byte */
				memmove(text + at, text + at + 1, n - at - 1);
				n--;
				break;
			default: /* insert a byte */
				memmove(text + at + 1, text + at, n - at);
				text[at] = pool[next_rand(&seed) % (sizeof(pool) - 1)];
				n++;
				break;
			}
		}
		text[n] = '\0';
		for (size_t i = 0; i < n; i++) {
			lines += text[i] == '\n';
		}
		write_file(FIXTURES "/mutant.yaml", text, 0644);
		rc = xf_config_load_errors(FIXTURES "/mutant.yaml", NULL, 0, &c, &errs);
		CU_ASSERT(rc == 0 || rc == -EINVAL);
		if (rc == 0) {
			valid++;
			CU_ASSERT_EQUAL(errs.count, 0);
			roundtrip(c);
		} else {
			invalid++;
			CU_ASSERT(errs.count > 0);
			for (unsigned int i = 0; i < errs.count; i++) {
				CU_ASSERT(errs.items[i].line >= 1 && errs.items[i].line <= lines);
				CU_ASSERT(errs.items[i].col >= 1);
				CU_ASSERT(i == 0 || errs.items[i - 1].line <= errs.items[i].line);
			}
			sink = open_memstream(&out, &outlen);
			CU_ASSERT_EQUAL(xf_config_errors_print_text(&errs, sink), 0);
			CU_ASSERT_EQUAL(xf_config_errors_print_json(&errs, sink), 0);
			fclose(sink);
			free(out);
		}
		xf_config_free(c);
		xf_config_errors_clear(&errs);
		free(text);
	}
	/* Both outcomes occur, so the mutations exercise the checks and the happy path. */
	CU_ASSERT(valid > 0);
	CU_ASSERT(invalid > 0);
	free(orig);
}

/* ---- docs/CONFIG.md key table is the schema's --------------------------------------- */

static void
test_doc_in_sync(void)
{
	static const char begin[] = "<!-- BEGIN KEY TABLE -->\n";
	static const char end[] = "<!-- END KEY TABLE -->";
	char path[512], *doc, *gen = NULL, *b, *e;
	size_t n = 0;
	FILE *f = open_memstream(&gen, &n);

	xf_config_schema_markdown(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/docs/CONFIG.md", XF_SOURCE_ROOT);
	doc = read_all(path);
	CU_ASSERT_FATAL(doc != NULL);
	b = strstr(doc, begin);
	e = b ? strstr(b, end) : NULL;
	CU_ASSERT_FATAL(b != NULL && e != NULL);
	b += strlen(begin);
	*e = '\0';
	if (strcmp(b, gen) != 0) {
		fprintf(stderr, "\ndocs/CONFIG.md key table is stale; regenerate it with "
		                "test_config --gen-doc\n");
	}
	CU_ASSERT_STRING_EQUAL(b, gen);
	free(doc);
	free(gen);
}

static int
show(int argc, char **argv)
{
	struct xf_config_errors errs = { 0 };
	struct xf_config *c = NULL;
	int rc = xf_config_load_errors(argv[2], (const char *const *)argv + 3,
	                               (unsigned int)(argc - 3), &c, &errs);

	xf_config_errors_print_text(&errs, stdout);
	xf_config_errors_print_json(&errs, stdout);
	if (c != NULL) {
		xf_config_dump(c, stdout);
	}
	xf_config_free(c);
	xf_config_errors_clear(&errs);
	return rc == 0 ? 0 : 1;
}

/* metrics.listen: the parser the daemon binds with, at its edges. */
static void
test_listen(void)
{
	uint32_t a = 0;
	uint16_t port = 0;

	CU_ASSERT_EQUAL(xf_config_parse_listen("127.0.0.1:9810", &a, &port), 0);
	CU_ASSERT_EQUAL(a, 0x7f000001u);
	CU_ASSERT_EQUAL(port, 9810);
	CU_ASSERT_EQUAL(xf_config_parse_listen("0.0.0.0:65535", &a, &port), 0);
	CU_ASSERT_EQUAL(a, 0u);
	CU_ASSERT_EQUAL(port, 65535);
	CU_ASSERT_EQUAL(xf_config_parse_listen("10.0.0.1:1", &a, &port), 0);
	CU_ASSERT_EQUAL(port, 1);
	CU_ASSERT_EQUAL(xf_config_parse_listen("10.0.0.1:", &a, &port), -EINVAL);
	CU_ASSERT_EQUAL(xf_config_parse_listen("10.0.0.1:123456", &a, &port), -EINVAL);
	CU_ASSERT_EQUAL(xf_config_parse_listen("10.0.0.1:99999", &a, &port), -EINVAL);
	CU_ASSERT_EQUAL(xf_config_parse_listen("10.0.0.256:80", &a, &port), -EINVAL);
	CU_ASSERT_EQUAL(xf_config_parse_listen(":80", &a, &port), -EINVAL);
	CU_ASSERT_EQUAL(xf_config_parse_listen("", &a, &port), -EINVAL);
}

static const struct xf_test tests[] = {
	{ "bad corpus", test_bad_corpus },
	{ "dev a values", test_dev_a_values },
	{ "minimal defaults", test_minimal_defaults },
	{ "every example loads", test_every_example_loads },
	{ "the dev pair's memif client is zero-copy", test_dev_memif_zero_copy },
	{ "config dir loads", test_config_dir_loads },
	{ "set good", test_set_good },
	{ "set bad", test_set_bad },
	{ "fault stage link", test_fault_link },
	{ "metrics listen", test_listen },
	{ "printers", test_text_and_json_printers },
	{ "io errors", test_io_errors },
	{ "dump roundtrip", test_dump_roundtrip },
	{ "diff", test_diff },
	{ "eal args dev", test_eal_args_dev },
	{ "eal args reference", test_eal_args_reference },
	{ "mutations", test_mutations },
	{ "doc in sync", test_doc_in_sync },
};

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--show") == 0) {
		return show(argc, argv);
	}
	if (argc >= 2 && strcmp(argv[1], "--gen-doc") == 0) {
		return xf_config_schema_markdown(stdout) == 0 ? 0 : 1;
	}
	return xf_test_main("config", make_fixtures, NULL, XF_TESTS(tests));
}
