/*
 * Evidence collection: the provider registry, option resolution,
 * auto-detection and the public entry points.
 *
 * Auto-detection order (docs/evidence.md): configfs-tsm first (a private
 * entry per request, the kernel's preferred interface), then the
 * sev-guest ioctls, then Gramine. tdx-guest and sim are probed for the
 * report but never chosen automatically: a TDREPORT is not remotely
 * verifiable and simulated evidence must be asked for by name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "evidence/provider.h"

static const cocoon_evidence_provider *const registry[] = {
	&cocoon_evidence_provider_tsm,
	&cocoon_evidence_provider_sev_guest,
	&cocoon_evidence_provider_gramine,
	&cocoon_evidence_provider_tdx_guest,
	&cocoon_evidence_provider_sim,
};
#define REGISTRY_LEN (sizeof(registry) / sizeof(registry[0]))

#define DEFAULT_CONFIGFS_ROOT "/sys/kernel/config"
#define DEFAULT_SEV_GUEST "/dev/sev-guest"
#define DEFAULT_TDX_GUEST "/dev/tdx_guest"
#define DEFAULT_ATTESTATION_ROOT "/dev/attestation"
#define DEFAULT_BUSY_RETRY_MS 2000u

const char *cocoon_evidence_format_name(cocoon_evidence_format f)
{
	switch (f) {
	case COCOON_EVIDENCE_DCAP_QUOTE: return "dcap_quote";
	case COCOON_EVIDENCE_SNP_REPORT: return "snp_report";
	case COCOON_EVIDENCE_TDX_TDREPORT: return "tdx_tdreport";
	default: return "none";
	}
}

const char *cocoon_probe_state_name(cocoon_probe_state s)
{
	switch (s) {
	case COCOON_PROBE_AVAILABLE: return "available";
	case COCOON_PROBE_ABSENT: return "absent";
	case COCOON_PROBE_UNUSABLE: return "unusable";
	default: return "unknown";
	}
}

void cocoon_evidence_free(cocoon_evidence *e)
{
	if (!e)
		return;
	free(e->evidence);
	free(e->aux);
	memset(e, 0, sizeof(*e));
}

int cocoon_evidence_report_data_from_hex(uint8_t out[COCOON_EVIDENCE_REPORT_DATA_SIZE], const char *hex)
{
	size_t len;

	memset(out, 0, COCOON_EVIDENCE_REPORT_DATA_SIZE);
	if (!hex)
		return cocoon_error_set(COCOON_EINVAL, "report data: no hex string given");
	len = strnlen(hex, 2 * COCOON_EVIDENCE_REPORT_DATA_SIZE + 1);
	if (len > 2 * COCOON_EVIDENCE_REPORT_DATA_SIZE)
		return cocoon_error_set(COCOON_EINVAL,
		                        "report data: more than 128 hex characters (64 bytes); hash longer data first");
	for (size_t i = 0; i < len; i++) {
		char ch = hex[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
			return cocoon_error_set(COCOON_EINVAL, "report data: character %zu is not a hex digit", i);
	}
	if (len % 2 != 0)
		return cocoon_error_set(COCOON_EINVAL, "report data: odd number of hex characters (%zu)", len);
	if (cocoon_hex_decode(out, len / 2, hex, len) != 0)
		return cocoon_error_set(COCOON_EINTERNAL, "report data: hex decoding failed");
	return 0;
}

static int valid_sys(const cocoon_evidence_sys *s)
{
	return s->open && s->close && s->read && s->write && s->ioctl && s->mkdir && s->rmdir && s->sleep_ms;
}

static int resolve(cocoon_evidence_ctx *c, const cocoon_evidence_options *o)
{
	const char *root;

	memset(c, 0, sizeof(*c));
	if (!o)
		return cocoon_error_set(COCOON_EINVAL, "evidence: no options given");
	if (o->version != COCOON_EVIDENCE_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL,
		                        "evidence: options version %u is not %d; initialise them with "
		                        "COCOON_EVIDENCE_OPTIONS_INIT",
		                        o->version, COCOON_EVIDENCE_OPTIONS_VERSION);
	if (o->tee != COCOON_TEE_UNKNOWN && o->tee != COCOON_TEE_SGX && o->tee != COCOON_TEE_TDX &&
	    o->tee != COCOON_TEE_SNP)
		return cocoon_error_set(COCOON_EINVAL, "evidence: tee %d is not sgx, tdx or snp", (int)o->tee);
	if (o->snp_vmpl != COCOON_EVIDENCE_VMPL_DEFAULT && (o->snp_vmpl < 0 || o->snp_vmpl > 3))
		return cocoon_error_set(COCOON_EINVAL, "evidence: SNP VMPL %d is outside 0..3", o->snp_vmpl);
	if (o->sys && !valid_sys(o->sys))
		return cocoon_error_set(COCOON_EINVAL, "evidence: the injected system-call table has empty entries");
	c->sys = o->sys ? o->sys : cocoon_evidence_sys_default();
	c->tee = o->tee;
	c->report_data = o->report_data;
	c->snp_vmpl = o->snp_vmpl;
	c->no_aux = o->no_aux;
	c->busy_retry_ms = o->busy_retry_ms ? o->busy_retry_ms : DEFAULT_BUSY_RETRY_MS;
	root = o->configfs_root ? o->configfs_root : DEFAULT_CONFIGFS_ROOT;
	if (ev_path(c->tsm_report_dir, sizeof(c->tsm_report_dir), root, "tsm/report") != 0)
		return cocoon_error_set(COCOON_EINVAL, "evidence: the configfs root path is too long");
	c->sev_guest_path = o->sev_guest_path ? o->sev_guest_path : DEFAULT_SEV_GUEST;
	c->tdx_guest_path = o->tdx_guest_path ? o->tdx_guest_path : DEFAULT_TDX_GUEST;
	c->attestation_root = o->attestation_root ? o->attestation_root : DEFAULT_ATTESTATION_ROOT;
	c->sim_dir = o->sim_dir;
	if (o->sim_init_data_digest && (o->sim_init_data_digest_len == 0 || o->sim_init_data_digest_len > 64))
		return cocoon_error_set(COCOON_EINVAL, "evidence: an init-data digest of %zu bytes (expected 1..64)",
		                        o->sim_init_data_digest_len);
	c->sim_init_digest = o->sim_init_data_digest;
	c->sim_init_digest_len = o->sim_init_data_digest_len;
	return 0;
}

static int selectable(const cocoon_probe_entry *e, cocoon_tee want)
{
	return e->auto_detect && e->state == COCOON_PROBE_AVAILABLE &&
	       (want == COCOON_TEE_UNKNOWN || e->tee == want);
}

/*
 * Probes providers in order. With stop_at_selection, stops at the first
 * one auto-detection may use (collect does not need the rest).
 */
static void run_probes(cocoon_probe_report *r, const cocoon_evidence_ctx *c,
                       const cocoon_evidence_provider *const *list, size_t n, int stop_at_selection)
{
	memset(r, 0, sizeof(*r));
	r->selected = -1;
	for (size_t i = 0; i < n && r->count < COCOON_EVIDENCE_MAX_PROVIDERS; i++) {
		cocoon_probe_entry *e = &r->entries[r->count++];
		snprintf(e->name, sizeof(e->name), "%s", list[i]->name);
		e->auto_detect = list[i]->auto_detect;
		list[i]->probe(e, c);
		if (r->selected < 0 && selectable(e, c->tee)) {
			r->selected = (int)(r->count - 1);
			if (stop_at_selection)
				break;
		}
	}
}

static int none_found(const cocoon_probe_report *r, cocoon_tee want)
{
	cocoon_buf b = { 0 };
	int err;

	/* The advice first: the probe list may be cut at the message limit. */
	cocoon_buf_printf(&b,
	                  "no TEE evidence provider is available%s%s (auto-detection never uses the simulator: "
	                  "pass --provider sim for simulated evidence); probed:",
	                  want ? " for " : "", want ? cocoon_tee_name(want) : "");
	for (size_t i = 0; i < r->count; i++) {
		const cocoon_probe_entry *e = &r->entries[i];
		if (!e->auto_detect)
			continue;
		if (e->state == COCOON_PROBE_AVAILABLE)
			cocoon_buf_printf(&b, " %s: produces %s, not %s;", e->name, cocoon_tee_name(e->tee),
			                  cocoon_tee_name(want));
		else
			cocoon_buf_printf(&b, " %s: %s;", e->name, e->detail);
	}
	for (size_t i = 0; i < r->count; i++) {
		const cocoon_probe_entry *e = &r->entries[i];
		if (e->auto_detect || strcmp(e->name, "sim") == 0)
			continue;
		if (e->state == COCOON_PROBE_AVAILABLE)
			cocoon_buf_printf(&b, " %s is present but not auto-selected (--provider %s);", e->name, e->name);
		else
			cocoon_buf_printf(&b, " %s (never auto-selected): %s;", e->name, e->detail);
	}
	err = cocoon_error_set(COCOON_ENOTFOUND, "%s", b.data ? (const char *)b.data : "no TEE evidence provider found");
	cocoon_buf_free(&b);
	return err;
}

int cocoon_evidence__collect_with(cocoon_evidence *out, const cocoon_evidence_options *opts,
                                  const cocoon_evidence_provider *const *list, size_t n)
{
	cocoon_evidence_ctx c;
	const cocoon_evidence_provider *p = NULL;
	int err;

	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "evidence: no output given");
	memset(out, 0, sizeof(*out));
	if ((err = resolve(&c, opts)) != 0)
		return err;
	if (opts->provider && strcmp(opts->provider, "auto") != 0) {
		for (size_t i = 0; i < n && !p; i++)
			if (strcmp(list[i]->name, opts->provider) == 0)
				p = list[i];
		if (!p) {
			cocoon_buf b = { 0 };
			for (size_t i = 0; i < n; i++)
				cocoon_buf_printf(&b, "%s%s", i ? ", " : "", list[i]->name);
			err = cocoon_error_set(COCOON_EINVAL, "evidence: unknown provider \"%.64s\"; known: auto, %s",
			                       opts->provider, b.data ? (const char *)b.data : "");
			cocoon_buf_free(&b);
			return err;
		}
	} else {
		cocoon_probe_report *r = calloc(1, sizeof(*r));
		if (!r)
			return cocoon_error_set(COCOON_ENOMEM, "evidence: out of memory");
		run_probes(r, &c, list, n, 1);
		if (r->selected >= 0) {
			for (size_t i = 0; i < n && !p; i++)
				if (strcmp(list[i]->name, r->entries[r->selected].name) == 0)
					p = list[i];
		} else {
			/* Probe everything, including what auto-detection skips, to explain. */
			run_probes(r, &c, list, n, 0);
			err = none_found(r, c.tee);
		}
		free(r);
		if (!p)
			return err ? err : cocoon_error_set(COCOON_EINTERNAL, "evidence: selected provider vanished");
	}
	if ((err = p->collect(out, &c)) != 0)
		goto fail;
	if (!out->evidence || out->evidence_len == 0 || out->format == COCOON_EVIDENCE_FORMAT_NONE ||
	    (c.tee != COCOON_TEE_UNKNOWN && out->tee != c.tee)) {
		err = cocoon_error_set(COCOON_EINTERNAL, "evidence: provider %s returned no usable %s evidence", p->name,
		                       cocoon_tee_name(c.tee));
		goto fail;
	}
	snprintf(out->provider, sizeof(out->provider), "%s", p->name);
	return 0;
fail:
	cocoon_evidence_free(out);
	return err;
}

int cocoon_evidence__probe_with(cocoon_probe_report *out, const cocoon_evidence_options *opts,
                                const cocoon_evidence_provider *const *list, size_t n)
{
	cocoon_evidence_ctx c;
	int err;

	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "evidence: no output given");
	memset(out, 0, sizeof(*out));
	out->selected = -1;
	if ((err = resolve(&c, opts)) != 0)
		return err;
	run_probes(out, &c, list, n, 0);
	/* Probes set messages as they go; a successful probe leaves none behind. */
	cocoon_error_clear();
	return 0;
}

int cocoon_evidence_collect(cocoon_evidence *out, const cocoon_evidence_options *opts)
{
	return cocoon_evidence__collect_with(out, opts, registry, REGISTRY_LEN);
}

int cocoon_evidence_probe(cocoon_probe_report *out, const cocoon_evidence_options *opts)
{
	return cocoon_evidence__probe_with(out, opts, registry, REGISTRY_LEN);
}
