/*
 * /dev/sev-guest provider against scripted firmware replies: the
 * certificate-table size query, busy retries, bad lengths, the firmware
 * error that locks the device (and the ENOTTY that follows), and the
 * process-wide serialization of requests.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "fake_evidence.h"
#include "cocoon/evidence.h"

#define assert_msg(sub)                                                                                 \
	do {                                                                                            \
		if (!strstr(cocoon_error_last()->message, (sub)))                                       \
			fail_msg("message \"%s\" lacks \"%s\"", cocoon_error_last()->message, (sub));   \
	} while (0)

typedef struct {
	fake_sys *f;
	fake_snp snp;
	cocoon_evidence_options o;
} fx;

static int setup(void **state)
{
	fx *x = calloc(1, sizeof(*x));
	cocoon_evidence_options init = COCOON_EVIDENCE_OPTIONS_INIT;

	if (!x || !(x->f = fake_sys_new()))
		return -1;
	fake_snp_init(&x->snp);
	x->f->snp = &x->snp;
	x->f->snp_path = "/fake/dev/sev-guest";
	x->o = init;
	x->o.sys = &x->f->sys;
	x->o.provider = "sev-guest";
	x->o.sev_guest_path = "/fake/dev/sev-guest";
	x->o.busy_retry_ms = 7;
	for (int i = 0; i < 64; i++)
		x->o.report_data[i] = (uint8_t)(0x11 * (i % 15) + 1);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx *x = *state;
	assert_int_equal(x->f->open_fds, 0);
	fake_sys_free(x->f);
	pthread_mutex_destroy(&x->snp.mu);
	free(x);
	return 0;
}

static void test_ext_report_with_size_query(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->snp.certs_size = 5000;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	/* First call with certs_len 0 learns the size (EIO + INVALID_LEN), the second succeeds. */
	assert_int_equal(x->snp.size_queries, 1);
	assert_int_equal(x->snp.ext_calls, 2);
	assert_int_equal(x->snp.plain_calls, 0);
	assert_int_equal(ev.tee, COCOON_TEE_SNP);
	assert_int_equal(ev.format, COCOON_EVIDENCE_SNP_REPORT);
	assert_string_equal(ev.provider, "sev-guest");
	assert_int_equal(ev.evidence_len, 1184);
	assert_memory_equal(ev.evidence + 0x50, x->o.report_data, 64);
	assert_int_equal(x->snp.last_vmpl, 0);
	/* The page-sized buffer is trimmed to the table's used size. */
	assert_int_equal(ev.aux_len, 5000);
	assert_int_equal(ev.aux[0], 0x63);
	cocoon_evidence_free(&ev);
}

static void test_host_without_certs(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->o.snp_vmpl = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	assert_int_equal(x->snp.calls, 1);
	assert_int_equal(x->snp.size_queries, 0);
	assert_int_equal(x->snp.last_vmpl, 1);
	assert_null(ev.aux);
	cocoon_evidence_free(&ev);
}

static void test_no_aux_uses_get_report(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->snp.certs_size = 5000;
	x->o.no_aux = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	assert_int_equal(x->snp.plain_calls, 1);
	assert_int_equal(x->snp.ext_calls, 0);
	assert_null(ev.aux);
	assert_memory_equal(ev.evidence + 0x50, x->o.report_data, 64);
	cocoon_evidence_free(&ev);
}

static void test_busy_retried(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->snp.script[0] = FAKE_SNP_BUSY;
	x->snp.script[1] = FAKE_SNP_BUSY;
	x->snp.script_len = 2;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), 0);
	assert_int_equal(x->snp.calls, 3);
	assert_int_equal(x->f->sleeps, 2);
	assert_int_equal(x->f->slept_ms, 14);
	cocoon_evidence_free(&ev);
}

static void test_busy_bounded(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	for (int i = 0; i < 10; i++)
		x->snp.script[i] = FAKE_SNP_BUSY;
	x->snp.script_len = 10;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EIO);
	assert_msg("the host is throttling guest requests (busy 3 times, 7 ms apart)");
	assert_int_equal(x->snp.calls, 3);
	assert_null(ev.evidence);
}

static void test_bad_report_length(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->snp.script[0] = FAKE_SNP_BAD_LENGTH;
	x->snp.script_len = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EFORMAT);
	assert_msg("sev-guest: SNP report response: bad length: report_size 100 (byte 4)");
	assert_null(ev.evidence);
}

static void test_bad_certs_length(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->snp.certs_size = 5000;
	x->snp.script[0] = FAKE_SNP_BAD_CERTS_LEN;
	x->snp.script_len = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EFORMAT);
	assert_msg("bad length: the kernel asked for a 8193-byte certificate buffer");
	assert_int_equal(x->snp.calls, 1);
}

static void test_firmware_error_locks_device(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->snp.script[0] = FAKE_SNP_FW_ERROR;
	x->snp.script_len = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EIO);
	assert_msg("SNP_GET_EXT_REPORT failed");
	assert_msg("(EIO), fw_error 0x27");
	assert_msg("refuses every request until the VM reboots");
	/* Never retried: a retry would only meet the lock-out. */
	assert_int_equal(x->snp.calls, 1);

	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EIO);
	assert_msg("was refused (ENOTTY): the VMPCK was disabled");
	assert_msg("locked until the VM reboots");
	assert_int_equal(x->snp.calls, 2);
}

static void test_firmware_status(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->snp.script[0] = FAKE_SNP_STATUS;
	x->snp.script_len = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EIO);
	assert_msg("status 0x16 (INVALID_PARAM");
}

static void test_wrong_report_data(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->snp.script[0] = FAKE_SNP_WRONG_DATA;
	x->snp.script_len = 1;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EIO);
	assert_msg("sev-guest returned evidence whose REPORT_DATA differs");
	assert_null(ev.evidence);
}

static void test_device_absent_and_tee_mismatch(void **state)
{
	fx *x = *state;
	cocoon_evidence ev;

	x->o.sev_guest_path = "/nonexistent/cocoon-test/sev-guest";
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_ENOTFOUND);
	assert_msg("sev-guest: /nonexistent/cocoon-test/sev-guest does not exist: not an SEV-SNP guest");

	x->o.sev_guest_path = "/fake/dev/sev-guest";
	x->o.tee = COCOON_TEE_SGX;
	assert_int_equal(cocoon_evidence_collect(&ev, &x->o), COCOON_EUNSUPPORTED);
	assert_msg("sev-guest produces snp evidence, not sgx");
	assert_int_equal(x->snp.calls, 0);
}

typedef struct {
	cocoon_evidence_options o;
	int rc;
	int bound;
} worker_arg;

static void *worker(void *p)
{
	worker_arg *a = p;
	cocoon_evidence ev;

	a->rc = cocoon_evidence_collect(&ev, &a->o);
	a->bound = a->rc == 0 && memcmp(ev.evidence + 0x50, a->o.report_data, 64) == 0;
	cocoon_evidence_free(&ev);
	return NULL;
}

static void test_requests_serialized(void **state)
{
	fx *x = *state;
	worker_arg args[4];
	pthread_t th[4];

	x->snp.delay_ms = 20;
	x->snp.certs_size = 5000;
	for (int i = 0; i < 4; i++) {
		args[i].o = x->o;
		args[i].o.report_data[0] = (uint8_t)i;
		assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].rc, 0);
		assert_true(args[i].bound);
	}
	/* Two calls per collection (size query, then the request), never two at once. */
	assert_int_equal(x->snp.calls, 8);
	assert_int_equal(x->snp.max_in_flight, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ext_report_with_size_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_without_certs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_aux_uses_get_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_report_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_certs_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_firmware_error_locks_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_firmware_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_report_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_absent_and_tee_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_serialized, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
