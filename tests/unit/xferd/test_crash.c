/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xferd's fatal-signal report (control/xferd/xferd_crash.c): a child process installs the
 * handlers and crashes; its stderr must name the signal and the faulting address and
 * carry a backtrace through the crashing function, and the child must still die of the
 * signal itself (a supervisor or a test harness sees exit 139 for SIGSEGV, as before).
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

int xferd_crash_handlers_install(void); /* xferd.h */

/* Not inlined, not static: a name the backtrace can show (-rdynamic). */
__attribute__((noinline)) void crash_test_fault_here(int how);
extern volatile uintptr_t crash_test_address;

/* The address to write to: 0x18, which the compiler cannot see through. */
volatile uintptr_t crash_test_address = 0x18;

__attribute__((noinline)) void
crash_test_fault_here(int how)
{
	if (how == SIGSEGV) {
		*(volatile int *)crash_test_address = 1;
	} else {
		raise(how); /* as abort() does; not a tail call, so this frame stays */
	}
	_exit(5);
}

/* Run how in a child with the handlers; its stderr in out. @return its wait status. */
static int
crash_child(int how, char *out, size_t cap)
{
	int pfd[2], status = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	CU_ASSERT_FATAL(pipe(pfd) == 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		if (xferd_crash_handlers_install() != 0) {
			_exit(3);
		}
		crash_test_fault_here(how);
		_exit(4);
	}
	close(pfd[1]);
	while (got + 1 < cap && (n = read(pfd[0], out + got, cap - 1 - got)) > 0) {
		got += (size_t)n;
	}
	out[got] = '\0';
	close(pfd[0]);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	return status;
}

static void
test_segv_report(void)
{
	static char out[16384];
	int status = crash_child(SIGSEGV, out, sizeof(out));

	printf("\n%s", out);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "xferd: fatal: signal 11 (SIGSEGV) at address 0x18"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "backtrace:\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "crash_test_fault_here"));
}

static void
test_abort_report(void)
{
	static char out[16384];
	int status = crash_child(SIGABRT, out, sizeof(out));

	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "xferd: fatal: signal 6 (SIGABRT)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "crash_test_fault_here"));
}

static const struct xf_test tests[] = {
	{ "SIGSEGV: signal, address, backtrace, then the same death", test_segv_report },
	{ "SIGABRT: reported too", test_abort_report },
};

int
main(void)
{
	return xf_test_main("xferd-crash", NULL, NULL, XF_TESTS(tests));
}
