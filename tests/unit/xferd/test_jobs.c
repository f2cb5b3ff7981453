/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The `jobs` reply (control/xferd/xferd_jobs.c) against a fake engine (-Wl,--wrap of
 * xf_engine_jobs and xf_engine_job): the engine's RX core moves jobs on while the control
 * thread reads them. Here a job is running when first read and done at every later read,
 * as if it ended while the reply was being built. A reply reads each job once, so it
 * agrees with itself: the running jobs it lists are fairness.running, each one's fair
 * share is 1 / that, each share is at most 1 and they add up to 1; asked for one job by
 * id, the shares are still of every running job. No EAL.
 */
#include <math.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <jansson.h>

#include "xf_test.h"

#include "xf_ctl.h"
#include "xf_engine.h"
#include "xferd.h"

unsigned int __wrap_xf_engine_jobs(struct xf_engine *e, unsigned int *ids, unsigned int max);
int __wrap_xf_engine_job(struct xf_engine *e, unsigned int id, struct xf_job_info *out);

#define NJOBS  4u
#define ENDING 2u /* running at its first read, done from the second */
#define GONE   4u /* listed, then gone when read: never in a reply */

static unsigned int reads[NJOBS + 1];

unsigned int
__wrap_xf_engine_jobs(struct xf_engine *e, unsigned int *ids, unsigned int max)
{
	(void)e;
	for (unsigned int i = 0; i < NJOBS && i < max; i++) {
		ids[i] = i + 1;
	}
	return NJOBS < max ? NJOBS : max;
}

int
__wrap_xf_engine_job(struct xf_engine *e, unsigned int id, struct xf_job_info *out)
{
	(void)e;
	if (id == 0 || id > NJOBS) {
		return -1;
	}
	reads[id]++;
	if (id == GONE) {
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->id = id;
	out->state = id == ENDING && reads[id] > 1 ? XF_JOB_DONE : XF_JOB_RUNNING;
	out->elapsed_ns = 1000000000ull; /* 1 s: rate = bytes x 8 */
	out->push.bytes_literal = 1000000ull * id;
	return 0;
}

/* Defined by xferd.c and xferd_pull.c, which this test does not link. */
const char *
xferd_slot_name(const struct xferd *d, unsigned int slot)
{
	(void)d;
	(void)slot;
	return "peer";
}

json_t *
xferd_pull_json(const struct xferd *d, const struct xf_job_info *j)
{
	(void)d;
	(void)j;
	return json_object();
}

static struct xferd d = { .engine = (struct xf_engine *)&d };

/* The reply to `jobs` with args (NULL: {}); the reads start from 0. */
static json_t *
ask(json_t *args, struct xf_ctl_reply *reply)
{
	json_t *a = args != NULL ? args : json_object();

	memset(reads, 0, sizeof(reads));
	memset(reply, 0, sizeof(*reply));
	xferd_h_jobs(&d, a, reply);
	json_decref(a);
	return reply->result;
}

/* The reply (or list) read every job the engine listed exactly once. */
static void
check_one_read(void)
{
	for (unsigned int id = 1; id <= NJOBS; id++) {
		CU_ASSERT_EQUAL(reads[id], 1);
	}
}

/* The list agrees with the fairness summary of the same reply. */
static void
check_agrees(json_t *res, unsigned int want_listed, unsigned int want_running)
{
	json_t *jobs = json_object_get(res, "jobs"), *j;
	unsigned int running = 0, fair = (unsigned int)json_integer_value(json_object_get(
	                                  json_object_get(res, "fairness"), "running"));
	double sum = 0;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(json_array_size(jobs), want_listed);
	json_array_foreach(jobs, i, j)
	{
		if (strcmp(json_string_value(json_object_get(j, "state")), "running") == 0) {
			running++;
		}
	}
	CU_ASSERT_EQUAL(fair, want_running);
	CU_ASSERT_EQUAL(running, fair);
	json_array_foreach(jobs, i, j)
	{
		json_t *share = json_object_get(j, "share"), *fs = json_object_get(j, "fair_share");

		if (strcmp(json_string_value(json_object_get(j, "state")), "running") != 0) {
			CU_ASSERT_PTR_NULL(share);
			continue;
		}
		CU_ASSERT_PTR_NOT_NULL_FATAL(share);
		CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
		CU_ASSERT(json_real_value(share) >= 0 && json_real_value(share) <= 1);
		CU_ASSERT(fabs(json_real_value(fs) - 1.0 / fair) < 1e-9);
		sum += json_real_value(share);
	}
	if (running > 0) {
		CU_ASSERT(fabs(sum - 1.0) < 1e-9);
	}
}

static void
test_list_one_read(void)
{
	struct xf_ctl_reply reply;
	json_t *res = ask(NULL, &reply);

	CU_ASSERT_EQUAL_FATAL(reply.err, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	/* jobs 1-3 listed, 4 gone; job 2 running at its only read */
	check_agrees(res, NJOBS - 1, 3);
	check_one_read();
	json_decref(res);
}

static void
test_one_job_shares_of_all(void)
{
	struct xf_ctl_reply reply;
	json_t *res = ask(json_pack("{s:i}", "id", 3), &reply), *jobs, *j;

	CU_ASSERT_EQUAL_FATAL(reply.err, 0);
	jobs = json_object_get(res, "jobs");
	CU_ASSERT_EQUAL_FATAL(json_array_size(jobs), 1);
	j = json_array_get(jobs, 0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "id")), 3);
	/* of the three running jobs' rates (1, 2 and 3 MB/s): job 3 has half */
	CU_ASSERT(fabs(json_real_value(json_object_get(j, "share")) - 0.5) < 1e-9);
	CU_ASSERT(fabs(json_real_value(json_object_get(j, "fair_share")) - 1.0 / 3) < 1e-9);
	CU_ASSERT_EQUAL(
	        json_integer_value(json_object_get(json_object_get(res, "fairness"), "running")),
	        3);
	check_one_read();
	json_decref(res);
}

static void
test_not_found(void)
{
	struct xf_ctl_reply reply;

	/* listed but gone when read, never listed, negative: each not found */
	CU_ASSERT_PTR_NULL(ask(json_pack("{s:i}", "id", (int)GONE), &reply));
	CU_ASSERT_EQUAL(reply.err, XF_CTL_E_NOT_FOUND);
	CU_ASSERT_PTR_NULL(ask(json_pack("{s:i}", "id", 99), &reply));
	CU_ASSERT_EQUAL(reply.err, XF_CTL_E_NOT_FOUND);
	CU_ASSERT_PTR_NULL(ask(json_pack("{s:i}", "id", -1), &reply));
	CU_ASSERT_EQUAL(reply.err, XF_CTL_E_NOT_FOUND);
	CU_ASSERT_STRING_EQUAL(reply.message, "no job -1");
	CU_ASSERT_PTR_NULL(ask(json_pack("{s:s}", "id", "3"), &reply));
	CU_ASSERT_EQUAL(reply.err, XF_CTL_E_INVALID_ARGS);
}

/* The /metrics endpoint's list: the same one read per job. */
static void
test_jobs_json_one_read(void)
{
	json_t *list, *j;
	size_t i;
	unsigned int running = 0;

	memset(reads, 0, sizeof(reads));
	list = xferd_jobs_json(&d);
	CU_ASSERT_EQUAL_FATAL(json_array_size(list), NJOBS - 1);
	json_array_foreach(list, i, j)
	{
		running += json_object_get(j, "fair_share") != NULL;
	}
	CU_ASSERT_EQUAL(running, 3);
	json_array_foreach(list, i, j)
	{
		CU_ASSERT(fabs(json_real_value(json_object_get(j, "fair_share")) - 1.0 / 3) < 1e-9);
	}
	check_one_read();
	json_decref(list);
}

static const struct xf_test tests[] = {
	{ "every job read once: the list agrees with its fairness", test_list_one_read },
	{ "one job by id: shares of every running job", test_one_job_shares_of_all },
	{ "no such job", test_not_found },
	{ "the metrics list: one read per job", test_jobs_json_one_read },
};

int
main(void)
{
	return xf_test_main("xferd jobs reply", NULL, NULL, XF_TESTS(tests));
}
