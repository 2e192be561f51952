/*
 * The few Linux UAPI definitions the providers need, declared here so the
 * build does not depend on kernel headers. Checked against
 * torvalds/linux:include/uapi/linux/sev-guest.h and tdx-guest.h; the
 * static_asserts pin the sizes the ioctl numbers encode.
 *
 * The ioctl encoding is the asm-generic one (x86 and arm64), which is where
 * SEV-SNP and TDX guests run.
 */
#ifndef COCOON_EVIDENCE_UAPI_H
#define COCOON_EVIDENCE_UAPI_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define COCOON_IOC_WRITE 1u
#define COCOON_IOC_READ 2u
#define COCOON_IOWR(type, nr, size) \
	((unsigned long)(((COCOON_IOC_READ | COCOON_IOC_WRITE) << 30) | ((unsigned)(size) << 16) | \
	                 ((unsigned)(type) << 8) | (unsigned)(nr)))

/* ---- /dev/sev-guest ---- */

#define SNP_REPORT_USER_DATA_SIZE 64

struct cocoon_snp_report_req {
	uint8_t user_data[SNP_REPORT_USER_DATA_SIZE];
	uint32_t vmpl;
	uint8_t rsvd[28];
};

/* MSG_REPORT_RSP: a 32-byte header {status, report_size, rsvd} then the report. */
struct cocoon_snp_report_resp {
	uint8_t data[4000];
};

struct cocoon_snp_guest_request_ioctl {
	uint8_t msg_version;            /* must be non-zero */
	uint64_t req_data;
	uint64_t resp_data;
	union {
		uint64_t exitinfo2;
		struct {
			uint32_t fw_error;  /* low half: firmware error */
			uint32_t vmm_error; /* high half: hypervisor error */
		};
	};
};

struct cocoon_snp_ext_report_req {
	struct cocoon_snp_report_req data;
	uint64_t certs_address;
	uint32_t certs_len;
};

#define SNP_GUEST_VMM_ERR_INVALID_LEN 1u
#define SNP_GUEST_VMM_ERR_BUSY 2u
#define SNP_RESP_HDR_SIZE 0x20u
#define SNP_FW_STATUS_INVALID_PARAM 0x16u
#define SNP_FW_STATUS_INVALID_KEY 0x27u

#define COCOON_SNP_GET_REPORT 0xC0205300ul
#define COCOON_SNP_GET_EXT_REPORT 0xC0205302ul

static_assert(sizeof(struct cocoon_snp_report_req) == 96, "snp_report_req is 96 bytes");
static_assert(sizeof(struct cocoon_snp_report_resp) == 4000, "snp_report_resp is 4000 bytes");
static_assert(sizeof(struct cocoon_snp_guest_request_ioctl) == 32, "snp_guest_request_ioctl is 32 bytes");
static_assert(offsetof(struct cocoon_snp_guest_request_ioctl, exitinfo2) == 24, "exitinfo2 at 24");
static_assert(sizeof(struct cocoon_snp_ext_report_req) == 112, "snp_ext_report_req is 112 bytes (108 + padding)");
static_assert(offsetof(struct cocoon_snp_ext_report_req, certs_len) == 104, "certs_len at 104");
static_assert(COCOON_SNP_GET_REPORT == COCOON_IOWR('S', 0x0, sizeof(struct cocoon_snp_guest_request_ioctl)),
              "SNP_GET_REPORT");
static_assert(COCOON_SNP_GET_EXT_REPORT == COCOON_IOWR('S', 0x2, sizeof(struct cocoon_snp_guest_request_ioctl)),
              "SNP_GET_EXT_REPORT");

/* ---- /dev/tdx_guest ---- */

#define TDX_REPORTDATA_LEN 64
#define TDX_REPORT_LEN 1024

struct cocoon_tdx_report_req {
	uint8_t reportdata[TDX_REPORTDATA_LEN];
	uint8_t tdreport[TDX_REPORT_LEN];
};

#define COCOON_TDX_CMD_GET_REPORT0 0xC4405401ul

static_assert(sizeof(struct cocoon_tdx_report_req) == 1088, "tdx_report_req is 1088 bytes");
static_assert(COCOON_TDX_CMD_GET_REPORT0 == COCOON_IOWR('T', 1, sizeof(struct cocoon_tdx_report_req)),
              "TDX_CMD_GET_REPORT0");

#endif
