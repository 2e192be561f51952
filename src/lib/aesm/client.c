/* The AESM client: one connection per request, as Intel's libsgx_quote_ex. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "common/util.h"
#include "aesm/aesm_int.h"

#define AESM_TIMEOUT_DEFAULT_MS 15000
#define AESM_MAX_RESPONSE_DEFAULT (1u << 20)

static const cocoon_aesm_options default_options = COCOON_AESM_OPTIONS_INIT;

static int aesm_connect(int *out, const char *path, int64_t deadline)
{
	struct sockaddr_un sa;
	int fd, err = 0;

	*out = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return cocoon_error_set(COCOON_EINVAL, "aesm: socket path '%s' is longer than %zu bytes", path,
		                        sizeof(sa.sun_path) - 1);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return cocoon_error_set(COCOON_EIO, "aesm: socket: %s", strerror(errno));
	/* A non-blocking unix connect fails with EAGAIN while the listen queue is
	 * full; retry until the deadline rather than fail under load. */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || cocoon_aesm_now_ms() >= deadline) {
			err = cocoon_error_set(COCOON_EIO, "aesm: cannot connect to %s: %s; is the quote service "
			                       "(aesmd or cocoon-quoted) running and the socket mounted?",
			                       path, errno == EAGAIN ? "listen queue full until the timeout" : strerror(errno));
			close(fd);
			return err;
		}
		poll(NULL, 0, 2);
	}
	*out = fd;
	return 0;
}

int cocoon_aesm_transact(uint8_t **resp, size_t *resp_len, const cocoon_aesm_options *o, const uint8_t *req,
                         size_t req_len)
{
	uint8_t hdr[COCOON_AESM_FRAME_HEADER], *out = NULL;
	const char *path;
	size_t max;
	uint32_t len;
	int64_t deadline;
	int fd = -1, err;

	*resp = NULL;
	*resp_len = 0;
	if (!o)
		o = &default_options;
	if (o->version != COCOON_AESM_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "aesm: options version %u, expected %u", o->version,
		                        COCOON_AESM_OPTIONS_VERSION);
	if (!req || req_len == 0 || req_len > UINT32_MAX)
		return cocoon_error_set(COCOON_EINVAL, "aesm: a request of %zu bytes cannot be framed", req_len);
	path = o->socket_path ? o->socket_path : COCOON_AESM_SOCKET_DEFAULT;
	max = o->max_response ? o->max_response : AESM_MAX_RESPONSE_DEFAULT;
	deadline = cocoon_aesm_now_ms() + (o->timeout_ms ? o->timeout_ms : AESM_TIMEOUT_DEFAULT_MS);

	if ((err = aesm_connect(&fd, path, deadline)) != 0)
		goto done;
	cocoon_aesm_frame_put(hdr, (uint32_t)req_len);
	if ((err = cocoon_aesm_write_full(fd, hdr, sizeof(hdr), deadline, "the request length")) != 0 ||
	    (err = cocoon_aesm_write_full(fd, req, req_len, deadline, "the request")) != 0 ||
	    (err = cocoon_aesm_read_full(fd, hdr, sizeof(hdr), deadline, "the response length")) != 0 ||
	    (err = cocoon_aesm_frame_len(&len, hdr, max)) != 0)
		goto done;
	if (!(out = malloc(len))) {
		err = cocoon_error_set(COCOON_ENOMEM, "aesm: out of memory for a %u-byte response", len);
		goto done;
	}
	if ((err = cocoon_aesm_read_full(fd, out, len, deadline, "the response")) != 0)
		goto done;
	*resp = out;
	*resp_len = len;
	out = NULL;
done:
	free(out);
	if (fd >= 0)
		close(fd);
	return err;
}

/*
 * Sends a Request and unpacks the Response. Status handling is left to the
 * caller, except for UnsupportedRequestResponse, which answers any request.
 */
static int aesm_call(Aesm__Message__Response **out, uint32_t *status, const cocoon_aesm_options *o,
                     const Aesm__Message__Request *req, const char *name)
{
	uint8_t *buf = NULL, *resp = NULL;
	size_t n, resp_len;
	Aesm__Message__Response *r = NULL;
	int err = 0;

	*out = NULL;
	*status = COCOON_AESM_NO_STATUS;
	n = aesm__message__request__get_packed_size(req);
	if (!(buf = malloc(n ? n : 1))) {
		err = cocoon_error_set(COCOON_ENOMEM, "aesm: out of memory for a %zu-byte %s request", n, name);
		goto done;
	}
	aesm__message__request__pack(req, buf);
	if ((err = cocoon_aesm_transact(&resp, &resp_len, o, buf, n)) != 0)
		goto done;
	if (!(r = aesm__message__response__unpack(NULL, resp_len, resp))) {
		err = cocoon_error_set(COCOON_EFORMAT, "aesm: the %zu-byte answer to %s is not a valid "
		                       "aesm.message.Response", resp_len, name);
		goto done;
	}
	if (r->unsupportedrequestresponse) {
		*status = r->unsupportedrequestresponse->errorcode;
		err = cocoon_error_set(COCOON_EREJECT, "aesm: the service refused %s: %s (%u)", name,
		                       cocoon_aesm_error_name(*status), *status);
		goto done;
	}
	*out = r;
	r = NULL;
done:
	if (r)
		aesm__message__response__free_unpacked(r, NULL);
	free(buf);
	free(resp);
	return err;
}

/* Records a sub-message's errorCode; COCOON_EREJECT unless AESM_SUCCESS. */
static int aesm_status(uint32_t *status, const void *sub, uint32_t code, const char *name)
{
	if (!sub)
		return cocoon_error_set(COCOON_EFORMAT, "aesm: the answer to %s carries no %s response", name, name);
	*status = code;
	if (code != COCOON_AESM_SUCCESS)
		return cocoon_error_set(COCOON_EREJECT, "aesm: %s failed: %s (%u)", name, cocoon_aesm_error_name(code),
		                        code);
	return 0;
}

int cocoon_aesm_get_supported_att_key_id_num(uint32_t *num, uint32_t *status, const cocoon_aesm_options *o)
{
	Aesm__Message__Request req = AESM__MESSAGE__REQUEST__INIT;
	Aesm__Message__Request__GetSupportedAttKeyIDNumRequest sub =
		AESM__MESSAGE__REQUEST__GET_SUPPORTED_ATT_KEY_IDNUM_REQUEST__INIT;
	Aesm__Message__Response *r = NULL;
	const Aesm__Message__Response__GetSupportedAttKeyIDNumResponse *s;
	int err;

	*num = 0;
	req.getsupportedattkeyidnumreq = &sub;
	if ((err = aesm_call(&r, status, o, &req, "GetSupportedAttKeyIDNum")) != 0)
		return err;
	s = r->getsupportedattkeyidnumres;
	if ((err = aesm_status(status, s, s ? s->errorcode : 0, "GetSupportedAttKeyIDNum")) == 0) {
		if (!s->has_att_key_id_num)
			err = cocoon_error_set(COCOON_EFORMAT, "aesm: GetSupportedAttKeyIDNum succeeded without a count");
		else
			*num = s->att_key_id_num;
	}
	aesm__message__response__free_unpacked(r, NULL);
	return err;
}

int cocoon_aesm_get_supported_att_key_ids(uint8_t **ids, size_t *ids_len, uint32_t *status,
                                          const cocoon_aesm_options *o, uint32_t buf_size)
{
	Aesm__Message__Request req = AESM__MESSAGE__REQUEST__INIT;
	Aesm__Message__Request__GetSupportedAttKeyIDsRequest sub =
		AESM__MESSAGE__REQUEST__GET_SUPPORTED_ATT_KEY_IDS_REQUEST__INIT;
	Aesm__Message__Response *r = NULL;
	const Aesm__Message__Response__GetSupportedAttKeyIDsResponse *s;
	int err;

	*ids = NULL;
	*ids_len = 0;
	sub.buf_size = buf_size;
	req.getsupportedattkeyidsreq = &sub;
	if ((err = aesm_call(&r, status, o, &req, "GetSupportedAttKeyIDs")) != 0)
		return err;
	s = r->getsupportedattkeyidsres;
	if ((err = aesm_status(status, s, s ? s->errorcode : 0, "GetSupportedAttKeyIDs")) != 0)
		goto done;
	if (!s->has_att_key_ids || s->att_key_ids.len != buf_size ||
	    s->att_key_ids.len % COCOON_SGX_ATT_KEY_ID_SIZE != 0) {
		err = cocoon_error_set(COCOON_EFORMAT, "aesm: GetSupportedAttKeyIDs returned %zu bytes, expected %u "
		                       "(a multiple of %d)", s->has_att_key_ids ? s->att_key_ids.len : 0, buf_size,
		                       COCOON_SGX_ATT_KEY_ID_SIZE);
		goto done;
	}
	if (!(*ids = malloc(s->att_key_ids.len ? s->att_key_ids.len : 1))) {
		err = cocoon_error_set(COCOON_ENOMEM, "aesm: out of memory");
		goto done;
	}
	if (s->att_key_ids.len)
		memcpy(*ids, s->att_key_ids.data, s->att_key_ids.len);
	*ids_len = s->att_key_ids.len;
done:
	aesm__message__response__free_unpacked(r, NULL);
	return err;
}

int cocoon_aesm_select_att_key_id(uint8_t selected[COCOON_SGX_ATT_KEY_ID_SIZE], uint32_t *status,
                                  const cocoon_aesm_options *o, const uint8_t *list, size_t list_len)
{
	Aesm__Message__Request req = AESM__MESSAGE__REQUEST__INIT;
	Aesm__Message__Request__SelectAttKeyIDRequest sub = AESM__MESSAGE__REQUEST__SELECT_ATT_KEY_IDREQUEST__INIT;
	Aesm__Message__Response *r = NULL;
	const Aesm__Message__Response__SelectAttKeyIDResponse *s;
	int err;

	memset(selected, 0, COCOON_SGX_ATT_KEY_ID_SIZE);
	if (list) {
		sub.has_att_key_id_list = 1;
		sub.att_key_id_list.data = (uint8_t *)list;
		sub.att_key_id_list.len = list_len;
	}
	req.selectattkeyidreq = &sub;
	if ((err = aesm_call(&r, status, o, &req, "SelectAttKeyID")) != 0)
		return err;
	s = r->selectattkeyidres;
	if ((err = aesm_status(status, s, s ? s->errorcode : 0, "SelectAttKeyID")) == 0) {
		if (!s->has_selected_att_key_id || s->selected_att_key_id.len != COCOON_SGX_ATT_KEY_ID_SIZE)
			err = cocoon_error_set(COCOON_EFORMAT, "aesm: SelectAttKeyID returned a %zu-byte key ID, expected %d",
			                       s->has_selected_att_key_id ? s->selected_att_key_id.len : 0,
			                       COCOON_SGX_ATT_KEY_ID_SIZE);
		else
			memcpy(selected, s->selected_att_key_id.data, COCOON_SGX_ATT_KEY_ID_SIZE);
	}
	aesm__message__response__free_unpacked(r, NULL);
	return err;
}

int cocoon_aesm_init_quote_ex(cocoon_aesm_init_quote_result *out, uint32_t *status, const cocoon_aesm_options *o,
                              const uint8_t att_key_id[COCOON_SGX_ATT_KEY_ID_SIZE], int want_pub_key_id,
                              uint64_t buf_size)
{
	Aesm__Message__Request req = AESM__MESSAGE__REQUEST__INIT;
	Aesm__Message__Request__InitQuoteExRequest sub = AESM__MESSAGE__REQUEST__INIT_QUOTE_EX_REQUEST__INIT;
	Aesm__Message__Response *r = NULL;
	const Aesm__Message__Response__InitQuoteExResponse *s;
	int err;

	memset(out, 0, sizeof(*out));
	sub.has_att_key_id = 1;
	sub.att_key_id.data = (uint8_t *)att_key_id;
	sub.att_key_id.len = COCOON_SGX_ATT_KEY_ID_SIZE;
	sub.b_pub_key_id = want_pub_key_id ? 1 : 0;
	/* Intel's client sends buf_size only when it is non-zero. */
	if (want_pub_key_id && buf_size) {
		sub.has_buf_size = 1;
		sub.buf_size = buf_size;
	}
	req.initquoteexreq = &sub;
	if ((err = aesm_call(&r, status, o, &req, "InitQuoteEx")) != 0)
		return err;
	s = r->initquoteexres;
	if ((err = aesm_status(status, s, s ? s->errorcode : 0, "InitQuoteEx")) != 0)
		goto done;
	if (s->has_target_info) {
		if (s->target_info.len != COCOON_SGX_TARGET_INFO_SIZE) {
			err = cocoon_error_set(COCOON_EFORMAT, "aesm: InitQuoteEx returned a %zu-byte target info, expected %d",
			                       s->target_info.len, COCOON_SGX_TARGET_INFO_SIZE);
			goto done;
		}
		memcpy(out->target_info, s->target_info.data, COCOON_SGX_TARGET_INFO_SIZE);
		out->has_target_info = 1;
	}
	out->has_pub_key_id_size = s->has_pub_key_id_size;
	out->pub_key_id_size = s->pub_key_id_size;
	/* As Intel's client: the key ID counts only when its length matches the announced size. */
	if (s->has_pub_key_id && s->has_pub_key_id_size && s->pub_key_id.len == s->pub_key_id_size &&
	    s->pub_key_id.len == COCOON_SGX_PUB_KEY_ID_SIZE) {
		memcpy(out->pub_key_id, s->pub_key_id.data, COCOON_SGX_PUB_KEY_ID_SIZE);
		out->has_pub_key_id = 1;
	}
done:
	aesm__message__response__free_unpacked(r, NULL);
	return err;
}

int cocoon_aesm_get_quote_size_ex(uint32_t *size, uint32_t *status, const cocoon_aesm_options *o,
                                  const uint8_t att_key_id[COCOON_SGX_ATT_KEY_ID_SIZE])
{
	Aesm__Message__Request req = AESM__MESSAGE__REQUEST__INIT;
	Aesm__Message__Request__GetQuoteSizeExRequest sub = AESM__MESSAGE__REQUEST__GET_QUOTE_SIZE_EX_REQUEST__INIT;
	Aesm__Message__Response *r = NULL;
	const Aesm__Message__Response__GetQuoteSizeExResponse *s;
	int err;

	*size = 0;
	sub.has_att_key_id = 1;
	sub.att_key_id.data = (uint8_t *)att_key_id;
	sub.att_key_id.len = COCOON_SGX_ATT_KEY_ID_SIZE;
	req.getquotesizeexreq = &sub;
	if ((err = aesm_call(&r, status, o, &req, "GetQuoteSizeEx")) != 0)
		return err;
	s = r->getquotesizeexres;
	if ((err = aesm_status(status, s, s ? s->errorcode : 0, "GetQuoteSizeEx")) == 0) {
		if (!s->has_quote_size || s->quote_size == 0)
			err = cocoon_error_set(COCOON_EFORMAT, "aesm: GetQuoteSizeEx succeeded without a quote size");
		else
			*size = s->quote_size;
	}
	aesm__message__response__free_unpacked(r, NULL);
	return err;
}

int cocoon_aesm_get_quote_ex(uint8_t **quote, size_t *quote_len, uint32_t *status, const cocoon_aesm_options *o,
                             const uint8_t report[COCOON_SGX_REPORT_SIZE_FULL],
                             const uint8_t att_key_id[COCOON_SGX_ATT_KEY_ID_SIZE], uint8_t *qe_report_info,
                             uint32_t buf_size)
{
	Aesm__Message__Request req = AESM__MESSAGE__REQUEST__INIT;
	Aesm__Message__Request__GetQuoteExRequest sub = AESM__MESSAGE__REQUEST__GET_QUOTE_EX_REQUEST__INIT;
	Aesm__Message__Response *r = NULL;
	const Aesm__Message__Response__GetQuoteExResponse *s;
	int err;

	*quote = NULL;
	*quote_len = 0;
	sub.report.data = (uint8_t *)report;
	sub.report.len = COCOON_SGX_REPORT_SIZE_FULL;
	sub.has_att_key_id = 1;
	sub.att_key_id.data = (uint8_t *)att_key_id;
	sub.att_key_id.len = COCOON_SGX_ATT_KEY_ID_SIZE;
	if (qe_report_info) {
		sub.has_qe_report_info = 1;
		sub.qe_report_info.data = qe_report_info;
		sub.qe_report_info.len = COCOON_SGX_QE_REPORT_INFO_SIZE;
	}
	sub.buf_size = buf_size;
	req.getquoteexreq = &sub;
	if ((err = aesm_call(&r, status, o, &req, "GetQuoteEx")) != 0)
		return err;
	s = r->getquoteexres;
	if ((err = aesm_status(status, s, s ? s->errorcode : 0, "GetQuoteEx")) != 0)
		goto done;
	if (!s->has_quote || s->quote.len == 0 || s->quote.len > buf_size) {
		err = cocoon_error_set(COCOON_EFORMAT, "aesm: GetQuoteEx returned a %zu-byte quote for a %u-byte buffer",
		                       s->has_quote ? s->quote.len : 0, buf_size);
		goto done;
	}
	if (qe_report_info) {
		if (!s->has_qe_report_info || s->qe_report_info.len != COCOON_SGX_QE_REPORT_INFO_SIZE) {
			err = cocoon_error_set(COCOON_EFORMAT, "aesm: GetQuoteEx returned a %zu-byte qe_report_info, "
			                       "expected %d", s->has_qe_report_info ? s->qe_report_info.len : 0,
			                       COCOON_SGX_QE_REPORT_INFO_SIZE);
			goto done;
		}
		memcpy(qe_report_info, s->qe_report_info.data, COCOON_SGX_QE_REPORT_INFO_SIZE);
	}
	if (!(*quote = malloc(s->quote.len))) {
		err = cocoon_error_set(COCOON_ENOMEM, "aesm: out of memory for a %zu-byte quote", s->quote.len);
		goto done;
	}
	memcpy(*quote, s->quote.data, s->quote.len);
	*quote_len = s->quote.len;
done:
	aesm__message__response__free_unpacked(r, NULL);
	return err;
}

int cocoon_aesm_qe_target_info(uint8_t target_info[COCOON_SGX_TARGET_INFO_SIZE], uint32_t *status,
                               const cocoon_aesm_options *o)
{
	cocoon_aesm_init_quote_result r;
	uint8_t key_id[COCOON_SGX_ATT_KEY_ID_SIZE];
	int err;

	cocoon_aesm_default_att_key_id(key_id);
	/* The DCAP library's sequence: a size query, then the call with a buffer of that size. */
	if ((err = cocoon_aesm_init_quote_ex(&r, status, o, key_id, 0, 0)) != 0)
		return err;
	if (!r.has_pub_key_id_size || r.pub_key_id_size != COCOON_SGX_PUB_KEY_ID_SIZE)
		return cocoon_error_set(COCOON_EFORMAT, "aesm: InitQuoteEx announced a %llu-byte public key ID, "
		                        "expected %d", (unsigned long long)r.pub_key_id_size, COCOON_SGX_PUB_KEY_ID_SIZE);
	if ((err = cocoon_aesm_init_quote_ex(&r, status, o, key_id, 1, r.pub_key_id_size)) != 0)
		return err;
	if (!r.has_target_info)
		return cocoon_error_set(COCOON_EFORMAT, "aesm: InitQuoteEx succeeded without a target info");
	memcpy(target_info, r.target_info, COCOON_SGX_TARGET_INFO_SIZE);
	return 0;
}

int cocoon_aesm_quote(uint8_t **quote, size_t *quote_len, uint32_t *status, const cocoon_aesm_options *o,
                      const uint8_t report[COCOON_SGX_REPORT_SIZE_FULL])
{
	uint8_t key_id[COCOON_SGX_ATT_KEY_ID_SIZE];
	uint32_t size;
	int err;

	*quote = NULL;
	*quote_len = 0;
	cocoon_aesm_default_att_key_id(key_id);
	if ((err = cocoon_aesm_get_quote_size_ex(&size, status, o, key_id)) != 0)
		return err;
	return cocoon_aesm_get_quote_ex(quote, quote_len, status, o, report, key_id, NULL, size);
}
