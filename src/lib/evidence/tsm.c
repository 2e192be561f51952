/*
 * configfs-tsm provider (Linux 6.7+): SNP reports with their certificate
 * table, and TDX quotes, through <configfs>/tsm/report/<entry>/.
 *
 * Each request uses a private entry with a random name, so other processes
 * cannot race on it, and the generation counter is still checked: binary
 * attributes are applied at close() with the result ignored by configfs,
 * so a dropped inblob write (EBUSY on counter wrap) is only visible as a
 * generation that did not move. A moved generation is retried on a fresh
 * entry a bounded number of times. The entry is removed on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "common/util.h"
#include "evidence/provider.h"

#define TSM_ATTEMPTS 3
#define TSM_BLOB_MAX (16u << 20)  /* kernels cap at 32 KiB today; patches propose 16 MiB */
#define TSM_RETRY 1               /* tsm_attempt: generation moved, try a fresh entry */
#define PRIVLEVEL_MAX 3

static cocoon_tee provider_tee(const char *provider)
{
	if (strcmp(provider, "sev_guest") == 0)
		return COCOON_TEE_SNP;
	if (strcmp(provider, "tdx_guest") == 0)
		return COCOON_TEE_TDX;
	return COCOON_TEE_UNKNOWN;
}

static int make_entry(char *entry, size_t cap, const cocoon_evidence_ctx *c, int *sys_err)
{
	uint8_t rnd[8];
	char hex[2 * sizeof(rnd) + 1], name[32];

	*sys_err = 0;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "configfs-tsm: cannot draw a random entry name");
	cocoon_hex_encode(hex, rnd, sizeof(rnd));
	snprintf(name, sizeof(name), "cocoon-%s", hex);
	if (ev_path(entry, cap, c->tsm_report_dir, name) != 0)
		return cocoon_error_set(COCOON_EINVAL, "configfs-tsm: the configfs root path is too long");
	/* 0700: configfs keeps its own modes, but ask for a private entry anyway. */
	if ((*sys_err = c->sys->mkdir(c->sys->ctx, entry, 0700)) == 0)
		return 0;
	switch (-*sys_err) {
	case ENOENT:
	case ENOTDIR:
		return cocoon_error_set(COCOON_ENOTFOUND,
		                        "configfs-tsm: %s does not exist: it needs Linux 6.7+ with configfs mounted and a "
		                        "TSM driver (sev-guest or tdx-guest) loaded",
		                        c->tsm_report_dir);
	case ENXIO:
		return cocoon_error_set(COCOON_ENOTFOUND,
		                        "configfs-tsm: mkdir in %s: no TSM provider is registered (ENXIO); load the "
		                        "sev-guest or tdx-guest driver",
		                        c->tsm_report_dir);
	case EACCES:
	case EPERM:
	case EROFS:
		return cocoon_error_set(COCOON_EIO, "configfs-tsm: cannot create an entry in %s: %s (%s); run as root",
		                        c->tsm_report_dir, strerror(-*sys_err), ev_errname(*sys_err));
	default:
		return cocoon_error_set(COCOON_EIO, "configfs-tsm: mkdir %s: %s (%s)", entry, strerror(-*sys_err),
		                        ev_errname(*sys_err));
	}
}

/* Reads and parses <entry>/<attr> as "%lu\n". */
static int read_number(uint64_t *out, const cocoon_evidence_ctx *c, const char *entry, const char *attr)
{
	char path[EV_PATH_MAX], text[32];
	int e;

	if (ev_path(path, sizeof(path), entry, attr) != 0)
		return cocoon_error_set(COCOON_EINVAL, "configfs-tsm: path of %s is too long", attr);
	if ((e = ev_read_text(text, sizeof(text), c->sys, path)) != 0)
		return cocoon_error_set(COCOON_EIO, "configfs-tsm: cannot read %s: %s (%s)", path, strerror(-e),
		                        ev_errname(e));
	if (ev_parse_u64(out, text) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "configfs-tsm: %s does not hold a decimal number", path);
	return 0;
}

static int read_provider(cocoon_tee *tee, char *provider, size_t cap, const cocoon_evidence_ctx *c,
                         const char *entry)
{
	char path[EV_PATH_MAX];
	int e;

	*tee = COCOON_TEE_UNKNOWN;
	if (ev_path(path, sizeof(path), entry, "provider") != 0)
		return cocoon_error_set(COCOON_EINVAL, "configfs-tsm: provider path is too long");
	if ((e = ev_read_text(provider, cap, c->sys, path)) != 0)
		return cocoon_error_set(COCOON_EIO, "configfs-tsm: cannot read %s: %s (%s)", path, strerror(-e),
		                        ev_errname(e));
	ev_trim(provider);
	if ((*tee = provider_tee(provider)) == COCOON_TEE_UNKNOWN)
		return cocoon_error_set(COCOON_EUNSUPPORTED,
		                        "configfs-tsm: provider \"%.32s\" is not supported; cocoon collects from "
		                        "sev_guest (SNP) and tdx_guest (TDX)",
		                        provider);
	return 0;
}

static const char *read_hint(int e, cocoon_tee tee)
{
	switch (-e) {
	case EINVAL:
		return "the provider rejected the request (inblob must be exactly 64 bytes, privlevel at least "
		       "privlevel_floor, or SNP firmware INVALID_PARAM)";
	case EBUSY:
		return "a previous TDX quote request is still in flight; try again later";
	case ETIMEDOUT:
		return tee == COCOON_TEE_TDX ? "the host's quote generation service did not answer within 30 s"
		                             : "the host kept throttling the request for 60 s";
	case EIO:
		return tee == COCOON_TEE_TDX ? "the GetQuote hypercall failed: is the host's QGS running?"
		                             : "the firmware request failed; the kernel then disables the VMPCK and "
		                               "SNP requests fail until the VM reboots";
	case ENXIO:
		return "the TSM provider went away or the SNP firmware returned an error status";
	case EINTR:
		return "interrupted while waiting for the report";
	case EFBIG:
		return "the report is larger than the kernel's or cocoon's 16 MiB maximum";
	default:
		return "unexpected error";
	}
}

static int read_blob(uint8_t **out, size_t *len, const cocoon_evidence_ctx *c, const char *entry,
                     const char *attr, cocoon_tee tee)
{
	char path[EV_PATH_MAX];
	int e;

	if (ev_path(path, sizeof(path), entry, attr) != 0)
		return cocoon_error_set(COCOON_EINVAL, "configfs-tsm: path of %s is too long", attr);
	if ((e = ev_read_blob(out, len, c->sys, path, TSM_BLOB_MAX)) != 0)
		return cocoon_error_set(e == -ENOMEM ? COCOON_ENOMEM : COCOON_EIO, "configfs-tsm: reading %s failed: %s (%s): %s",
		                        path, strerror(-e), ev_errname(e), read_hint(e, tee));
	return 0;
}

/* Writes privlevel as ASCII decimal in one write(), as kstrtouint expects. */
static int write_privlevel(const cocoon_evidence_ctx *c, const char *entry)
{
	char path[EV_PATH_MAX], text[16];
	uint64_t floor_level;
	unsigned int level;
	int e, err;

	if (c->snp_vmpl == COCOON_EVIDENCE_VMPL_DEFAULT) {
		if ((err = read_number(&floor_level, c, entry, "privlevel_floor")) != 0)
			return err;
		if (floor_level > PRIVLEVEL_MAX)
			return cocoon_error_set(COCOON_EFORMAT, "configfs-tsm: privlevel_floor is %" PRIu64 ", above %d",
			                        floor_level, PRIVLEVEL_MAX);
		level = (unsigned int)floor_level;
	} else {
		level = (unsigned int)c->snp_vmpl;
	}
	snprintf(text, sizeof(text), "%u", level);
	if (ev_path(path, sizeof(path), entry, "privlevel") != 0)
		return cocoon_error_set(COCOON_EINVAL, "configfs-tsm: privlevel path is too long");
	if ((e = ev_write_once(c->sys, path, text, strlen(text))) != 0)
		return cocoon_error_set(COCOON_EIO, "configfs-tsm: writing privlevel %s to %s failed: %s (%s)%s", text,
		                        path, strerror(-e), ev_errname(e),
		                        e == -EINVAL ? "; it must lie between privlevel_floor and 3" : "");
	return 0;
}

static int write_inblob(const cocoon_evidence_ctx *c, const char *entry)
{
	char path[EV_PATH_MAX];
	int e;

	if (ev_path(path, sizeof(path), entry, "inblob") != 0)
		return cocoon_error_set(COCOON_EINVAL, "configfs-tsm: inblob path is too long");
	/* Exactly 64 bytes: both providers reject any other length at read time. */
	if ((e = ev_write_once(c->sys, path, c->report_data, COCOON_EVIDENCE_REPORT_DATA_SIZE)) != 0)
		return cocoon_error_set(COCOON_EIO, "configfs-tsm: writing 64 bytes to %s failed: %s (%s)", path,
		                        strerror(-e), ev_errname(e));
	return 0;
}

/* Compares the generation with the expected count; TSM_RETRY with *why set when it moved. */
static int check_generation(const cocoon_evidence_ctx *c, const char *entry, uint64_t expect, const char *stage,
                            char *why, size_t why_len)
{
	uint64_t gen;
	int err;

	if ((err = read_number(&gen, c, entry, "generation")) != 0)
		return err;
	if (gen == expect)
		return 0;
	if (gen < expect)
		snprintf(why, why_len,
		         "%s: generation is %" PRIu64 ", expected %" PRIu64 ": the kernel did not apply a write "
		         "(it drops an inblob write silently when the counter would wrap)",
		         stage, gen, expect);
	else
		snprintf(why, why_len, "%s: generation is %" PRIu64 ", expected %" PRIu64 ": another writer changed the entry",
		         stage, gen, expect);
	return TSM_RETRY;
}

static int attempt(cocoon_evidence *out, const cocoon_evidence_ctx *c, char *why, size_t why_len)
{
	char entry[EV_PATH_MAX], provider[64], who[96];
	uint8_t *blob = NULL, *aux = NULL;
	size_t blob_len = 0, aux_len = 0, used = 0;
	uint64_t expect;
	cocoon_tee tee;
	cocoon_evidence_format format;
	int made = 0, sys_err, err, e;

	if ((err = make_entry(entry, sizeof(entry), c, &sys_err)) != 0)
		goto done;
	made = 1;
	if ((err = read_provider(&tee, provider, sizeof(provider), c, entry)) != 0)
		goto done;
	if (c->tee != COCOON_TEE_UNKNOWN && c->tee != tee) {
		err = cocoon_error_set(COCOON_EUNSUPPORTED, "configfs-tsm: the provider is %s (%s), not %s as requested",
		                       provider, cocoon_tee_name(tee), cocoon_tee_name(c->tee));
		goto done;
	}
	format = tee == COCOON_TEE_SNP ? COCOON_EVIDENCE_SNP_REPORT : COCOON_EVIDENCE_DCAP_QUOTE;
	if ((err = read_number(&expect, c, entry, "generation")) != 0)
		goto done;
	/* Each applied write bumps the generation by one. */
	if (tee == COCOON_TEE_SNP) {
		if ((err = write_privlevel(c, entry)) != 0)
			goto done;
		expect++;
	}
	if ((err = write_inblob(c, entry)) != 0)
		goto done;
	expect++;
	if ((err = check_generation(c, entry, expect, "after writing inblob", why, why_len)) != 0)
		goto done;
	if ((err = read_blob(&blob, &blob_len, c, entry, "outblob", tee)) != 0)
		goto done;
	if (tee == COCOON_TEE_SNP && !c->no_aux && (err = read_blob(&aux, &aux_len, c, entry, "auxblob", tee)) != 0)
		goto done;
	if ((err = check_generation(c, entry, expect, "after reading outblob", why, why_len)) != 0)
		goto done;
	snprintf(who, sizeof(who), "configfs-tsm (%s)", provider);
	if ((err = ev_check_binding(who, format, tee, blob, blob_len, c->report_data)) != 0)
		goto done;
	if (aux_len && (err = ev_snp_certtable_used(&used, aux, aux_len)) != 0) {
		err = ev_error_prefix(err, "configfs-tsm: auxblob: ");
		goto done;
	}
	out->tee = tee;
	out->format = format;
	out->evidence = blob;
	out->evidence_len = blob_len;
	blob = NULL;
	if (used) {
		out->aux = aux;
		out->aux_len = used;
		aux = NULL;
	}
done:
	if (made && (e = c->sys->rmdir(c->sys->ctx, entry)) != 0 && (err == 0 || err == TSM_RETRY)) {
		cocoon_evidence_free(out);
		err = cocoon_error_set(COCOON_EIO, "configfs-tsm: cannot remove the entry %s: %s (%s); remove it by hand",
		                       entry, strerror(-e), ev_errname(e));
	}
	free(blob);
	free(aux);
	return err;
}

static int tsm_collect(cocoon_evidence *out, const cocoon_evidence_ctx *c)
{
	char why[256] = "";
	int err = TSM_RETRY;

	for (int i = 0; i < TSM_ATTEMPTS && err == TSM_RETRY; i++)
		err = attempt(out, c, why, sizeof(why));
	if (err == TSM_RETRY)
		err = cocoon_error_set(COCOON_EIO,
		                       "configfs-tsm: the generation check failed on %d fresh entries in a row; last: %s",
		                       TSM_ATTEMPTS, why);
	return err;
}

/* The last error's message without the "configfs-tsm: " prefix the probe line already carries. */
static void detail_from_error(cocoon_probe_entry *out)
{
	const char *m = cocoon_error_last()->message;
	if (strncmp(m, "configfs-tsm: ", 14) == 0)
		m += 14;
	ev_detail(out, "%s", m);
}

static void tsm_probe(cocoon_probe_entry *out, const cocoon_evidence_ctx *c)
{
	char entry[EV_PATH_MAX], provider[64];
	cocoon_tee tee;
	int fd, sys_err, e;

	fd = c->sys->open(c->sys->ctx, c->tsm_report_dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		out->state = fd == -ENOENT || fd == -ENOTDIR ? COCOON_PROBE_ABSENT : COCOON_PROBE_UNUSABLE;
		ev_detail(out, "%s: %s (%s)%s", c->tsm_report_dir, strerror(-fd),
		         ev_errname(fd), out->state == COCOON_PROBE_ABSENT ? "; needs Linux 6.7+ and configfs" : "");
		return;
	}
	c->sys->close(c->sys->ctx, fd);
	if (make_entry(entry, sizeof(entry), c, &sys_err) != 0) {
		out->state = COCOON_PROBE_UNUSABLE;
		detail_from_error(out);
		return;
	}
	if (read_provider(&tee, provider, sizeof(provider), c, entry) != 0) {
		out->state = COCOON_PROBE_UNUSABLE;
		detail_from_error(out);
	} else {
		out->state = COCOON_PROBE_AVAILABLE;
		out->tee = tee;
		out->format = tee == COCOON_TEE_SNP ? COCOON_EVIDENCE_SNP_REPORT : COCOON_EVIDENCE_DCAP_QUOTE;
		ev_detail(out, "%s: provider %s", c->tsm_report_dir, provider);
	}
	if ((e = c->sys->rmdir(c->sys->ctx, entry)) != 0) {
		out->state = COCOON_PROBE_UNUSABLE;
		ev_detail(out, "cannot remove the probe entry %s: %s (%s)", entry,
		         strerror(-e), ev_errname(e));
	}
}

const cocoon_evidence_provider cocoon_evidence_provider_tsm = {
	"configfs-tsm", 1, tsm_probe, tsm_collect,
};
