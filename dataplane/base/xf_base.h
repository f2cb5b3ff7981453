/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Basics shared by every xferd module. Header-only and free of EAL so that the
 * codec, the reorder window and the other pure modules unit-test without DPDK.
 */
#ifndef XF_BASE_H
#define XF_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#define XF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define XF_MIN(a, b)     ((a) < (b) ? (a) : (b))
#define XF_MAX(a, b)     ((a) > (b) ? (a) : (b))
#define XF_UNUSED        __attribute__((unused))

/** Log levels, numerically equal to syslog's. */
enum xf_log_level {
	XF_LOG_ERR = 3,
	XF_LOG_WARNING = 4,
	XF_LOG_NOTICE = 5,
	XF_LOG_INFO = 6,
	XF_LOG_DEBUG = 7,
};

/** Process-wide log threshold (xf_base.c); messages above it are dropped. */
extern int xf_log_threshold;

/**
 * Where messages go instead of stderr, when set (xferd sets it to the journal when
 * systemd started it: control/xferd/xferd_journal.c). Set once, before any other
 * thread runs; NULL: stderr.
 */
typedef void (*xf_log_sink_fn)(int level, const char *module, const char *fmt, va_list ap);
extern xf_log_sink_fn xf_log_sink;

/*
 * Logging is for the control path and for per-session or per-file events.
 * Per-frame problems on an RX core are counted, never logged.
 */
__attribute__((format(printf, 3, 4))) static inline void
xf_log(enum xf_log_level level, const char *module, const char *fmt, ...)
{
	static const char *const names[] = {
		[XF_LOG_ERR] = "error", [XF_LOG_WARNING] = "warning", [XF_LOG_NOTICE] = "notice",
		[XF_LOG_INFO] = "info", [XF_LOG_DEBUG] = "debug",
	};
	va_list ap;

	if ((int)level > xf_log_threshold) {
		return;
	}
	if (xf_log_sink != NULL) {
		va_start(ap, fmt);
		xf_log_sink((int)level, module, fmt, ap);
		va_end(ap);
		return;
	}
	fprintf(stderr, "xferd: %s: %s: ", names[level], module);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#define XF_LOG(level, module, ...) xf_log(XF_LOG_##level, module, __VA_ARGS__)

/*
 * The identity of the calling core, as the dataplane sees it: an EAL lcore id on
 * the appliance, or a number a test assigns to each of its threads. Ring owner
 * assertions compare against it. Thread-local, set once when a core's loop starts.
 */
extern __thread unsigned int xf_core_self_id;

static inline unsigned int
xf_core_self(void)
{
	return xf_core_self_id;
}

static inline void
xf_core_set_self(unsigned int id)
{
	xf_core_self_id = id;
}

/*
 * The upper halves of the vector registers clean again, after a call into ISA-L. Its
 * AVX-512 code (CRCs, igzip) returns without vzeroupper, and the next legacy-SSE
 * instruction of this SSE2 build (a memset, a struct zeroed) then pays the AVX-to-SSE
 * transition: about 165 ns on the development machine (perf/RESULTS.md). vzeroupper is
 * an AVX instruction; without AVX no upper state can be dirty.
 */
static inline void
xf_vector_upper_clean(void)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("avx")) {
		__asm__ volatile("vzeroupper");
	}
#endif
}

#endif /* XF_BASE_H */
