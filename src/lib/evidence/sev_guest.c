/*
 * /dev/sev-guest provider: SNP_GET_EXT_REPORT with the certificate-table
 * size query, or SNP_GET_REPORT when no certificates are wanted.
 *
 * Size query (the kernel's contract, drivers/virt/coco/sev-guest): a
 * request with certs_len 0 asks for no certificates; if the host has some,
 * the kernel re-issues a plain request (so the message sequence number is
 * not reused), fails the ioctl with EIO, sets vmm_error to INVALID_LEN and
 * writes the needed size back into certs_len. A host without certificates
 * simply answers the first request.
 *
 * Every other firmware or host error makes the kernel wipe the VMPCK, and
 * the device answers ENOTTY until the VM reboots. Requests are therefore
 * serialized process-wide and never retried except for an explicit busy
 * answer, a bounded number of times.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "evidence/provider.h"
#include "evidence/uapi.h"

#define SEV_PAGE 4096u
#define SEV_CERTS_MAX (64u * 1024u)  /* kernel limit is 16 KiB (SEV_FW_BLOB_MAX_SIZE); leave room */
#define SEV_BUSY_ATTEMPTS 3
#define SEV_SIZE_ATTEMPTS 3           /* the host's table may change size between two calls */
#define SEV_DEFAULT_VMPL 0u

static pthread_mutex_t sev_lock = PTHREAD_MUTEX_INITIALIZER;

static const char lockout_note[] =
	"a failed firmware request makes the kernel disable the VMPCK, after which /dev/sev-guest refuses every "
	"request until the VM reboots; do not retry in a loop";

static int open_device(int *fd, const cocoon_evidence_ctx *c)
{
	*fd = c->sys->open(c->sys->ctx, c->sev_guest_path, O_RDWR, 0);
	if (*fd >= 0)
		return 0;
	if (*fd == -ENOENT || *fd == -ENODEV || *fd == -ENXIO)
		return cocoon_error_set(COCOON_ENOTFOUND,
		                        "sev-guest: %s does not exist: not an SEV-SNP guest, or the sev-guest driver is "
		                        "not loaded",
		                        c->sev_guest_path);
	if (*fd == -EACCES || *fd == -EPERM)
		return cocoon_error_set(COCOON_EIO, "sev-guest: cannot open %s: %s (%s); run as root",
		                        c->sev_guest_path, strerror(-*fd), ev_errname(*fd));
	return cocoon_error_set(COCOON_EIO, "sev-guest: cannot open %s: %s (%s)", c->sev_guest_path, strerror(-*fd),
	                        ev_errname(*fd));
}

/* Grows the certificate buffer to the size the kernel asked for, after checking it. */
static int grow_certs(uint8_t **certs, size_t *cap, struct cocoon_snp_ext_report_req *req)
{
	uint32_t need = req->certs_len;
	uint8_t *n;

	if (need == 0 || need % SEV_PAGE != 0 || need > SEV_CERTS_MAX || need <= *cap)
		return cocoon_error_set(COCOON_EFORMAT,
		                        "sev-guest: bad length: the kernel asked for a %u-byte certificate buffer; it must "
		                        "be a multiple of %u up to %u and larger than the %zu bytes given",
		                        need, SEV_PAGE, SEV_CERTS_MAX, *cap);
	if (!(n = calloc(1, need)))
		return cocoon_error_set(COCOON_ENOMEM, "sev-guest: out of memory for a %u-byte certificate buffer", need);
	free(*certs);
	*certs = n;
	*cap = need;
	req->certs_address = (uint64_t)(uintptr_t)n;
	req->certs_len = need;
	return 0;
}

/* Issues the request, handling the size query and busy answers. */
static int request(const cocoon_evidence_ctx *c, int fd, struct cocoon_snp_ext_report_req *req, uint8_t *resp,
                   uint8_t **certs, size_t *certs_cap)
{
	struct cocoon_snp_guest_request_ioctl g;
	unsigned long cmd = c->no_aux ? COCOON_SNP_GET_REPORT : COCOON_SNP_GET_EXT_REPORT;
	const char *name = c->no_aux ? "SNP_GET_REPORT" : "SNP_GET_EXT_REPORT";
	int busy = 0, sized = 0, rc, err;

	for (;;) {
		memset(&g, 0, sizeof(g));
		g.msg_version = 1;
		/* SNP_GET_REPORT takes the plain request, which is the first member. */
		g.req_data = (uint64_t)(uintptr_t)(c->no_aux ? (void *)&req->data : (void *)req);
		g.resp_data = (uint64_t)(uintptr_t)resp;
		memset(resp, 0, sizeof(struct cocoon_snp_report_resp));
		rc = c->sys->ioctl(c->sys->ctx, fd, cmd, &g);
		if (rc == 0)
			return 0;
		if (!c->no_aux && rc == -EIO && g.vmm_error == SNP_GUEST_VMM_ERR_INVALID_LEN) {
			if (++sized > SEV_SIZE_ATTEMPTS)
				return cocoon_error_set(COCOON_EIO,
				                        "sev-guest: the host's certificate table changed size %d times in a "
				                        "row; try again later",
				                        SEV_SIZE_ATTEMPTS);
			if ((err = grow_certs(certs, certs_cap, req)) != 0)
				return err;
			continue;
		}
		if (rc == -EAGAIN || g.vmm_error == SNP_GUEST_VMM_ERR_BUSY) {
			if (++busy >= SEV_BUSY_ATTEMPTS)
				return cocoon_error_set(COCOON_EIO,
				                        "sev-guest: %s: the host is throttling guest requests (busy %d times, "
				                        "%u ms apart); try again later",
				                        name, busy, c->busy_retry_ms);
			c->sys->sleep_ms(c->sys->ctx, c->busy_retry_ms);
			continue;
		}
		if (rc == -ENOTTY)
			return cocoon_error_set(COCOON_EIO,
			                        "sev-guest: %s on %s was refused (ENOTTY): the VMPCK was disabled after an "
			                        "earlier firmware error, so the device stays locked until the VM reboots "
			                        "(or %s is not an SEV guest device)",
			                        name, c->sev_guest_path, c->sev_guest_path);
		return cocoon_error_set(COCOON_EIO, "sev-guest: %s failed: %s (%s), fw_error 0x%x, vmm_error 0x%x; %s",
		                        name, strerror(-rc), ev_errname(rc), g.fw_error, g.vmm_error, lockout_note);
	}
}

static int sev_collect(cocoon_evidence *out, const cocoon_evidence_ctx *c)
{
	struct cocoon_snp_ext_report_req req;
	uint8_t *resp = NULL, *certs = NULL, *report_copy = NULL, *aux = NULL;
	size_t certs_cap = 0, report_len, used = 0;
	const uint8_t *report;
	int fd = -1, locked = 0, err;

	memset(&req, 0, sizeof(req));
	if (c->tee != COCOON_TEE_UNKNOWN && c->tee != COCOON_TEE_SNP) {
		err = cocoon_error_set(COCOON_EUNSUPPORTED, "sev-guest produces snp evidence, not %s",
		                       cocoon_tee_name(c->tee));
		goto done;
	}
	if (!(resp = calloc(1, sizeof(struct cocoon_snp_report_resp)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "sev-guest: out of memory");
		goto done;
	}
	memcpy(req.data.user_data, c->report_data, SNP_REPORT_USER_DATA_SIZE);
	req.data.vmpl = c->snp_vmpl == COCOON_EVIDENCE_VMPL_DEFAULT ? SEV_DEFAULT_VMPL : (uint32_t)c->snp_vmpl;
	pthread_mutex_lock(&sev_lock);
	locked = 1;
	if ((err = open_device(&fd, c)) != 0)
		goto done;
	if ((err = request(c, fd, &req, resp, &certs, &certs_cap)) != 0)
		goto done;
	if ((err = ev_snp_report_resp(&report, &report_len, resp, sizeof(struct cocoon_snp_report_resp))) != 0) {
		err = ev_error_prefix(err, "sev-guest: ");
		goto done;
	}
	if ((err = ev_check_binding("sev-guest", COCOON_EVIDENCE_SNP_REPORT, COCOON_TEE_SNP, report, report_len,
	                            c->report_data)) != 0)
		goto done;
	if (certs && (err = ev_snp_certtable_used(&used, certs, certs_cap)) != 0) {
		err = ev_error_prefix(err, "sev-guest: ");
		goto done;
	}
	if (ev_dup(&report_copy, report, report_len) != 0 || ev_dup(&aux, certs, used) != 0) {
		err = cocoon_error_set(COCOON_ENOMEM, "sev-guest: out of memory");
		goto done;
	}
	out->tee = COCOON_TEE_SNP;
	out->format = COCOON_EVIDENCE_SNP_REPORT;
	out->evidence = report_copy;
	out->evidence_len = report_len;
	out->aux = aux;
	out->aux_len = used;
	report_copy = aux = NULL;
done:
	if (fd >= 0)
		c->sys->close(c->sys->ctx, fd);
	if (locked)
		pthread_mutex_unlock(&sev_lock);
	cocoon_zeroize(&req, sizeof(req));
	if (resp)
		cocoon_zeroize(resp, sizeof(struct cocoon_snp_report_resp));
	free(resp);
	free(certs);
	free(report_copy);
	free(aux);
	return err;
}

static void sev_probe(cocoon_probe_entry *out, const cocoon_evidence_ctx *c)
{
	/* Opening is enough: an ioctl here would spend a firmware message. */
	int fd = c->sys->open(c->sys->ctx, c->sev_guest_path, O_RDWR, 0);

	out->tee = COCOON_TEE_SNP;
	out->format = COCOON_EVIDENCE_SNP_REPORT;
	if (fd >= 0) {
		c->sys->close(c->sys->ctx, fd);
		out->state = COCOON_PROBE_AVAILABLE;
		ev_detail(out, "%s: present", c->sev_guest_path);
		return;
	}
	out->state = fd == -ENOENT || fd == -ENODEV || fd == -ENXIO ? COCOON_PROBE_ABSENT : COCOON_PROBE_UNUSABLE;
	ev_detail(out, "%s: %s (%s)%s", c->sev_guest_path, strerror(-fd), ev_errname(fd),
	         fd == -EACCES || fd == -EPERM ? "; run as root" : "");
}

const cocoon_evidence_provider cocoon_evidence_provider_sev_guest = {
	"sev-guest", 1, sev_probe, sev_collect,
};
