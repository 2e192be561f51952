/*
 * The AESM client in libcocoon against a scripted server: byte-level
 * framing, requests byte-identical to the golden pairs (encoded there by
 * python3-protobuf, see tests/quoted), and every way a response can be
 * wrong. The daemon side is tested end to end in tests/quoted.
 */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "testutil.h"
#include "aesm/aesm_int.h"
#include "common/util.h"

typedef struct {
	char dir[64], path[128];
	int listen_fd;
	pthread_t thread;
	uint8_t req[8192];         /* the request as received, framing included */
	size_t req_len;
	const uint8_t *reply;      /* sent as is (framing included); NULL: none */
	size_t reply_len;
	int hold_ms;               /* keep the connection open this long after replying */
} fake_server;

static void *serve_one(void *p)
{
	fake_server *s = p;
	int fd = accept(s->listen_fd, NULL, NULL);
	uint32_t len;

	if (fd < 0)
		return NULL;
	if (cocoon_aesm_read_full(fd, s->req, 4, cocoon_aesm_now_ms() + 5000, "length") == 0) {
		len = cocoon_le32(s->req);
		if (len <= sizeof(s->req) - 4 && cocoon_aesm_read_full(fd, s->req + 4, len, cocoon_aesm_now_ms() + 5000,
		                                                        "request") == 0)
			s->req_len = 4 + len;
	}
	if (s->reply)
		cocoon_aesm_write_full(fd, s->reply, s->reply_len, cocoon_aesm_now_ms() + 5000, "reply");
	if (s->hold_ms)
		poll(NULL, 0, s->hold_ms);
	close(fd);
	return NULL;
}

static void server_start(fake_server *s, const uint8_t *reply, size_t reply_len, int hold_ms)
{
	struct sockaddr_un sa;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/cocoon-aesm-test-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/aesm.socket", s->dir);
	s->reply = reply;
	s->reply_len = reply_len;
	s->hold_ms = hold_ms;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s->listen_fd >= 0);
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->listen_fd, 4), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, serve_one, s), 0);
}

static void server_stop(fake_server *s)
{
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
	unlink(s->path);
	rmdir(s->dir);
}

static cocoon_aesm_options options(const fake_server *s, unsigned timeout_ms)
{
	cocoon_aesm_options o = COCOON_AESM_OPTIONS_INIT;
	o.socket_path = s->path;
	o.timeout_ms = timeout_ms;
	o.max_response = 64 * 1024;
	return o;
}

/* tests/quoted/golden/NAME, found from this source file or $COCOON_SOURCE_DIR. */
static uint8_t *golden(const char *name, size_t *len)
{
	char here[512], path[1024];
	const char *src = getenv("COCOON_SOURCE_DIR");

	if (src)
		snprintf(path, sizeof(path), "%s/tests/quoted/golden/%s", src, name);
	else {
		snprintf(here, sizeof(here), "%s", __FILE__);
		snprintf(path, sizeof(path), "%s/../quoted/golden/%s", dirname(here), name);
	}
	return cocoon_test_read(path, len);
}

static int expect_error(int rc, int code, const char *part)
{
	if (rc != code || !strstr(cocoon_error_last()->message, part))
		fail_msg("expected %s containing \"%s\", got %d: %s", cocoon_error_name(code), part, rc,
		         cocoon_error_last()->message);
	return 0;
}

static void test_error_names_and_key_id(void **state)
{
	uint8_t id[COCOON_SGX_ATT_KEY_ID_SIZE];
	(void)state;

	assert_string_equal(cocoon_aesm_error_name(0), "AESM_SUCCESS");
	assert_string_equal(cocoon_aesm_error_name(47), "AESM_INVALID_REPORT");
	assert_string_equal(cocoon_aesm_error_name(51), "AESM_CONFIG_UNSUPPORTED");
	assert_string_equal(cocoon_aesm_error_name(27), "AESM_UNKNOWN_ERROR"); /* unused in Intel's table */
	assert_string_equal(cocoon_aesm_error_name(52), "AESM_UNKNOWN_ERROR");
	cocoon_aesm_default_att_key_id(id);
	assert_int_equal(cocoon_le16(id + 4), 32);                /* mrsigner_length */
	assert_int_equal(id[6], 0x8c);                            /* Intel's QE3 MRSIGNER */
	assert_int_equal(id[37], 0xff);
	assert_int_equal(cocoon_le32(id + 54), 1);                /* prod_id */
	assert_int_equal(cocoon_le32(id + 154), 2);               /* algorithm_id: ECDSA-P256 */
	assert_true(cocoon_is_zero(id + 158, COCOON_SGX_ATT_KEY_ID_SIZE - 158));
}

static void test_frame_lengths(void **state)
{
	uint8_t hdr[4] = { 0x10, 0x01, 0x00, 0x00 }; /* little-endian 272 */
	uint32_t len = 99;
	(void)state;

	assert_int_equal(cocoon_aesm_frame_len(&len, hdr, 272), 0);
	assert_int_equal(len, 272);
	expect_error(cocoon_aesm_frame_len(&len, hdr, 271), COCOON_EFORMAT, "frame length 272 exceeds the maximum of 271");
	assert_int_equal(len, 0);
	memset(hdr, 0, 4);
	expect_error(cocoon_aesm_frame_len(&len, hdr, 4096), COCOON_EFORMAT, "frame length is 0");
	memset(hdr, 0xff, 4);
	expect_error(cocoon_aesm_frame_len(&len, hdr, 4096), COCOON_EFORMAT, "frame length 4294967295 exceeds");
	cocoon_aesm_frame_put(hdr, 0x01020304);
	assert_int_equal(hdr[0], 0x04);
	assert_int_equal(hdr[3], 0x01);
}

static void test_pack_framed(void **state)
{
	Aesm__Message__Response r = AESM__MESSAGE__RESPONSE__INIT;
	Aesm__Message__Response__UnsupportedRequestResponse u = AESM__MESSAGE__RESPONSE__UNSUPPORTED_REQUEST_RESPONSE__INIT;
	uint8_t *out = NULL;
	size_t len = 0;
	(void)state;

	u.errorcode = 30;
	r.unsupportedrequestresponse = &u;
	assert_int_equal(cocoon_aesm_pack_framed(&out, &len, &r.base), 0);
	/* Field 20, length 2, then errorCode (field 1) = 30. */
	static const uint8_t want[] = { 5, 0, 0, 0, 0xa2, 0x01, 0x02, 0x08, 0x1e };
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	free(out);
}

static void test_requests_match_the_golden_bytes(void **state)
{
	fake_server s;
	cocoon_aesm_options o;
	cocoon_aesm_init_quote_result init;
	uint8_t *req, *resp, *ids = NULL, key_id[COCOON_SGX_ATT_KEY_ID_SIZE];
	size_t req_len, resp_len, ids_len = 0;
	uint32_t status = 7;
	(void)state;

	req = golden("get_supported_att_key_ids.req", &req_len);
	resp = golden("get_supported_att_key_ids.resp", &resp_len);
	server_start(&s, resp, resp_len, 0);
	o = options(&s, 5000);
	assert_int_equal(cocoon_aesm_get_supported_att_key_ids(&ids, &ids_len, &status, &o, 256), 0);
	server_stop(&s);
	assert_int_equal(s.req_len, req_len);
	assert_memory_equal(s.req, req, req_len);
	assert_int_equal(status, 0);
	cocoon_aesm_default_att_key_id(key_id);
	assert_int_equal(ids_len, sizeof(key_id));
	assert_memory_equal(ids, key_id, sizeof(key_id));
	free(ids);
	free(req);
	free(resp);

	req = golden("init_quote_ex_size_query.req", &req_len);
	resp = golden("init_quote_ex_size_query.resp", &resp_len);
	server_start(&s, resp, resp_len, 0);
	o = options(&s, 5000);
	assert_int_equal(cocoon_aesm_init_quote_ex(&init, &status, &o, key_id, 0, 0), 0);
	server_stop(&s);
	assert_int_equal(s.req_len, req_len);
	assert_memory_equal(s.req, req, req_len);
	assert_true(init.has_target_info);
	assert_true(init.has_pub_key_id_size);
	assert_int_equal(init.pub_key_id_size, 32);
	assert_false(init.has_pub_key_id);
	free(req);
	free(resp);
}

static void test_refusals_carry_the_aesm_code(void **state)
{
	fake_server s;
	cocoon_aesm_options o;
	uint8_t *resp, key_id[COCOON_SGX_ATT_KEY_ID_SIZE];
	size_t resp_len;
	uint32_t status = 0, size = 5;
	(void)state;

	cocoon_aesm_default_att_key_id(key_id);
	/* UnsupportedRequestResponse answers any request. */
	resp = golden("get_launch_token_unsupported.resp", &resp_len);
	server_start(&s, resp, resp_len, 0);
	o = options(&s, 5000);
	expect_error(cocoon_aesm_get_quote_size_ex(&size, &status, &o, key_id), COCOON_EREJECT,
	             "refused GetQuoteSizeEx: AESM_SERVICE_UNAVAILABLE (30)");
	server_stop(&s);
	assert_int_equal(status, 30);
	assert_int_equal(size, 0);
	free(resp);
	/* An error in the request's own response type. */
	resp = golden("init_quote_ex_p384_key.resp", &resp_len);
	server_start(&s, resp, resp_len, 0);
	o = options(&s, 5000);
	cocoon_aesm_init_quote_result init;
	expect_error(cocoon_aesm_init_quote_ex(&init, &status, &o, key_id, 0, 0), COCOON_EREJECT,
	             "InitQuoteEx failed: AESM_UNSUPPORTED_ATT_KEY_ID (38)");
	server_stop(&s);
	assert_int_equal(status, 38);
	free(resp);
}

static void test_bad_responses(void **state)
{
	static const uint8_t oversize[] = { 0xff, 0xff, 0xff, 0x7f };
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	static const uint8_t truncated[] = { 100, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	static const uint8_t garbage[] = { 4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t other_sub[] = { 5, 0, 0, 0, 0x82, 0x01, 0x02, 0x08, 0x00 }; /* getQuoteSizeExRes */
	static const struct {
		const uint8_t *reply;
		size_t len;
		int code;
		const char *part;
	} cases[] = {
		{ oversize, sizeof(oversize), COCOON_EFORMAT, "frame length 2147483647 exceeds the maximum of 65536" },
		{ zero, sizeof(zero), COCOON_EFORMAT, "frame length is 0" },
		{ truncated, sizeof(truncated), COCOON_EIO, "peer closed the connection after 10 of 100 bytes of the response" },
		{ garbage, sizeof(garbage), COCOON_EFORMAT, "is not a valid aesm.message.Response" },
		{ other_sub, sizeof(other_sub), COCOON_EFORMAT, "carries no GetSupportedAttKeyIDNum response" },
		{ NULL, 0, COCOON_EIO, "peer closed the connection after 0 of 4 bytes of the response length" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_server s;
		cocoon_aesm_options o;
		uint32_t status = 0, num = 9;

		server_start(&s, cases[i].reply, cases[i].len, 0);
		o = options(&s, 5000);
		expect_error(cocoon_aesm_get_supported_att_key_id_num(&num, &status, &o), cases[i].code, cases[i].part);
		server_stop(&s);
		assert_int_equal(status, COCOON_AESM_NO_STATUS);
		assert_int_equal(num, 0);
	}
}

static void test_quote_responses_are_checked(void **state)
{
	Aesm__Message__Response r = AESM__MESSAGE__RESPONSE__INIT;
	Aesm__Message__Response__GetQuoteExResponse q = AESM__MESSAGE__RESPONSE__GET_QUOTE_EX_RESPONSE__INIT;
	uint8_t report[COCOON_SGX_REPORT_SIZE_FULL] = { 0 }, key_id[COCOON_SGX_ATT_KEY_ID_SIZE], quote[100];
	uint8_t qri[COCOON_SGX_QE_REPORT_INFO_SIZE], answer_qri[COCOON_SGX_QE_REPORT_INFO_SIZE];
	uint8_t *reply = NULL, *got = NULL;
	size_t reply_len, got_len = 0;
	uint32_t status;
	fake_server s;
	cocoon_aesm_options o;
	(void)state;

	cocoon_aesm_default_att_key_id(key_id);
	memset(quote, 0x3c, sizeof(quote));
	memset(qri, 0x01, sizeof(qri));
	memset(answer_qri, 0x02, sizeof(answer_qri));
	q.errorcode = 0;
	q.has_quote = 1;
	q.quote.data = quote;
	q.quote.len = sizeof(quote);
	q.has_qe_report_info = 1;
	q.qe_report_info.data = answer_qri;
	q.qe_report_info.len = sizeof(answer_qri);
	r.getquoteexres = &q;
	assert_int_equal(cocoon_aesm_pack_framed(&reply, &reply_len, &r.base), 0);

	server_start(&s, reply, reply_len, 0);
	o = options(&s, 5000);
	assert_int_equal(cocoon_aesm_get_quote_ex(&got, &got_len, &status, &o, report, key_id, qri, 100), 0);
	server_stop(&s);
	assert_int_equal(got_len, 100);
	assert_memory_equal(got, quote, 100);
	assert_memory_equal(qri, answer_qri, sizeof(qri));
	free(got);
	got = NULL;
	/* A quote larger than the buffer the client asked for is refused, as Intel's client does. */
	server_start(&s, reply, reply_len, 0);
	o = options(&s, 5000);
	expect_error(cocoon_aesm_get_quote_ex(&got, &got_len, &status, &o, report, key_id, NULL, 99), COCOON_EFORMAT,
	             "returned a 100-byte quote for a 99-byte buffer");
	server_stop(&s);
	assert_null(got);
	free(reply);
}

static void test_timeouts_and_absent_service(void **state)
{
	fake_server s;
	cocoon_aesm_options o;
	uint32_t status, num;
	int64_t t0;
	(void)state;

	server_start(&s, NULL, 0, 600);
	o = options(&s, 150);
	t0 = cocoon_aesm_now_ms();
	expect_error(cocoon_aesm_get_supported_att_key_id_num(&num, &status, &o), COCOON_EIO,
	             "timed out reading the response length after 0 of 4 bytes");
	assert_true(cocoon_aesm_now_ms() - t0 < 500);
	server_stop(&s);

	o = options(&s, 1000);
	expect_error(cocoon_aesm_get_supported_att_key_id_num(&num, &status, &o), COCOON_EIO, "cannot connect to");
	o.socket_path = "/tmp/this/path/is/far/too/long/for/a/unix/socket/address/because/sun_path/holds/only/"
	                "one/hundred/and/seven/bytes/x";
	expect_error(cocoon_aesm_get_supported_att_key_id_num(&num, &status, &o), COCOON_EINVAL, "is longer than 107");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_names_and_key_id),
		cmocka_unit_test(test_frame_lengths),
		cmocka_unit_test(test_pack_framed),
		cmocka_unit_test(test_requests_match_the_golden_bytes),
		cmocka_unit_test(test_refusals_carry_the_aesm_code),
		cmocka_unit_test(test_bad_responses),
		cmocka_unit_test(test_quote_responses_are_checked),
		cmocka_unit_test(test_timeouts_and_absent_service),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
