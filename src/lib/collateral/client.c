/*
 * The collateral client: builds the Intel PCS v4 and AMD KDS URLs, fetches
 * them through the HTTP layer and turns the PCS responses into an ordinary
 * (unverified) cocoon_collateral. The same paths serve Intel PCS, a PCCS
 * and caches that mirror the PCS v4 API; the base URL picks which.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/collateral.h"
#include "common/util.h"
#include "collateral/http.h"
#include "collateral/internal.h"

struct cocoon_collateral_client {
	char *pcs_url, *root_crl_url, *kds_url, *ca_file, *pck_ca, *update;
	coll_http_opts http;
};

static char *dup_trim(const char *s)
{
	char *p = strdup(s);
	size_t n;

	if (p)
		for (n = strlen(p); n && p[n - 1] == '/'; n--)
			p[n - 1] = '\0';
	return p;
}

int cocoon_collateral_client_new(cocoon_collateral_client **out, const cocoon_collateral_client_options *opts)
{
	cocoon_collateral_client_options defaults = COCOON_COLLATERAL_CLIENT_OPTIONS_INIT;
	cocoon_collateral_client *c;
	int custom_pcs;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != COCOON_COLLATERAL_CLIENT_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_collateral_client_options: version %u, expected %d",
		                        opts->version, COCOON_COLLATERAL_CLIENT_OPTIONS_VERSION);
	if (opts->pck_ca && strcmp(opts->pck_ca, "platform") != 0 && strcmp(opts->pck_ca, "processor") != 0)
		return cocoon_error_set(COCOON_EINVAL, "PCK CA '%s' is neither 'platform' nor 'processor'", opts->pck_ca);
	if (opts->update && strcmp(opts->update, "standard") != 0 && strcmp(opts->update, "early") != 0)
		return cocoon_error_set(COCOON_EINVAL, "update type '%s' is neither 'standard' nor 'early'", opts->update);
	if (!(c = calloc(1, sizeof(*c))))
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	custom_pcs = opts->pcs_url != NULL;
	c->pcs_url = dup_trim(opts->pcs_url ? opts->pcs_url : COCOON_PCS_URL_DEFAULT);
	c->kds_url = dup_trim(opts->kds_url ? opts->kds_url : COCOON_KDS_URL_DEFAULT);
	c->pck_ca = strdup(opts->pck_ca ? opts->pck_ca : "platform");
	c->update = strdup(opts->update ? opts->update : "standard");
	c->ca_file = opts->ca_file ? strdup(opts->ca_file) : NULL;
	if (opts->root_crl_url)
		c->root_crl_url = strdup(opts->root_crl_url);
	else if (!custom_pcs)
		c->root_crl_url = strdup(COCOON_ROOT_CRL_URL_DEFAULT);
	else if (c->pcs_url && asprintf(&c->root_crl_url, "%s/sgx/certification/v4/rootcacrl", c->pcs_url) < 0)
		c->root_crl_url = NULL;
	if (!c->pcs_url || !c->kds_url || !c->pck_ca || !c->update || !c->root_crl_url ||
	    (opts->ca_file && !c->ca_file)) {
		cocoon_collateral_client_free(c);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	c->http.ca_file = c->ca_file;
	c->http.max_attempts = opts->max_attempts > 0 ? opts->max_attempts : 5;
	c->http.timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 30000;
	c->http.deadline_ms = opts->deadline_ms > 0 ? opts->deadline_ms : 120000;
	c->http.backoff_ms = opts->backoff_ms > 0 ? opts->backoff_ms : 1000;
	c->http.max_backoff_ms = opts->max_backoff_ms > 0 ? opts->max_backoff_ms : 30000;
	c->http.per_host = opts->per_host > 0 ? opts->per_host : 2;
	*out = c;
	return 0;
}

void cocoon_collateral_client_free(cocoon_collateral_client *c)
{
	if (!c)
		return;
	free(c->pcs_url);
	free(c->root_crl_url);
	free(c->kds_url);
	free(c->ca_file);
	free(c->pck_ca);
	free(c->update);
	free(c);
}

/* GETs url and takes the issuer chain from the first of two header names that is present. */
static int get_pcs(coll_http_resp *r, char **chain, size_t *chain_len, long *max_age, const char *url,
                   const coll_http_opts *o, const char *header, const char *header_old)
{
	const char *v;
	size_t vl;
	long age;
	int err;

	*chain = NULL;
	if ((err = coll_http_get(r, url, o)) != 0)
		return err;
	if (header_old && coll_http_header(&v, &vl, r->headers, r->headers_len, header) != 0 &&
	    coll_http_header(&v, &vl, r->headers, r->headers_len, header_old) == 0)
		header = header_old;
	if ((err = cocoon_pcs_issuer_chain(chain, chain_len, r->headers, r->headers_len, header)) != 0)
		err = cocoon_error_set(err, "GET %s: %s", url, cocoon_error_last()->message);
	age = cocoon_http_max_age(r->headers, r->headers_len);
	if (age >= 0 && (*max_age < 0 || age < *max_age))
		*max_age = age;
	return err;
}

/* PCCS serves CRLs hex-encoded unless asked for DER; the loader takes DER or PEM. */
static int crl_unhex(coll_http_resp *r)
{
	uint8_t *der;
	size_t n = r->body_len, len;

	while (n && isspace(r->body[n - 1]))
		n--;
	if (n == 0 || n % 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit(r->body[i]))
			return 0;
	if (cocoon_hex_decode_alloc(&der, &len, (const char *)r->body, n) != 0)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	free(r->body);
	r->body = der;
	r->body_len = len;
	return 0;
}

int cocoon_collateral_client_fetch_dcap(cocoon_collateral **out, long *max_age, cocoon_collateral_client *c,
                                        cocoon_tee tee, const char *fmspc)
{
	enum { TCB, QE, PCK, ROOT, N };
	const char *t = tee == COCOON_TEE_TDX ? "tdx" : "sgx";
	cocoon_pcs_collateral pcs = { 0 };
	coll_http_resp r[N];
	char *url[N] = { NULL }, *chain[N] = { NULL };
	size_t chain_len[N] = { 0 };
	char f[13];
	int err = 0;

	*out = NULL;
	*max_age = -1;
	memset(r, 0, sizeof(r));
	if (!fmspc || strlen(fmspc) != 12 || cocoon_hex_decode((uint8_t[6]){ 0 }, 6, fmspc, 12) != 0)
		return cocoon_error_set(COCOON_EINVAL, "FMSPC '%s' is not 12 hex characters", fmspc ? fmspc : "(none)");
	for (int i = 0; i < 12; i++)
		f[i] = (char)tolower((unsigned char)fmspc[i]);
	f[12] = '\0';
	if (asprintf(&url[TCB], "%s/%s/certification/v4/tcb?fmspc=%s&update=%s", c->pcs_url, t, f, c->update) < 0 ||
	    asprintf(&url[QE], "%s/%s/certification/v4/qe/identity?update=%s", c->pcs_url, t, c->update) < 0 ||
	    asprintf(&url[PCK], "%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der", c->pcs_url, c->pck_ca) < 0 ||
	    !(url[ROOT] = strdup(c->root_crl_url))) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
		goto done;
	}
	if ((err = get_pcs(&r[TCB], &chain[TCB], &chain_len[TCB], max_age, url[TCB], &c->http, "TCB-Info-Issuer-Chain",
	                   "SGX-TCB-Info-Issuer-Chain")) ||
	    (err = get_pcs(&r[QE], &chain[QE], &chain_len[QE], max_age, url[QE], &c->http,
	                   "SGX-Enclave-Identity-Issuer-Chain", "SGX-QE-Identity-Issuer-Chain")) ||
	    (err = get_pcs(&r[PCK], &chain[PCK], &chain_len[PCK], max_age, url[PCK], &c->http,
	                   "SGX-PCK-CRL-Issuer-Chain", NULL)) ||
	    (err = get_pcs(&r[ROOT], &chain[ROOT], &chain_len[ROOT], max_age, url[ROOT], &c->http, NULL, NULL)) ||
	    (err = crl_unhex(&r[PCK])) || (err = crl_unhex(&r[ROOT])))
		goto done;
	pcs.tcb_info = (const char *)r[TCB].body, pcs.tcb_info_len = r[TCB].body_len;
	pcs.tcb_info_issuer_chain = chain[TCB], pcs.tcb_info_issuer_chain_len = chain_len[TCB];
	pcs.qe_identity = (const char *)r[QE].body, pcs.qe_identity_len = r[QE].body_len;
	pcs.qe_identity_issuer_chain = chain[QE], pcs.qe_identity_issuer_chain_len = chain_len[QE];
	pcs.pck_crl = r[PCK].body, pcs.pck_crl_len = r[PCK].body_len;
	pcs.pck_crl_issuer_chain = chain[PCK], pcs.pck_crl_issuer_chain_len = chain_len[PCK];
	pcs.root_ca_crl = r[ROOT].body, pcs.root_ca_crl_len = r[ROOT].body_len;
	if ((err = cocoon_collateral_from_pcs(out, &pcs)) != 0)
		err = cocoon_error_set(err, "collateral from %s: %s", c->pcs_url, cocoon_error_last()->message);
done:
	for (int i = 0; i < N; i++) {
		coll_http_resp_clear(&r[i]);
		free(url[i]);
		free(chain[i]);
	}
	return err;
}

int cocoon_kds_url(char **out, const char *base, cocoon_kds_item item, const char *product,
                   const uint8_t chip_id[64], uint64_t tcb)
{
	char hex[129];
	int turin, n;

	*out = NULL;
	if (!product || (strcmp(product, "Milan") != 0 && strcmp(product, "Genoa") != 0 && strcmp(product, "Turin") != 0))
		return cocoon_error_set(COCOON_EINVAL, "AMD product '%s' is not Milan, Genoa or Turin",
		                        product ? product : "(none)");
	if (!base)
		base = COCOON_KDS_URL_DEFAULT;
	turin = strcmp(product, "Turin") == 0;
	if (item == COCOON_KDS_CERT_CHAIN)
		n = asprintf(out, "%s/vcek/v1/%s/cert_chain", base, product);
	else if (item == COCOON_KDS_CRL)
		n = asprintf(out, "%s/vcek/v1/%s/crl", base, product);
	else if (!chip_id)
		return cocoon_error_set(COCOON_EINVAL, "a VCEK URL needs the CHIP_ID");
	else if (turin) {
		/* Turin: the 8-byte id, and TCB bytes FMC, BL, TEE, SNP, ..., UCODE (reference §4.1, §4.2). */
		cocoon_hex_encode(hex, chip_id, 8);
		n = asprintf(out, "%s/vcek/v1/Turin/%s?fmcSPL=%02u&blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u", base,
		             hex, (unsigned)(tcb & 0xff), (unsigned)((tcb >> 8) & 0xff), (unsigned)((tcb >> 16) & 0xff),
		             (unsigned)((tcb >> 24) & 0xff), (unsigned)(tcb >> 56));
	} else {
		cocoon_hex_encode(hex, chip_id, 64);
		n = asprintf(out, "%s/vcek/v1/%s/%s?blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", base, product, hex,
		             (unsigned)(tcb & 0xff), (unsigned)((tcb >> 8) & 0xff), (unsigned)((tcb >> 48) & 0xff),
		             (unsigned)(tcb >> 56));
	}
	if (n < 0) {
		*out = NULL;
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	return 0;
}

int cocoon_collateral_client_fetch_kds(uint8_t **out, size_t *out_len, cocoon_collateral_client *c,
                                       cocoon_kds_item item, const char *product, const uint8_t chip_id[64],
                                       uint64_t reported_tcb)
{
	coll_http_resp r;
	char *url = NULL;
	int err;

	*out = NULL;
	*out_len = 0;
	if ((err = cocoon_kds_url(&url, c->kds_url, item, product, chip_id, reported_tcb)) != 0)
		return err;
	if ((err = coll_http_get(&r, url, &c->http)) == 0) {
		*out = r.body;
		*out_len = r.body_len;
		r.body = NULL;
		coll_http_resp_clear(&r);
	}
	free(url);
	return err;
}

const char *coll_client_update(const cocoon_collateral_client *c)
{
	return c->update;
}
