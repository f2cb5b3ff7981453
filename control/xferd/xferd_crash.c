/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fatal signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) print the signal, the faulting
 * address and a backtrace on stderr before the process dies of them as it would have
 * (same signal, so exit 139 for SIGSEGV, and a core where cores are enabled). An operator
 * gets a report to send, and a CI log says where a rare crash was (the stop of a parallel
 * e2e run once ended "xferd a exited 139" and nothing else).
 *
 * The handler uses only write(2) and backtrace(3), whose library is loaded at install so
 * that it does not allocate in the handler. It runs on the faulting thread's stack: a
 * stack overflow is not reported (no alternate stack per lcore).
 */
#include <execinfo.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "xferd.h"

static void
put(const char *s)
{
	ssize_t n = write(STDERR_FILENO, s, strlen(s));

	(void)n;
}

/* v in base 16 ("0x...") or 10 into buf (at least 24 bytes). */
static const char *
num(uintptr_t v, unsigned int base, char *buf)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[24];
	int n = 0, k = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v != 0);
	if (base == 16) {
		buf[k++] = '0';
		buf[k++] = 'x';
	}
	while (n > 0) {
		buf[k++] = tmp[--n];
	}
	buf[k] = '\0';
	return buf;
}

static void
on_fatal(int sig, siginfo_t *si, void *uc)
{
	void *frames[64];
	char buf[24];
	int depth;

	(void)uc;
	put("xferd: fatal: signal ");
	put(num((uintptr_t)sig, 10, buf));
	put(" (");
	put(sig == SIGSEGV   ? "SIGSEGV"
	    : sig == SIGBUS  ? "SIGBUS"
	    : sig == SIGFPE  ? "SIGFPE"
	    : sig == SIGILL  ? "SIGILL"
	    : sig == SIGABRT ? "SIGABRT"
	                     : "?");
	put(") at address ");
	put(num((uintptr_t)si->si_addr, 16, buf));
	put(", backtrace:\n");
	depth = backtrace(frames, (int)(sizeof(frames) / sizeof(frames[0])));
	backtrace_symbols_fd(frames, depth, STDERR_FILENO);
	/* SA_RESETHAND restored the default action: raised again, it ends the process. */
	raise(sig);
}

int
xferd_crash_handlers_install(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;
	void *warm[1];

	/* backtrace() loads its unwinder (and allocates) on first use: not in the handler. */
	(void)backtrace(warm, 1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fatal;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL) != 0) {
			return -1;
		}
	}
	return 0;
}
