/*
 * The extended-report certificate table (GHCB MSG_REPORT_REQ certificates,
 * the configfs-tsm auxblob): 24-byte {GUID, u32 offset, u32 length} entries
 * ended by an all-zero entry, then the certificates. The table comes from
 * the untrusted host, so every entry is bounds-checked against the buffer.
 */
#include <string.h>
#include "snp/snp.h"

#define ENTRY_SIZE 24

static const struct {
	cocoon_snp_cert_kind kind;
	uint8_t guid[16];
} known_guids[] = {
	{ COCOON_SNP_CERT_VCEK, { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
	                          0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd } },
	{ COCOON_SNP_CERT_VLEK, { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
	                          0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1 } },
	{ COCOON_SNP_CERT_ASK, { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
	                         0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 } },
	{ COCOON_SNP_CERT_ARK, { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
	                         0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae } },
};

static cocoon_snp_cert_kind guid_kind(const uint8_t guid[16])
{
	for (size_t i = 0; i < sizeof(known_guids) / sizeof(known_guids[0]); i++)
		if (memcmp(guid, known_guids[i].guid, 16) == 0)
			return known_guids[i].kind;
	return COCOON_SNP_CERT_OTHER;
}

int cocoon_snp_certtable_parse(cocoon_snp_certtable *out, const uint8_t *buf, size_t len)
{
	size_t n = 0, pos = 0, header_len;

	if (!out || (!buf && len))
		return cocoon_error_set(COCOON_EINVAL, "SNP certificate table: NULL argument");
	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0;
	for (;;) {
		const uint8_t *e;
		cocoon_snp_cert_entry *ent;

		if (len - pos < ENTRY_SIZE)
			return cocoon_error_set(COCOON_EFORMAT,
			                        "SNP certificate table: entry %zu at offset %zu is truncated (%zu bytes "
			                        "left, an entry is %d) and no all-zero terminator was found",
			                        n, pos, len - pos, ENTRY_SIZE);
		e = buf + pos;
		pos += ENTRY_SIZE;
		if (cocoon_is_zero(e, ENTRY_SIZE))
			break;
		if (n == COCOON_SNP_CERTTABLE_MAX)
			return cocoon_error_set(COCOON_EFORMAT,
			                        "SNP certificate table: more than %d entries before the terminator",
			                        COCOON_SNP_CERTTABLE_MAX);
		ent = &out->entries[n];
		memcpy(ent->guid, e, 16);
		ent->offset = cocoon_le32(e + 16);
		ent->length = cocoon_le32(e + 20);
		ent->kind = guid_kind(ent->guid);
		n++;
	}
	header_len = pos;
	for (size_t i = 0; i < n; i++) {
		cocoon_snp_cert_entry *ent = &out->entries[i];
		if (ent->offset < header_len)
			return cocoon_error_set(COCOON_EFORMAT,
			                        "SNP certificate table: entry %zu offset %u points into the table header "
			                        "(%zu bytes)",
			                        i, ent->offset, header_len);
		if (ent->length == 0)
			return cocoon_error_set(COCOON_EFORMAT, "SNP certificate table: entry %zu has length 0", i);
		if (ent->offset > len || ent->length > len - ent->offset)
			return cocoon_error_set(COCOON_EFORMAT,
			                        "SNP certificate table: entry %zu [offset %u, length %u] ends past the "
			                        "%zu-byte buffer",
			                        i, ent->offset, ent->length, len);
		for (size_t j = 0; j < i; j++)
			if (memcmp(out->entries[j].guid, ent->guid, 16) == 0)
				return cocoon_error_set(COCOON_EFORMAT,
				                        "SNP certificate table: entries %zu and %zu have the same GUID; "
				                        "the table is ambiguous",
				                        j, i);
		ent->data = buf + ent->offset;
	}
	out->n = n;
	return 0;
}

const cocoon_snp_cert_entry *cocoon_snp_certtable_find(const cocoon_snp_certtable *t, cocoon_snp_cert_kind kind)
{
	if (!t || kind == COCOON_SNP_CERT_OTHER)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->entries[i].kind == kind)
			return &t->entries[i];
	return NULL;
}
