/*
 * The evidence JSON of guest-components' az-snp-vtpm and az-tdx-vtpm
 * attesters, in the three layouts Trustee reads (deps/verifier/src/
 * az_*_vtpm/compat.rs): v0 without a "version" key (byte strings as JSON
 * arrays of integers, the VCEK as PEM), v1 and v2 (base64url with padding
 * for the HCL report, the VCEK (DER) and the TD quote; hex for the TPM
 * quote). A "version" other than 1 or 2 is rejected rather than read as v0.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cocoon/token.h"
#include "vtpm/vtpm_int.h"

typedef enum { ENC_ARRAY, ENC_HEX, ENC_B64URL, ENC_TEXT } encoding;

static const char *enc_name(encoding e)
{
	return e == ENC_ARRAY ? "an array of integers 0..255"
	       : e == ENC_HEX ? "a hex string"
	       : e == ENC_B64URL ? "a base64url string"
	                         : "a string";
}

/* Decodes one byte string; the error names the key. */
static int get_bytes(uint8_t **out, size_t *len, json_t *v, encoding enc, size_t max, const char *key)
{
	const char *s = json_string_value(v);
	size_t n;

	*out = NULL;
	*len = 0;
	if (enc == ENC_ARRAY) {
		json_t *x;
		size_t i;
		if (!json_is_array(v))
			return cocoon_error_set(COCOON_EFORMAT, "evidence: \"%s\" is not %s", key, enc_name(enc));
		n = json_array_size(v);
		if (n == 0 || n > max)
			return cocoon_error_set(COCOON_EFORMAT, "evidence: \"%s\" has %zu bytes, expected 1..%zu", key, n,
			                        max);
		if (!(*out = malloc(n)))
			return cocoon_error_set(COCOON_ENOMEM, "evidence: out of memory");
		json_array_foreach(v, i, x) {
			json_int_t b = json_integer_value(x);
			if (!json_is_integer(x) || b < 0 || b > 255) {
				free(*out);
				*out = NULL;
				return cocoon_error_set(COCOON_EFORMAT, "evidence: \"%s\"[%zu] is not an integer 0..255",
				                        key, i);
			}
			(*out)[i] = (uint8_t)b;
		}
		*len = n;
		return 0;
	}
	if (!s)
		return cocoon_error_set(COCOON_EFORMAT, "evidence: \"%s\" is not %s", key, enc_name(enc));
	n = json_string_length(v);
	if (enc == ENC_TEXT) {
		if (n == 0 || n > max || !(*out = (uint8_t *)strndup(s, n)))
			return cocoon_error_set(n == 0 || n > max ? COCOON_EFORMAT : COCOON_ENOMEM,
			                        "evidence: \"%s\" is empty, too long or out of memory", key);
		*len = n;
		return 0;
	}
	if (enc == ENC_HEX) {
		if (n == 0 || n / 2 > max || cocoon_hex_decode_alloc(out, len, s, n) != 0)
			return cocoon_error_set(COCOON_EFORMAT, "evidence: \"%s\" is not hex of 1..%zu bytes", key, max);
		return 0;
	}
	if (n == 0 || n / 4 * 3 > max + 3 || cocoon_b64_decode(out, len, s, n) != 0 || *len == 0 || *len > max) {
		free(*out);
		*out = NULL;
		*len = 0;
		return cocoon_error_set(COCOON_EFORMAT, "evidence: \"%s\" is not base64url of 1..%zu bytes", key, max);
	}
	return 0;
}

static int get_pcrs(cocoon_vtpm_evidence *e, json_t *pcrs, encoding enc)
{
	json_t *p;
	size_t i;

	if (!json_is_array(pcrs) || json_array_size(pcrs) == 0 || json_array_size(pcrs) > COCOON_VTPM_MAX_PCRS)
		return cocoon_error_set(COCOON_EFORMAT, "evidence: \"pcrs\" is not an array of 1..%d PCR values",
		                        COCOON_VTPM_MAX_PCRS);
	json_array_foreach(pcrs, i, p) {
		uint8_t *v = NULL;
		size_t n = 0;
		int err;
		if ((err = get_bytes(&v, &n, p, enc, 64, "pcrs[]")) != 0)
			return err;
		if (n != 32) {
			free(v);
			return cocoon_error_set(COCOON_EFORMAT, "evidence: pcrs[%zu] is %zu bytes, expected 32 (SHA-256)", i,
			                        n);
		}
		memcpy(e->pcrs[i], v, 32);
		free(v);
	}
	e->n_pcrs = json_array_size(pcrs);
	return 0;
}

static int get_quote(cocoon_vtpm_evidence *e, json_t *q, encoding enc, const char *key)
{
	int err;

	if (!json_is_object(q))
		return cocoon_error_set(COCOON_EFORMAT, "evidence: \"%s\" is missing or not an object", key);
	if ((err = get_bytes(&e->quote_sig, &e->quote_sig_len, json_object_get(q, "signature"), enc,
	                     VTPM_MAX_QUOTE_SIG, "signature")) != 0 ||
	    (err = get_bytes(&e->quote_msg, &e->quote_msg_len, json_object_get(q, "message"), enc, VTPM_MAX_QUOTE_MSG,
	                     "message")) != 0)
		return err;
	return get_pcrs(e, json_object_get(q, "pcrs"), enc);
}

static int parse_snp(cocoon_vtpm_evidence *e, json_t *root)
{
	int v0 = e->version == 0, err;

	if ((err = get_quote(e, json_object_get(root, v0 ? "quote" : "tpm_quote"), v0 ? ENC_ARRAY : ENC_HEX,
	                     v0 ? "quote" : "tpm_quote")) != 0 ||
	    (err = get_bytes(&e->hcl_report, &e->hcl_report_len, json_object_get(root, v0 ? "report" : "hcl_report"),
	                     v0 ? ENC_ARRAY : ENC_B64URL, VTPM_MAX_HCL_REPORT, v0 ? "report" : "hcl_report")) != 0)
		return err;
	return get_bytes(&e->vcek, &e->vcek_len, json_object_get(root, "vcek"), v0 ? ENC_TEXT : ENC_B64URL,
	                 VTPM_MAX_CERT, "vcek");
}

static int parse_tdx(cocoon_vtpm_evidence *e, json_t *root)
{
	encoding bin = e->version == 0 ? ENC_ARRAY : ENC_B64URL;
	int err;

	if ((err = get_quote(e, json_object_get(root, "tpm_quote"), e->version == 0 ? ENC_ARRAY : ENC_HEX,
	                     "tpm_quote")) != 0 ||
	    (err = get_bytes(&e->hcl_report, &e->hcl_report_len, json_object_get(root, "hcl_report"), bin,
	                     VTPM_MAX_HCL_REPORT, "hcl_report")) != 0)
		return err;
	return get_bytes(&e->td_quote, &e->td_quote_len, json_object_get(root, "td_quote"), bin, VTPM_MAX_TD_QUOTE,
	                 "td_quote");
}

int cocoon_vtpm_evidence_parse(cocoon_vtpm_evidence **out, cocoon_vtpm_format format, const char *json, size_t len)
{
	cocoon_vtpm_evidence *e = NULL;
	json_error_t jerr;
	json_t *root = NULL, *ver;
	int err;

	if (!out || (!json && len))
		return cocoon_error_set(COCOON_EINVAL, "cocoon_vtpm_evidence_parse: NULL argument");
	*out = NULL;
	if (format != COCOON_VTPM_FORMAT_AZ_SNP && format != COCOON_VTPM_FORMAT_AZ_TDX)
		return cocoon_error_set(COCOON_EINVAL, "vTPM evidence format %d is not az-snp-vtpm or az-tdx-vtpm",
		                        (int)format);
	root = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		err = cocoon_error_set(COCOON_EFORMAT, "%s evidence is not a JSON object%s%s",
		                       cocoon_vtpm_format_name(format), root ? "" : ": ", root ? "" : jerr.text);
		goto done;
	}
	if (!(e = calloc(1, sizeof(*e)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "evidence: out of memory");
		goto done;
	}
	e->format = format;
	if ((ver = json_object_get(root, "version")) != NULL) {
		json_int_t n = json_integer_value(ver);
		if (!json_is_integer(ver) || (n != 1 && n != 2)) {
			err = cocoon_error_set(COCOON_EFORMAT,
			                       "evidence: \"version\" must be 1 or 2 (v0 evidence has no version key)");
			goto done;
		}
		e->version = (int)n;
	}
	err = format == COCOON_VTPM_FORMAT_AZ_SNP ? parse_snp(e, root) : parse_tdx(e, root);
	if (err == 0) {
		*out = e;
		e = NULL;
	}
done:
	cocoon_vtpm_evidence_free(e);
	json_decref(root);
	return err;
}

void cocoon_vtpm_evidence_free(cocoon_vtpm_evidence *e)
{
	if (!e)
		return;
	free(e->hcl_report);
	free(e->quote_msg);
	free(e->quote_sig);
	free(e->vcek);
	free(e->td_quote);
	free(e);
}

const char *cocoon_vtpm_format_name(cocoon_vtpm_format f)
{
	return f == COCOON_VTPM_FORMAT_AZ_SNP ? "az-snp-vtpm" : f == COCOON_VTPM_FORMAT_AZ_TDX ? "az-tdx-vtpm" : "unknown";
}

int cocoon_vtpm_format_parse(cocoon_vtpm_format *out, const char *name)
{
	if (!out || !name)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_vtpm_format_parse: NULL argument");
	if (strcmp(name, "az-snp-vtpm") == 0)
		*out = COCOON_VTPM_FORMAT_AZ_SNP;
	else if (strcmp(name, "az-tdx-vtpm") == 0)
		*out = COCOON_VTPM_FORMAT_AZ_TDX;
	else
		return cocoon_error_set(COCOON_EINVAL, "format \"%s\": expected az-snp-vtpm or az-tdx-vtpm", name);
	return 0;
}

/* base64url keeping the '=' padding (serde_with Base64<UrlSafe>). */
static json_t *b64url_padded(const uint8_t *p, size_t n)
{
	char *s = NULL;
	json_t *v;

	if (cocoon_base64_encode(&s, p, n) != 0)
		return NULL;
	for (char *c = s; *c; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
	v = json_string(s);
	free(s);
	return v;
}

static json_t *hex_string(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	json_t *v;

	if (!s)
		return NULL;
	cocoon_hex_encode(s, p, n);
	v = json_string(s);
	free(s);
	return v;
}

static void put(int *bad, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = 1;
}

int cocoon_vtpm_evidence_to_json(char **out, const cocoon_vtpm_evidence *e)
{
	json_t *root = json_object(), *q = json_object(), *pcrs = json_array();
	int bad = !root || !q || !pcrs, err = 0;

	if (!out || !e)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_vtpm_evidence_to_json: NULL argument");
	*out = NULL;
	for (size_t i = 0; !bad && i < e->n_pcrs; i++)
		if (json_array_append_new(pcrs, hex_string(e->pcrs[i], 32)) < 0)
			bad = 1;
	put(&bad, q, "signature", hex_string(e->quote_sig, e->quote_sig_len));
	put(&bad, q, "message", hex_string(e->quote_msg, e->quote_msg_len));
	put(&bad, q, "pcrs", pcrs);
	pcrs = NULL;
	put(&bad, root, "version", json_integer(2));
	put(&bad, root, "tpm_quote", q);
	q = NULL;
	put(&bad, root, "hcl_report", b64url_padded(e->hcl_report, e->hcl_report_len));
	if (e->format == COCOON_VTPM_FORMAT_AZ_SNP)
		put(&bad, root, "vcek", b64url_padded(e->vcek, e->vcek_len));
	else
		put(&bad, root, "td_quote", b64url_padded(e->td_quote, e->td_quote_len));
	if (bad)
		err = cocoon_error_set(COCOON_ENOMEM, "evidence JSON: out of memory");
	else if (!(*out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		err = cocoon_error_set(COCOON_ENOMEM, "evidence JSON: out of memory");
	json_decref(root);
	json_decref(q);
	json_decref(pcrs);
	return err;
}
