/* SGX / SEV-SNP / TDX detection and the NFD feature file; see labels.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "common/util.h"
#include "labels.h"

static int is_char_device(const char *root, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

/* The TSM provider named in a configfs report entry ("sev_guest", "tdx_guest"). */
static int read_provider(char *out, size_t len, const char *entry_dir)
{
	char path[PATH_MAX];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/provider", entry_dir);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(out, 1, len - 1, f);
	fclose(f);
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return n > 0 ? 0 : -1;
}

/*
 * configfs-tsm (Linux 6.7+): every report entry names the provider that
 * backs it. Existing entries are read; if there are none and configfs is
 * writable, a private entry is created and removed again to ask.
 */
static void tsm_provider(char *out, size_t len, const char *configfs_root)
{
	char dir[PATH_MAX], entry[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;

	out[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/tsm/report", configfs_root);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL && !out[0]) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(entry, sizeof(entry), "%s/%s", dir, de->d_name);
		read_provider(out, len, entry);
	}
	closedir(d);
	if (out[0])
		return;
	snprintf(entry, sizeof(entry), "%s/cocoon-labels-%ld", dir, (long)getpid());
	if (mkdir(entry, 0700) == 0) {
		read_provider(out, len, entry);
		rmdir(entry);
	}
}

static int tdx_cpuid(const cocoon_cpuid *c)
{
	uint32_t r[4];

	/* CPUID leaf 0x21 signature "IntelTDX    " in EBX, EDX, ECX (as the kernel checks it). */
	cocoon_cpuid_query(c, 0x21, 0, r);
	return memcmp(&r[1], "Inte", 4) == 0 && memcmp(&r[3], "lTDX", 4) == 0 && memcmp(&r[2], "    ", 4) == 0;
}

int cocoon_node_features_probe(cocoon_node_features *out, const cocoon_labels_env *env)
{
	char provider[64];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = cocoon_sgx_probe(&out->sgx, env->cpuid, env->sysfs_root)) != 0)
		return rc;
	tsm_provider(provider, sizeof(provider), env->configfs_root);
	if (is_char_device(env->dev_root, "sev-guest")) {
		out->snp_guest = 1;
		out->snp_source = "/dev/sev-guest";
	} else if (strcmp(provider, "sev_guest") == 0) {
		out->snp_guest = 1;
		out->snp_source = "configfs-tsm provider sev_guest";
	}
	if (is_char_device(env->dev_root, "tdx_guest")) {
		out->tdx_guest = 1;
		out->tdx_source = "/dev/tdx_guest";
	} else if (strcmp(provider, "tdx_guest") == 0) {
		out->tdx_guest = 1;
		out->tdx_source = "configfs-tsm provider tdx_guest";
	} else if (tdx_cpuid(env->cpuid)) {
		out->tdx_guest = 1;
		out->tdx_source = "CPUID leaf 0x21";
	}
	return 0;
}

int cocoon_node_features_render(char **out, const cocoon_node_features *f)
{
	cocoon_buf b = { 0 };
	int rc = cocoon_buf_printf(&b, "# Written by cocoon-node-labels for node-feature-discovery; do not edit.\n");

	if (rc == 0 && cocoon_sgx_present(&f->sgx)) {
		rc = cocoon_buf_printf(&b, "%ssgx=true\n", COCOON_LABELS_PREFIX);
		if (rc == 0 && f->sgx.flc)
			rc = cocoon_buf_printf(&b, "%ssgx.flc=true\n", COCOON_LABELS_PREFIX);
		if (rc == 0 && f->sgx.sgx2)
			rc = cocoon_buf_printf(&b, "%ssgx.sgx2=true\n", COCOON_LABELS_PREFIX);
		if (rc == 0)
			rc = cocoon_buf_printf(&b, "%ssgx.epc-bytes=%llu\n", COCOON_LABELS_PREFIX,
			                       (unsigned long long)f->sgx.epc_bytes);
	}
	if (rc == 0 && f->snp_guest)
		rc = cocoon_buf_printf(&b, "%ssev-snp.guest=true\n", COCOON_LABELS_PREFIX);
	if (rc == 0 && f->tdx_guest)
		rc = cocoon_buf_printf(&b, "%stdx.guest=true\n", COCOON_LABELS_PREFIX);
	if (rc != 0) {
		cocoon_buf_free(&b);
		return rc;
	}
	*out = (char *)b.data;
	return 0;
}

int cocoon_node_features_write(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text), off = 0;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return cocoon_error_set(COCOON_EINVAL, "output path %s is too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return cocoon_error_set(COCOON_EIO, "cannot create %s: %s", tmp, strerror(errno));
	if (fchmod(fd, 0644) != 0)
		rc = cocoon_error_set(COCOON_EIO, "cannot chmod %s: %s", tmp, strerror(errno));
	while (rc == 0 && off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = cocoon_error_set(COCOON_EIO, "cannot write %s: %s", tmp, strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	/* nfd-worker may read at any moment: it must see the old file or the whole new one. */
	if (rc == 0 && fsync(fd) != 0)
		rc = cocoon_error_set(COCOON_EIO, "cannot sync %s: %s", tmp, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = cocoon_error_set(COCOON_EIO, "cannot close %s: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, path) != 0)
		rc = cocoon_error_set(COCOON_EIO, "cannot replace %s: %s", path, strerror(errno));
	if (rc != 0)
		unlink(tmp);
	return rc;
}
