/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What xferctl's files share: exit codes, the options every command takes, one call over
 * the control socket, and small readers of JSON answers.
 */
#ifndef XFERCTL_H
#define XFERCTL_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#define EXIT_FAILED      1
#define EXIT_USAGE       2
#define EXIT_UNREACHABLE 3

#define DEFAULT_SOCKET  "/run/xferd/xferd.sock"
#define CALL_TIMEOUT_MS 10000

struct opts {
	const char *socket;
	bool json;
};

static inline json_t *
get(json_t *obj, const char *key)
{
	return json_object_get(obj, key);
}

static inline long long
num(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v)) {
		return (long long)json_integer_value(v);
	}
	return json_is_real(v) ? (long long)json_real_value(v) : 0;
}

static inline const char *
str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "-";
}

/* "1.5 GiB" style, for people. */
static inline const char *
human_bytes(double v, char *buf, size_t cap)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned int u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, cap, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
	return buf;
}

static inline void
print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
}

/*
 * One call; on success *result is the "result" member (owned by the caller).
 * Returns an exit code.
 */
int ctl_call(const struct opts *o, const char *cmd, json_t *args, json_t **result);

/* xferctl_push.c: `push`, `pull` and `itemize`. */
int cmd_push(const struct opts *o, int argc, char **argv);
int cmd_pull(const struct opts *o, int argc, char **argv);
int print_items(const struct opts *o, long long id);

#endif /* XFERCTL_H */
