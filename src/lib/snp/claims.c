/* SEV-SNP claims: filled from a parsed report, serialized for the result JSON. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "snp/snp.h"

void cocoon_snp_claims_fill(cocoon_snp_claims *c, const cocoon_snp_report *r, cocoon_snp_product p)
{
	memset(c, 0, sizeof(*c));
	c->version = r->version;
	memcpy(c->measurement, r->measurement, sizeof(c->measurement));
	memcpy(c->host_data, r->host_data, sizeof(c->host_data));
	memcpy(c->report_data, r->report_data, sizeof(c->report_data));
	c->policy = r->policy;
	c->vmpl = r->vmpl;
	c->guest_svn = r->guest_svn;
	memcpy(c->family_id, r->family_id, sizeof(c->family_id));
	memcpy(c->image_id, r->image_id, sizeof(c->image_id));
	c->chip_id_masked = r->mask_chip_key;
	memcpy(c->chip_id, r->chip_id, sizeof(c->chip_id));
	c->signer = r->signing_key;
	c->author_key_en = r->author_key_en;
	if (p != COCOON_SNP_PRODUCT_UNKNOWN)
		snprintf(c->product, sizeof(c->product), "%s", cocoon_snp_product_name(p));
	cocoon_snp_tcb_decode(&c->current_tcb, r->current_tcb, p);
	cocoon_snp_tcb_decode(&c->reported_tcb, r->reported_tcb, p);
	cocoon_snp_tcb_decode(&c->committed_tcb, r->committed_tcb, p);
	cocoon_snp_tcb_decode(&c->launch_tcb, r->launch_tcb, p);
	c->platform_info = r->platform_info;
	c->debug = (r->policy & SNP_POLICY_DEBUG) != 0;
	c->current_build = r->current_build;
	c->current_minor = r->current_minor;
	c->current_major = r->current_major;
	c->committed_build = r->committed_build;
	c->committed_minor = r->committed_minor;
	c->committed_major = r->committed_major;
	c->has_cpuid = r->has_cpuid;
	c->cpuid_fam_id = r->cpuid_fam_id;
	c->cpuid_mod_id = r->cpuid_mod_id;
	c->cpuid_step = r->cpuid_step;
	memcpy(c->id_key_digest, r->id_key_digest, sizeof(c->id_key_digest));
	memcpy(c->author_key_digest, r->author_key_digest, sizeof(c->author_key_digest));
	memcpy(c->report_id, r->report_id, sizeof(c->report_id));
	memcpy(c->report_id_ma, r->report_id_ma, sizeof(c->report_id_ma));
	c->has_mit_vectors = r->has_mit_vectors;
	c->launch_mit_vector = r->launch_mit_vector;
	c->current_mit_vector = r->current_mit_vector;
}

/* Accumulates jansson failures: any -1 means out of memory. */
static void set(int *bad, json_t *o, const char *key, json_t *v)
{
	if (!v || json_object_set_new(o, key, v) != 0)
		*bad = 1;
}

static void set_hex(int *bad, json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];
	if (n > 64) {
		*bad = 1;
		return;
	}
	cocoon_hex_encode(buf, p, n);
	set(bad, o, key, json_string(buf));
}

static json_t *hex64(uint64_t v)
{
	char buf[19];
	snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
	return json_string(buf);
}

static json_t *done_or_null(json_t *o, int bad)
{
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *cocoon_snp_policy_json(uint64_t policy)
{
	json_t *o = json_object();
	int bad = !o;
	if (bad)
		return NULL;
	set(&bad, o, "raw", hex64(policy));
	set(&bad, o, "abi_major", json_integer((policy >> 8) & 0xff));
	set(&bad, o, "abi_minor", json_integer(policy & 0xff));
	set(&bad, o, "smt", json_boolean(policy & SNP_POLICY_SMT));
	set(&bad, o, "migrate_ma", json_boolean(policy & SNP_POLICY_MIGRATE_MA));
	set(&bad, o, "debug", json_boolean(policy & SNP_POLICY_DEBUG));
	set(&bad, o, "single_socket", json_boolean(policy & SNP_POLICY_SINGLE_SOCKET));
	set(&bad, o, "cxl_allow", json_boolean(policy & SNP_POLICY_CXL_ALLOW));
	set(&bad, o, "mem_aes_256_xts", json_boolean(policy & SNP_POLICY_MEM_AES_256_XTS));
	set(&bad, o, "rapl_dis", json_boolean(policy & SNP_POLICY_RAPL_DIS));
	set(&bad, o, "ciphertext_hiding_dram", json_boolean(policy & SNP_POLICY_CIPHERTEXT_HIDING));
	set(&bad, o, "page_swap_disable", json_boolean(policy & SNP_POLICY_PAGE_SWAP_DISABLE));
	return done_or_null(o, bad);
}

json_t *cocoon_snp_platform_info_json(uint64_t info)
{
	json_t *o = json_object();
	int bad = !o;
	if (bad)
		return NULL;
	set(&bad, o, "raw", hex64(info));
	set(&bad, o, "smt_enabled", json_boolean(info & (1u << 0)));
	set(&bad, o, "tsme_enabled", json_boolean(info & (1u << 1)));
	set(&bad, o, "ecc_enabled", json_boolean(info & (1u << 2)));
	set(&bad, o, "rapl_disabled", json_boolean(info & (1u << 3)));
	set(&bad, o, "ciphertext_hiding_dram_enabled", json_boolean(info & (1u << 4)));
	set(&bad, o, "alias_check_complete", json_boolean(info & (1u << 5)));
	set(&bad, o, "tio_enabled", json_boolean(info & (1u << 7)));
	return done_or_null(o, bad);
}

static json_t *tcb_claim_json(const cocoon_snp_tcb *t)
{
	json_t *o = json_object();
	int bad = !o;
	if (bad)
		return NULL;
	set(&bad, o, "bl", json_integer(t->bl_spl));
	set(&bad, o, "tee", json_integer(t->tee_spl));
	set(&bad, o, "snp", json_integer(t->snp_spl));
	set(&bad, o, "microcode", json_integer(t->ucode_spl));
	if (t->has_fmc)
		set(&bad, o, "fmc", json_integer(t->fmc_spl));
	set(&bad, o, "raw", hex64(t->raw));
	return done_or_null(o, bad);
}

json_t *cocoon_snp_tcb_json(uint64_t raw, cocoon_snp_product p)
{
	cocoon_snp_tcb t;
	cocoon_snp_tcb_decode(&t, raw, p);
	return tcb_claim_json(&t);
}

static json_t *firmware_json(uint8_t major, uint8_t minor, uint8_t build)
{
	json_t *o = json_object();
	int bad = !o;
	if (bad)
		return NULL;
	set(&bad, o, "major", json_integer(major));
	set(&bad, o, "minor", json_integer(minor));
	set(&bad, o, "build", json_integer(build));
	return done_or_null(o, bad);
}

int cocoon_snp_claims_to_json(void *object, const cocoon_snp_claims *c)
{
	json_t *o = object;
	json_t *cpuid;
	int bad = 0;

	if (!o || !c || !json_is_object(o))
		return cocoon_error_set(COCOON_EINVAL, "cocoon_snp_claims_to_json: NULL argument or not a JSON object");
	set(&bad, o, "version", json_integer(c->version));
	set(&bad, o, "product", c->product[0] ? json_string(c->product) : json_null());
	set(&bad, o, "signer", json_string(c->signer == COCOON_SNP_SIGNER_VCEK   ? "vcek"
	                                   : c->signer == COCOON_SNP_SIGNER_VLEK ? "vlek"
	                                                                         : "none"));
	set_hex(&bad, o, "measurement", c->measurement, sizeof(c->measurement));
	set_hex(&bad, o, "host_data", c->host_data, sizeof(c->host_data));
	set_hex(&bad, o, "report_data", c->report_data, sizeof(c->report_data));
	set(&bad, o, "policy", cocoon_snp_policy_json(c->policy));
	set(&bad, o, "debug", json_boolean(c->debug));
	set(&bad, o, "vmpl", json_integer(c->vmpl));
	set(&bad, o, "guest_svn", json_integer(c->guest_svn));
	set_hex(&bad, o, "family_id", c->family_id, sizeof(c->family_id));
	set_hex(&bad, o, "image_id", c->image_id, sizeof(c->image_id));
	if (c->chip_id_masked)
		set(&bad, o, "chip_id", json_null());
	else
		set_hex(&bad, o, "chip_id", c->chip_id, sizeof(c->chip_id));
	set(&bad, o, "chip_id_masked", json_boolean(c->chip_id_masked));
	set(&bad, o, "current_tcb", tcb_claim_json(&c->current_tcb));
	set(&bad, o, "reported_tcb", tcb_claim_json(&c->reported_tcb));
	set(&bad, o, "committed_tcb", tcb_claim_json(&c->committed_tcb));
	set(&bad, o, "launch_tcb", tcb_claim_json(&c->launch_tcb));
	set(&bad, o, "platform_info", cocoon_snp_platform_info_json(c->platform_info));
	set(&bad, o, "current_firmware", firmware_json(c->current_major, c->current_minor, c->current_build));
	set(&bad, o, "committed_firmware", firmware_json(c->committed_major, c->committed_minor, c->committed_build));
	set(&bad, o, "author_key_en", json_boolean(c->author_key_en));
	set_hex(&bad, o, "id_key_digest", c->id_key_digest, sizeof(c->id_key_digest));
	set_hex(&bad, o, "author_key_digest", c->author_key_digest, sizeof(c->author_key_digest));
	set_hex(&bad, o, "report_id", c->report_id, sizeof(c->report_id));
	set_hex(&bad, o, "report_id_ma", c->report_id_ma, sizeof(c->report_id_ma));
	if (c->has_cpuid) {
		cpuid = json_object();
		if (cpuid) {
			set(&bad, cpuid, "family", json_integer(c->cpuid_fam_id));
			set(&bad, cpuid, "model", json_integer(c->cpuid_mod_id));
			set(&bad, cpuid, "stepping", json_integer(c->cpuid_step));
		}
		set(&bad, o, "cpuid", cpuid);
	}
	if (c->has_mit_vectors) {
		set(&bad, o, "launch_mit_vector", hex64(c->launch_mit_vector));
		set(&bad, o, "current_mit_vector", hex64(c->current_mit_vector));
	}
	if (bad)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory serializing SNP claims");
	return 0;
}
