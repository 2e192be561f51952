/* SGX feature bits and EPC size; see sgx.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "sgx.h"

static void probe_cpuid(cocoon_sgx_info *out, const cocoon_cpuid *c)
{
	uint32_t r[4];

	cocoon_cpuid_query(c, 0, 0, r);
	if (r[0] < 7)
		return;
	cocoon_cpuid_query(c, 7, 0, r);
	out->sgx = (r[1] >> 2) & 1;
	out->flc = (r[2] >> 30) & 1;
	if (!out->sgx)
		return;
	cocoon_cpuid_query(c, 0, 0, r);
	if (r[0] < 0x12)
		return;
	cocoon_cpuid_query(c, 0x12, 0, r);
	out->sgx1 = r[0] & 1;
	out->sgx2 = (r[0] >> 1) & 1;
	for (uint32_t i = 0; i < COCOON_SGX_MAX_SECTIONS; i++) {
		uint64_t base, size;

		cocoon_cpuid_query(c, 0x12, 2 + i, r);
		/* Type 0 ends the list; like the kernel, stop at any type other than 1. */
		if ((r[0] & 0xf) != 1)
			break;
		/* ECX[3:0] is a section property (Ice Lake reports 2): mask, don't reject. */
		base = (uint64_t)(r[0] & 0xfffff000u) | ((uint64_t)(r[1] & 0xfffffu) << 32);
		size = (uint64_t)(r[2] & 0xfffff000u) | ((uint64_t)(r[3] & 0xfffffu) << 32);
		out->sections[out->n_sections].base = base;
		out->sections[out->n_sections].size = size;
		out->n_sections++;
		/* 8 sections of at most 2^52 bytes cannot overflow 64 bits. */
		out->cpuid_epc_bytes += size;
	}
}

int cocoon_sgx_parse_bytes(uint64_t *out, const char *path, const char *text, size_t len)
{
	char shown[21];
	size_t n = len, k;
	uint64_t v = 0;

	if (n > 0 && text[n - 1] == '\n')
		n--;
	if (n == 0 || n > 20)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(text[i] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			goto bad;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
bad:
	for (k = 0; k < n && k < sizeof(shown) - 1 && text[k] != '\0'; k++)
		shown[k] = text[k];
	shown[k] = '\0';
	return cocoon_error_set(COCOON_EFORMAT, "%s: expected a decimal byte count, found '%s'", path, shown);
}

static int read_u64_file(uint64_t *out, const char *path)
{
	char buf[32];
	size_t n;
	FILE *f = fopen(path, "re");

	if (!f)
		return errno == ENOENT ? COCOON_ENOTFOUND : cocoon_error_set(COCOON_EIO, "cannot read %s: %s", path,
		                                                             strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return cocoon_sgx_parse_bytes(out, path, buf, n);
}

static int probe_sysfs(cocoon_sgx_info *out, const char *sysfs_root)
{
	char dir[4096], path[4096 + 300];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/devices/system/node", sysfs_root);
	d = opendir(dir);
	if (!d)
		return 0; /* no NUMA sysfs (CONFIG_NUMA off, or no /sys): CPUID only */
	while ((de = readdir(d)) != NULL) {
		const char *p = de->d_name;
		uint64_t v = 0;
		int r;

		if (strncmp(p, "node", 4) != 0 || p[4] == '\0' || strspn(p + 4, "0123456789") != strlen(p + 4))
			continue;
		snprintf(path, sizeof(path), "%s/%s/x86/sgx_total_bytes", dir, p);
		r = read_u64_file(&v, path);
		if (r == COCOON_ENOTFOUND)
			continue;
		if (r != 0) {
			rc = r;
			break;
		}
		if (v > UINT64_MAX - out->sysfs_epc_bytes) {
			rc = cocoon_error_set(COCOON_EFORMAT, "%s: the sum of sgx_total_bytes overflows", path);
			break;
		}
		out->sysfs_present = 1;
		out->sysfs_nodes++;
		out->sysfs_epc_bytes += v;
	}
	closedir(d);
	return rc;
}

int cocoon_sgx_probe(cocoon_sgx_info *out, const cocoon_cpuid *c, const char *sysfs_root)
{
	int rc;

	memset(out, 0, sizeof(*out));
	probe_cpuid(out, c);
	if ((rc = probe_sysfs(out, sysfs_root)) != 0)
		return rc;
	out->epc_bytes = out->cpuid_epc_bytes;
	if (out->sysfs_present) {
		/* The kernel's count is what enclaves can actually get. */
		if (out->sysfs_epc_bytes != out->cpuid_epc_bytes)
			snprintf(out->mismatch, sizeof(out->mismatch),
			         "CPUID leaf 0x12 reports %llu EPC bytes in %u sections but the kernel manages %llu "
			         "bytes on %u NUMA nodes; using the kernel's count",
			         (unsigned long long)out->cpuid_epc_bytes, out->n_sections,
			         (unsigned long long)out->sysfs_epc_bytes, out->sysfs_nodes);
		out->epc_bytes = out->sysfs_epc_bytes;
	}
	if (!out->sgx)
		out->epc_bytes = 0;
	return 0;
}

int cocoon_sgx_present(const cocoon_sgx_info *info)
{
	return info->sgx && info->epc_bytes > 0;
}
