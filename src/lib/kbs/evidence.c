/*
 * The primary_evidence shapes of guest-components' attesters (sgx_dcap,
 * tdx, snp) <-> raw evidence bytes.
 *
 * SNP is the awkward one: the attester sends virtee/sev 7's serde view of
 * the report (numbers and arrays of small integers, reserved bytes dropped),
 * and the verifier signs-checks the bytes the sev crate re-encodes. The
 * layout below follows sev's Encoder for AttestationReport (versions 2-5,
 * TCB layout chosen per processor generation as sev chooses it).
 */
#include <stdlib.h>
#include <string.h>
#include "kbs/kbs_int.h"
#include "cocoon/snp.h"
#include "cocoon/token.h"

#define SNP_SIG_OFFSET 0x2A0

/* ---- base64 members (sgx, tdx) ------------------------------------------ */

static int b64_member(uint8_t **out, size_t *len, const json_t *o, const char *key, int optional, const char *what)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (optional)
			return 0;
		return cocoon_error_set(COCOON_EFORMAT, "%s: member \"%s\" is missing", what, key);
	}
	if (!json_is_string(v))
		return cocoon_error_set(COCOON_EFORMAT, "%s: member \"%s\" must be a base64 string", what, key);
	/* The attesters write standard base64 with padding (Rust base64 STANDARD). */
	if (cocoon_b64_decode(out, len, json_string_value(v), json_string_length(v)) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "%s: \"%s\": %s", what, key, cocoon_error_last()->message);
	if (*len == 0 && !optional)
		return cocoon_error_set(COCOON_EFORMAT, "%s: member \"%s\" is empty", what, key);
	return 0;
}

static int decode_quote(cocoon_kbs_evidence *out, const json_t *p, int tdx)
{
	static const char *const sgx_members[] = { "quote", NULL };
	static const char *const tdx_members[] = { "cc_eventlog", "quote", NULL };
	const char *what = tdx ? "KBS tdx evidence" : "KBS sgx evidence";
	int err;

	if ((err = kbs_only_members(p, tdx ? tdx_members : sgx_members, what)) != 0 ||
	    (err = b64_member(&out->evidence, &out->evidence_len, p, "quote", 0, what)) != 0)
		return err;
	if (tdx)
		err = b64_member(&out->eventlog, &out->eventlog_len, p, "cc_eventlog", 1, what);
	return err;
}

/* ---- SNP report --------------------------------------------------------- */

typedef struct {
	int turin;          /* TCB layout: fmc,bl,tee,snp,...,ucode versus bl,tee,...,snp,ucode */
} snp_layout;

static int snp_generation(snp_layout *l, uint32_t version, const uint8_t chip_id[64], uint8_t fam, uint8_t model)
{
	if (version < 2 || version > 5)
		return cocoon_error_set(COCOON_EUNSUPPORTED, "KBS snp evidence: report version %u (2 to 5 are known)", version);
	if (version == 2) {
		if (cocoon_is_zero(chip_id, 64))
			return cocoon_error_set(COCOON_EUNSUPPORTED, "KBS snp evidence: a version 2 report with a masked CHIP_ID "
			                        "does not tell the processor generation");
		l->turin = cocoon_is_zero(chip_id + 8, 56);
		return 0;
	}
	if (fam == 0x19 && (model <= 0x1F || (model >= 0xA0 && model <= 0xAF))) {
		l->turin = 0;
		return 0;
	}
	if (fam == 0x1A && model <= 0x11) {
		l->turin = 1;
		return 0;
	}
	return cocoon_error_set(COCOON_EUNSUPPORTED, "KBS snp evidence: CPUID family 0x%02x model 0x%02x is not a known "
	                        "SEV-SNP processor", fam, model);
}

static int get_uint(uint64_t *out, const json_t *o, const char *key, uint64_t max, int optional)
{
	json_t *v = json_object_get(o, key);
	*out = 0;
	if (optional && (!v || json_is_null(v)))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
		return cocoon_error_set(COCOON_EFORMAT, "KBS snp evidence: \"%s\" must be an integer from 0 to %llu", key,
		                        (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int get_bytes(uint8_t *out, size_t n, const json_t *o, const char *key)
{
	json_t *a = json_object_get(o, key), *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) != n)
		return cocoon_error_set(COCOON_EFORMAT, "KBS snp evidence: \"%s\" must be an array of %zu bytes", key, n);
	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255)
			return cocoon_error_set(COCOON_EFORMAT, "KBS snp evidence: \"%s\"[%zu] is not a byte", key, i);
		out[i] = (uint8_t)json_integer_value(v);
	}
	return 0;
}

static int get_tcb(uint8_t out[8], const json_t *o, const char *key, const snp_layout *l)
{
	static const char *const members[] = { "fmc", "bootloader", "tee", "snp", "microcode", NULL };
	const json_t *t = json_object_get(o, key);
	uint64_t fmc, bl, tee, snp, uc;
	int err;

	if (!json_is_object(t))
		return cocoon_error_set(COCOON_EFORMAT, "KBS snp evidence: \"%s\" must be a TCB object", key);
	if ((err = kbs_only_members(t, members, "KBS snp evidence: TCB")) != 0 || (err = get_uint(&fmc, t, "fmc", 255, 1)) != 0 ||
	    (err = get_uint(&bl, t, "bootloader", 255, 0)) != 0 || (err = get_uint(&tee, t, "tee", 255, 0)) != 0 ||
	    (err = get_uint(&snp, t, "snp", 255, 0)) != 0 || (err = get_uint(&uc, t, "microcode", 255, 0)) != 0)
		return err;
	memset(out, 0, 8);
	if (l->turin) {
		out[0] = (uint8_t)fmc, out[1] = (uint8_t)bl, out[2] = (uint8_t)tee, out[3] = (uint8_t)snp;
	} else {
		out[0] = (uint8_t)bl, out[1] = (uint8_t)tee, out[6] = (uint8_t)snp;
	}
	out[7] = (uint8_t)uc;
	return 0;
}

static int get_version(uint8_t out[3], const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	uint64_t major, minor, build;
	int err;

	if (!json_is_object(v))
		return cocoon_error_set(COCOON_EFORMAT, "KBS snp evidence: \"%s\" must be {major, minor, build}", key);
	if ((err = get_uint(&major, v, "major", 255, 0)) != 0 || (err = get_uint(&minor, v, "minor", 255, 0)) != 0 ||
	    (err = get_uint(&build, v, "build", 255, 0)) != 0)
		return err;
	out[0] = (uint8_t)build, out[1] = (uint8_t)minor, out[2] = (uint8_t)major;
	return 0;
}

/* Fields at fixed offsets: scalar (n = 4 or 8) and byte arrays. */
static const struct { const char *key; size_t off; int n; } snp_scalars[] = {
	{ "version", 0x00, 4 }, { "guest_svn", 0x04, 4 }, { "policy", 0x08, 8 }, { "vmpl", 0x30, 4 },
	{ "sig_algo", 0x34, 4 }, { "plat_info", 0x40, 8 }, { "key_info", 0x48, 4 },
};
static const struct { const char *key; size_t off, n; } snp_arrays[] = {
	{ "family_id", 0x10, 16 }, { "image_id", 0x20, 16 }, { "report_data", 0x50, 64 }, { "measurement", 0x90, 48 },
	{ "host_data", 0xC0, 32 }, { "id_key_digest", 0xE0, 48 }, { "author_key_digest", 0x110, 48 },
	{ "report_id", 0x140, 32 }, { "report_id_ma", 0x160, 32 }, { "chip_id", 0x1A0, 64 },
};
static const struct { const char *key; size_t off; } snp_tcbs[] = {
	{ "current_tcb", 0x38 }, { "reported_tcb", 0x180 }, { "committed_tcb", 0x1E0 }, { "launch_tcb", 0x1F0 },
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static int snp_report_from_json(uint8_t r[COCOON_SNP_REPORT_SIZE], const json_t *j)
{
	static const char *const members[] = { "version", "guest_svn", "policy", "family_id", "image_id", "vmpl",
		"sig_algo", "current_tcb", "plat_info", "key_info", "report_data", "measurement", "host_data",
		"id_key_digest", "author_key_digest", "report_id", "report_id_ma", "reported_tcb", "cpuid_fam_id",
		"cpuid_mod_id", "cpuid_step", "chip_id", "committed_tcb", "current", "committed", "launch_tcb",
		"launch_mit_vector", "current_mit_vector", "signature", NULL };
	uint64_t v, fam, mod, step, lmv, cmv;
	snp_layout l;
	const json_t *sig;
	int err;

	memset(r, 0, COCOON_SNP_REPORT_SIZE);
	if (!json_is_object(j))
		return cocoon_error_set(COCOON_EFORMAT, "KBS snp evidence: attestation_report must be an object");
	if ((err = kbs_only_members(j, members, "KBS snp evidence: attestation_report")) != 0)
		return err;
	for (size_t i = 0; i < N(snp_scalars); i++) {
		if ((err = get_uint(&v, j, snp_scalars[i].key, snp_scalars[i].n == 4 ? 0xFFFFFFFFu : INT64_MAX, 0)) != 0)
			return err;
		put_le(r + snp_scalars[i].off, v, snp_scalars[i].n);
	}
	for (size_t i = 0; i < N(snp_arrays); i++)
		if ((err = get_bytes(r + snp_arrays[i].off, snp_arrays[i].n, j, snp_arrays[i].key)) != 0)
			return err;
	if ((err = get_uint(&fam, j, "cpuid_fam_id", 255, 1)) != 0 || (err = get_uint(&mod, j, "cpuid_mod_id", 255, 1)) != 0 ||
	    (err = get_uint(&step, j, "cpuid_step", 255, 1)) != 0 ||
	    (err = get_uint(&lmv, j, "launch_mit_vector", INT64_MAX, 1)) != 0 ||
	    (err = get_uint(&cmv, j, "current_mit_vector", INT64_MAX, 1)) != 0)
		return err;
	if ((err = snp_generation(&l, (uint32_t)get_le(r, 4), r + 0x1A0, (uint8_t)fam, (uint8_t)mod)) != 0)
		return err;
	if (get_le(r, 4) >= 3) {
		r[0x188] = (uint8_t)fam, r[0x189] = (uint8_t)mod, r[0x18A] = (uint8_t)step;
	}
	if (get_le(r, 4) >= 5) {
		put_le(r + 0x1F8, lmv, 8);
		put_le(r + 0x200, cmv, 8);
	}
	for (size_t i = 0; i < N(snp_tcbs); i++)
		if ((err = get_tcb(r + snp_tcbs[i].off, j, snp_tcbs[i].key, &l)) != 0)
			return err;
	if ((err = get_version(r + 0x1E8, j, "current")) != 0 || (err = get_version(r + 0x1EC, j, "committed")) != 0)
		return err;
	sig = json_object_get(j, "signature");
	if (!json_is_object(sig) || json_object_size(sig) != 2)
		return cocoon_error_set(COCOON_EFORMAT, "KBS snp evidence: signature must be {\"r\", \"s\"}");
	if ((err = get_bytes(r + SNP_SIG_OFFSET, 72, sig, "r")) != 0 || (err = get_bytes(r + SNP_SIG_OFFSET + 72, 72, sig, "s")) != 0)
		return err;
	return 0;
}

/* ---- SNP cert_chain <-> GHCB certificate table -------------------------- */

static const struct { const char *name; const char *guid; } cert_types[] = {
	{ "ARK", "c0b406a4-a803-4952-9743-3fb6014cd0ae" }, { "ASK", "4ab7b379-bbac-4fe4-a02f-05aef327c782" },
	{ "VCEK", "63da758d-e664-4564-adc5-f4b93be8accd" }, { "VLEK", "a8074bc2-a25a-483e-aae6-39c045a0b8a1" },
	{ "CRL", "92f81bc3-5811-4d3d-97ff-d19f88dc67ea" },
};

static int guid_parse(uint8_t out[16], const char *s)
{
	size_t j = 0;
	if (!s || strlen(s) != 36)
		return -1;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			continue;
		}
		if (j >= 32 || cocoon_hex_decode(out + j / 2, 1, s + i, 2) != 0)
			return -1;
		j += 2;
		i++;
	}
	return j == 32 ? 0 : -1;
}

static int cert_guid(uint8_t guid[16], const json_t *type, size_t idx)
{
	const char *name = json_string_value(type), *g = NULL;

	if (json_is_object(type) && json_object_size(type) == 1 && json_is_string(json_object_get(type, "OTHER")))
		g = json_string_value(json_object_get(type, "OTHER"));
	for (size_t i = 0; name && !g && i < N(cert_types); i++)
		if (strcmp(name, cert_types[i].name) == 0)
			g = cert_types[i].guid;
	if (!g || guid_parse(guid, g) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "KBS snp evidence: cert_chain[%zu].cert_type is not ARK, ASK, VCEK, "
		                        "VLEK, CRL or {\"OTHER\": uuid}", idx);
	return 0;
}

static int snp_certs_from_json(cocoon_kbs_evidence *out, const json_t *chain)
{
	static const char *const members[] = { "cert_type", "data", NULL };
	size_t n, i, header, total;
	cocoon_buf data = { 0 };
	uint8_t *table = NULL;
	json_t *e;
	int err = 0;

	if (!chain || json_is_null(chain))
		return 0;
	if (!json_is_array(chain) || (n = json_array_size(chain)) > COCOON_SNP_CERTTABLE_MAX)
		return cocoon_error_set(COCOON_EFORMAT, "KBS snp evidence: cert_chain must be null or an array of at most %d "
		                        "entries", COCOON_SNP_CERTTABLE_MAX);
	header = (n + 1) * 24;
	if (!(table = calloc(1, header)))
		return cocoon_error_set(COCOON_ENOMEM, "KBS snp evidence: out of memory");
	json_array_foreach(chain, i, e) {
		json_t *d = json_object_get(e, "data"), *b;
		size_t k;
		if (!json_is_object(e) || (err = kbs_only_members(e, members, "KBS snp evidence: cert_chain entry")) != 0 ||
		    (err = cert_guid(table + 24 * i, json_object_get(e, "cert_type"), i)) != 0)
			goto done;
		if (!json_is_array(d) || json_array_size(d) == 0 || json_array_size(d) > 65536) {
			err = cocoon_error_set(COCOON_EFORMAT, "KBS snp evidence: cert_chain[%zu].data must be 1 to 65536 bytes", i);
			goto done;
		}
		put_le(table + 24 * i + 16, header + data.len, 4);
		put_le(table + 24 * i + 20, json_array_size(d), 4);
		json_array_foreach(d, k, b) {
			uint8_t byte;
			if (!json_is_integer(b) || json_integer_value(b) < 0 || json_integer_value(b) > 255) {
				err = cocoon_error_set(COCOON_EFORMAT, "KBS snp evidence: cert_chain[%zu].data[%zu] is not a byte", i, k);
				goto done;
			}
			byte = (uint8_t)json_integer_value(b);
			if ((err = cocoon_buf_append(&data, &byte, 1)) != 0)
				goto done;
		}
	}
	total = header + data.len;
	if (!(out->aux = malloc(total))) {
		err = cocoon_error_set(COCOON_ENOMEM, "KBS snp evidence: out of memory");
		goto done;
	}
	memcpy(out->aux, table, header);
	if (data.len)
		memcpy(out->aux + header, data.data, data.len);
	out->aux_len = total;
done:
	free(table);
	cocoon_buf_free(&data);
	return err;
}

static int decode_snp(cocoon_kbs_evidence *out, const json_t *p)
{
	static const char *const members[] = { "attestation_report", "cert_chain", NULL };
	int err;

	if ((err = kbs_only_members(p, members, "KBS snp evidence")) != 0)
		return err;
	if (!(out->evidence = malloc(COCOON_SNP_REPORT_SIZE)))
		return cocoon_error_set(COCOON_ENOMEM, "KBS snp evidence: out of memory");
	out->evidence_len = COCOON_SNP_REPORT_SIZE;
	if ((err = snp_report_from_json(out->evidence, json_object_get(p, "attestation_report"))) != 0)
		return err;
	return snp_certs_from_json(out, json_object_get(p, "cert_chain"));
}

int cocoon_kbs_evidence_decode(cocoon_kbs_evidence *out, cocoon_kbs_tee tee, const json_t *primary)
{
	int err;

	memset(out, 0, sizeof(*out));
	out->tee = tee;
	if (!json_is_object(primary))
		return cocoon_error_set(COCOON_EFORMAT, "KBS evidence: primary_evidence of a %s guest must be an object",
		                        cocoon_kbs_tee_name(tee) ? cocoon_kbs_tee_name(tee) : "unknown");
	switch (tee) {
	case COCOON_KBS_TEE_SGX: err = decode_quote(out, primary, 0); break;
	case COCOON_KBS_TEE_TDX: err = decode_quote(out, primary, 1); break;
	case COCOON_KBS_TEE_SNP: err = decode_snp(out, primary); break;
	default:
		err = cocoon_error_set(COCOON_EUNSUPPORTED, "KBS evidence: tee \"%s\" is not supported (sgx, tdx, snp)",
		                       cocoon_kbs_tee_name(tee) ? cocoon_kbs_tee_name(tee) : "unknown");
	}
	if (err)
		cocoon_kbs_evidence_clear(out);
	return err;
}

void cocoon_kbs_evidence_clear(cocoon_kbs_evidence *e)
{
	if (!e)
		return;
	free(e->evidence);
	free(e->aux);
	free(e->eventlog);
	memset(e, 0, sizeof(*e));
}

/* ---- encode (guest side) ------------------------------------------------ */

static json_t *byte_array(const uint8_t *p, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		if (json_array_append_new(a, json_integer(p[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *tcb_json(const uint8_t *t, const snp_layout *l)
{
	if (l->turin)
		return json_pack("{s:i,s:i,s:i,s:i,s:i}", "fmc", t[0], "bootloader", t[1], "tee", t[2], "snp", t[3],
		                 "microcode", t[7]);
	return json_pack("{s:n,s:i,s:i,s:i,s:i}", "fmc", "bootloader", t[0], "tee", t[1], "snp", t[6], "microcode", t[7]);
}

static int snp_report_to_json(json_t **out, const uint8_t *r, size_t len)
{
	json_t *o = json_object(), *sig;
	uint32_t version;
	snp_layout l;
	int bad = !o, err;

	*out = NULL;
	if (len != COCOON_SNP_REPORT_SIZE) {
		json_decref(o);
		return cocoon_error_set(COCOON_EFORMAT, "KBS snp evidence: a report is %d bytes, not %zu",
		                        COCOON_SNP_REPORT_SIZE, len);
	}
	version = (uint32_t)get_le(r, 4);
	if ((err = snp_generation(&l, version, r + 0x1A0, r[0x188], r[0x189])) != 0) {
		json_decref(o);
		return err;
	}
	for (size_t i = 0; i < N(snp_scalars); i++)
		kbs_set(&bad, o, snp_scalars[i].key, json_integer((json_int_t)get_le(r + snp_scalars[i].off, snp_scalars[i].n)));
	for (size_t i = 0; i < N(snp_arrays); i++)
		kbs_set(&bad, o, snp_arrays[i].key, byte_array(r + snp_arrays[i].off, snp_arrays[i].n));
	for (size_t i = 0; i < N(snp_tcbs); i++)
		kbs_set(&bad, o, snp_tcbs[i].key, tcb_json(r + snp_tcbs[i].off, &l));
	kbs_set(&bad, o, "cpuid_fam_id", version >= 3 ? json_integer(r[0x188]) : json_null());
	kbs_set(&bad, o, "cpuid_mod_id", version >= 3 ? json_integer(r[0x189]) : json_null());
	kbs_set(&bad, o, "cpuid_step", version >= 3 ? json_integer(r[0x18A]) : json_null());
	kbs_set(&bad, o, "current", json_pack("{s:i,s:i,s:i}", "major", r[0x1EA], "minor", r[0x1E9], "build", r[0x1E8]));
	kbs_set(&bad, o, "committed", json_pack("{s:i,s:i,s:i}", "major", r[0x1EE], "minor", r[0x1ED], "build", r[0x1EC]));
	kbs_set(&bad, o, "launch_mit_vector", version >= 5 ? json_integer((json_int_t)get_le(r + 0x1F8, 8)) : json_null());
	kbs_set(&bad, o, "current_mit_vector", version >= 5 ? json_integer((json_int_t)get_le(r + 0x200, 8)) : json_null());
	sig = json_object();
	bad |= !sig;
	kbs_set(&bad, sig, "r", byte_array(r + SNP_SIG_OFFSET, 72));
	kbs_set(&bad, sig, "s", byte_array(r + SNP_SIG_OFFSET + 72, 72));
	kbs_set(&bad, o, "signature", sig);
	if (bad) {
		json_decref(o);
		return cocoon_error_set(COCOON_ENOMEM, "KBS snp evidence: out of memory");
	}
	*out = o;
	return 0;
}

static int snp_certs_to_json(json_t **out, const uint8_t *aux, size_t len)
{
	cocoon_snp_certtable t;
	json_t *a;
	int bad, err;

	*out = NULL;
	if (!aux || !len) {
		*out = json_null();
		return 0;
	}
	if ((err = cocoon_snp_certtable_parse(&t, aux, len)) != 0)
		return err;
	a = json_array();
	bad = !a;
	for (size_t i = 0; i < t.n; i++) {
		const cocoon_snp_cert_entry *e = &t.entries[i];
		char g[37];
		json_t *type = NULL, *ent = json_object();
		uint8_t want[16];
		for (size_t k = 0; k < N(cert_types) && !type; k++)
			if (guid_parse(want, cert_types[k].guid) == 0 && memcmp(want, e->guid, 16) == 0)
				type = json_string(cert_types[k].name);
		if (!type) {
			static const char hx[] = "0123456789abcdef";
			size_t p = 0;
			for (int b = 0; b < 16; b++) {
				if (b == 4 || b == 6 || b == 8 || b == 10)
					g[p++] = '-';
				g[p++] = hx[e->guid[b] >> 4];
				g[p++] = hx[e->guid[b] & 15];
			}
			g[p] = '\0';
			type = json_pack("{s:s}", "OTHER", g);
		}
		bad |= !ent;
		kbs_set(&bad, ent, "cert_type", type);
		kbs_set(&bad, ent, "data", byte_array(e->data, e->length));
		if (!ent || json_array_append_new(a, ent) < 0)
			bad = 1;
	}
	if (bad) {
		json_decref(a);
		return cocoon_error_set(COCOON_ENOMEM, "KBS snp evidence: out of memory");
	}
	*out = a;
	return 0;
}

static int b64_string(int *bad, json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char *s = NULL;
	int err = cocoon_base64_encode(&s, p, n);
	if (!err)
		kbs_set(bad, o, key, json_string(s));
	free(s);
	return err;
}

int cocoon_kbs_evidence_encode(json_t **out, const cocoon_kbs_evidence *in)
{
	json_t *o = NULL, *rep = NULL, *certs = NULL;
	int bad = 0, err = 0;

	*out = NULL;
	if (!in || !in->evidence || !in->evidence_len)
		return cocoon_error_set(COCOON_EINVAL, "KBS evidence: no evidence bytes");
	if (!(o = json_object()))
		return cocoon_error_set(COCOON_ENOMEM, "KBS evidence: out of memory");
	switch (in->tee) {
	case COCOON_KBS_TEE_TDX:
		if (in->eventlog)
			err = b64_string(&bad, o, "cc_eventlog", in->eventlog, in->eventlog_len);
		else
			kbs_set(&bad, o, "cc_eventlog", json_null());
		/* fall through */
	case COCOON_KBS_TEE_SGX:
		if (!err)
			err = b64_string(&bad, o, "quote", in->evidence, in->evidence_len);
		break;
	case COCOON_KBS_TEE_SNP:
		if ((err = snp_report_to_json(&rep, in->evidence, in->evidence_len)) == 0 &&
		    (err = snp_certs_to_json(&certs, in->aux, in->aux_len)) == 0) {
			kbs_set(&bad, o, "attestation_report", rep);
			kbs_set(&bad, o, "cert_chain", certs);
			rep = certs = NULL;
		}
		break;
	default:
		err = cocoon_error_set(COCOON_EUNSUPPORTED, "KBS evidence: tee %d is not sgx, tdx or snp", (int)in->tee);
	}
	json_decref(rep);
	json_decref(certs);
	if (!err && bad)
		err = cocoon_error_set(COCOON_ENOMEM, "KBS evidence: out of memory");
	if (err) {
		json_decref(o);
		return err;
	}
	*out = o;
	return 0;
}
