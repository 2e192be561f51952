/*
 * The SEV-SNP appraisal policy: what a verified report must also satisfy
 * (verifiers.md A.2 rows 20-26). Defaults reject debug and migration-agent
 * guests and provisional firmware. Every reject names the field, the
 * expected value and the actual value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "snp/snp.h"

static int check_flag(cocoon_failure *f, int check, uint64_t policy, uint64_t bit, int bitno, const char *name,
                      int allowed, const char *how)
{
	if (!(policy & bit) || allowed)
		return 0;
	return COCOON_SNP_FAIL(f, check,
	                       "guest POLICY %s (bit %d of 0x%016llx): expected 0, actual 1; %s", name, bitno,
	                       (unsigned long long)policy, how);
}

static int check_min_tcb(cocoon_failure *f, const char *field, uint64_t raw, const cocoon_snp_min_tcb *min,
                         cocoon_snp_product p)
{
	cocoon_snp_tcb t;
	char all[96];
	const struct {
		const char *name;
		uint8_t want;
	} parts[] = {
		{ "bl", min->bl }, { "tee", min->tee }, { "snp", min->snp }, { "microcode", min->microcode },
		{ "fmc", min->fmc },
	};
	uint8_t have[5];

	cocoon_snp_tcb_decode(&t, raw, p);
	have[0] = t.bl_spl;
	have[1] = t.tee_spl;
	have[2] = t.snp_spl;
	have[3] = t.ucode_spl;
	have[4] = t.fmc_spl;
	for (size_t i = 0; i < 5; i++) {
		if (i == 4 && !t.has_fmc)
			break;
		if (have[i] < parts[i].want) {
			cocoon_snp_tcb_format(all, sizeof(all), raw, p);
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_MIN_TCB,
			                       "%s %s SPL: expected >= %u, actual %u (%s); update the platform firmware",
			                       field, parts[i].name, parts[i].want, have[i], all);
		}
	}
	return 0;
}

static int check_firmware(cocoon_failure *f, const char *which, uint8_t build, uint8_t major, uint8_t minor,
                          const cocoon_snp_policy *pol)
{
	if (build < pol->min_build)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_FIRMWARE, "%s_BUILD: expected >= %u, actual %u", which,
		                       pol->min_build, build);
	if (((unsigned)major << 8 | minor) < ((unsigned)pol->min_api_major << 8 | pol->min_api_minor))
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_FIRMWARE, "%s firmware version: expected >= %u.%u, actual %u.%u",
		                       which, pol->min_api_major, pol->min_api_minor, major, minor);
	return 0;
}

static int check_value(cocoon_failure *f, int check, const char *field, unsigned offset, int has,
                       const uint8_t *want, const uint8_t *have, size_t n)
{
	char a[2 * 64 + 1], b[2 * 64 + 1];
	if (!has || memcmp(want, have, n) == 0)
		return 0;
	cocoon_hex_encode(a, want, n);
	cocoon_hex_encode(b, have, n);
	return COCOON_SNP_FAIL(f, check, "%s (offset 0x%03x): expected %s, actual %s", field, offset, a, b);
}

static int digest_listed(const uint8_t d[48], const uint8_t (*list)[48], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(d, list[i], 48) == 0)
			return 1;
	return 0;
}

/* go-sev-guest validateKeys: an ID key is trusted directly or through a trusted author key. */
static int check_keys(cocoon_failure *f, const cocoon_snp_report *r, const cocoon_snp_policy *pol)
{
	char hex[97];
	int author_trusted = r->author_key_en && pol->n_trusted_author_keys &&
	                     digest_listed(r->author_key_digest, pol->trusted_author_keys, pol->n_trusted_author_keys);
	int id_trusted = pol->n_trusted_id_keys &&
	                 digest_listed(r->id_key_digest, pol->trusted_id_keys, pol->n_trusted_id_keys);

	if (pol->require_author_key && !r->author_key_en)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_AUTHOR_KEY,
		                       "AUTHOR_KEY_EN (offset 0x048 bit 0): expected 1 (an author key signed the ID "
		                       "block), actual 0");
	if (pol->n_trusted_author_keys && !author_trusted) {
		cocoon_hex_encode(hex, r->author_key_digest, 48);
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_AUTHOR_KEY,
		                       "AUTHOR_KEY_DIGEST (offset 0x110): expected one of %zu trusted digests, actual %s%s",
		                       pol->n_trusted_author_keys, r->author_key_en ? hex : "none",
		                       r->author_key_en ? "" : " (AUTHOR_KEY_EN is 0)");
	}
	if ((pol->require_id_block || pol->n_trusted_id_keys) && !id_trusted && !author_trusted) {
		cocoon_hex_encode(hex, r->id_key_digest, 48);
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_ID_KEY,
		                       "ID_KEY_DIGEST (offset 0x0E0): expected one of %zu trusted digests (or an ID block "
		                       "signed by a trusted author key), actual %s",
		                       pol->n_trusted_id_keys, cocoon_is_zero(r->id_key_digest, 48) ? "none (no ID block)" : hex);
	}
	return 0;
}

int cocoon_snp_appraise(cocoon_failure *f, const cocoon_snp_report *r, cocoon_snp_product p,
                        const cocoon_snp_policy *pol, int allow_debug)
{
	char a[96], b[96];
	int err;

	if ((err = check_flag(f, COCOON_CHECK_SNP_POLICY_DEBUG, r->policy, SNP_POLICY_DEBUG, 19, "DEBUG",
	                      pol->allow_debug || allow_debug,
	                      "the host can read and alter a debug guest's memory; allow it only for testing "
	                      "(--allow-debug or \"allow_debug\": true)")) != 0 ||
	    (err = check_flag(f, COCOON_CHECK_SNP_POLICY_MIGRATION_AGENT, r->policy, SNP_POLICY_MIGRATE_MA, 18,
	                      "MIGRATE_MA", pol->allow_migration_agent,
	                      "a migration agent can export the guest; allow it with \"allow_migration_agent\": "
	                      "true")) != 0)
		return err;
	if (pol->vmpl >= 0 && r->vmpl != (uint32_t)pol->vmpl)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VMPL, "VMPL (offset 0x030): expected %d, actual %u", pol->vmpl,
		                       r->vmpl);
	if (r->guest_svn < pol->min_guest_svn)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_GUEST_SVN, "GUEST_SVN (offset 0x004): expected >= %u, actual %u",
		                       pol->min_guest_svn, r->guest_svn);
	if ((err = check_min_tcb(f, "CURRENT_TCB", r->current_tcb, &pol->min_tcb, p)) != 0 ||
	    (err = check_min_tcb(f, "COMMITTED_TCB", r->committed_tcb, &pol->min_tcb, p)) != 0 ||
	    (err = check_min_tcb(f, "REPORTED_TCB", r->reported_tcb, &pol->min_tcb, p)) != 0 ||
	    (err = check_min_tcb(f, "LAUNCH_TCB", r->launch_tcb, &pol->min_launch_tcb, p)) != 0)
		return err;
	if ((err = check_firmware(f, "CURRENT", r->current_build, r->current_major, r->current_minor, pol)) != 0 ||
	    (err = check_firmware(f, "COMMITTED", r->committed_build, r->committed_major, r->committed_minor, pol)) != 0)
		return err;
	if (!pol->allow_provisional_firmware) {
		const char *how = "the platform runs provisional (uncommitted) firmware; allow it with "
		                  "\"allow_provisional_firmware\": true";
		if (r->committed_tcb != r->current_tcb) {
			cocoon_snp_tcb_format(a, sizeof(a), r->current_tcb, p);
			cocoon_snp_tcb_format(b, sizeof(b), r->committed_tcb, p);
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_PROVISIONAL_FIRMWARE,
			                       "COMMITTED_TCB (offset 0x1E0): expected CURRENT_TCB 0x%016llx (%s), actual "
			                       "0x%016llx (%s); %s",
			                       (unsigned long long)r->current_tcb, a, (unsigned long long)r->committed_tcb, b,
			                       how);
		}
		if (r->committed_build != r->current_build || r->committed_major != r->current_major ||
		    r->committed_minor != r->current_minor)
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_PROVISIONAL_FIRMWARE,
			                       "COMMITTED firmware (offset 0x1EC): expected the current %u.%u build %u, actual "
			                       "%u.%u build %u; %s",
			                       r->current_major, r->current_minor, r->current_build, r->committed_major,
			                       r->committed_minor, r->committed_build, how);
	}
	if ((err = check_value(f, COCOON_CHECK_SNP_MEASUREMENT, "MEASUREMENT", 0x090, pol->has_measurement,
	                       pol->measurement, r->measurement, 48)) != 0 ||
	    (err = check_value(f, COCOON_CHECK_SNP_HOST_DATA, "HOST_DATA", 0x0C0, pol->has_host_data, pol->host_data,
	                       r->host_data, 32)) != 0 ||
	    (err = check_value(f, COCOON_CHECK_SNP_REPORT_DATA, "REPORT_DATA", 0x050, pol->has_report_data,
	                       pol->report_data, r->report_data, 64)) != 0 ||
	    (err = check_value(f, COCOON_CHECK_SNP_FAMILY_ID, "FAMILY_ID", 0x010, pol->has_family_id, pol->family_id,
	                       r->family_id, 16)) != 0 ||
	    (err = check_value(f, COCOON_CHECK_SNP_IMAGE_ID, "IMAGE_ID", 0x020, pol->has_image_id, pol->image_id,
	                       r->image_id, 16)) != 0)
		return err;
	return check_keys(f, r, pol);
}

/* ---- policy files ---- */

static int json_fail(const char *key, const char *what)
{
	return cocoon_error_set(COCOON_EFORMAT, "SNP policy: \"%s\" %s", key, what);
}

static int get_bool(int *out, const char *key, json_t *v)
{
	if (!json_is_boolean(v))
		return json_fail(key, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

static int get_uint(uint64_t *out, const char *key, json_t *v, uint64_t max)
{
	json_int_t n;
	if (!json_is_integer(v) || (n = json_integer_value(v)) < 0 || (uint64_t)n > max) {
		char msg[64];
		snprintf(msg, sizeof(msg), "must be an integer 0..%llu", (unsigned long long)max);
		return json_fail(key, msg);
	}
	*out = (uint64_t)n;
	return 0;
}

static int get_hex(uint8_t *out, size_t n, const char *key, json_t *v)
{
	char msg[96];
	const char *s = json_string_value(v);
	if (!s || json_string_length(v) != 2 * n || cocoon_hex_decode(out, n, s, 2 * n) != 0) {
		snprintf(msg, sizeof(msg), "must be a hex string of exactly %zu bytes (%zu hex digits)", n, 2 * n);
		return json_fail(key, msg);
	}
	return 0;
}

static int get_expected(uint8_t *out, int *has, size_t n, const char *key, json_t *v)
{
	int err = get_hex(out, n, key, v);
	*has = err == 0;
	return err;
}

static int get_min_tcb(cocoon_snp_min_tcb *out, const char *key, json_t *v)
{
	const char *k;
	json_t *x;
	uint64_t n;
	char path[64];
	int err;

	if (!json_is_object(v))
		return json_fail(key, "must be an object {\"bl\", \"tee\", \"snp\", \"microcode\", \"fmc\"}");
	json_object_foreach(v, k, x) {
		uint8_t *dst = strcmp(k, "bl") == 0          ? &out->bl
		               : strcmp(k, "tee") == 0       ? &out->tee
		               : strcmp(k, "snp") == 0       ? &out->snp
		               : strcmp(k, "microcode") == 0 ? &out->microcode
		               : strcmp(k, "fmc") == 0       ? &out->fmc
		                                             : NULL;
		snprintf(path, sizeof(path), "%s.%s", key, k);
		if (!dst)
			return json_fail(path, "is not a TCB component (bl, tee, snp, microcode, fmc)");
		if ((err = get_uint(&n, path, x, 255)) != 0)
			return err;
		*dst = (uint8_t)n;
	}
	return 0;
}

static int get_digests(uint8_t (*list)[48], size_t *n, const char *key, json_t *v)
{
	char path[64];
	size_t i;
	json_t *x;
	int err;

	if (!json_is_array(v))
		return json_fail(key, "must be an array of 48-byte SHA-384 hex digests");
	if (json_array_size(v) > COCOON_SNP_MAX_TRUSTED_KEYS) {
		snprintf(path, sizeof(path), "has more than %d digests", COCOON_SNP_MAX_TRUSTED_KEYS);
		return json_fail(key, path);
	}
	json_array_foreach(v, i, x) {
		snprintf(path, sizeof(path), "%s[%zu]", key, i);
		if ((err = get_hex(list[i], 48, path, x)) != 0)
			return err;
	}
	*n = json_array_size(v);
	return 0;
}

static int get_api_version(cocoon_snp_policy *p, const char *key, json_t *v)
{
	const char *s = json_string_value(v);
	unsigned major, minor;
	int used = 0;

	if (!s || sscanf(s, "%3u.%3u%n", &major, &minor, &used) != 2 || (size_t)used != strlen(s) || major > 255 ||
	    minor > 255)
		return json_fail(key, "must be a \"major.minor\" string such as \"1.55\"");
	p->min_api_major = (uint8_t)major;
	p->min_api_minor = (uint8_t)minor;
	return 0;
}

static int apply_key(cocoon_snp_policy *p, const char *k, json_t *v)
{
	uint64_t n;
	int err;

	if (strcmp(k, "allow_debug") == 0)
		return get_bool(&p->allow_debug, k, v);
	if (strcmp(k, "allow_migration_agent") == 0)
		return get_bool(&p->allow_migration_agent, k, v);
	if (strcmp(k, "allow_provisional_firmware") == 0)
		return get_bool(&p->allow_provisional_firmware, k, v);
	if (strcmp(k, "require_id_block") == 0)
		return get_bool(&p->require_id_block, k, v);
	if (strcmp(k, "require_author_key") == 0)
		return get_bool(&p->require_author_key, k, v);
	if (strcmp(k, "vmpl") == 0) {
		if (json_is_null(v)) {
			p->vmpl = -1;
			return 0;
		}
		if ((err = get_uint(&n, k, v, 3)) != 0)
			return err;
		p->vmpl = (int)n;
		return 0;
	}
	if (strcmp(k, "min_guest_svn") == 0) {
		if ((err = get_uint(&n, k, v, UINT32_MAX)) != 0)
			return err;
		p->min_guest_svn = (uint32_t)n;
		return 0;
	}
	if (strcmp(k, "min_build") == 0) {
		if ((err = get_uint(&n, k, v, 255)) != 0)
			return err;
		p->min_build = (uint8_t)n;
		return 0;
	}
	if (strcmp(k, "min_api_version") == 0)
		return get_api_version(p, k, v);
	if (strcmp(k, "min_tcb") == 0)
		return get_min_tcb(&p->min_tcb, k, v);
	if (strcmp(k, "min_launch_tcb") == 0)
		return get_min_tcb(&p->min_launch_tcb, k, v);
	if (strcmp(k, "measurement") == 0)
		return get_expected(p->measurement, &p->has_measurement, 48, k, v);
	if (strcmp(k, "host_data") == 0)
		return get_expected(p->host_data, &p->has_host_data, 32, k, v);
	if (strcmp(k, "report_data") == 0)
		return get_expected(p->report_data, &p->has_report_data, 64, k, v);
	if (strcmp(k, "family_id") == 0)
		return get_expected(p->family_id, &p->has_family_id, 16, k, v);
	if (strcmp(k, "image_id") == 0)
		return get_expected(p->image_id, &p->has_image_id, 16, k, v);
	if (strcmp(k, "trusted_id_key_digests") == 0)
		return get_digests(p->trusted_id_keys, &p->n_trusted_id_keys, k, v);
	if (strcmp(k, "trusted_author_key_digests") == 0)
		return get_digests(p->trusted_author_keys, &p->n_trusted_author_keys, k, v);
	return cocoon_error_set(COCOON_EFORMAT,
	                        "SNP policy: unknown key \"%s\"; see cocoon/snp.h for the keys a policy file may use", k);
}

int cocoon_snp_policy_from_json(cocoon_snp_policy *out, const char *json, size_t len)
{
	static const cocoon_snp_policy defaults = COCOON_SNP_POLICY_INIT;
	cocoon_snp_policy p = defaults;
	json_error_t jerr;
	json_t *root = NULL, *v;
	const char *k;
	int err = 0;

	if (!out || !json)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_snp_policy_from_json: NULL argument");
	if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr))) {
		err = cocoon_error_set(COCOON_EFORMAT, "SNP policy: invalid JSON at line %d column %d: %s", jerr.line,
		                       jerr.column, jerr.text);
		goto done;
	}
	if (!json_is_object(root)) {
		err = cocoon_error_set(COCOON_EFORMAT, "SNP policy: the top level must be a JSON object");
		goto done;
	}
	json_object_foreach(root, k, v) {
		if ((err = apply_key(&p, k, v)) != 0)
			goto done;
	}
	/* An ID block signed by an arbitrary key proves nothing. */
	if (p.require_id_block && !p.n_trusted_id_keys && !p.n_trusted_author_keys) {
		err = cocoon_error_set(COCOON_EFORMAT, "SNP policy: \"require_id_block\" needs \"trusted_id_key_digests\" "
		                                       "or \"trusted_author_key_digests\"");
		goto done;
	}
	*out = p;
done:
	json_decref(root);
	return err;
}
