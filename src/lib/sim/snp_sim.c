/*
 * Simulated SEV-SNP evidence: ATTESTATION_REPORT (versions 2, 3 and 5) in
 * the SEV-SNP ABI layout (workload-side.md section 2.3), signed like the
 * AMD secure processor signs it, and the GHCB extended-report certificate
 * table that a host hands the guest with it.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include "common/util.h"
#include "sim/snp_sim.h"
#include "snp/snp.h"

#define TABLE_ENTRY 24

/* GHCB certificate table GUIDs (include/cocoon/snp.h), as stored. */
static const uint8_t guid_vcek[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
	                               0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
static const uint8_t guid_ask[16] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
	                              0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };
static const uint8_t guid_ark[16] = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
	                              0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae };

static void put_le64(uint8_t *p, uint64_t v)
{
	cocoon_put_le32(p, (uint32_t)v);
	cocoon_put_le32(p + 4, (uint32_t)(v >> 32));
}

int cocoon_sim_snp_report_params_init(cocoon_sim_snp_report_params *q, const cocoon_sim_snp_pki *p,
                                      uint32_t version)
{
	cocoon_snp_product line = COCOON_SNP_PRODUCT_UNKNOWN;

	if (!q || !p)
		return cocoon_error_set(COCOON_EINVAL, "sim snp report: needs parameters and a PKI");
	memset(q, 0, sizeof(*q));
	if (cocoon_snp_product_parse(&line, p->product) != 0 || p->hwid_len > sizeof(q->chip_id))
		return cocoon_error_set(COCOON_EINVAL, "sim snp report: the PKI is not described (product \"%.16s\")",
		                        p->product);
	q->version = version;
	q->policy = 0x30000;              /* SMT allowed; bit 17 is reserved and must be 1 */
	q->platform_info = 0x3;           /* SMT_EN, TSME_EN */
	q->current_tcb = q->reported_tcb = q->committed_tcb = q->launch_tcb = p->tcb;
	memcpy(q->chip_id, p->hwid, p->hwid_len);
	memset(q->report_id_ma, 0xff, sizeof(q->report_id_ma));
	if (RAND_bytes(q->report_id, sizeof(q->report_id)) != 1)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp report: RAND_bytes failed for REPORT_ID");
	/* CPUID_1_EAX family/model as go-sev-guest maps them; stepping as shipped. */
	q->cpuid_fam_id = line == COCOON_SNP_PRODUCT_TURIN ? 0x1A : 0x19;
	q->cpuid_mod_id = line == COCOON_SNP_PRODUCT_MILAN ? 0x01 : line == COCOON_SNP_PRODUCT_GENOA ? 0x11 : 0x02;
	q->cpuid_step = line == COCOON_SNP_PRODUCT_TURIN ? 0 : 1;
	q->current_build = q->committed_build = 21;
	q->current_minor = q->committed_minor = 55;
	q->current_major = q->committed_major = 1;
	return 0;
}

int cocoon_sim_snp_report_sign(uint8_t report[COCOON_SNP_REPORT_SIZE], EVP_PKEY *key)
{
	EVP_MD_CTX *m = NULL;
	ECDSA_SIG *sig = NULL;
	uint8_t der[128];
	const unsigned char *q = der;
	size_t der_len = sizeof(der);
	const BIGNUM *r, *s;
	int err = 0;

	if (!report || !key || !EVP_PKEY_is_a(key, "EC") || EVP_PKEY_get_bits(key) != 384) {
		err = cocoon_error_set(COCOON_EINVAL, "sim snp report: signing needs a report and a P-384 key");
		goto done;
	}
	if (!(m = EVP_MD_CTX_new()) || EVP_DigestSignInit(m, NULL, EVP_sha384(), NULL, key) != 1 ||
	    EVP_DigestSign(m, der, &der_len, report, SNP_SIGNED_LEN) != 1) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp report: ECDSA P-384 signing failed");
		goto done;
	}
	if (!(sig = d2i_ECDSA_SIG(NULL, &q, (long)der_len)) || q != der + der_len) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp report: cannot decode our own signature");
		goto done;
	}
	ECDSA_SIG_get0(sig, &r, &s);
	/* Each scalar fills 48 bytes of its 72-byte field; the rest, and the
	 * reserved tail of SIGNATURE, stay zero. */
	memset(report + SNP_SIG_OFFSET, 0, COCOON_SNP_REPORT_SIZE - SNP_SIG_OFFSET);
	if (BN_bn2lebinpad(r, report + SNP_SIG_OFFSET, SNP_P384_BYTES) != SNP_P384_BYTES ||
	    BN_bn2lebinpad(s, report + SNP_SIG_OFFSET + SNP_SIG_COMPONENT, SNP_P384_BYTES) != SNP_P384_BYTES) {
		err = cocoon_error_set(COCOON_EINTERNAL, "sim snp report: R or S does not fit 48 bytes");
		goto done;
	}
done:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(m);
	return err;
}

int cocoon_sim_snp_report(uint8_t out[COCOON_SNP_REPORT_SIZE], const cocoon_sim_snp_pki *p,
                          const cocoon_sim_snp_report_params *q)
{
	uint8_t *b = out;

	if (!out || !p || !q)
		return cocoon_error_set(COCOON_EINVAL, "sim snp report: needs an output, a PKI and parameters");
	if (q->version != 2 && q->version != 3 && q->version != 5)
		return cocoon_error_set(COCOON_EINVAL, "sim snp report: version %u; the simulator writes 2, 3 or 5",
		                        q->version);
	if (q->vmpl > 3)
		return cocoon_error_set(COCOON_EINVAL, "sim snp report: VMPL %u is outside 0..3", q->vmpl);
	memset(b, 0, COCOON_SNP_REPORT_SIZE);
	cocoon_put_le32(b + 0x000, q->version);
	cocoon_put_le32(b + 0x004, q->guest_svn);
	put_le64(b + 0x008, q->policy);
	memcpy(b + 0x010, q->family_id, 16);
	memcpy(b + 0x020, q->image_id, 16);
	cocoon_put_le32(b + 0x030, q->vmpl);
	cocoon_put_le32(b + 0x034, 1);    /* SIGNATURE_ALGO: ECDSA P-384 with SHA-384 */
	put_le64(b + 0x038, q->current_tcb);
	put_le64(b + 0x040, q->platform_info);
	/* Signer info: AUTHOR_KEY_EN, MASK_CHIP_KEY clear, SIGNING_KEY 0 (VCEK). */
	cocoon_put_le32(b + 0x048, q->author_key_en ? 1u : 0u);
	memcpy(b + 0x050, q->report_data, 64);
	memcpy(b + 0x090, q->measurement, 48);
	memcpy(b + 0x0C0, q->host_data, 32);
	memcpy(b + 0x0E0, q->id_key_digest, 48);
	memcpy(b + 0x110, q->author_key_digest, 48);
	memcpy(b + 0x140, q->report_id, 32);
	memcpy(b + 0x160, q->report_id_ma, 32);
	put_le64(b + 0x180, q->reported_tcb);
	if (q->version >= 3) {
		b[0x188] = q->cpuid_fam_id;
		b[0x189] = q->cpuid_mod_id;
		b[0x18A] = q->cpuid_step;
	}
	memcpy(b + 0x1A0, q->chip_id, 64);
	put_le64(b + 0x1E0, q->committed_tcb);
	b[0x1E8] = q->current_build;
	b[0x1E9] = q->current_minor;
	b[0x1EA] = q->current_major;
	b[0x1EC] = q->committed_build;
	b[0x1ED] = q->committed_minor;
	b[0x1EE] = q->committed_major;
	put_le64(b + 0x1F0, q->launch_tcb);
	if (q->version >= 5) {
		put_le64(b + 0x1F8, q->launch_mit_vector);
		put_le64(b + 0x200, q->current_mit_vector);
	}
	return cocoon_sim_snp_report_sign(b, p->vcek_key);
}

int cocoon_sim_snp_certtable(uint8_t **out, size_t *out_len, const cocoon_sim_snp_pki *p)
{
	const uint8_t *guids[3] = { guid_vcek, guid_ask, guid_ark };
	unsigned char *der[3] = { NULL, NULL, NULL };
	size_t lens[3], pos, total;
	uint8_t *t = NULL;
	int err = 0, n;

	*out = NULL;
	*out_len = 0;
	if (!p) {
		err = cocoon_error_set(COCOON_EINVAL, "sim snp certtable: no PKI given");
		goto done;
	}
	total = 4 * TABLE_ENTRY; /* three entries and the all-zero terminator */
	for (int i = 0; i < 3; i++) {
		X509 *x = i == 0 ? p->vcek_cert : i == 1 ? p->ask_cert : p->ark_cert;
		if (!x || (n = i2d_X509(x, &der[i])) <= 0) {
			err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp certtable: cannot DER-encode certificate %d",
			                               i);
			goto done;
		}
		lens[i] = (size_t)n;
		total += lens[i];
	}
	if (total > UINT32_MAX || !(t = calloc(1, total))) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim snp certtable: out of memory for %zu bytes", total);
		goto done;
	}
	pos = 4 * TABLE_ENTRY;
	for (int i = 0; i < 3; i++) {
		memcpy(t + i * TABLE_ENTRY, guids[i], 16);
		cocoon_put_le32(t + i * TABLE_ENTRY + 16, (uint32_t)pos);
		cocoon_put_le32(t + i * TABLE_ENTRY + 20, (uint32_t)lens[i]);
		memcpy(t + pos, der[i], lens[i]);
		pos += lens[i];
	}
	*out = t;
	*out_len = total;
	t = NULL;
done:
	for (int i = 0; i < 3; i++)
		OPENSSL_free(der[i]);
	free(t);
	return err;
}
