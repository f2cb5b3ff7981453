/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logs to the journal, with structured fields, when systemd started xferd with its
 * stderr connected to the journal (docs/OPERATIONS.md, "Under systemd"); stderr
 * otherwise. Each message carries PRIORITY (the syslog level), SYSLOG_IDENTIFIER=xferd,
 * XFERD_MODULE (the module that logged it, "engine", "reload", ...) and XFERD_CORE (the
 * lcore that logged it), so that `journalctl -u xferd XFERD_MODULE=reload` selects.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION /* the location would be xf_base.h's, every time */
#include <systemd/sd-journal.h>

#include "xf_base.h"
#include "xferd.h"

/* A message longer than this is cut; the journal takes far more, a line should not. */
#define MSG_MAX 2048

/*
 * systemd sets JOURNAL_STREAM=DEV:INODE when it connects stdout or stderr to the
 * journal. Only when stderr is that very stream do the logs go to the journal: a
 * redirect (xferd ... 2>file) under the same unit keeps them in the file.
 */
bool
xferd_journal_stream(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (env == NULL || sscanf(env, "%llu:%llu%n", &dev, &ino, &n) != 2 || env[n] != '\0' ||
	    fstat(STDERR_FILENO, &st) != 0) {
		return false;
	}
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

__attribute__((format(printf, 3, 0))) static void
journal_sink(int level, const char *module, const char *fmt, va_list ap)
{
	char msg[MSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level, "SYSLOG_IDENTIFIER=xferd",
	                    "XFERD_MODULE=%s", module, "XFERD_CORE=%u", xf_core_self_id,
	                    NULL) < 0) {
		/* journald gone: the message still goes somewhere someone may read */
		fprintf(stderr, "xferd: %d: %s: %s\n", level, module, msg);
	}
}

void
xferd_journal_init(void)
{
	if (xferd_journal_stream()) {
		xf_log_sink = journal_sink;
	}
}
