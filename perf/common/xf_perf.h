/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the perf/ benchmarks: options (--quick, --runs, --csv), the
 * "what ran" banner, medians, CSV rows, pinning and the spin-then-yield wait.
 * Benchmarks run without EAL, so nothing here needs rte_eal_init().
 */
#ifndef XF_PERF_H
#define XF_PERF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define XF_PERF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#ifndef XF_BUILD_TYPE
#define XF_BUILD_TYPE "unknown"
#endif

/** Options every benchmark accepts. */
struct xf_perf_opts {
	bool quick;        /**< fewer runs and smaller sizes: a CI smoke run */
	unsigned int runs; /**< runs per figure; the median is reported */
	const char *csv;   /**< path for machine-readable rows, or NULL */
};

/**
 * Parse --quick, --runs N, --csv FILE and --help.
 *
 * @param argc, argv   From main().
 * @param name         Program name for the usage text.
 * @param what         One line saying what the benchmark measures.
 * @param default_runs Runs without --quick.
 * @param quick_runs   Runs with --quick.
 * @param opts         Filled in.
 * @return 0, 1 if --help was printed (exit 0), or -EINVAL after printing usage.
 */
int xf_perf_parse(int argc, char **argv, const char *name, const char *what,
                  unsigned int default_runs, unsigned int quick_runs, struct xf_perf_opts *opts);

/** Monotonic clock in nanoseconds. */
uint64_t xf_perf_now_ns(void);

/**
 * The clock of a single-thread benchmark's timed work: the monotonic clock, or with
 * XF_PERF_CLOCK=thread in the environment the calling thread's CPU clock, so that on a
 * shared, loaded machine a figure counts only the CPU time the work got (xf_perf_banner
 * says which). Only for work done on the calling thread alone.
 */
uint64_t xf_perf_work_ns(void);

/** Clock clock (CLOCK_THREAD_CPUTIME_ID: this thread's CPU time) in nanoseconds. */
uint64_t xf_perf_clock_ns(clockid_t clock);

/** Median of n values (sorts v in place). */
double xf_perf_median(double *v, unsigned int n);

/** Number of online CPUs. */
unsigned int xf_perf_online_cpus(void);

/** CPU model name from /proc/cpuinfo, or "unknown". */
const char *xf_perf_cpu_model(void);

/**
 * Print the "what ran" banner: CPU model, online CPUs, build type, library versions.
 *
 * @param name  Benchmark name.
 * @param libs  Extra text describing library versions (e.g. "DPDK 22.11.11").
 * @param opts  Parsed options (runs, quick).
 */
void xf_perf_banner(const char *name, const char *libs, const struct xf_perf_opts *opts);

/**
 * Open the CSV file (if opts->csv) and write the header.
 * @return the stream, or NULL when no CSV was asked for; exits on open failure.
 */
FILE *xf_perf_csv_open(const struct xf_perf_opts *opts);

/**
 * One CSV row. Columns: bench,case,variant,size,producers,threads,cpus,runs,median,unit,ratio.
 * A NULL stream is a no-op.
 */
void xf_perf_csv_row(FILE *csv, const char *bench, const char *kase, const char *variant,
                     uint64_t size, unsigned int producers, unsigned int threads, unsigned int runs,
                     double median, const char *unit, double ratio);

/** Pin the calling thread to cpu modulo the online CPUs; failure is ignored (best effort). */
void xf_perf_pin(unsigned int cpu);

/**
 * Wait politely: spin (with a pause) a bounded number of times, then sched_yield(), so
 * that threads outnumbering CPUs cannot livelock. *spins is the caller's counter.
 */
void xf_perf_relax(unsigned int *spins);

#endif /* XF_PERF_H */
