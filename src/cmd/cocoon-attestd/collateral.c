/*
 * Collateral: per-worker caches over the store (the appraisal's collateral
 * source, through callbacks), the admin imports, and the start-up sources
 * (configured files, the simulation directory). DCAP collateral is stored
 * in the vectors' JSON layout whatever format it came in; SNP VCEKs are
 * keyed by chip (HWID) and TCB. Directory loading and the description of
 * collateral are the library's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "common/util.h"
#include "attestd.h"

typedef struct dcap_entry {
	struct dcap_entry *next;
	char key[24];               /* "sgx:00a067110000" */
	cocoon_collateral *coll;
} dcap_entry;

typedef struct snp_entry {
	struct snp_entry *next;
	char key[160];
	uint8_t *vcek;
	size_t vcek_len;
	char *chain;
} snp_entry;

struct attestd_cache {
	dcap_entry *dcap;
	snp_entry *snp;
	cocoon_collateral_source *source; /* callbacks over this cache, made on first use */
};

int attestd_cache_new(attestd_cache **out)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	return 0;
}

static void cache_flush(attestd_cache *c)
{
	while (c->dcap) {
		dcap_entry *e = c->dcap;
		c->dcap = e->next;
		cocoon_collateral_free(e->coll);
		free(e);
	}
	while (c->snp) {
		snp_entry *e = c->snp;
		c->snp = e->next;
		free(e->vcek);
		free(e->chain);
		free(e);
	}
}

void attestd_cache_free(attestd_cache *c)
{
	if (!c)
		return;
	cache_flush(c);
	cocoon_collateral_source_free(c->source);
	free(c);
}

void attestd_env_refresh(attestd_env *env)
{
	unsigned long g = atomic_load(&env->ctx->generation);
	time_t now = time(NULL);
	int64_t dbg;

	if (g != env->seen_generation) {
		env->seen_generation = g;
		cache_flush(env->cache);
	}
	/* Other processes sharing the database (replicas) bump its generation. */
	if (now - env->last_db_check >= 2) {
		env->last_db_check = now;
		if (env->store->ops->generation(env->store, &dbg) == 0 && dbg != env->db_generation) {
			env->db_generation = dbg;
			cache_flush(env->cache);
		}
	}
}

static int collateral_dcap(const cocoon_collateral **out, attestd_env *env, const char *tee, const char *fmspc)
{
	char key[24], *doc = NULL;
	dcap_entry *e;
	int err;

	*out = NULL;
	if (!fmspc)
		return cocoon_error_set(COCOON_ENOTFOUND, "the %s quote carries no PCK certificate, so its FMSPC and "
		                        "collateral are unknown", tee);
	snprintf(key, sizeof(key), "%s:%s", tee, fmspc);
	atomic_fetch_add(&attestd_m.collateral_lookups, 1);
	for (e = env->cache->dcap; e; e = e->next) {
		if (strcmp(e->key, key) == 0) {
			atomic_fetch_add(&attestd_m.collateral_cache_hits, 1);
			*out = e->coll;
			return 0;
		}
	}
	err = env->store->ops->collateral_get(env->store, "dcap", key, &doc);
	if (err == COCOON_ENOTFOUND)
		return cocoon_error_set(COCOON_ENOTFOUND, "no DCAP collateral for %s FMSPC %s; an administrator must "
		                        "import it (POST /admin/collateral/dcap)", tee == NULL ? "?" : tee, fmspc);
	if (err)
		return err;
	if (!(e = calloc(1, sizeof(*e)))) {
		free(doc);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	snprintf(e->key, sizeof(e->key), "%s", key);
	err = cocoon_collateral_from_json(&e->coll, doc, strlen(doc));
	free(doc);
	if (err) {
		free(e);
		return cocoon_error_set(err, "stored collateral for %s is unusable: %s", key, cocoon_error_last()->message);
	}
	e->next = env->cache->dcap;
	env->cache->dcap = e;
	*out = e->coll;
	return 0;
}

static int collateral_snp(const uint8_t **vcek, size_t *vcek_len, const char **chain, attestd_env *env,
                          const uint8_t *chip_id, uint64_t tcb, const char *product)
{
	static const size_t hwid_lens[] = { 64, 8 };
	char key[160], hex[129], *doc = NULL, *chain_doc = NULL;
	snp_entry *e;
	int err = COCOON_ENOTFOUND;

	*vcek = NULL;
	*chain = NULL;
	for (size_t i = 0; i < 2 && err == COCOON_ENOTFOUND; i++) {
		cocoon_hex_encode(hex, chip_id, hwid_lens[i]);
		snprintf(key, sizeof(key), "%s:%016llx", hex, (unsigned long long)tcb);
		for (e = env->cache->snp; e; e = e->next) {
			if (strcmp(e->key, key) == 0) {
				*vcek = e->vcek;
				*vcek_len = e->vcek_len;
				*chain = e->chain;
				return 0;
			}
		}
		err = env->store->ops->collateral_get(env->store, "snp-vcek", key, &doc);
	}
	if (err == COCOON_ENOTFOUND) {
		cocoon_hex_encode(hex, chip_id, 64);
		return cocoon_error_set(COCOON_ENOTFOUND, "no VCEK for SEV-SNP chip %.32s... (CHIP_ID %s) at reported "
		                        "TCB %016llx: send it in the request's VcekCertChain or import it "
		                        "(POST /admin/collateral/snp)", hex, hex, (unsigned long long)tcb);
	}
	if (err)
		return err;
	if (product && env->store->ops->collateral_get(env->store, "snp-chain", product, &chain_doc) != 0)
		chain_doc = NULL; /* no stored chain: the built-in AMD roots apply */
	if (!(e = calloc(1, sizeof(*e)))) {
		free(doc);
		free(chain_doc);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->vcek = (uint8_t *)doc;
	e->vcek_len = strlen(doc);
	e->chain = chain_doc;
	e->next = env->cache->snp;
	env->cache->snp = e;
	*vcek = e->vcek;
	*vcek_len = e->vcek_len;
	*chain = e->chain;
	return 0;
}

/* The appraisal's callbacks: ctx is the worker's attestd_env. */
static int cb_dcap(const cocoon_collateral **out, void *ctx, cocoon_tee tee, const char *fmspc)
{
	return collateral_dcap(out, ctx, tee == COCOON_TEE_TDX ? "tdx" : "sgx", fmspc);
}

static int cb_snp(const uint8_t **vcek, size_t *vcek_len, const uint8_t **chain, size_t *chain_len, void *ctx,
                  const uint8_t chip_id[64], uint64_t reported_tcb)
{
	const char *c = NULL;
	int err = collateral_snp(vcek, vcek_len, &c, ctx, chip_id, reported_tcb, NULL);
	*chain = (const uint8_t *)c;
	*chain_len = c ? strlen(c) : 0;
	return err;
}

cocoon_collateral_source *attestd_collateral_source(attestd_env *env)
{
	cocoon_collateral_callbacks cb = COCOON_COLLATERAL_CALLBACKS_INIT;

	if (!env->cache->source) {
		cb.dcap = cb_dcap;
		cb.snp = cb_snp;
		cb.ctx = env;
		if (cocoon_collateral_source_new_callbacks(&env->cache->source, &cb) != 0)
			return NULL;
	}
	return env->cache->source;
}

/* ---- import ---- */

/* A CRL given as hex DER or as PEM text. */
static int crl_bytes(uint8_t **out, size_t *len, json_t *v, const char *field)
{
	const char *s = json_string_value(v);
	*out = NULL;
	*len = 0;
	if (!s)
		return cocoon_error_set(COCOON_EFORMAT, "collateral: \"%s\" must be a string (hex DER or PEM)", field);
	if (strstr(s, "-----BEGIN")) {
		if (!(*out = (uint8_t *)strdup(s)))
			return cocoon_error_set(COCOON_ENOMEM, "out of memory");
		*len = strlen(s);
		return 0;
	}
	if (cocoon_hex_decode_alloc(out, len, s, strlen(s)) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "collateral: \"%s\" is neither PEM nor hex DER", field);
	return 0;
}

static int parse_dcap(cocoon_collateral **out, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	cocoon_pcs_collateral pcs = { 0 };
	uint8_t *pck_crl = NULL, *root_crl = NULL;
	static const char *const strings[] = { "tcb_info", "tcb_info_issuer_chain", "qe_identity", "pck_crl_issuer_chain" };
	int err = 0;

	*out = NULL;
	if (!o)
		return cocoon_error_set(COCOON_EFORMAT, "body: invalid JSON at line %d column %d: %s", jerr.line,
		                        jerr.column, jerr.text);
	if (!json_is_object(o)) {
		err = cocoon_error_set(COCOON_EFORMAT, "body: expected a JSON object of collateral");
		goto done;
	}
	if (json_object_get(o, "tcb_info_signature")) {
		err = cocoon_collateral_from_json(out, body, len);
		goto done;
	}
	/* Intel PCS responses: the signed bodies must be the exact response text, hence strings. */
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		if (!json_is_string(json_object_get(o, strings[i]))) {
			err = cocoon_error_set(COCOON_EFORMAT, "body: \"%s\" must be a string%s (or send the vectors' "
			                       "layout with tcb_info_signature)", strings[i],
			                       i == 0 || i == 2 ? " holding the exact PCS response body" : " (PEM)");
			goto done;
		}
	}
	pcs.tcb_info = json_string_value(json_object_get(o, "tcb_info"));
	pcs.tcb_info_len = strlen(pcs.tcb_info);
	pcs.tcb_info_issuer_chain = json_string_value(json_object_get(o, "tcb_info_issuer_chain"));
	pcs.tcb_info_issuer_chain_len = strlen(pcs.tcb_info_issuer_chain);
	pcs.qe_identity = json_string_value(json_object_get(o, "qe_identity"));
	pcs.qe_identity_len = strlen(pcs.qe_identity);
	pcs.qe_identity_issuer_chain = json_string_value(json_object_get(o, "qe_identity_issuer_chain"));
	pcs.qe_identity_issuer_chain_len = pcs.qe_identity_issuer_chain ? strlen(pcs.qe_identity_issuer_chain) : 0;
	pcs.pck_crl_issuer_chain = json_string_value(json_object_get(o, "pck_crl_issuer_chain"));
	pcs.pck_crl_issuer_chain_len = strlen(pcs.pck_crl_issuer_chain);
	if ((err = crl_bytes(&pck_crl, &pcs.pck_crl_len, json_object_get(o, "pck_crl"), "pck_crl")) ||
	    (err = crl_bytes(&root_crl, &pcs.root_ca_crl_len, json_object_get(o, "root_ca_crl"), "root_ca_crl")))
		goto done;
	pcs.pck_crl = pck_crl;
	pcs.root_ca_crl = root_crl;
	err = cocoon_collateral_from_pcs(out, &pcs);
done:
	free(pck_crl);
	free(root_crl);
	json_decref(o);
	return err;
}

static int store_dcap(char **summary, attestd_env *env, const cocoon_collateral *c)
{
	char tee[4], fmspc[13], key[24], *doc = NULL, when[32];
	time_t next;
	int err;

	if ((err = cocoon_collateral_describe(tee, fmspc, &next, c)) != 0)
		return err;
	if (cocoon_collateral_to_json(&doc, c) != 0)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	snprintf(key, sizeof(key), "%s:%s", tee, fmspc);
	err = env->store->ops->collateral_put(env->store, "dcap", key, doc, next);
	free(doc);
	if (err)
		return err;
	atomic_fetch_add(&env->ctx->generation, 1);
	cocoon_time_format(when, sizeof(when), next);
	if (summary && asprintf(summary, "{\"kind\":\"dcap\",\"tee\":\"%s\",\"fmspc\":\"%s\",\"next_update\":\"%s\"}",
	                        tee, fmspc, when) < 0)
		*summary = NULL;
	return 0;
}

int attestd_collateral_import_dcap(char **summary, attestd_env *env, const char *body, size_t len)
{
	cocoon_collateral *c = NULL;
	int err;
	*summary = NULL;
	if ((err = parse_dcap(&c, body, len)) == 0)
		err = store_dcap(summary, env, c);
	cocoon_collateral_free(c);
	return err;
}

/* A certificate given as PEM or as base64 DER; returns PEM text. */
static int cert_pem(char **out, X509 **cert, const char *s, const char *field)
{
	BIO *b = NULL, *mem = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	const unsigned char *p;
	char *data;
	long n;
	int err = 0;

	*out = NULL;
	*cert = NULL;
	if (strstr(s, "-----BEGIN")) {
		if ((b = BIO_new_mem_buf(s, -1)))
			*cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	} else if (cocoon_b64_decode(&der, &der_len, s, strlen(s)) == 0) {
		p = der;
		*cert = d2i_X509(NULL, &p, (long)der_len);
	}
	if (!*cert) {
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "body: \"%s\" is not a PEM or base64 DER certificate", field);
		goto done;
	}
	if (!(mem = BIO_new(BIO_s_mem())) || !PEM_write_bio_X509(mem, *cert) || (n = BIO_get_mem_data(mem, &data)) <= 0 ||
	    !(*out = strndup(data, (size_t)n)))
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
done:
	BIO_free(b);
	BIO_free(mem);
	free(der);
	return err;
}

int attestd_collateral_import_snp(char **summary, attestd_env *env, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *vcek_s, *chain_s;
	char *pem = NULL, key[160], hex[129];
	X509 *cert = NULL;
	cocoon_snp_vcek_id id;
	unsigned char *der = NULL;
	int der_len, err = 0;

	*summary = NULL;
	if (!o)
		return cocoon_error_set(COCOON_EFORMAT, "body: invalid JSON at line %d column %d: %s", jerr.line,
		                        jerr.column, jerr.text);
	vcek_s = json_string_value(json_object_get(o, "vcek"));
	chain_s = json_string_value(json_object_get(o, "chain"));
	if (!vcek_s) {
		err = cocoon_error_set(COCOON_EFORMAT, "body: \"vcek\" (PEM or base64 DER certificate) is required");
		goto done;
	}
	if (json_object_get(o, "chain") && (!chain_s || !strstr(chain_s, "-----BEGIN CERTIFICATE"))) {
		err = cocoon_error_set(COCOON_EFORMAT, "body: \"chain\" must be PEM ASK+ARK certificates");
		goto done;
	}
	if ((err = cert_pem(&pem, &cert, vcek_s, "vcek")) != 0)
		goto done;
	if ((der_len = i2d_X509(cert, &der)) <= 0) {
		err = cocoon_error_set_openssl(COCOON_ENOMEM, "body: \"vcek\": cannot encode the certificate");
		goto done;
	}
	if (cocoon_snp_vcek_identify(&id, der, (size_t)der_len) != 0) {
		err = cocoon_error_set(COCOON_EFORMAT, "body: \"vcek\": %s", cocoon_error_last()->message);
		goto done;
	}
	cocoon_hex_encode(hex, id.chip_id, id.chip_id_len);
	snprintf(key, sizeof(key), "%s:%016llx", hex, (unsigned long long)id.tcb);
	if ((err = env->store->ops->collateral_put(env->store, "snp-vcek", key, pem, 0)) != 0)
		goto done;
	if (chain_s && (err = env->store->ops->collateral_put(env->store, "snp-chain",
	                                                       id.product, chain_s, 0)))
		goto done;
	atomic_fetch_add(&env->ctx->generation, 1);
	if (asprintf(summary, "{\"kind\":\"snp\",\"product\":\"%s\",\"chip_id\":\"%s\",\"tcb\":\"%016llx\"}",
	             id.product, hex, (unsigned long long)id.tcb) < 0)
		*summary = NULL;
done:
	OPENSSL_free(der);
	X509_free(cert);
	free(pem);
	json_decref(o);
	return err;
}

/* Imports one configured source: a collateral JSON file (either layout) or a PCS directory. */
static int import_path(attestd_env *env, const char *path)
{
	struct stat st;
	cocoon_collateral *c = NULL;
	uint8_t *doc = NULL;
	size_t len = 0;
	char *summary = NULL;
	int err;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if ((err = cocoon_collateral_from_dir(&c, path)) == 0)
			err = store_dcap(&summary, env, c);
		cocoon_collateral_free(c);
		if (err)
			return err;
	} else {
		if ((err = cocoon_file_read(&doc, &len, path)) != 0)
			return err;
		err = attestd_collateral_import_dcap(&summary, env, (char *)doc, len);
		free(doc);
		if (err)
			return cocoon_error_set(err, "collateral %s: %s", path, cocoon_error_last()->message);
	}
	attestd_logf("info", "imported collateral from %s: %s", path, summary ? summary : "");
	free(summary);
	return 0;
}

/* --trust-sim DIR: its current SGX and TDX collateral and, when present, its AMD PKI (VCEK, ASK+ARK, CRL). */
static int load_sim(attestd_ctx *ctx)
{
	static const char *const dcap_rel[2] = { "intel/collateral-sgx.json", "intel/collateral-tdx.json" };
	static const char *const amd_rel[3] = { "amd/vcek.pem", "amd/chain.pem", "amd/crl.der" };
	cocoon_snp_collateral snp = COCOON_SNP_COLLATERAL_INIT;
	uint8_t *data[3] = { NULL, NULL, NULL };
	size_t len[3] = { 0, 0, 0 };
	const char *dir = ctx->cfg->trust_sim_dir;
	struct stat st;
	char *path = NULL;
	int err;

	if ((err = cocoon_collateral_source_new(&ctx->sim_source)) != 0)
		return err;
	for (int t = 0; t < 2 && !err; t++) {
		cocoon_collateral *c = NULL;
		uint8_t *doc = NULL;
		if (!(path = cocoon_sim_path(dir, dcap_rel[t])))
			return cocoon_error_set(COCOON_ENOMEM, "out of memory");
		if (!(err = cocoon_file_read(&doc, &len[0], path)) &&
		    !(err = cocoon_collateral_from_json(&c, (char *)doc, len[0])))
			err = cocoon_collateral_source_add_dcap(ctx->sim_source, c);
		free(doc);
		if (err)
			err = cocoon_error_set(err, "--trust-sim: %s: %s", path, cocoon_error_last()->message);
		free(path);
	}
	for (int i = 0; i < 3 && !err; i++) {
		if (!(path = cocoon_sim_path(dir, amd_rel[i]))) {
			err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
			break;
		}
		if (i == 0 && stat(path, &st) != 0) {
			free(path);
			return 0; /* a simulation directory without the AMD part: SNP simulation is off */
		}
		if ((err = cocoon_file_read(&data[i], &len[i], path)) != 0)
			err = cocoon_error_set(err, "--trust-sim: %s: %s", path, cocoon_error_last()->message);
		free(path);
	}
	if (!err) {
		snp.vcek = data[0], snp.vcek_len = len[0];
		snp.chain = data[1], snp.chain_len = len[1];
		snp.crl = data[2], snp.crl_len = len[2];
		err = cocoon_collateral_source_set_snp(ctx->sim_source, &snp);
	}
	for (int i = 0; i < 3; i++)
		free(data[i]);
	return err;
}

int attestd_collateral_bootstrap(attestd_env *env)
{
	attestd_ctx *ctx = env->ctx;
	size_t i;
	json_t *e;
	int err;

	json_array_foreach(ctx->cfg->collateral_files, i, e) {
		if ((err = import_path(env, json_string_value(e))) != 0)
			return err;
	}
	if (ctx->cfg->trust_sim_dir && (err = load_sim(ctx)) != 0)
		return err;
	return 0;
}

void attestd_handle_collateral(attestd_reply *r, attestd_env *env, const char *kind, const char *body, size_t len)
{
	char *summary = NULL;
	json_t *s;
	int err;

	if (strcmp(kind, "dcap") == 0)
		err = attestd_collateral_import_dcap(&summary, env, body, len);
	else if (strcmp(kind, "snp") == 0)
		err = attestd_collateral_import_snp(&summary, env, body, len);
	else
		return attestd_reply_error(r, 404, "NotFound", "collateral kind '%.40s' is unknown; use dcap or snp", kind);
	if (err) {
		int client = err == COCOON_EFORMAT || err == COCOON_EUNSUPPORTED || err == COCOON_EINVAL;
		return attestd_reply_error(r, client ? 400 : 500, client ? "InvalidParameter" : "InternalError", "%s",
		                           cocoon_error_last()->message);
	}
	s = summary ? json_loads(summary, 0, NULL) : NULL;
	free(summary);
	attestd_log("info", "collateral imported", s);
	attestd_reply_json(r, 200, s ? s : json_object());
}
