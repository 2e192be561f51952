/*
 * Gramine provider: inside a Gramine SGX enclave, write the report data to
 * <root>/user_report_data and read a DCAP quote from <root>/quote.
 *
 * Gramine's /dev/attestation files are per process and not thread-safe:
 * the quote is computed from whatever user_report_data holds at read time,
 * so the write and the read are one critical section.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "evidence/provider.h"

#define GRAMINE_QUOTE_MAX (64u * 1024u)  /* Gramine caps quotes at 8 KiB */

static pthread_mutex_t gramine_lock = PTHREAD_MUTEX_INITIALIZER;

/* 0 when attestation_type is "dcap"; otherwise an error saying why. */
static int check_type(const cocoon_evidence_ctx *c, int *absent)
{
	char path[EV_PATH_MAX], type[32];
	int e;

	*absent = 0;
	if (ev_path(path, sizeof(path), c->attestation_root, "attestation_type") != 0)
		return cocoon_error_set(COCOON_EINVAL, "gramine: the attestation root path is too long");
	if ((e = ev_read_text(type, sizeof(type), c->sys, path)) != 0) {
		*absent = e == -ENOENT || e == -ENOTDIR;
		return cocoon_error_set(*absent ? COCOON_ENOTFOUND : COCOON_EIO, "gramine: cannot read %s: %s (%s)%s",
		                        path, strerror(-e), ev_errname(e),
		                        *absent ? "; not running inside Gramine" : "");
	}
	/* Text up to the first NUL, without a trailing newline. */
	ev_trim(type);
	if (strcmp(type, "dcap") == 0)
		return 0;
	if (strcmp(type, "none") == 0)
		return cocoon_error_set(COCOON_EUNSUPPORTED,
		                        "gramine: remote attestation is disabled (attestation_type is \"none\"): set "
		                        "sgx.remote_attestation = \"dcap\" in the manifest and sign the enclave again");
	if (strcmp(type, "epid") == 0)
		return cocoon_error_set(COCOON_EUNSUPPORTED,
		                        "gramine: attestation_type is \"epid\": EPID attestation is retired and not "
		                        "supported; use sgx.remote_attestation = \"dcap\"");
	return cocoon_error_set(COCOON_EUNSUPPORTED, "gramine: unknown attestation_type \"%.31s\"; cocoon needs \"dcap\"",
	                        type);
}

static int gramine_collect(cocoon_evidence *out, const cocoon_evidence_ctx *c)
{
	char path[EV_PATH_MAX];
	uint8_t *quote = NULL;
	size_t quote_len = 0;
	int absent, locked = 0, err, e;

	if (c->tee != COCOON_TEE_UNKNOWN && c->tee != COCOON_TEE_SGX) {
		err = cocoon_error_set(COCOON_EUNSUPPORTED, "gramine produces sgx evidence, not %s",
		                       cocoon_tee_name(c->tee));
		goto done;
	}
	pthread_mutex_lock(&gramine_lock);
	locked = 1;
	if ((err = check_type(c, &absent)) != 0)
		goto done;
	if (ev_path(path, sizeof(path), c->attestation_root, "user_report_data") != 0) {
		err = cocoon_error_set(COCOON_EINVAL, "gramine: the attestation root path is too long");
		goto done;
	}
	if ((e = ev_write_once(c->sys, path, c->report_data, COCOON_EVIDENCE_REPORT_DATA_SIZE)) != 0) {
		err = cocoon_error_set(COCOON_EIO, "gramine: writing 64 bytes to %s failed: %s (%s)", path, strerror(-e),
		                       ev_errname(e));
		goto done;
	}
	if (ev_path(path, sizeof(path), c->attestation_root, "quote") != 0) {
		err = cocoon_error_set(COCOON_EINVAL, "gramine: the attestation root path is too long");
		goto done;
	}
	if ((e = ev_read_blob(&quote, &quote_len, c->sys, path, GRAMINE_QUOTE_MAX)) != 0) {
		err = cocoon_error_set(e == -ENOMEM ? COCOON_ENOMEM : COCOON_EIO, "gramine: reading %s failed: %s (%s)%s",
		                       path, strerror(-e), ev_errname(e),
		                       e == -EACCES ? "; Gramine could not get a quote: is the host's aesmd running "
		                                      "with the DCAP quoting enclave and a reachable PCCS?"
		                                    : "");
		goto done;
	}
	if ((err = ev_check_binding("gramine", COCOON_EVIDENCE_DCAP_QUOTE, COCOON_TEE_SGX, quote, quote_len,
	                            c->report_data)) != 0)
		goto done;
	out->tee = COCOON_TEE_SGX;
	out->format = COCOON_EVIDENCE_DCAP_QUOTE;
	out->evidence = quote;
	out->evidence_len = quote_len;
	quote = NULL;
done:
	if (locked)
		pthread_mutex_unlock(&gramine_lock);
	free(quote);
	return err;
}

static void gramine_probe(cocoon_probe_entry *out, const cocoon_evidence_ctx *c)
{
	int absent;
	const char *m;

	out->tee = COCOON_TEE_SGX;
	out->format = COCOON_EVIDENCE_DCAP_QUOTE;
	if (check_type(c, &absent) == 0) {
		out->state = COCOON_PROBE_AVAILABLE;
		ev_detail(out, "%s/attestation_type: dcap", c->attestation_root);
		return;
	}
	out->state = absent ? COCOON_PROBE_ABSENT : COCOON_PROBE_UNUSABLE;
	m = cocoon_error_last()->message;
	if (strncmp(m, "gramine: ", 9) == 0)
		m += 9;
	ev_detail(out, "%s", m);
}

const cocoon_evidence_provider cocoon_evidence_provider_gramine = {
	"gramine", 1, gramine_probe, gramine_collect,
};
