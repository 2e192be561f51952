/*
 * `cocoon inspect` for DCAP quotes: every field of a parsed quote as JSON,
 * and a human-readable rendering of that same JSON so both always agree.
 *
 * Inspect decodes, it does not verify: a quote that parses is shown even if
 * its signatures, vendor or certificates are bogus.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "cocoon/dcap.h"
#include "dcap/quote.h"

/*
 * jansson's setters accept a NULL value or parent (and release the value),
 * so a tree is built without checking each call; `failed` records whether
 * any allocation or insertion went wrong.
 */
typedef struct {
	int failed;
} builder;

static void put(builder *b, json_t *obj, const char *key, json_t *value)
{
	if (json_object_set_new(obj, key, value) != 0)
		b->failed = 1;
}

static void append(builder *b, json_t *arr, json_t *value)
{
	if (json_array_append_new(arr, value) != 0)
		b->failed = 1;
}

static void put_int(builder *b, json_t *obj, const char *key, json_int_t v)
{
	put(b, obj, key, json_integer(v));
}

static void put_bool(builder *b, json_t *obj, const char *key, int v)
{
	put(b, obj, key, json_boolean(v));
}

static void put_str(builder *b, json_t *obj, const char *key, const char *s)
{
	put(b, obj, key, json_string(s));
}

static void put_hex(builder *b, json_t *obj, const char *key, const uint8_t *p, size_t n)
{
	char *hex = NULL;

	if (n > (SIZE_MAX - 1) / 2 || !(hex = malloc(2 * n + 1))) {
		b->failed = 1;
		return;
	}
	cocoon_hex_encode(hex, p, n);
	put(b, obj, key, json_stringn(hex, 2 * n));
	free(hex);
}

/* Untrusted text as a JSON string: anything but printable ASCII and line
 * breaks becomes '?', so the output stays valid UTF-8 and terminal-safe. */
static json_t *safe_text(const char *p, size_t n)
{
	json_t *s;
	char *copy = malloc(n + 1);

	if (!copy)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		copy[i] = (c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7f)) ? (char)c : '?';
	}
	s = json_stringn(copy, n);
	free(copy);
	return s;
}

static json_t *sgx_attributes_json(builder *b, const uint8_t attributes[16])
{
	json_t *o = json_object();
	uint8_t flags = attributes[0];

	put_bool(b, o, "init", flags & 0x01);
	put_bool(b, o, "debug", flags & 0x02);
	put_bool(b, o, "mode64", flags & 0x04);
	put_bool(b, o, "provisionkey", flags & 0x10);
	put_bool(b, o, "einittokenkey", flags & 0x20);
	put_bool(b, o, "kss", flags & 0x80);
	put_hex(b, o, "xfrm", attributes + 8, 8);
	return o;
}

static json_t *sgx_report_json(builder *b, const cocoon_sgx_report *r)
{
	json_t *o = json_object();

	put_hex(b, o, "cpu_svn", r->cpu_svn, sizeof(r->cpu_svn));
	put_int(b, o, "misc_select", r->misc_select);
	put_hex(b, o, "reserved1", r->reserved1, sizeof(r->reserved1));
	put_hex(b, o, "isv_ext_prod_id", r->isv_ext_prod_id, sizeof(r->isv_ext_prod_id));
	put_hex(b, o, "attributes", r->attributes, sizeof(r->attributes));
	put(b, o, "attributes_decoded", sgx_attributes_json(b, r->attributes));
	put_hex(b, o, "mr_enclave", r->mr_enclave, sizeof(r->mr_enclave));
	put_hex(b, o, "reserved2", r->reserved2, sizeof(r->reserved2));
	put_hex(b, o, "mr_signer", r->mr_signer, sizeof(r->mr_signer));
	put_hex(b, o, "reserved3", r->reserved3, sizeof(r->reserved3));
	put_hex(b, o, "config_id", r->config_id, sizeof(r->config_id));
	put_int(b, o, "isv_prod_id", r->isv_prod_id);
	put_int(b, o, "isv_svn", r->isv_svn);
	put_int(b, o, "config_svn", r->config_svn);
	put_hex(b, o, "reserved4", r->reserved4, sizeof(r->reserved4));
	put_hex(b, o, "isv_family_id", r->isv_family_id, sizeof(r->isv_family_id));
	put_hex(b, o, "report_data", r->report_data, sizeof(r->report_data));
	return o;
}

/* TDATTRIBUTES is a little-endian u64: bit n lives in byte n/8. */
static int td_bit(const uint8_t attributes[8], unsigned bit)
{
	return (attributes[bit / 8] >> (bit % 8)) & 1;
}

static json_t *td_report_json(builder *b, const cocoon_td_report *r, cocoon_body_type type)
{
	static const char *const rtmr_names[4] = { "rtmr0", "rtmr1", "rtmr2", "rtmr3" };
	json_t *o = json_object(), *attrs = json_object();

	put_hex(b, o, "tee_tcb_svn", r->tee_tcb_svn, sizeof(r->tee_tcb_svn));
	put_hex(b, o, "mr_seam", r->mr_seam, sizeof(r->mr_seam));
	put_hex(b, o, "mr_signer_seam", r->mr_signer_seam, sizeof(r->mr_signer_seam));
	put_hex(b, o, "seam_attributes", r->seam_attributes, sizeof(r->seam_attributes));
	put_hex(b, o, "td_attributes", r->td_attributes, sizeof(r->td_attributes));
	put_bool(b, attrs, "debug", td_bit(r->td_attributes, 0));
	put_bool(b, attrs, "sept_ve_disable", td_bit(r->td_attributes, 28));
	put_bool(b, attrs, "pks", td_bit(r->td_attributes, 30));
	put_bool(b, attrs, "kl", td_bit(r->td_attributes, 31));
	put(b, o, "td_attributes_decoded", attrs);
	put_hex(b, o, "xfam", r->xfam, sizeof(r->xfam));
	put_hex(b, o, "mr_td", r->mr_td, sizeof(r->mr_td));
	put_hex(b, o, "mr_config_id", r->mr_config_id, sizeof(r->mr_config_id));
	put_hex(b, o, "mr_owner", r->mr_owner, sizeof(r->mr_owner));
	put_hex(b, o, "mr_owner_config", r->mr_owner_config, sizeof(r->mr_owner_config));
	for (size_t i = 0; i < 4; i++)
		put_hex(b, o, rtmr_names[i], r->rtmr[i], sizeof(r->rtmr[i]));
	put_hex(b, o, "report_data", r->report_data, sizeof(r->report_data));
	if (type == COCOON_BODY_TD15) {
		put_hex(b, o, "tee_tcb_svn2", r->tee_tcb_svn2, sizeof(r->tee_tcb_svn2));
		put_hex(b, o, "mr_service_td", r->mr_service_td, sizeof(r->mr_service_td));
	}
	return o;
}

static json_t *header_json(builder *b, const cocoon_quote *q)
{
	const cocoon_quote_header *h = &q->header;
	json_t *o = json_object();
	int intel = memcmp(h->qe_vendor_id, cocoon_intel_qe_vendor_id, sizeof(h->qe_vendor_id)) == 0;

	put_int(b, o, "version", h->version);
	put_int(b, o, "att_key_type", h->att_key_type);
	put_int(b, o, "tee_type", h->tee_type);
	put_str(b, o, "tee", h->tee_type == COCOON_TEE_TYPE_TDX ? "tdx" : "sgx");
	if (h->version == 3) {
		put_int(b, o, "qe_svn", h->qe_svn);
		put_int(b, o, "pce_svn", h->pce_svn);
	} else {
		/* v4+ reserve the 4 bytes at offset 8 that v3 uses for the SVNs. */
		put_hex(b, o, "reserved", q->raw.ptr + 8, 4);
	}
	put_hex(b, o, "qe_vendor_id", h->qe_vendor_id, sizeof(h->qe_vendor_id));
	put_str(b, o, "qe_vendor", intel ? "intel" : "unknown");
	put_hex(b, o, "user_data", h->user_data, sizeof(h->user_data));
	return o;
}

static const char *body_type_name(cocoon_body_type t)
{
	switch (t) {
	case COCOON_BODY_SGX: return "sgx";
	case COCOON_BODY_TD10: return "td10";
	case COCOON_BODY_TD15: return "td15";
	default: return "unknown";
	}
}

static const char *cert_type_name(unsigned type)
{
	switch (type) {
	case 1: return "ppid_cleartext";
	case 2: return "ppid_rsa2048_encrypted";
	case 3: return "ppid_rsa3072_encrypted";
	case 4: return "pck_certificate";
	case 5: return "pck_certificate_chain";
	case 6: return "qe_report_certification_data";
	case 7: return "platform_manifest";
	default: return "unknown";
	}
}

/*
 * PEM text as a quote carries it: printable ASCII and line breaks, then
 * optionally NUL padding (real quotes end the chain with one NUL). Sets
 * *text_len to the length before the padding.
 */
static int is_pem_text(const uint8_t *p, size_t n, size_t *text_len)
{
	size_t i = 0;

	for (; i < n && p[i] != '\0'; i++) {
		if (p[i] != '\n' && p[i] != '\r' && p[i] != '\t' && (p[i] < 0x20 || p[i] >= 0x7f))
			return 0;
	}
	*text_len = i;
	return i > 0 && cocoon_is_zero(p + i, n - i);
}

static json_t *bio_text(BIO *bio)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);

	if (n < 0 || !data)
		return NULL;
	return safe_text(data, (size_t)n);
}

static json_t *name_json(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	json_t *s = NULL;

	if (bio && X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV) >= 0)
		s = bio_text(bio);
	BIO_free(bio);
	return s;
}

static json_t *serial_json(const ASN1_INTEGER *serial)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	json_t *s = NULL;

	if (hex) {
		for (char *c = hex; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		s = json_string(hex);
	}
	OPENSSL_free(hex);
	BN_free(bn);
	return s;
}

static json_t *time_json(const ASN1_TIME *t)
{
	struct tm tm;
	char buf[32];

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return json_string("invalid");
	if (strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_string("invalid");
	return json_string(buf);
}

static json_t *certificate_json(builder *b, X509 *x)
{
	json_t *o = json_object();

	put(b, o, "subject", name_json(X509_get_subject_name(x)));
	put(b, o, "issuer", name_json(X509_get_issuer_name(x)));
	put(b, o, "serial", serial_json(X509_get0_serialNumber(x)));
	put(b, o, "notBefore", time_json(X509_get0_notBefore(x)));
	put(b, o, "notAfter", time_json(X509_get0_notAfter(x)));
	return o;
}

/* Decodes each PEM certificate in order; a bad block is reported, not fatal. */
static void certificates_json(builder *b, json_t *parent, const uint8_t *pem, size_t len)
{
	json_t *list = json_array();
	BIO *bio = NULL;
	X509 *x = NULL;
	unsigned long e;

	if (len > INT_MAX) {
		put_str(b, parent, "certificates_error", "certification data too large to decode");
		goto done;
	}
	ERR_clear_error();
	if (!(bio = BIO_new_mem_buf(pem, (int)len))) {
		b->failed = 1;
		goto done;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		append(b, list, certificate_json(b, x));
		X509_free(x);
	}
	/* The loop ends with "no start line" at the end of the text; anything else is a bad block. */
	e = ERR_peek_last_error();
	if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		char reason[256];
		ERR_error_string_n(e, reason, sizeof(reason));
		put(b, parent, "certificates_error", safe_text(reason, strlen(reason)));
	}
done:
	ERR_clear_error();
	put(b, parent, "certificates", list);
	BIO_free(bio);
}

/* Types 1..3: PPID (plain or RSA-OAEP encrypted) | CPUSVN | PCESVN | PCEID. */
static void ppid_json(builder *b, json_t *o, unsigned type, const uint8_t *p, size_t n)
{
	size_t ppid_len = type == 1 ? 16 : type == 2 ? 256 : 384;

	if (n != ppid_len + 16 + 2 + 2)
		return;
	put_hex(b, o, type == 1 ? "ppid" : "encrypted_ppid", p, ppid_len);
	put_hex(b, o, "cpu_svn", p + ppid_len, 16);
	put_int(b, o, "pce_svn", cocoon_le16(p + ppid_len + 16));
	put_hex(b, o, "pce_id", p + ppid_len + 18, 2);
}

static json_t *cert_data_json(builder *b, const cocoon_quote *q)
{
	json_t *o = json_object();
	const uint8_t *p = q->cert_data.ptr;
	size_t n = q->cert_data.len, text_len = 0;

	put_int(b, o, "type", q->cert_type);
	put_str(b, o, "type_name", cert_type_name(q->cert_type));
	put_int(b, o, "size", (json_int_t)n);
	if ((q->cert_type == 4 || q->cert_type == COCOON_CERT_TYPE_PCK_CHAIN) && is_pem_text(p, n, &text_len)) {
		put(b, o, "pem", safe_text((const char *)p, text_len));
		certificates_json(b, o, p, text_len);
		return o;
	}
	put_hex(b, o, "hex", p, n);
	if (q->cert_type >= 1 && q->cert_type <= 3)
		ppid_json(b, o, q->cert_type, p, n);
	return o;
}

static json_t *signature_data_json(builder *b, const cocoon_quote *q)
{
	json_t *o = json_object();

	put_int(b, o, "sig_data_len", q->sig_data_len);
	put_hex(b, o, "signature", q->signature, sizeof(q->signature));
	put_hex(b, o, "attest_key", q->attest_key, sizeof(q->attest_key));
	if (q->header.version != 3) {
		put_int(b, o, "outer_cert_type", q->outer_cert_type);
		put_str(b, o, "outer_cert_type_name", cert_type_name(q->outer_cert_type));
		put_int(b, o, "outer_cert_len", q->outer_cert_len);
	}
	put(b, o, "qe_report", sgx_report_json(b, &q->qe_report));
	put_hex(b, o, "qe_report_sig", q->qe_report_sig, sizeof(q->qe_report_sig));
	put_int(b, o, "qe_auth_data_len", (json_int_t)q->qe_auth_data.len);
	put_hex(b, o, "qe_auth_data", q->qe_auth_data.ptr, q->qe_auth_data.len);
	put_int(b, o, "cert_type", q->cert_type);
	put_int(b, o, "cert_len", (json_int_t)q->cert_data.len);
	put(b, o, "cert_data", cert_data_json(b, q));
	return o;
}

/* Parses the quote and builds the inspect tree (caller decrefs). */
static int quote_tree(json_t **out, const uint8_t *quote, size_t quote_len)
{
	cocoon_quote q;
	cocoon_failure f = { COCOON_CHECK_NONE, "" };
	builder b = { 0 };
	json_t *root = NULL;
	int err;

	*out = NULL;
	if (!quote && quote_len) {
		err = cocoon_error_set(COCOON_EINVAL, "quote inspect: quote is NULL");
		goto done;
	}
	if ((err = cocoon_quote_parse(&q, &f, quote, quote_len)) != 0) {
		if (err == COCOON_EREJECT)
			err = cocoon_error_set(COCOON_EFORMAT, "quote does not parse (%s): %s",
			                       cocoon_check_name(f.check), f.reason);
		goto done;
	}
	root = json_object();
	put(&b, root, "header", header_json(&b, &q));
	put_str(&b, root, "body_type", body_type_name(q.body_type));
	put_int(&b, root, "body_size", q.body_size);
	if (q.body_type == COCOON_BODY_SGX)
		put(&b, root, "body", sgx_report_json(&b, &q.sgx));
	else
		put(&b, root, "body", td_report_json(&b, &q.td, q.body_type));
	put(&b, root, "signature_data", signature_data_json(&b, &q));
	put_int(&b, root, "trailing_bytes", (json_int_t)q.trailing);
	if (!root || b.failed) {
		err = cocoon_error_set(COCOON_ENOMEM, "quote inspect: out of memory building the JSON decoding");
		goto done;
	}
	*out = root;
	root = NULL;
done:
	json_decref(root);
	return err;
}

int cocoon_quote_inspect_json(char **out, const uint8_t *quote, size_t quote_len)
{
	json_t *root = NULL;
	int err;

	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_quote_inspect_json: out is NULL");
	*out = NULL;
	if ((err = quote_tree(&root, quote, quote_len)) != 0)
		goto done;
	if (!(*out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		err = cocoon_error_set(COCOON_ENOMEM, "quote inspect: out of memory serializing JSON");
done:
	json_decref(root);
	return err;
}

static int render_object(cocoon_buf *out, const json_t *obj, int indent);

static int render_scalar(cocoon_buf *out, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING: return cocoon_buf_append(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER: return cocoon_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_TRUE: return cocoon_buf_printf(out, "true");
	case JSON_FALSE: return cocoon_buf_printf(out, "false");
	default: return cocoon_buf_printf(out, "null");
	}
}

/* Multi-line strings (PEM) become an indented block under their name. */
static int render_block(cocoon_buf *out, const char *key, const json_t *v, int indent)
{
	const char *s = json_string_value(v), *end = s + json_string_length(v);
	int err;

	if ((err = cocoon_buf_printf(out, "%*s%s:\n", indent, "", key)) != 0)
		return err;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if ((err = cocoon_buf_printf(out, "%*s%.*s\n", indent + 2, "", (int)n, s)) != 0)
			return err;
		s += n + (nl ? 1 : 0);
	}
	return 0;
}

static int is_block(const json_t *v)
{
	return json_is_string(v) && memchr(json_string_value(v), '\n', json_string_length(v));
}

static int render_line_start(cocoon_buf *out, const char *key, int indent, int width)
{
	return cocoon_buf_printf(out, "%*s%s:%*s ", indent, "", key, width - (int)strlen(key), "");
}

static int render_member(cocoon_buf *out, const char *key, const json_t *v, int indent, int width)
{
	int err;

	if (json_is_object(v)) {
		if ((err = cocoon_buf_printf(out, "%*s%s:\n", indent, "", key)) != 0)
			return err;
		return render_object(out, v, indent + 2);
	}
	if (json_is_array(v)) {
		if (json_array_size(v) == 0) {
			if ((err = render_line_start(out, key, indent, width)) != 0)
				return err;
			return cocoon_buf_printf(out, "(none)\n");
		}
		for (size_t i = 0; i < json_array_size(v); i++) {
			char name[160];
			snprintf(name, sizeof(name), "%s[%zu]", key, i);
			if ((err = render_member(out, name, json_array_get(v, i), indent, width)) != 0)
				return err;
		}
		return 0;
	}
	if (is_block(v))
		return render_block(out, key, v, indent);
	if ((err = render_line_start(out, key, indent, width)) != 0)
		return err;
	if ((err = render_scalar(out, v)) != 0)
		return err;
	return cocoon_buf_append(out, "\n", 1);
}

/* Widest one-line name among an object's members, counting "[i]" suffixes. */
static int name_width(const json_t *obj)
{
	const char *key;
	const json_t *v;
	int width = 0;

	json_object_foreach((json_t *)obj, key, v) {
		int w = (int)strlen(key);
		if (json_is_object(v) || is_block(v))
			continue;
		if (json_is_array(v) && json_array_size(v) > 0) {
			char suffix[32];
			w += snprintf(suffix, sizeof(suffix), "[%zu]", json_array_size(v) - 1);
		}
		if (w > width)
			width = w;
	}
	return width;
}

static int render_object(cocoon_buf *out, const json_t *obj, int indent)
{
	const char *key;
	const json_t *v;
	int width = name_width(obj), err = 0;

	json_object_foreach((json_t *)obj, key, v) {
		if ((err = render_member(out, key, v, indent, width)) != 0)
			break;
	}
	return err;
}

int cocoon_quote_inspect_text(char **out, const uint8_t *quote, size_t quote_len)
{
	cocoon_buf buf = { 0 };
	json_t *root = NULL;
	const json_t *header;
	int err;

	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_quote_inspect_text: out is NULL");
	*out = NULL;
	if ((err = quote_tree(&root, quote, quote_len)) != 0)
		goto done;
	header = json_object_get(root, "header");
	if ((err = cocoon_buf_printf(&buf, "Intel DCAP quote v%" JSON_INTEGER_FORMAT " (%s, %s body)\n\n",
	                             json_integer_value(json_object_get(header, "version")),
	                             json_string_value(json_object_get(header, "tee")),
	                             json_string_value(json_object_get(root, "body_type")))) != 0)
		goto done;
	if ((err = render_object(&buf, root, 0)) != 0)
		goto done;
	*out = (char *)buf.data;
	buf.data = NULL;
done:
	cocoon_buf_free(&buf);
	json_decref(root);
	return err;
}
