/*
 * `cocoon inspect` for SEV-SNP reports: every field decoded, also for a
 * report whose reserved fields are wrong (the format verdict is reported
 * alongside). Nothing here is verified: the values are the report's claims.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "snp/snp.h"

static void set(int *bad, json_t *o, const char *key, json_t *v)
{
	if (!v || json_object_set_new(o, key, v) != 0)
		*bad = 1;
}

static void set_hex(int *bad, json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];
	cocoon_hex_encode(buf, p, n);
	set(bad, o, key, json_string(buf));
}

static const char *signing_key_name(int k)
{
	switch (k) {
	case COCOON_SNP_SIGNER_VCEK: return "vcek";
	case COCOON_SNP_SIGNER_VLEK: return "vlek";
	case COCOON_SNP_SIGNER_NONE: return "none";
	default: return "reserved";
	}
}

/* R or S as the usual big-endian scalar (the report stores them little-endian). */
static void scalar_hex(char out[2 * SNP_P384_BYTES + 1], const uint8_t *le)
{
	uint8_t be[SNP_P384_BYTES];
	for (size_t i = 0; i < SNP_P384_BYTES; i++)
		be[i] = le[SNP_P384_BYTES - 1 - i];
	cocoon_hex_encode(out, be, SNP_P384_BYTES);
}

/* Decodes and judges the format; *p is the product line the CPUID names (v3+). */
static int load(cocoon_snp_report *r, cocoon_failure *f, cocoon_snp_product *p, const uint8_t *buf, size_t len)
{
	int err;

	memset(f, 0, sizeof(*f));
	if ((err = cocoon_snp_report_decode(r, buf, len)) != 0)
		return err;
	if (cocoon_snp_report_parse(r, f, buf, len) != 0 && f->check == COCOON_CHECK_NONE)
		return cocoon_error_last()->code;
	*p = r->has_cpuid ? cocoon_snp_product_from_cpuid(r->cpuid_fam_id, r->cpuid_mod_id)
	                  : COCOON_SNP_PRODUCT_UNKNOWN;
	return 0;
}

int cocoon_snp_report_inspect_json(char **out, const uint8_t *buf, size_t len)
{
	cocoon_snp_report r;
	cocoon_failure f;
	cocoon_snp_product p = COCOON_SNP_PRODUCT_UNKNOWN;
	json_t *o = NULL, *x;
	char hex[2 * SNP_P384_BYTES + 1], word[19];
	int err, bad = 0;

	if (!out || !buf)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_snp_report_inspect_json: NULL argument");
	*out = NULL;
	if ((err = load(&r, &f, &p, buf, len)) != 0)
		return err;
	if (!(o = json_object()))
		return cocoon_error_set(COCOON_ENOMEM, "out of memory decoding an SNP report");
	set(&bad, o, "tee", json_string("snp"));
	set(&bad, o, "size", json_integer((json_int_t)len));
	set(&bad, o, "format_valid", json_boolean(f.check == COCOON_CHECK_NONE));
	if (f.check != COCOON_CHECK_NONE)
		set(&bad, o, "format_error", json_string(f.reason));
	set(&bad, o, "version", json_integer(r.version));
	set(&bad, o, "guest_svn", json_integer(r.guest_svn));
	set(&bad, o, "policy", cocoon_snp_policy_json(r.policy));
	set_hex(&bad, o, "family_id", r.family_id, 16);
	set_hex(&bad, o, "image_id", r.image_id, 16);
	set(&bad, o, "vmpl", json_integer(r.vmpl));
	set(&bad, o, "signature_algo", json_integer(r.sig_algo));
	/* TCB layouts differ by product; a v2 report does not say which it is. */
	set(&bad, o, "product", p ? json_string(cocoon_snp_product_name(p)) : json_null());
	set(&bad, o, "tcb_layout", json_string(p == COCOON_SNP_PRODUCT_TURIN ? "turin" : "milan_genoa"));
	set(&bad, o, "current_tcb", cocoon_snp_tcb_json(r.current_tcb, p));
	set(&bad, o, "platform_info", cocoon_snp_platform_info_json(r.platform_info));
	if ((x = json_object()) != NULL) {
		snprintf(word, sizeof(word), "0x%08" PRIx32, r.signer_info);
		set(&bad, x, "raw", json_string(word));
		set(&bad, x, "author_key_en", json_boolean(r.author_key_en));
		set(&bad, x, "mask_chip_key", json_boolean(r.mask_chip_key));
		set(&bad, x, "signing_key", json_string(signing_key_name(r.signing_key)));
	}
	set(&bad, o, "signer_info", x);
	set_hex(&bad, o, "report_data", r.report_data, 64);
	set_hex(&bad, o, "measurement", r.measurement, 48);
	set_hex(&bad, o, "host_data", r.host_data, 32);
	set_hex(&bad, o, "id_key_digest", r.id_key_digest, 48);
	set_hex(&bad, o, "author_key_digest", r.author_key_digest, 48);
	set_hex(&bad, o, "report_id", r.report_id, 32);
	set_hex(&bad, o, "report_id_ma", r.report_id_ma, 32);
	set(&bad, o, "reported_tcb", cocoon_snp_tcb_json(r.reported_tcb, p));
	if (r.has_cpuid && (x = json_object()) != NULL) {
		set(&bad, x, "family", json_integer(r.cpuid_fam_id));
		set(&bad, x, "model", json_integer(r.cpuid_mod_id));
		set(&bad, x, "stepping", json_integer(r.cpuid_step));
		set(&bad, o, "cpuid", x);
	} else if (r.has_cpuid) {
		bad = 1;
	}
	set_hex(&bad, o, "chip_id", r.chip_id, 64);
	set(&bad, o, "committed_tcb", cocoon_snp_tcb_json(r.committed_tcb, p));
	if ((x = json_object()) != NULL) {
		set(&bad, x, "major", json_integer(r.current_major));
		set(&bad, x, "minor", json_integer(r.current_minor));
		set(&bad, x, "build", json_integer(r.current_build));
	}
	set(&bad, o, "current_firmware", x);
	if ((x = json_object()) != NULL) {
		set(&bad, x, "major", json_integer(r.committed_major));
		set(&bad, x, "minor", json_integer(r.committed_minor));
		set(&bad, x, "build", json_integer(r.committed_build));
	}
	set(&bad, o, "committed_firmware", x);
	set(&bad, o, "launch_tcb", cocoon_snp_tcb_json(r.launch_tcb, p));
	if (r.has_mit_vectors) {
		snprintf(word, sizeof(word), "0x%016" PRIx64, r.launch_mit_vector);
		set(&bad, o, "launch_mit_vector", json_string(word));
		snprintf(word, sizeof(word), "0x%016" PRIx64, r.current_mit_vector);
		set(&bad, o, "current_mit_vector", json_string(word));
	}
	if ((x = json_object()) != NULL) {
		scalar_hex(hex, r.sig_r);
		set(&bad, x, "r", json_string(hex));
		scalar_hex(hex, r.sig_s);
		set(&bad, x, "s", json_string(hex));
	}
	set(&bad, o, "signature", x);
	if (!bad && !(*out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		bad = 1;
	json_decref(o);
	if (bad)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory decoding an SNP report");
	return 0;
}

/* Text output that remembers a failed append instead of checking each line. */
typedef struct {
	cocoon_buf b;
	int failed;
} text;

static void tp(text *t, const char *fmt, ...) COCOON_PRINTF(2, 3);
static void tp(text *t, const char *fmt, ...)
{
	char line[1280];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Lines are short; a truncated one would be a bug, so fail loudly. */
	if (n < 0 || (size_t)n >= sizeof(line) || cocoon_buf_append(&t->b, line, (size_t)n) != 0)
		t->failed = 1;
}

static void text_hex(text *t, const char *name, const uint8_t *p, size_t n)
{
	char hex[2 * 64 + 1];
	cocoon_hex_encode(hex, p, n);
	tp(t, "  %-20s %s\n", name, hex);
}

static void text_tcb(text *t, const char *name, uint64_t raw, cocoon_snp_product p)
{
	char parts[96];
	cocoon_snp_tcb_format(parts, sizeof(parts), raw, p);
	tp(t, "  %-20s 0x%016" PRIx64 " (%s)\n", name, raw, parts);
}

static void text_flags(text *t, uint64_t v, const char *const names[], size_t n)
{
	int any = 0;
	for (size_t i = 0; i < n; i++) {
		if (names[i] && (v & (1ull << i))) {
			tp(t, "%s%s", any ? ", " : " (", names[i]);
			any = 1;
		}
	}
	tp(t, "%s\n", any ? ")" : "");
}

int cocoon_snp_report_inspect_text(char **out, const uint8_t *buf, size_t len)
{
	static const char *const policy_bits[26] = {
		[16] = "SMT", [17] = "reserved-1", [18] = "MIGRATE_MA", [19] = "DEBUG", [20] = "SINGLE_SOCKET",
		[21] = "CXL_ALLOW", [22] = "MEM_AES_256_XTS", [23] = "RAPL_DIS", [24] = "CIPHERTEXT_HIDING_DRAM",
		[25] = "PAGE_SWAP_DISABLE",
	};
	static const char *const platform_bits[8] = {
		"SMT_EN", "TSME_EN", "ECC_EN", "RAPL_DIS", "CIPHERTEXT_HIDING_DRAM_EN", "ALIAS_CHECK_COMPLETE", NULL,
		"TIO_EN",
	};
	cocoon_snp_report r;
	cocoon_failure f;
	cocoon_snp_product p = COCOON_SNP_PRODUCT_UNKNOWN;
	text t = { { 0 }, 0 };
	char hex[2 * SNP_P384_BYTES + 1];
	int err;

	if (!out || !buf)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_snp_report_inspect_text: NULL argument");
	*out = NULL;
	if ((err = load(&r, &f, &p, buf, len)) != 0)
		return err;
	tp(&t, "AMD SEV-SNP attestation report, %zu bytes (unverified)\n", len);
	if (f.check == COCOON_CHECK_NONE)
		tp(&t, "  %-20s valid\n", "format");
	else
		tp(&t, "  %-20s INVALID: %s\n", "format", f.reason);
	tp(&t, "  %-20s %u\n", "version", r.version);
	tp(&t, "  %-20s %s%s\n", "product", p ? cocoon_snp_product_name(p) : "unknown",
	                  r.has_cpuid ? "" : " (v2 reports carry no CPUID; TCBs decoded as Milan/Genoa)");
	tp(&t, "  %-20s %u\n", "guest_svn", r.guest_svn);
	tp(&t, "  %-20s 0x%016" PRIx64 " ABI %u.%u", "policy", r.policy,
	                  (unsigned)((r.policy >> 8) & 0xff), (unsigned)(r.policy & 0xff));
	text_flags(&t, r.policy, policy_bits, 26);
	text_hex(&t, "family_id", r.family_id, 16);
	text_hex(&t, "image_id", r.image_id, 16);
	tp(&t, "  %-20s %u\n", "vmpl", r.vmpl);
	tp(&t, "  %-20s %u%s\n", "signature_algo", r.sig_algo,
	                  r.sig_algo == 1 ? " (ECDSA P-384 with SHA-384)" : " (unknown)");
	text_tcb(&t, "current_tcb", r.current_tcb, p);
	tp(&t, "  %-20s 0x%016" PRIx64, "platform_info", r.platform_info);
	text_flags(&t, r.platform_info, platform_bits, 8);
	tp(&t, "  %-20s 0x%08" PRIx32 " (signing key %s%s%s)\n", "signer_info", r.signer_info,
	                  signing_key_name(r.signing_key), r.mask_chip_key ? ", MASK_CHIP_KEY" : "",
	                  r.author_key_en ? ", AUTHOR_KEY_EN" : "");
	text_hex(&t, "report_data", r.report_data, 64);
	text_hex(&t, "measurement", r.measurement, 48);
	text_hex(&t, "host_data", r.host_data, 32);
	text_hex(&t, "id_key_digest", r.id_key_digest, 48);
	text_hex(&t, "author_key_digest", r.author_key_digest, 48);
	text_hex(&t, "report_id", r.report_id, 32);
	text_hex(&t, "report_id_ma", r.report_id_ma, 32);
	text_tcb(&t, "reported_tcb", r.reported_tcb, p);
	if (r.has_cpuid)
		tp(&t, "  %-20s family 0x%02x model 0x%02x stepping %u\n", "cpuid", r.cpuid_fam_id,
		                  r.cpuid_mod_id, r.cpuid_step);
	text_hex(&t, "chip_id", r.chip_id, 64);
	text_tcb(&t, "committed_tcb", r.committed_tcb, p);
	tp(&t, "  %-20s %u.%u build %u\n", "current_firmware", r.current_major, r.current_minor,
	                  r.current_build);
	tp(&t, "  %-20s %u.%u build %u\n", "committed_firmware", r.committed_major, r.committed_minor,
	                  r.committed_build);
	text_tcb(&t, "launch_tcb", r.launch_tcb, p);
	if (r.has_mit_vectors) {
		tp(&t, "  %-20s 0x%016" PRIx64 "\n", "launch_mit_vector", r.launch_mit_vector);
		tp(&t, "  %-20s 0x%016" PRIx64 "\n", "current_mit_vector", r.current_mit_vector);
	}
	scalar_hex(hex, r.sig_r);
	tp(&t, "  %-20s %s\n", "signature_r", hex);
	scalar_hex(hex, r.sig_s);
	tp(&t, "  %-20s %s\n", "signature_s", hex);
	if (t.failed || !t.b.data) {
		cocoon_buf_free(&t.b);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory decoding an SNP report");
	}
	*out = (char *)t.b.data;
	return 0;
}
