// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a throttle uses, from what the kernel allows (vfiod/levers.c):
 * the kernels of the testbed's matrix as lever sets.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "levers.h"

/* Debian 12's 6.1 with threadirqs: every lever */
static const struct levers k61 = {
	.threaded = LEVER_YES, .threaded_why = "threadirqs on the command line",
	.irq_cgroup = LEVER_YES, .irq_sched = LEVER_YES, .irq_affinity = LEVER_YES,
	.vmm_cgroup = LEVER_YES, .steer = true, .housekeeping = "0",
};

static void test_plan_all_levers(void **state)
{
	char s[1024];

	(void)state;
	assert_int_equal(levers_plan(&k61), TL_IRQ_DEMOTE | TL_IRQ_CGROUP_CAP | TL_STEER | TL_VMM_CAP);
	levers_sentence(&k61, s, sizeof(s));
	assert_non_null(strstr(s, "IRQ threads can be moved into a cgroup"));
	assert_non_null(strstr(s, "caps them in the device's irq cgroup"));
	assert_non_null(strstr(s, "steers the vectors to the housekeeping CPUs (CPUs 0)"));
	assert_null(strstr(s, "nice 19"));
}

/* 6.19 and later: IRQ threads refuse the cgroup move (EINVAL) */
static void test_plan_no_irq_cgroup(void **state)
{
	struct levers l = k61;
	char s[1024];

	(void)state;
	l.irq_cgroup = LEVER_NO;
	l.irq_cgroup_err = EINVAL;
	assert_int_equal(levers_plan(&l), TL_IRQ_DEMOTE | TL_STEER | TL_VMM_CAP);
	levers_sentence(&l, s, sizeof(s));
	assert_non_null(strstr(s, "cannot be moved into a cgroup on this kernel (Invalid argument)"));
	assert_non_null(strstr(s, "not set below nice 0"));
	assert_null(strstr(s, "nice 19"));
	assert_null(strstr(s, "caps them in"));
}

/* no threadirqs: nothing to demote or cap but the VMM; the vector can move */
static void test_plan_not_threaded(void **state)
{
	struct levers l = k61;
	struct json_object *j;
	char s[1024];

	(void)state;
	l.threaded = LEVER_NO;
	strcpy(l.threaded_why, "neither threadirqs nor PREEMPT_RT");
	assert_int_equal(levers_plan(&l), TL_STEER | TL_VMM_CAP);
	levers_sentence(&l, s, sizeof(s));
	assert_non_null(strstr(s, "IRQs are not threaded here (neither threadirqs nor PREEMPT_RT)"));
	j = levers_json(&l);
	assert_false(json_object_get_boolean(json_object_object_get(j, "irq_threads")));
	assert_int_equal(json_object_array_length(json_object_object_get(j, "throttle")), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(
				    json_object_object_get(j, "throttle"), 0)),
			    "steer-vectors");
	json_object_put(j);
}

/* housekeeping = every CPU: steering moves nothing, and says so */
static void test_plan_no_steer(void **state)
{
	struct levers l = k61;
	char s[1024];

	(void)state;
	l.steer = false;
	l.housekeeping[0] = '\0';
	assert_false(levers_plan(&l) & TL_STEER);
	levers_sentence(&l, s, sizeof(s));
	assert_non_null(strstr(s, "steering moves nothing"));
	/* affinity refused: no steering either, whatever the CPUs */
	l = k61;
	levers_learn(&l.irq_affinity, &l.irq_affinity_err, EIO);
	assert_false(levers_plan(&l) & TL_STEER);
	levers_sentence(&l, s, sizeof(s));
	assert_non_null(strstr(s, "vector affinity cannot be written"));
}

/* unknown levers are planned (and learned on the first attempt); null in JSON */
static void test_unknown(void **state)
{
	struct levers l = { .threaded = LEVER_YES, .steer = true, .housekeeping = "0-1" };
	struct json_object *j;

	(void)state;
	assert_int_equal(levers_plan(&l), TL_IRQ_DEMOTE | TL_IRQ_CGROUP_CAP | TL_STEER | TL_VMM_CAP);
	j = levers_json(&l);
	assert_true(json_object_object_get_ex(j, "irq_thread_cgroup", NULL));
	assert_null(json_object_object_get(j, "irq_thread_cgroup"));
	json_object_put(j);
	levers_learn(&l.irq_cgroup, &l.irq_cgroup_err, EINVAL);
	assert_int_equal(l.irq_cgroup, LEVER_NO);
	levers_learn(&l.irq_cgroup, &l.irq_cgroup_err, 0);
	assert_int_equal(l.irq_cgroup, LEVER_YES);
	assert_int_equal(l.irq_cgroup_err, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_all_levers),
		cmocka_unit_test(test_plan_no_irq_cgroup),
		cmocka_unit_test(test_plan_not_threaded),
		cmocka_unit_test(test_plan_no_steer),
		cmocka_unit_test(test_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
