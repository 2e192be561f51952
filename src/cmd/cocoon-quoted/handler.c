/* AESM request dispatch: the quote-ex family, validated field by field. */
#include <stdlib.h>
#include <string.h>
#include "aesm/aesm_int.h"
#include "common/util.h"
#include "aesm_lenient.pb-c.h"
#include "handler.h"
#include "nlog.h"

typedef Aesm__Message__Response Response;

/* sgx_ql_att_key_id_list_t: u16 id, u16 version, u32 num_att_ids, then 256-byte IDs. */
#define KEY_LIST_HEADER 8
#define KEY_LIST_MAX 10 /* AESM's SGX_MAX_ATT_KEY_IDS */

static int pack(uint8_t **resp, size_t *resp_len, const Response *r)
{
	return cocoon_aesm_pack_framed(resp, resp_len, &r->base) == 0 ? 0 : -1;
}

int quoted_error_response(uint8_t **resp, size_t *resp_len, uint32_t code)
{
	Response r = AESM__MESSAGE__RESPONSE__INIT;
	Aesm__Message__Response__UnsupportedRequestResponse u =
		AESM__MESSAGE__RESPONSE__UNSUPPORTED_REQUEST_RESPONSE__INIT;

	u.errorcode = code;
	r.unsupportedrequestresponse = &u;
	return pack(resp, resp_len, &r);
}

/*
 * The first required field (per the strict descriptor) that the leniently
 * parsed message lacks, or NULL. Both descriptors come from the same .proto,
 * so field ids match; only the labels differ.
 */
static const char *missing_required(const ProtobufCMessage *m, const ProtobufCMessageDescriptor *strict)
{
	const ProtobufCMessageDescriptor *lenient = m->descriptor;

	for (unsigned i = 0; i < strict->n_fields; i++) {
		const ProtobufCFieldDescriptor *sf = &strict->fields[i], *lf;
		const char *base = (const char *)m;
		int present;

		if (sf->label != PROTOBUF_C_LABEL_REQUIRED)
			continue;
		if (!(lf = protobuf_c_message_descriptor_get_field(lenient, sf->id)))
			return sf->name;
		if (lf->type == PROTOBUF_C_TYPE_MESSAGE || lf->type == PROTOBUF_C_TYPE_STRING)
			present = *(void *const *)(base + lf->offset) != NULL;
		else
			present = *(const protobuf_c_boolean *)(base + lf->quantifier_offset);
		if (!present)
			return sf->name;
	}
	return NULL;
}

/* The strict descriptor of the Request sub-message with this field id. */
static const ProtobufCMessageDescriptor *strict_sub(unsigned id)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(&aesm__message__request__descriptor, id);
	return f && f->type == PROTOBUF_C_TYPE_MESSAGE ? f->descriptor : NULL;
}

/* AESM's checks on an attestation key ID: 256 bytes whose sgx_ql_att_key_id_t part is one we serve. */
static uint32_t check_key_id(int has, const ProtobufCBinaryData *id, quoted_outcome *oc)
{
	uint8_t ours[COCOON_SGX_ATT_KEY_ID_SIZE];

	if (!has || id->len != COCOON_SGX_ATT_KEY_ID_SIZE) {
		oc->detail = "att_key_id must be a 256-byte sgx_att_key_id_t";
		return COCOON_AESM_PARAMETER_ERROR;
	}
	cocoon_aesm_default_att_key_id(ours);
	if (memcmp(id->data, ours, COCOON_SGX_QL_ATT_KEY_ID_SIZE) != 0) {
		oc->detail = "att_key_id is not the ECDSA-P256 QE3 key this service quotes with";
		return COCOON_AESM_UNSUPPORTED_ATT_KEY_ID;
	}
	return COCOON_AESM_SUCCESS;
}

static int init_quote_ex(uint8_t **resp, size_t *resp_len, quoted_outcome *oc, quoted_backend *b,
                         const Aesm__Lenient__Request__InitQuoteExRequest *q)
{
	Response r = AESM__MESSAGE__RESPONSE__INIT;
	Aesm__Message__Response__InitQuoteExResponse s = AESM__MESSAGE__RESPONSE__INIT_QUOTE_EX_RESPONSE__INIT;
	uint8_t ti[COCOON_SGX_TARGET_INFO_SIZE], id[COCOON_SGX_PUB_KEY_ID_SIZE];
	int known = 0;

	r.initquoteexres = &s;
	if ((s.errorcode = check_key_id(q->has_att_key_id, &q->att_key_id, oc)) != COCOON_AESM_SUCCESS)
		goto out;
	/* Intel's client sends buf_size with the key ID request; 32 bytes is what an ECDSA key ID takes. */
	if (q->b_pub_key_id && (!q->has_buf_size || q->buf_size < COCOON_SGX_PUB_KEY_ID_SIZE)) {
		oc->detail = "b_pub_key_id needs buf_size >= 32";
		s.errorcode = COCOON_AESM_PARAMETER_ERROR;
		goto out;
	}
	if ((s.errorcode = b->target_info(b, ti)) != COCOON_AESM_SUCCESS ||
	    (s.errorcode = b->pub_key_id(b, id, &known)) != COCOON_AESM_SUCCESS) {
		oc->detail = "the backend could not provide the QE target info";
		goto out;
	}
	s.has_target_info = 1;
	s.target_info.data = ti;
	s.target_info.len = sizeof(ti);
	s.has_pub_key_id_size = 1;
	s.pub_key_id_size = COCOON_SGX_PUB_KEY_ID_SIZE;
	/* Left out while unknown (dcap before its first quote): Intel's client then keeps the caller's buffer. */
	if (q->b_pub_key_id && known) {
		s.has_pub_key_id = 1;
		s.pub_key_id.data = id;
		s.pub_key_id.len = sizeof(id);
	}
out:
	oc->status = s.errorcode;
	return pack(resp, resp_len, &r);
}

static int get_quote_size_ex(uint8_t **resp, size_t *resp_len, quoted_outcome *oc, quoted_backend *b,
                             const Aesm__Lenient__Request__GetQuoteSizeExRequest *q)
{
	Response r = AESM__MESSAGE__RESPONSE__INIT;
	Aesm__Message__Response__GetQuoteSizeExResponse s = AESM__MESSAGE__RESPONSE__GET_QUOTE_SIZE_EX_RESPONSE__INIT;
	uint32_t size = 0;

	r.getquotesizeexres = &s;
	if ((s.errorcode = check_key_id(q->has_att_key_id, &q->att_key_id, oc)) == COCOON_AESM_SUCCESS &&
	    (s.errorcode = b->quote_size(b, &size)) == COCOON_AESM_SUCCESS) {
		s.has_quote_size = 1;
		s.quote_size = size;
	}
	oc->status = s.errorcode;
	return pack(resp, resp_len, &r);
}

static int get_quote_ex(uint8_t **resp, size_t *resp_len, quoted_outcome *oc, quoted_backend *b,
                        const Aesm__Lenient__Request__GetQuoteExRequest *q)
{
	Response r = AESM__MESSAGE__RESPONSE__INIT;
	Aesm__Message__Response__GetQuoteExResponse s = AESM__MESSAGE__RESPONSE__GET_QUOTE_EX_RESPONSE__INIT;
	uint8_t qri[COCOON_SGX_QE_REPORT_INFO_SIZE], *quote = NULL;
	size_t quote_len = 0;
	int rc;

	r.getquoteexres = &s;
	if (q->report.len != COCOON_SGX_REPORT_SIZE_FULL) {
		oc->detail = "report must be a 432-byte sgx_report_t";
		s.errorcode = COCOON_AESM_PARAMETER_ERROR;
		goto out;
	}
	if (q->has_qe_report_info && q->qe_report_info.len != COCOON_SGX_QE_REPORT_INFO_SIZE) {
		oc->detail = "qe_report_info must be a 960-byte sgx_ql_qe_report_info_t";
		s.errorcode = COCOON_AESM_PARAMETER_ERROR;
		goto out;
	}
	if ((s.errorcode = check_key_id(q->has_att_key_id, &q->att_key_id, oc)) != COCOON_AESM_SUCCESS)
		goto out;
	if (q->has_qe_report_info)
		memcpy(qri, q->qe_report_info.data, sizeof(qri));
	if ((s.errorcode = b->quote(b, &quote, &quote_len, q->report.data, q->has_qe_report_info ? qri : NULL,
	                            q->buf_size)) != COCOON_AESM_SUCCESS) {
		oc->detail = "the backend refused the quote";
		goto out;
	}
	s.has_quote = 1;
	s.quote.data = quote;
	s.quote.len = quote_len;
	if (q->has_qe_report_info) {
		s.has_qe_report_info = 1;
		s.qe_report_info.data = qri;
		s.qe_report_info.len = sizeof(qri);
	}
out:
	oc->status = s.errorcode;
	rc = pack(resp, resp_len, &r);
	free(quote);
	return rc;
}

static int select_att_key_id(uint8_t **resp, size_t *resp_len, quoted_outcome *oc,
                             const Aesm__Lenient__Request__SelectAttKeyIDRequest *q)
{
	Response r = AESM__MESSAGE__RESPONSE__INIT;
	Aesm__Message__Response__SelectAttKeyIDResponse s = AESM__MESSAGE__RESPONSE__SELECT_ATT_KEY_IDRESPONSE__INIT;
	uint8_t ours[COCOON_SGX_ATT_KEY_ID_SIZE];
	const uint8_t *list = q->att_key_id_list.data, *match = NULL;
	size_t len = q->att_key_id_list.len;
	uint32_t num;

	r.selectattkeyidres = &s;
	cocoon_aesm_default_att_key_id(ours);
	if (!q->has_att_key_id_list) {
		match = ours; /* no preference: the one key we have */
	} else {
		if (len < KEY_LIST_HEADER + COCOON_SGX_ATT_KEY_ID_SIZE || cocoon_le16(list) != 0 ||
		    cocoon_le16(list + 2) != 0) {
			oc->detail = "att_key_id_list must start with header id 0, version 0 and hold at least one ID";
			s.errorcode = COCOON_AESM_PARAMETER_ERROR;
			goto out;
		}
		num = cocoon_le32(list + 4);
		if (num > KEY_LIST_MAX || len != KEY_LIST_HEADER + (size_t)num * COCOON_SGX_ATT_KEY_ID_SIZE) {
			oc->detail = "att_key_id_list length disagrees with num_att_ids (at most 10)";
			s.errorcode = COCOON_AESM_PARAMETER_ERROR;
			goto out;
		}
		for (uint32_t i = 0; i < num && !match; i++) {
			const uint8_t *id = list + KEY_LIST_HEADER + (size_t)i * COCOON_SGX_ATT_KEY_ID_SIZE;
			if (memcmp(id, ours, COCOON_SGX_QL_ATT_KEY_ID_SIZE) == 0)
				match = id;
		}
		if (!match) {
			oc->detail = "none of the listed attestation keys is the ECDSA-P256 QE3 key";
			s.errorcode = COCOON_AESM_UNSUPPORTED_ATT_KEY_ID;
			goto out;
		}
	}
	s.errorcode = COCOON_AESM_SUCCESS;
	s.has_selected_att_key_id = 1;
	s.selected_att_key_id.data = (uint8_t *)match;
	s.selected_att_key_id.len = COCOON_SGX_ATT_KEY_ID_SIZE;
out:
	oc->status = s.errorcode;
	return pack(resp, resp_len, &r);
}

static int get_supported_num(uint8_t **resp, size_t *resp_len, quoted_outcome *oc)
{
	Response r = AESM__MESSAGE__RESPONSE__INIT;
	Aesm__Message__Response__GetSupportedAttKeyIDNumResponse s =
		AESM__MESSAGE__RESPONSE__GET_SUPPORTED_ATT_KEY_IDNUM_RESPONSE__INIT;

	r.getsupportedattkeyidnumres = &s;
	s.errorcode = COCOON_AESM_SUCCESS;
	s.has_att_key_id_num = 1;
	s.att_key_id_num = 1;
	oc->status = s.errorcode;
	return pack(resp, resp_len, &r);
}

static int get_supported_ids(uint8_t **resp, size_t *resp_len, quoted_outcome *oc,
                             const Aesm__Lenient__Request__GetSupportedAttKeyIDsRequest *q)
{
	Response r = AESM__MESSAGE__RESPONSE__INIT;
	Aesm__Message__Response__GetSupportedAttKeyIDsResponse s =
		AESM__MESSAGE__RESPONSE__GET_SUPPORTED_ATT_KEY_IDS_RESPONSE__INIT;
	uint8_t ours[COCOON_SGX_ATT_KEY_ID_SIZE];

	r.getsupportedattkeyidsres = &s;
	/* AESM wants exactly num * 256 bytes. */
	if (q->buf_size != COCOON_SGX_ATT_KEY_ID_SIZE) {
		oc->detail = "buf_size must be 256: one supported key ID";
		s.errorcode = COCOON_AESM_PARAMETER_ERROR;
	} else {
		cocoon_aesm_default_att_key_id(ours);
		s.errorcode = COCOON_AESM_SUCCESS;
		s.has_att_key_ids = 1;
		s.att_key_ids.data = ours;
		s.att_key_ids.len = sizeof(ours);
	}
	oc->status = s.errorcode;
	return pack(resp, resp_len, &r);
}

/* An UnexpectedError answer in the request's own response type, for a missing required field. */
static int missing_field(uint8_t **resp, size_t *resp_len, quoted_outcome *oc, unsigned id)
{
	Response r = AESM__MESSAGE__RESPONSE__INIT;
	Aesm__Message__Response__InitQuoteExResponse a = AESM__MESSAGE__RESPONSE__INIT_QUOTE_EX_RESPONSE__INIT;
	Aesm__Message__Response__GetQuoteExResponse c = AESM__MESSAGE__RESPONSE__GET_QUOTE_EX_RESPONSE__INIT;
	Aesm__Message__Response__GetSupportedAttKeyIDsResponse d =
		AESM__MESSAGE__RESPONSE__GET_SUPPORTED_ATT_KEY_IDS_RESPONSE__INIT;
	Aesm__Message__Response__UnsupportedRequestResponse u =
		AESM__MESSAGE__RESPONSE__UNSUPPORTED_REQUEST_RESPONSE__INIT;

	oc->status = COCOON_AESM_UNEXPECTED_ERROR;
	a.errorcode = c.errorcode = d.errorcode = u.errorcode = COCOON_AESM_UNEXPECTED_ERROR;
	/* Only these supported requests have required fields. */
	if (id == 15)
		r.initquoteexres = &a;
	else if (id == 17)
		r.getquoteexres = &c;
	else if (id == 22)
		r.getsupportedattkeyidsres = &d;
	else
		r.unsupportedrequestresponse = &u;
	return pack(resp, resp_len, &r);
}

int quoted_handle(uint8_t **resp, size_t *resp_len, quoted_outcome *oc, quoted_backend *b, const uint8_t *req,
                  size_t req_len)
{
	Aesm__Lenient__Request *r = NULL;
	const ProtobufCMessageDescriptor *d = &aesm__lenient__request__descriptor;
	const ProtobufCFieldDescriptor *which = NULL;
	const ProtobufCMessage *sub = NULL;
	const char *missing;
	unsigned n = 0;
	int rc;

	*resp = NULL;
	*resp_len = 0;
	oc->type = QREQ_MALFORMED;
	oc->status = COCOON_AESM_MSG_ERROR;
	oc->detail = NULL;
	if (!(r = aesm__lenient__request__unpack(NULL, req_len, req))) {
		oc->detail = "not a serialized aesm.message.Request";
		return quoted_error_response(resp, resp_len, oc->status);
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)((const char *)r + d->fields[i].offset);
		if (m) {
			n++;
			which = &d->fields[i];
			sub = m;
		}
	}
	if (n != 1) {
		oc->detail = n ? "more than one request in one message" : "the Request carries no request";
		rc = quoted_error_response(resp, resp_len, oc->status);
		goto done;
	}
	switch (which->id) {
	case 15: oc->type = QREQ_INIT_QUOTE_EX; break;
	case 16: oc->type = QREQ_GET_QUOTE_SIZE_EX; break;
	case 17: oc->type = QREQ_GET_QUOTE_EX; break;
	case 19: oc->type = QREQ_SELECT_ATT_KEY_ID; break;
	case 21: oc->type = QREQ_GET_SUPPORTED_ATT_KEY_ID_NUM; break;
	case 22: oc->type = QREQ_GET_SUPPORTED_ATT_KEY_IDS; break;
	default:
		oc->type = QREQ_UNSUPPORTED;
		oc->status = COCOON_AESM_SERVICE_UNAVAILABLE;
		oc->detail = which->name;
		rc = quoted_error_response(resp, resp_len, oc->status);
		goto done;
	}
	if ((missing = missing_required(sub, strict_sub(which->id))) != NULL) {
		oc->detail = missing;
		rc = missing_field(resp, resp_len, oc, which->id);
		goto done;
	}
	switch (oc->type) {
	case QREQ_INIT_QUOTE_EX: rc = init_quote_ex(resp, resp_len, oc, b, r->initquoteexreq); break;
	case QREQ_GET_QUOTE_SIZE_EX: rc = get_quote_size_ex(resp, resp_len, oc, b, r->getquotesizeexreq); break;
	case QREQ_GET_QUOTE_EX: rc = get_quote_ex(resp, resp_len, oc, b, r->getquoteexreq); break;
	case QREQ_SELECT_ATT_KEY_ID: rc = select_att_key_id(resp, resp_len, oc, r->selectattkeyidreq); break;
	case QREQ_GET_SUPPORTED_ATT_KEY_ID_NUM: rc = get_supported_num(resp, resp_len, oc); break;
	default: rc = get_supported_ids(resp, resp_len, oc, r->getsupportedattkeyidsreq); break;
	}
done:
	aesm__lenient__request__free_unpacked(r, NULL);
	return rc;
}
