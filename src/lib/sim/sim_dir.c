/* The simulation directory: persist and reload the simulated PKI, and
 * write current collateral for it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <stddef.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include "cocoon/sim.h"
#include "cocoon/verify.h"
#include "common/util.h"
#include "sim/dcap_sim.h"
#include "sim/sim_dir.h"
#include "sim/snp_sim.h"
#include "snp/snp.h"

char *cocoon_sim_path(const char *dir, const char *rel)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		return NULL;
	return p;
}

/* Creates path with mode, failing if it exists (keys are never overwritten). */
static FILE *create_file(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		cocoon_error_set(COCOON_EIO, "%s: cannot create: %s", path, strerror(errno));
		return NULL;
	}
	FILE *f = fdopen(fd, "wb");
	if (!f) {
		close(fd);
		cocoon_error_set(COCOON_EIO, "%s: %s", path, strerror(errno));
	}
	return f;
}

static int write_pem(const char *dir, const char *rel, X509 *cert, EVP_PKEY *key, X509_CRL *crl)
{
	char *path = cocoon_sim_path(dir, rel);
	FILE *f = NULL;
	int ok, err = 0;

	if (!path)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	if (!(f = create_file(path, key ? 0600 : 0644))) {
		err = COCOON_EIO;
		goto done;
	}
	if (cert)
		ok = PEM_write_X509(f, cert);
	else if (key)
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	else
		ok = i2d_X509_CRL_fp(f, crl);
	if (!ok)
		err = cocoon_error_set_openssl(COCOON_EIO, "%s: cannot write", path);
	if (fclose(f) != 0 && !err)
		err = cocoon_error_set(COCOON_EIO, "%s: %s", path, strerror(errno));
done:
	free(path);
	return err;
}

static int write_text(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char *path = cocoon_sim_path(dir, rel);
	FILE *f;
	int err = 0;
	if (!path)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	if (!(f = create_file(path, mode))) {
		free(path);
		return COCOON_EIO;
	}
	if (fputs(text, f) < 0)
		err = cocoon_error_set(COCOON_EIO, "%s: write error", path);
	if (fclose(f) != 0 && !err)
		err = cocoon_error_set(COCOON_EIO, "%s: %s", path, strerror(errno));
	free(path);
	return err;
}

static int read_pem(const char *dir, const char *rel, X509 **cert, EVP_PKEY **key)
{
	char *path = cocoon_sim_path(dir, rel);
	FILE *f = path ? fopen(path, "rb") : NULL;
	int err = 0;

	if (!f) {
		err = cocoon_error_set(COCOON_EIO, "%s: cannot open: %s; is this a directory made by 'cocoon sim init'?",
		                       path ? path : rel, strerror(errno));
		goto done;
	}
	if (cert && !(*cert = PEM_read_X509(f, NULL, NULL, NULL)))
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "%s: not a PEM certificate", path);
	if (key && !(*key = PEM_read_PrivateKey(f, NULL, NULL, NULL)))
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "%s: not a PEM private key", path);
	fclose(f);
done:
	free(path);
	return err;
}

static int read_crl(const char *dir, const char *rel, X509_CRL **crl)
{
	char *path = cocoon_sim_path(dir, rel);
	FILE *f = path ? fopen(path, "rb") : NULL;
	int err = 0;
	if (!f)
		err = cocoon_error_set(COCOON_EIO, "%s: cannot open: %s", path ? path : rel, strerror(errno));
	else if (!(*crl = d2i_X509_CRL_fp(f, NULL)))
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "%s: not a DER CRL", path);
	if (f)
		fclose(f);
	free(path);
	return err;
}

static const struct {
	const char *cert, *key;
	size_t cert_off, key_off;
} pki_files[] = {
	{ "intel/root.pem", "intel/root-key.pem", offsetof(cocoon_sim_pki, root_cert), offsetof(cocoon_sim_pki, root_key) },
	{ "intel/pck-ca.pem", "intel/pck-ca-key.pem", offsetof(cocoon_sim_pki, pck_ca_cert),
	  offsetof(cocoon_sim_pki, pck_ca_key) },
	{ "intel/pck.pem", "intel/pck-key.pem", offsetof(cocoon_sim_pki, pck_cert), offsetof(cocoon_sim_pki, pck_key) },
	{ "intel/tcb-signing.pem", "intel/tcb-signing-key.pem", offsetof(cocoon_sim_pki, tcb_cert),
	  offsetof(cocoon_sim_pki, tcb_key) },
	{ NULL, "intel/attestation-key.pem", 0, offsetof(cocoon_sim_pki, att_key) },
};

int cocoon_sim_pki_save(const cocoon_sim_pki *p, const char *dir)
{
	int err;
	for (size_t i = 0; i < sizeof(pki_files) / sizeof(pki_files[0]); i++) {
		if (pki_files[i].cert &&
		    (err = write_pem(dir, pki_files[i].cert, *(X509 **)((char *)p + pki_files[i].cert_off), NULL, NULL)))
			return err;
		if ((err = write_pem(dir, pki_files[i].key, NULL, *(EVP_PKEY **)((char *)p + pki_files[i].key_off), NULL)))
			return err;
	}
	if ((err = write_pem(dir, "intel/root-crl.der", NULL, NULL, p->root_crl)) ||
	    (err = write_pem(dir, "intel/pck-crl.der", NULL, NULL, p->pck_crl)))
		return err;
	return 0;
}

int cocoon_sim_pki_load(cocoon_sim_pki **out, const char *dir)
{
	cocoon_sim_pki *p = calloc(1, sizeof(*p));
	int err = 0;

	*out = NULL;
	if (!p)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory loading the simulation PKI");
	cocoon_sim_pki_options_init(&p->opts);
	p->opts.cn_prefix = COCOON_SIM_CN_PREFIX;
	for (size_t i = 0; i < sizeof(pki_files) / sizeof(pki_files[0]); i++) {
		if (pki_files[i].cert && (err = read_pem(dir, pki_files[i].cert,
		                                         (X509 **)((char *)p + pki_files[i].cert_off), NULL)))
			goto done;
		if ((err = read_pem(dir, pki_files[i].key, NULL, (EVP_PKEY **)((char *)p + pki_files[i].key_off))))
			goto done;
	}
	if ((err = read_crl(dir, "intel/root-crl.der", &p->root_crl)) ||
	    (err = read_crl(dir, "intel/pck-crl.der", &p->pck_crl)))
		goto done;
	*out = p;
	p = NULL;
done:
	cocoon_sim_pki_free(p);
	return err;
}

/* DIR/amd/<role>.pem and <role>-key.pem, for the ARK, the ASK and the VCEK. */
static const char *const snp_roles[3] = { "ark", "ask", "vcek" };

int cocoon_sim_snp_pki_save(const cocoon_sim_snp_pki *p, const char *dir)
{
	X509 *const certs[3] = { p->ark_cert, p->ask_cert, p->vcek_cert };
	EVP_PKEY *const keys[3] = { p->ark_key, p->ask_key, p->vcek_key };
	X509 *chain[2] = { p->ask_cert, p->ark_cert }; /* the order of AMD KDS's cert_chain */
	char rel[32], *pem = NULL;
	int err = 0;

	for (int i = 0; i < 3; i++) {
		snprintf(rel, sizeof(rel), "amd/%s.pem", snp_roles[i]);
		if ((err = write_pem(dir, rel, certs[i], NULL, NULL)) != 0)
			goto done;
		snprintf(rel, sizeof(rel), "amd/%s-key.pem", snp_roles[i]);
		if ((err = write_pem(dir, rel, NULL, keys[i], NULL)) != 0)
			goto done;
	}
	if ((err = cocoon_sim_pem_certs(&pem, chain, 2)) != 0 || (err = write_text(dir, "amd/chain.pem", pem, 0644)) != 0)
		goto done;
	err = write_pem(dir, "amd/crl.der", NULL, NULL, p->crl);
done:
	free(pem);
	return err;
}

int cocoon_sim_snp_pki_load(cocoon_sim_snp_pki **out, const char *dir)
{
	cocoon_sim_snp_pki *p = calloc(1, sizeof(*p));
	char cert_rel[32], key_rel[32];
	int err = 0;

	*out = NULL;
	if (!p)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory loading the simulated AMD PKI");
	X509 **certs[3] = { &p->ark_cert, &p->ask_cert, &p->vcek_cert };
	EVP_PKEY **keys[3] = { &p->ark_key, &p->ask_key, &p->vcek_key };
	for (int i = 0; i < 3; i++) {
		snprintf(cert_rel, sizeof(cert_rel), "amd/%s.pem", snp_roles[i]);
		snprintf(key_rel, sizeof(key_rel), "amd/%s-key.pem", snp_roles[i]);
		if ((err = read_pem(dir, cert_rel, certs[i], NULL)) != 0 || (err = read_pem(dir, key_rel, NULL, keys[i])) != 0)
			goto done;
		/* A mismatched pair would sign evidence that nothing verifies. */
		if (X509_check_private_key(*certs[i], *keys[i]) != 1) {
			err = cocoon_error_set_openssl(COCOON_EFORMAT, "%s/%s does not match %s/%s", dir, key_rel, dir,
			                               cert_rel);
			goto done;
		}
	}
	if ((err = read_crl(dir, "amd/crl.der", &p->crl)) != 0)
		goto done;
	if ((err = cocoon_sim_snp_pki_describe(p)) != 0) {
		char why[sizeof(cocoon_error_last()->message)];
		/* Copied first: the message buffer is also the destination. */
		snprintf(why, sizeof(why), "%s", cocoon_error_last()->message);
		err = cocoon_error_set(err, "%s/amd/vcek.pem: %s", dir, why);
		goto done;
	}
	*out = p;
	p = NULL;
done:
	cocoon_sim_snp_pki_free(p);
	return err;
}

static void iso_date(char *buf, size_t n, time_t t) { cocoon_time_format(buf, n, t); }

/* One TCB level in Intel's v3 layout. */
static json_t *tcb_level(const uint8_t sgx[16], uint16_t pce, const uint8_t *tdx, const char *status,
                         const char *date, const char *advisory)
{
	json_t *lvl = json_object(), *tcb = json_object(), *s = json_array();
	for (int i = 0; i < 16; i++)
		json_array_append_new(s, json_pack("{s:i}", "svn", sgx[i]));
	json_object_set_new(tcb, "sgxtcbcomponents", s);
	if (tdx) {
		json_t *t = json_array();
		for (int i = 0; i < 16; i++)
			json_array_append_new(t, json_pack("{s:i}", "svn", tdx[i]));
		json_object_set_new(tcb, "tdxtcbcomponents", t);
	}
	json_object_set_new(tcb, "pcesvn", json_integer(pce));
	json_object_set_new(lvl, "tcb", tcb);
	json_object_set_new(lvl, "tcbDate", json_string(date));
	json_object_set_new(lvl, "tcbStatus", json_string(status));
	if (advisory)
		json_object_set_new(lvl, "advisoryIDs", json_pack("[s]", advisory));
	return lvl;
}

int cocoon_sim_tcb_info_json(char **out, const cocoon_sim_pki *p, int tdx, const char *status, time_t issue,
                             time_t next)
{
	char a[32], b[32], fmspc[13], pceid[5];
	cocoon_sim_quote_params qp;
	uint8_t better_sgx[16], better_tdx[16];
	cocoon_tcb_status st;
	json_t *o = json_object(), *levels = json_array();
	int higher_first;

	if (cocoon_tcb_status_parse(&st, status) != 0 || st == COCOON_TCB_TD_RELAUNCH_ADVISED ||
	    st == COCOON_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED || st == COCOON_TCB_NOT_SUPPORTED) {
		json_decref(o);
		json_decref(levels);
		return cocoon_error_set(COCOON_EINVAL,
		                        "simulated TCB status '%s' is not one a TCB level can have (UpToDate, "
		                        "SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, "
		                        "OutOfDate, OutOfDateConfigurationNeeded, Revoked)",
		                        status);
	}
	/* The platform's TDX SVNs are the simulated quote's defaults. */
	cocoon_sim_quote_params_init(&qp, 4, 2);
	iso_date(a, sizeof(a), issue);
	iso_date(b, sizeof(b), next);
	cocoon_hex_encode(fmspc, p->opts.fmspc, 6);
	cocoon_hex_encode(pceid, p->opts.pceid, 2);
	json_object_set_new(o, "id", json_string(tdx ? "TDX" : "SGX"));
	json_object_set_new(o, "version", json_integer(3));
	json_object_set_new(o, "issueDate", json_string(a));
	json_object_set_new(o, "nextUpdate", json_string(b));
	json_object_set_new(o, "fmspc", json_string(fmspc));
	json_object_set_new(o, "pceId", json_string(pceid));
	json_object_set_new(o, "tcbType", json_integer(0));
	json_object_set_new(o, "tcbEvaluationDataNumber", json_integer(1));
	if (tdx)
		json_object_set_new(o, "tdxModule",
		                    json_pack("{s:s,s:s,s:s}", "mrsigner",
		                              "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
		                              "attributes", "0000000000000000", "attributesMask", "FFFFFFFFFFFFFFFF"));
	/* Statuses below UpToDate get a newer UpToDate level above the platform's,
	 * as Intel's TCB info has after a TCB recovery. */
	higher_first = st == COCOON_TCB_OUT_OF_DATE || st == COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED ||
	               st == COCOON_TCB_REVOKED;
	for (int i = 0; i < 16; i++) {
		better_sgx[i] = (uint8_t)(p->opts.cpu_svn[i] + 1);
		better_tdx[i] = (uint8_t)(qp.tee_tcb_svn[i] + 1);
	}
	if (higher_first)
		json_array_append_new(levels, tcb_level(better_sgx, (uint16_t)(p->opts.pce_svn + 1),
		                                        tdx ? better_tdx : NULL, "UpToDate", a, NULL));
	json_array_append_new(levels, tcb_level(p->opts.cpu_svn, p->opts.pce_svn, tdx ? qp.tee_tcb_svn : NULL, status,
	                                        "2024-01-01T00:00:00Z",
	                                        st == COCOON_TCB_UP_TO_DATE ? NULL : "COCOON-SIM-0001"));
	json_object_set_new(o, "tcbLevels", levels);
	*out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return *out ? 0 : cocoon_error_set(COCOON_ENOMEM, "out of memory writing TCB info");
}

int cocoon_sim_qe_identity_json(char **out, int tdx, time_t issue, time_t next)
{
	char a[32], b[32], mrsigner[65];
	cocoon_sim_quote_params qp;
	json_t *o;

	cocoon_sim_quote_params_init(&qp, tdx ? 4 : 3, tdx ? 2 : 1);
	iso_date(a, sizeof(a), issue);
	iso_date(b, sizeof(b), next);
	cocoon_hex_encode(mrsigner, qp.qe_mrsigner, 32);
	o = json_pack("{s:s,s:i,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:i,s:[{s:{s:i},s:s,s:s}]}", "id", tdx ? "TD_QE" : "QE",
	              "version", 2, "issueDate", a, "nextUpdate", b, "tcbEvaluationDataNumber", 1, "miscselect",
	              "00000000", "miscselectMask", "FFFFFFFF", "attributes", "11000000000000000000000000000000",
	              "attributesMask", "FBFFFFFFFFFFFFFF0000000000000000", "mrsigner", mrsigner, "isvprodid",
	              qp.qe_isv_prod_id, "tcbLevels", "tcb", "isvsvn", qp.qe_isv_svn, "tcbDate", "2024-01-01T00:00:00Z",
	              "tcbStatus", "UpToDate");
	if (!o)
		return cocoon_error_set(COCOON_EINTERNAL, "cannot build QE identity JSON");
	*out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return *out ? 0 : cocoon_error_set(COCOON_ENOMEM, "out of memory writing QE identity");
}

static int dir_is_empty_or_absent(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;
	if (!d)
		return errno == ENOENT ? 1 : -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

/* DIR/amd: an AMD-shaped PKI whose certificates and CRL share the Intel side's windows. */
static int snp_init(const char *dir, const char *product, time_t now, time_t next)
{
	cocoon_sim_snp_pki_options o;
	cocoon_sim_snp_pki *p = NULL;
	char *amd = cocoon_sim_path(dir, "amd");
	int err;

	if (!amd || mkdir(amd, 0700) != 0) {
		err = cocoon_error_set(COCOON_EIO, "sim init: cannot create %s: %s", amd ? amd : dir, strerror(errno));
		goto done;
	}
	cocoon_sim_snp_pki_options_init(&o);
	o.not_before = now - 3600;
	o.not_after = now + 86400L * 3650;
	o.crl_next_update = next;
	o.product = product;
	if ((err = cocoon_sim_snp_pki_generate(&p, &o)) != 0)
		goto done;
	err = cocoon_sim_snp_pki_save(p, dir);
done:
	cocoon_sim_snp_pki_free(p);
	free(amd);
	return err;
}

int cocoon_sim_init(const char *dir, const cocoon_sim_init_options *opts)
{
	cocoon_sim_init_options defaults = COCOON_SIM_INIT_OPTIONS_INIT;
	cocoon_sim_pki_options po;
	cocoon_sim_pki *p = NULL;
	char *ti = NULL, *qe = NULL, *coll = NULL, *intel = NULL;
	json_t *meta = NULL;
	char *meta_text = NULL, created[32];
	cocoon_snp_product line;
	time_t now, next;
	int err = 0, empty;

	if (!dir || !*dir)
		return cocoon_error_set(COCOON_EINVAL, "sim init: a directory is required");
	if (!opts)
		opts = &defaults;
	if (opts->snp_product && cocoon_snp_product_parse(&line, opts->snp_product) != 0)
		return cocoon_error_set(COCOON_EINVAL, "sim init: SNP product \"%.32s\" is not Milan, Genoa or Turin",
		                        opts->snp_product);
	if ((empty = dir_is_empty_or_absent(dir)) != 1)
		return cocoon_error_set(COCOON_EINVAL, "sim init: %s %s; choose a new directory (keys are never overwritten)",
		                        dir, empty < 0 ? "cannot be read" : "is not empty");
	now = opts->now ? opts->now : time(NULL);
	next = now + 86400L * (opts->validity_days ? opts->validity_days : 365);
	if ((mkdir(dir, 0700) != 0 && errno != EEXIST) || !(intel = cocoon_sim_path(dir, "intel")) ||
	    mkdir(intel, 0700) != 0) {
		err = cocoon_error_set(COCOON_EIO, "sim init: cannot create %s: %s", intel ? intel : dir, strerror(errno));
		goto done;
	}
	cocoon_sim_pki_options_init(&po);
	po.cn_prefix = COCOON_SIM_CN_PREFIX;
	po.not_before = now - 3600;
	po.not_after = now + 86400L * 3650;
	po.crl_next_update = next;
	if ((err = cocoon_sim_pki_generate(&p, &po)) != 0 || (err = cocoon_sim_pki_save(p, dir)) != 0)
		goto done;
	for (int tdx = 0; tdx <= 1; tdx++) {
		if ((err = cocoon_sim_tcb_info_json(&ti, p, tdx, opts->status ? opts->status : "UpToDate", now - 3600,
		                                    next)) != 0 ||
		    (err = cocoon_sim_qe_identity_json(&qe, tdx, now - 3600, next)) != 0 ||
		    (err = cocoon_sim_collateral_json(&coll, p, ti, qe)) != 0 ||
		    (err = write_text(dir, tdx ? "intel/collateral-tdx.json" : "intel/collateral-sgx.json", coll, 0644)))
			goto done;
		free(ti);
		free(qe);
		free(coll);
		ti = qe = coll = NULL;
	}
	if ((err = snp_init(dir, opts->snp_product ? opts->snp_product : "Milan", now, next)) != 0)
		goto done;
	cocoon_time_format(created, sizeof(created), now);
	meta = json_pack("{s:i,s:s,s:s,s:s,s:i,s:s}", "version", 1, "created", created, "status",
	                 opts->status ? opts->status : "UpToDate", "warning",
	                 "simulation only: never trust this directory in production", "validity_days",
	                 (int)(opts->validity_days ? opts->validity_days : 365), "snp_product",
	                 opts->snp_product ? opts->snp_product : "Milan");
	if (!meta || !(meta_text = json_dumps(meta, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
		goto done;
	}
	err = write_text(dir, "sim.json", meta_text, 0644);
done:
	free(ti);
	free(qe);
	free(coll);
	free(intel);
	free(meta_text);
	json_decref(meta);
	cocoon_sim_pki_free(p);
	return err;
}
