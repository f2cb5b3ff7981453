/* SPDX-License-Identifier: BSD-3-Clause */
#include "xf_perf.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_pause.h>

/* Spins before yielding: long enough to ride out a short gap, short enough not to
 * starve a descheduled peer when threads outnumber CPUs. */
#define SPINS_BEFORE_YIELD 256

int
xf_perf_parse(int argc, char **argv, const char *name, const char *what, unsigned int default_runs,
              unsigned int quick_runs, struct xf_perf_opts *opts)
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "runs", required_argument, NULL, 'r' },
		{ "csv", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long runs = -1;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(opts, 0, sizeof(*opts));
	while ((c = getopt_long(argc, argv, "qr:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			opts->quick = true;
			break;
		case 'r':
			runs = strtol(optarg, NULL, 10);
			if (runs < 1 || runs > 1000) {
				fprintf(stderr, "%s: --runs wants 1..1000\n", name);
				return -EINVAL;
			}
			break;
		case 'c':
			opts->csv = optarg;
			break;
		case 'h':
			printf("usage: %s [--quick] [--runs N] [--csv FILE]\n  %s\n"
			       "  --quick     fewer runs and sizes (CI smoke)\n"
			       "  --runs N    runs per figure, median reported (default %u, quick "
			       "%u)\n"
			       "  --csv FILE  also write machine-readable rows to FILE\n",
			       name, what, default_runs, quick_runs);
			return 1;
		default:
			fprintf(stderr, "usage: %s [--quick] [--runs N] [--csv FILE]\n", name);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", name, argv[optind]);
		return -EINVAL;
	}
	opts->runs = runs > 0 ? (unsigned int)runs : opts->quick ? quick_runs : default_runs;
	return 0;
}

uint64_t
xf_perf_now_ns(void)
{
	return xf_perf_clock_ns(CLOCK_MONOTONIC);
}

static bool
thread_clock(void)
{
	const char *v = getenv("XF_PERF_CLOCK");

	return v != NULL && strcmp(v, "thread") == 0;
}

uint64_t
xf_perf_work_ns(void)
{
	return xf_perf_clock_ns(thread_clock() ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC);
}

uint64_t
xf_perf_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

double
xf_perf_median(double *v, unsigned int n)
{
	if (n == 0) {
		return 0.0;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

unsigned int
xf_perf_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned int)n : 1;
}

const char *
xf_perf_cpu_model(void)
{
	static char model[128] = "unknown";
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (f == NULL) {
		return model;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
			colon++;
			while (*colon == ' ' || *colon == '\t') {
				colon++;
			}
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(model, sizeof(model), "%s", colon);
			break;
		}
	}
	fclose(f);
	return model;
}

void
xf_perf_banner(const char *name, const char *libs, const struct xf_perf_opts *opts)
{
	printf("%s\n", name);
	printf("  cpu: %s; online CPUs: %u; build: %s; %s\n", xf_perf_cpu_model(),
	       xf_perf_online_cpus(), XF_BUILD_TYPE, libs);
	printf("  runs per figure: %u (median reported)%s\n", opts->runs,
	       opts->quick ? "; --quick: smoke run, figures are not for quoting" : "");
	if (thread_clock()) {
		printf("  clock: this thread's CPU time (XF_PERF_CLOCK=thread): GB/s are per CPU "
		       "second\n");
	}
}

FILE *
xf_perf_csv_open(const struct xf_perf_opts *opts)
{
	FILE *f;

	if (opts->csv == NULL) {
		return NULL;
	}
	f = fopen(opts->csv, "w");
	if (f == NULL) {
		fprintf(stderr, "cannot open %s: %s\n", opts->csv, strerror(errno));
		exit(1);
	}
	fprintf(f, "bench,case,variant,size,producers,threads,cpus,runs,median,unit,ratio\n");
	return f;
}

void
xf_perf_csv_row(FILE *csv, const char *bench, const char *kase, const char *variant, uint64_t size,
                unsigned int producers, unsigned int threads, unsigned int runs, double median,
                const char *unit, double ratio)
{
	if (csv == NULL) {
		return;
	}
	fprintf(csv, "%s,%s,%s,%llu,%u,%u,%u,%u,%.6g,%s,%.4f\n", bench, kase, variant,
	        (unsigned long long)size, producers, threads, xf_perf_online_cpus(), runs, median,
	        unit, ratio);
	fflush(csv);
}

void
xf_perf_pin(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % xf_perf_online_cpus(), &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void
xf_perf_relax(unsigned int *spins)
{
	if (++*spins < SPINS_BEFORE_YIELD) {
		rte_pause();
		return;
	}
	*spins = 0;
	sched_yield();
}
