/*
 * Collateral sources: where the appraisal finds DCAP collateral and SEV-SNP
 * endorsements. In memory (a list the caller fills), a PCS-format directory
 * (read once into memory) or the caller's callbacks (attestd's database).
 * Also the one loader of PCS-format directories and the description of
 * collateral (TEE, FMSPC, nextUpdate) that keys stores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dcap/collateral.h"
#include "attest_int.h"

typedef struct dcap_item {
	struct dcap_item *next;
	cocoon_collateral *coll;
	char tee[4], fmspc[13];     /* from its TCB info; empty when unreadable */
} dcap_item;

struct cocoon_collateral_source {
	int is_callbacks;
	cocoon_collateral_callbacks cb;
	void (*ctx_free)(void *);   /* set by sources that own cb.ctx (the fetching one) */
	dcap_item *dcap, **dcap_tail;
	int has_snp;
	uint8_t *snp_buf[4];        /* vcek, chain, crl, certs */
	size_t snp_len[4];
	char *snp_product;
};

int cocoon_collateral_source_new(cocoon_collateral_source **out)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	(*out)->dcap_tail = &(*out)->dcap;
	return 0;
}

int cocoon_collateral_source_new_callbacks(cocoon_collateral_source **out, const cocoon_collateral_callbacks *cb)
{
	int err;
	*out = NULL;
	if (!cb || cb->version != COCOON_COLLATERAL_CALLBACKS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_collateral_source_new_callbacks: callbacks of version %d "
		                        "are required", COCOON_COLLATERAL_CALLBACKS_VERSION);
	if ((err = cocoon_collateral_source_new(out)) != 0)
		return err;
	(*out)->is_callbacks = 1;
	(*out)->cb = *cb;
	return 0;
}

static void snp_clear(cocoon_collateral_source *s)
{
	for (int i = 0; i < 4; i++) {
		free(s->snp_buf[i]);
		s->snp_buf[i] = NULL;
		s->snp_len[i] = 0;
	}
	free(s->snp_product);
	s->snp_product = NULL;
	s->has_snp = 0;
}

void cocoon_collateral_source_free(cocoon_collateral_source *s)
{
	if (!s)
		return;
	while (s->dcap) {
		dcap_item *i = s->dcap;
		s->dcap = i->next;
		cocoon_collateral_free(i->coll);
		free(i);
	}
	snp_clear(s);
	if (s->ctx_free)
		s->ctx_free(s->cb.ctx);
	free(s);
}

void attest_source_own_ctx(cocoon_collateral_source *s, void (*ctx_free)(void *))
{
	s->ctx_free = ctx_free;
}

int cocoon_collateral_describe(char tee[4], char fmspc[13], time_t *next_update, const cocoon_collateral *c)
{
	json_error_t jerr;
	json_t *t = json_loadb(c->tcb_info, c->tcb_info_len, 0, &jerr);
	const char *id, *f, *nu;
	int err = 0;

	if (!t)
		return cocoon_error_set(COCOON_EFORMAT, "tcb_info: invalid JSON: %s", jerr.text);
	id = json_string_value(json_object_get(t, "id"));
	f = json_string_value(json_object_get(t, "fmspc"));
	nu = json_string_value(json_object_get(t, "nextUpdate"));
	if (!f || strlen(f) != 12) {
		err = cocoon_error_set(COCOON_EFORMAT, "tcb_info: \"fmspc\" must be 12 hex characters");
		goto done;
	}
	if (id && strcmp(id, "SGX") != 0 && strcmp(id, "TDX") != 0) {
		err = cocoon_error_set(COCOON_EFORMAT, "tcb_info: id '%.16s' is neither SGX nor TDX", id);
		goto done;
	}
	snprintf(tee, 4, "%s", id && strcmp(id, "TDX") == 0 ? "tdx" : "sgx");
	for (int i = 0; i < 12; i++)
		fmspc[i] = (char)(f[i] >= 'A' && f[i] <= 'F' ? f[i] - 'A' + 'a' : f[i]);
	fmspc[12] = '\0';
	*next_update = 0;
	if (nu && cocoon_time_parse(next_update, nu) != 0)
		err = cocoon_error_set(COCOON_EFORMAT, "tcb_info: nextUpdate '%.40s' is not a date", nu);
done:
	json_decref(t);
	return err;
}

int cocoon_collateral_source_add_dcap(cocoon_collateral_source *s, cocoon_collateral *c)
{
	dcap_item *i;
	time_t next;

	if (!s || !c || s->is_callbacks) {
		cocoon_collateral_free(c);
		return cocoon_error_set(COCOON_EINVAL, "cocoon_collateral_source_add_dcap: needs an in-memory source and "
		                        "collateral");
	}
	if (!(i = calloc(1, sizeof(*i)))) {
		cocoon_collateral_free(c);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	i->coll = c;
	/* Unreadable TCB info still goes in: the verifier names what is wrong with it. */
	if (cocoon_collateral_describe(i->tee, i->fmspc, &next, c) != 0)
		i->tee[0] = i->fmspc[0] = '\0';
	*s->dcap_tail = i;
	s->dcap_tail = &i->next;
	return 0;
}

static int dup_buf(uint8_t **out, const uint8_t *p, size_t n)
{
	*out = NULL;
	if (!p)
		return 0;
	if (!(*out = malloc(n ? n : 1)))
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	memcpy(*out, p, n);
	return 0;
}

int cocoon_collateral_source_set_snp(cocoon_collateral_source *s, const cocoon_snp_collateral *snp)
{
	const uint8_t *bufs[4];
	size_t lens[4];
	int err = 0;

	if (!s || s->is_callbacks || !snp || snp->version != COCOON_SNP_COLLATERAL_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_collateral_source_set_snp: needs an in-memory source and "
		                        "endorsements of version %d", COCOON_SNP_COLLATERAL_VERSION);
	snp_clear(s);
	bufs[0] = snp->vcek, lens[0] = snp->vcek_len;
	bufs[1] = snp->chain, lens[1] = snp->chain_len;
	bufs[2] = snp->crl, lens[2] = snp->crl_len;
	bufs[3] = snp->certs, lens[3] = snp->certs_len;
	for (int i = 0; i < 4 && !err; i++) {
		err = dup_buf(&s->snp_buf[i], bufs[i], lens[i]);
		s->snp_len[i] = s->snp_buf[i] ? lens[i] : 0;
	}
	if (!err && snp->product && !(s->snp_product = strdup(snp->product)))
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
	if (err)
		snp_clear(s);
	else
		s->has_snp = 1;
	return err;
}

int attest_source_dcap(const cocoon_collateral **out, cocoon_collateral_source *s, cocoon_tee tee, const char *fmspc)
{
	const char *name = tee == COCOON_TEE_TDX ? "tdx" : "sgx";

	*out = NULL;
	if (s && s->is_callbacks) {
		if (!s->cb.dcap)
			return cocoon_error_set(COCOON_ENOTFOUND, "no DCAP collateral source is configured");
		return s->cb.dcap(out, s->cb.ctx, tee, fmspc);
	}
	if (!s || !s->dcap)
		return cocoon_error_set(COCOON_ENOTFOUND, "no DCAP collateral for %s FMSPC %s: pass collateral (a file, a "
		                        "PCS directory or the PCS files)", name, fmspc ? fmspc : "(no PCK certificate)");
	for (dcap_item *i = s->dcap; i && fmspc; i = i->next) {
		if (strcmp(i->tee, name) == 0 && strcmp(i->fmspc, fmspc) == 0) {
			*out = i->coll;
			return 0;
		}
	}
	/* No exact match: a source of one entry (the CLI's) gives it anyway, so that verification names
	 * the mismatch; a source of several has none for this platform. */
	if (!s->dcap->next) {
		*out = s->dcap->coll;
		return 0;
	}
	return cocoon_error_set(COCOON_ENOTFOUND, "no DCAP collateral for %s FMSPC %s among the source's entries",
	                        name, fmspc ? fmspc : "(no PCK certificate)");
}

void attest_source_snp_static(attest_snp_endorsements *out, const cocoon_collateral_source *s)
{
	memset(out, 0, sizeof(*out));
	if (!s || s->is_callbacks || !s->has_snp)
		return;
	out->vcek = s->snp_buf[0], out->vcek_len = s->snp_len[0];
	out->chain = s->snp_buf[1], out->chain_len = s->snp_len[1];
	out->crl = s->snp_buf[2], out->crl_len = s->snp_len[2];
	out->certs = s->snp_buf[3], out->certs_len = s->snp_len[3];
	out->product = s->snp_product;
}

int attest_source_snp(attest_snp_endorsements *out, cocoon_collateral_source *s, const uint8_t chip_id[64],
                      uint64_t reported_tcb)
{
	char hex[129];
	int err;

	memset(out, 0, sizeof(*out));
	if (s && s->is_callbacks && s->cb.snp) {
		if ((err = s->cb.snp(&out->vcek, &out->vcek_len, &out->chain, &out->chain_len, s->cb.ctx, chip_id,
		                     reported_tcb)) != 0)
			return err;
		return out->vcek ? 0 : cocoon_error_set(COCOON_EINTERNAL, "the SNP collateral callback returned no VCEK");
	}
	attest_source_snp_static(out, s);
	if (out->vcek || out->certs)
		return 0;
	cocoon_hex_encode(hex, chip_id, 64);
	return cocoon_error_set(COCOON_ENOTFOUND, "no VCEK for SEV-SNP chip %.32s... (CHIP_ID %s) at reported TCB "
	                        "%016llx: pass the VCEK/VLEK or the extended report's certificate table", hex, hex,
	                        (unsigned long long)reported_tcb);
}

/* Reads DIR/name, or DIR/alt when name is absent; *out stays NULL when neither exists and !required. */
static int read_one(uint8_t **out, size_t *len, const char *dir, const char *name, const char *alt, int required)
{
	const char *names[2] = { name, alt };
	struct stat st;
	char *p = NULL;
	int err;

	*out = NULL;
	*len = 0;
	for (int i = 0; i < 2 && names[i]; i++) {
		if (asprintf(&p, "%s/%s", dir, names[i]) < 0)
			return cocoon_error_set(COCOON_ENOMEM, "out of memory");
		if (stat(p, &st) == 0) {
			err = cocoon_file_read(out, len, p);
			free(p);
			return err ? cocoon_error_set(err, "collateral directory %s: %s", dir, cocoon_error_last()->message)
			           : 0;
		}
		free(p);
	}
	if (!required)
		return 0;
	if (alt)
		return cocoon_error_set(COCOON_EIO, "collateral directory %s: %s or %s is missing", dir, name, alt);
	return cocoon_error_set(COCOON_EIO, "collateral directory %s: %s is missing", dir, name);
}

int cocoon_collateral_from_dir(cocoon_collateral **out, const char *dir)
{
	enum { TCB, TCB_CHAIN, QE, QE_CHAIN, PCK_CRL, PCK_CHAIN, ROOT_CRL, N };
	static const char *const names[N][2] = {
		{ "tcb_info.json", NULL },        { "tcb_info_issuer_chain.pem", NULL },
		{ "qe_identity.json", NULL },     { "qe_identity_issuer_chain.pem", NULL },
		{ "pck_crl.der", "pck_crl.pem" }, { "pck_crl_issuer_chain.pem", NULL },
		{ "root_ca_crl.der", "root_ca_crl.pem" },
	};
	cocoon_pcs_collateral pcs = { 0 };
	uint8_t *d[N] = { NULL };
	size_t l[N] = { 0 };
	int err = 0;

	*out = NULL;
	for (int i = 0; i < N && !err; i++)
		err = read_one(&d[i], &l[i], dir, names[i][0], names[i][1], i != QE_CHAIN);
	if (err)
		goto done;
	pcs.tcb_info = (const char *)d[TCB], pcs.tcb_info_len = l[TCB];
	pcs.tcb_info_issuer_chain = (const char *)d[TCB_CHAIN], pcs.tcb_info_issuer_chain_len = l[TCB_CHAIN];
	pcs.qe_identity = (const char *)d[QE], pcs.qe_identity_len = l[QE];
	pcs.qe_identity_issuer_chain = (const char *)d[QE_CHAIN], pcs.qe_identity_issuer_chain_len = l[QE_CHAIN];
	pcs.pck_crl = d[PCK_CRL], pcs.pck_crl_len = l[PCK_CRL];
	pcs.pck_crl_issuer_chain = (const char *)d[PCK_CHAIN], pcs.pck_crl_issuer_chain_len = l[PCK_CHAIN];
	pcs.root_ca_crl = d[ROOT_CRL], pcs.root_ca_crl_len = l[ROOT_CRL];
	if ((err = cocoon_collateral_from_pcs(out, &pcs)) != 0)
		err = cocoon_error_set(err, "collateral directory %s: %s", dir, cocoon_error_last()->message);
done:
	for (int i = 0; i < N; i++)
		free(d[i]);
	return err;
}

int cocoon_collateral_source_new_dir(cocoon_collateral_source **out, const char *dir)
{
	cocoon_collateral *c = NULL;
	int err;

	*out = NULL;
	if ((err = cocoon_collateral_from_dir(&c, dir)) != 0)
		return err;
	if ((err = cocoon_collateral_source_new(out)) != 0) {
		cocoon_collateral_free(c);
		return err;
	}
	if ((err = cocoon_collateral_source_add_dcap(*out, c)) != 0) {
		cocoon_collateral_source_free(*out);
		*out = NULL;
	}
	return err;
}
