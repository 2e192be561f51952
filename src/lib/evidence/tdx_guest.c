/*
 * /dev/tdx_guest provider: TDX_CMD_GET_REPORT0 returns the 1024-byte
 * TDREPORT. The TDREPORT is MACed with a CPU key and only verifiable on the
 * same machine (by the quoting enclave), so auto-detection never picks
 * this provider: quotes come through configfs-tsm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "common/util.h"
#include "evidence/provider.h"
#include "evidence/uapi.h"

static int tdx_collect(cocoon_evidence *out, const cocoon_evidence_ctx *c)
{
	struct cocoon_tdx_report_req req;
	uint8_t *copy = NULL;
	int fd = -1, rc, err = 0;

	memset(&req, 0, sizeof(req));
	if (c->tee != COCOON_TEE_UNKNOWN && c->tee != COCOON_TEE_TDX) {
		err = cocoon_error_set(COCOON_EUNSUPPORTED, "tdx-guest produces tdx evidence, not %s",
		                       cocoon_tee_name(c->tee));
		goto done;
	}
	fd = c->sys->open(c->sys->ctx, c->tdx_guest_path, O_RDWR, 0);
	if (fd < 0) {
		err = cocoon_error_set(fd == -ENOENT || fd == -ENODEV || fd == -ENXIO ? COCOON_ENOTFOUND : COCOON_EIO,
		                       "tdx-guest: cannot open %s: %s (%s)%s", c->tdx_guest_path, strerror(-fd),
		                       ev_errname(fd),
		                       fd == -ENOENT ? "; not a TDX guest, or the tdx-guest driver is not loaded"
		                       : fd == -EACCES || fd == -EPERM ? "; run as root" : "");
		goto done;
	}
	memcpy(req.reportdata, c->report_data, TDX_REPORTDATA_LEN);
	if ((rc = c->sys->ioctl(c->sys->ctx, fd, COCOON_TDX_CMD_GET_REPORT0, &req)) != 0) {
		err = cocoon_error_set(COCOON_EIO, "tdx-guest: TDX_CMD_GET_REPORT0 on %s failed: %s (%s)%s",
		                       c->tdx_guest_path, strerror(-rc), ev_errname(rc),
		                       rc == -EIO ? "; the TDG.MR.REPORT call failed"
		                       : rc == -ENOTTY ? "; the driver does not know this ioctl" : "");
		goto done;
	}
	if ((err = ev_check_binding("tdx-guest", COCOON_EVIDENCE_TDX_TDREPORT, COCOON_TEE_TDX, req.tdreport,
	                            sizeof(req.tdreport), c->report_data)) != 0)
		goto done;
	if (ev_dup(&copy, req.tdreport, sizeof(req.tdreport)) != 0) {
		err = cocoon_error_set(COCOON_ENOMEM, "tdx-guest: out of memory");
		goto done;
	}
	out->tee = COCOON_TEE_TDX;
	out->format = COCOON_EVIDENCE_TDX_TDREPORT;
	out->evidence = copy;
	out->evidence_len = sizeof(req.tdreport);
done:
	if (fd >= 0)
		c->sys->close(c->sys->ctx, fd);
	cocoon_zeroize(&req, sizeof(req));
	return err;
}

static void tdx_probe(cocoon_probe_entry *out, const cocoon_evidence_ctx *c)
{
	int fd = c->sys->open(c->sys->ctx, c->tdx_guest_path, O_RDWR, 0);

	out->tee = COCOON_TEE_TDX;
	out->format = COCOON_EVIDENCE_TDX_TDREPORT;
	if (fd >= 0) {
		c->sys->close(c->sys->ctx, fd);
		out->state = COCOON_PROBE_AVAILABLE;
		snprintf(out->detail, sizeof(out->detail),
		         "%s: present; gives a TDREPORT (local only), so only used with --provider tdx-guest; quotes "
		         "need configfs-tsm",
		         c->tdx_guest_path);
		return;
	}
	out->state = fd == -ENOENT || fd == -ENODEV || fd == -ENXIO ? COCOON_PROBE_ABSENT : COCOON_PROBE_UNUSABLE;
	ev_detail(out, "%s: %s (%s)", c->tdx_guest_path, strerror(-fd), ev_errname(fd));
}

const cocoon_evidence_provider cocoon_evidence_provider_tdx_guest = {
	"tdx-guest", 0, tdx_probe, tdx_collect,
};
