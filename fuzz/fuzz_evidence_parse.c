/*
 * libFuzzer target for what evidence collection reads from the platform:
 * the SNP certificate table (auxblob / certs buffer), the MSG_REPORT_RSP
 * header, REPORT_DATA location in quotes, SNP reports and TDREPORTs, and
 * configfs numbers. The first input byte picks the parser.
 * Seeds: fuzz/corpus/evidence_parse/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "evidence/provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A slice must lie inside [base, base + len). */
static void check_inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
	if (p < base || n > len || (size_t)(p - base) > len - n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *in, *rd, *rep;
	uint8_t *copy;
	size_t len, used, rep_len;
	cocoon_tee tee;
	uint64_t v;
	char text[64];

	if (size < 1)
		return 0;
	len = size - 1;
	/* An exact-size heap copy so ASan sees any read past the end. */
	if (!(copy = malloc(len ? len : 1)))
		return 0;
	memcpy(copy, data + 1, len);
	in = copy;
	switch (data[0] % 6) {
	case 0:
		if (ev_snp_certtable_used(&used, in, len) == 0 && used > len)
			abort();
		break;
	case 1:
		if (ev_snp_report_resp(&rep, &rep_len, in, len) == 0)
			check_inside(rep, rep_len, in, len);
		break;
	case 2:
		if (ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_DCAP_QUOTE, in, len) == 0)
			check_inside(rd, 64, in, len);
		break;
	case 3:
		if (ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_SNP_REPORT, in, len) == 0)
			check_inside(rd, 64, in, len);
		break;
	case 4:
		if (ev_locate_report_data(&rd, &tee, COCOON_EVIDENCE_TDX_TDREPORT, in, len) == 0)
			check_inside(rd, 64, in, len);
		break;
	default:
		if (len < sizeof(text)) {
			memcpy(text, in, len);
			text[len] = '\0';
			ev_parse_u64(&v, text);
			ev_trim(text);
		}
		break;
	}
	free(copy);
	return 0;
}
