/* Fakes of configfs-tsm, /dev/sev-guest, /dev/tdx_guest and /dev/attestation (see fake_evidence.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "fake_evidence.h"
#include "evidence/uapi.h"

enum { FD_REAL = 1, FD_SNP, FD_TDX, FD_TSM_INBLOB, FD_TSM_PRIVLEVEL, FD_TSM_OUTBLOB, FD_GRAMINE_RD };

#define FAKE_DEV_FD_BASE 100000
#define SNP_REPORT_SIZE 1184

/* ---- helpers ---- */

static void put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

char *fake_tmpdir_create(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[512];
	char *d;

	snprintf(tmpl, sizeof(tmpl), "%s/cocoon-evidence-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl))
		return NULL;
	d = strdup(tmpl);
	return d;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fake_tmpdir_remove(char *dir)
{
	if (!dir)
		return;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

int fake_write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[1024];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")))
		return -1;
	if (len && fwrite(data, 1, len, f) != len)
		err = -1;
	if (fclose(f) != 0)
		err = -1;
	return err;
}

int fake_dir_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int read_small(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	*len = fread(buf, 1, cap, f);
	fclose(f);
	return 0;
}

static const uint8_t guid_vcek[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                       0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
static const uint8_t guid_ask[16] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                      0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };
static const uint8_t guid_ark[16] = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                      0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae };

void fake_snp_certtable(uint8_t *buf, size_t size)
{
	const uint8_t *guids[3] = { guid_vcek, guid_ask, guid_ark };
	size_t hdr = 4 * 24, body = size - hdr, off = hdr;

	memset(buf, 0, size);
	for (int i = 0; i < 3; i++) {
		size_t len = i < 2 ? body / 3 : body - 2 * (body / 3);
		memcpy(buf + 24 * i, guids[i], 16);
		put_le32(buf + 24 * i + 16, (uint32_t)off);
		put_le32(buf + 24 * i + 20, (uint32_t)len);
		memset(buf + off, 0x30 + i, len);
		off += len;
	}
}

static void snp_report(uint8_t *r, const uint8_t rd[64], uint32_t vmpl, int wrong)
{
	memset(r, 0, SNP_REPORT_SIZE);
	put_le32(r, 2);
	put_le32(r + 0x08, 0x30000);
	put_le32(r + 0x30, vmpl);
	put_le32(r + 0x34, 1);
	memcpy(r + 0x50, rd, 64);
	if (wrong)
		r[0x50] ^= 0xff;
}

/* A v4 TDX quote shell: header, 584-byte body, empty signature data. */
static size_t tdx_quote(uint8_t *q, const uint8_t rd[64], int wrong)
{
	const size_t len = 48 + 584 + 4;
	memset(q, 0, len);
	put_le16(q, 4);
	put_le16(q + 2, 2);
	put_le32(q + 4, 0x81);
	memcpy(q + 48 + 0x208, rd, 64);
	if (wrong)
		q[48 + 0x208] ^= 0xff;
	return len;
}

/* A v3 SGX quote shell as Gramine returns it. */
static size_t sgx_quote(uint8_t *q, const uint8_t rd[64], int wrong)
{
	const size_t len = 48 + 384 + 4;
	memset(q, 0, len);
	put_le16(q, 3);
	put_le16(q + 2, 2);
	memcpy(q + 48 + 320, rd, 64);
	if (wrong)
		q[48 + 320] ^= 0xff;
	return len;
}

/* ---- fd table ---- */

static struct fake_fd *fd_add(fake_sys *f, int fd, int kind, const char *path)
{
	struct fake_fd *slot = NULL;
	pthread_mutex_lock(&f->mu);
	for (int i = 0; i < FAKE_MAX_FDS && !slot; i++)
		if (f->fds[i].fd < 0)
			slot = &f->fds[i];
	if (slot) {
		slot->fd = fd;
		slot->kind = kind;
		slot->pending_err = 0;
		slot->entry = -1;
		snprintf(slot->path, sizeof(slot->path), "%s", path);
		f->open_fds++;
	}
	pthread_mutex_unlock(&f->mu);
	return slot;
}

static struct fake_fd *fd_find(fake_sys *f, int fd)
{
	struct fake_fd *slot = NULL;
	pthread_mutex_lock(&f->mu);
	for (int i = 0; i < FAKE_MAX_FDS && !slot; i++)
		if (f->fds[i].fd == fd)
			slot = &f->fds[i];
	pthread_mutex_unlock(&f->mu);
	return slot;
}

static void fd_del(fake_sys *f, struct fake_fd *slot)
{
	pthread_mutex_lock(&f->mu);
	slot->fd = -1;
	f->open_fds--;
	pthread_mutex_unlock(&f->mu);
}

/* ---- configfs-tsm model ---- */

static int tsm_report_dir(const fake_tsm *t, char *out, size_t cap)
{
	return snprintf(out, cap, "%s/tsm/report", t->root) >= (int)cap ? -1 : 0;
}

/* Splits <report dir>/<entry>[/<attr>]; returns 1 when path is inside the report dir. */
static int tsm_split(const fake_tsm *t, const char *path, char *entry, size_t ecap, const char **attr)
{
	char dir[512];
	size_t n;
	const char *rest, *slash;

	if (!t || tsm_report_dir(t, dir, sizeof(dir)) != 0)
		return 0;
	n = strlen(dir);
	if (strncmp(path, dir, n) != 0 || path[n] != '/')
		return 0;
	rest = path + n + 1;
	slash = strchr(rest, '/');
	if (slash) {
		snprintf(entry, ecap, "%.*s", (int)(slash - rest), rest);
		*attr = slash + 1;
	} else {
		snprintf(entry, ecap, "%s", rest);
		*attr = NULL;
	}
	return 1;
}

static int tsm_entry_index(fake_tsm *t, const char *name)
{
	for (int i = 0; i < FAKE_TSM_MAX_ENTRIES; i++)
		if (t->entries[i].name[0] && strcmp(t->entries[i].name, name) == 0)
			return i;
	return -1;
}

static void tsm_write_attr(const fake_tsm *t, const fake_tsm_entry *e, const char *attr, const void *d, size_t len)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/tsm/report/%s", t->root, e->name);
	fake_write_file(dir, attr, d, len);
}

static void tsm_write_generation(const fake_tsm *t, const fake_tsm_entry *e)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%" PRIu64 "\n", e->write_gen);
	tsm_write_attr(t, e, "generation", text, (size_t)n);
}

static int tsm_is_snp(const fake_tsm *t)
{
	return strcmp(t->provider, "sev_guest") == 0;
}

static int tsm_mkdir(fake_tsm *t, const char *path, const char *name, unsigned mode)
{
	fake_tsm_entry *e = NULL;
	char text[64];
	int n;

	if (t->no_provider)
		return -ENXIO;
	for (int i = 0; i < FAKE_TSM_MAX_ENTRIES && !e; i++)
		if (!t->entries[i].name[0])
			e = &t->entries[i];
	if (!e)
		return -ENOMEM;
	if (mkdir(path, (mode_t)mode) < 0)
		return -errno;
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	t->mkdirs++;
	n = snprintf(text, sizeof(text), "%s\n", t->provider);
	tsm_write_attr(t, e, "provider", text, (size_t)n);
	tsm_write_generation(t, e);
	tsm_write_attr(t, e, "inblob", "", 0);
	tsm_write_attr(t, e, "outblob", "", 0);
	if (tsm_is_snp(t)) {
		tsm_write_attr(t, e, "auxblob", "", 0);
		tsm_write_attr(t, e, "privlevel", "", 0);
		n = snprintf(text, sizeof(text), "%u\n", t->privlevel_floor);
		tsm_write_attr(t, e, "privlevel_floor", text, (size_t)n);
	}
	return 0;
}

static int tsm_rmdir(fake_tsm *t, const char *path, const char *name)
{
	static const char *const attrs[] = { "provider", "generation", "inblob", "outblob", "auxblob",
	                                     "privlevel", "privlevel_floor" };
	int i = tsm_entry_index(t, name);
	char p[1024];

	if (i < 0)
		return -ENOENT;
	for (size_t a = 0; a < sizeof(attrs) / sizeof(attrs[0]); a++) {
		snprintf(p, sizeof(p), "%s/%s", path, attrs[a]);
		unlink(p);
	}
	if (rmdir(path) < 0)
		return -errno;
	memset(&t->entries[i], 0, sizeof(t->entries[i]));
	t->rmdirs++;
	return 0;
}

/* report_new(): what the kernel does on the first read after a write. */
static int tsm_generate(fake_tsm *t, fake_tsm_entry *e)
{
	uint8_t buf[20000];
	size_t len;

	if (e->inblob_len != 64)
		return -EINVAL;
	if (t->read_errno)
		return -t->read_errno;
	if (e->generated && e->read_gen == e->write_gen)
		return 0;
	if (tsm_is_snp(t)) {
		snp_report(buf, e->inblob, e->privlevel, t->wrong_data);
		tsm_write_attr(t, e, "outblob", buf, SNP_REPORT_SIZE);
		if (t->certs_size && t->certs_size <= sizeof(buf)) {
			fake_snp_certtable(buf, t->certs_size);
			if (t->corrupt_aux)
				put_le32(buf + 20, (uint32_t)t->certs_size);
			tsm_write_attr(t, e, "auxblob", buf, t->certs_size);
		}
	} else if (strcmp(t->provider, "tdx_guest") == 0) {
		len = tdx_quote(buf, e->inblob, t->wrong_data);
		tsm_write_attr(t, e, "outblob", buf, len);
	} else {
		tsm_write_attr(t, e, "outblob", "cca-token", 9);
	}
	e->generated = 1;
	e->read_gen = e->write_gen;
	return 0;
}

int fake_tsm_init(fake_tsm *t)
{
	char dir[512];

	memset(t, 0, sizeof(*t));
	t->provider = "sev_guest";
	if (!(t->root = fake_tmpdir_create()))
		return -1;
	snprintf(dir, sizeof(dir), "%s/tsm", t->root);
	if (mkdir(dir, 0700) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/tsm/report", t->root);
	return mkdir(dir, 0700) < 0 ? -1 : 0;
}

void fake_tsm_cleanup(fake_tsm *t)
{
	fake_tmpdir_remove(t->root);
	t->root = NULL;
}

/* ---- Gramine model ---- */

static int gramine_attr(const fake_gramine *g, const char *path, const char **attr)
{
	size_t n;
	if (!g || !g->root)
		return 0;
	n = strlen(g->root);
	if (strncmp(path, g->root, n) != 0 || path[n] != '/')
		return 0;
	*attr = path + n + 1;
	return 1;
}

int fake_gramine_init(fake_gramine *g, const char *attestation_type)
{
	memset(g, 0, sizeof(*g));
	if (!(g->root = fake_tmpdir_create()))
		return -1;
	if (attestation_type &&
	    fake_write_file(g->root, "attestation_type", attestation_type, strlen(attestation_type)) != 0)
		return -1;
	/* Gramine computes the quote from whatever user_report_data holds (zeros at start). */
	if (fake_write_file(g->root, "user_report_data", "", 0) != 0)
		return -1;
	{
		uint8_t q[512], zero[64] = { 0 };
		size_t len = sgx_quote(q, zero, 0);
		return fake_write_file(g->root, "quote", q, len);
	}
}

void fake_gramine_cleanup(fake_gramine *g)
{
	fake_tmpdir_remove(g->root);
	g->root = NULL;
}

/* ---- devices ---- */

void fake_snp_init(fake_snp *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int snp_ioctl(fake_snp *s, unsigned long request, void *arg)
{
	struct cocoon_snp_guest_request_ioctl *g = arg;
	struct cocoon_snp_report_req *req;
	struct cocoon_snp_ext_report_req *ext = NULL;
	uint8_t *resp;
	fake_snp_reply reply;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	s->calls++;
	if (++s->in_flight > s->max_in_flight)
		s->max_in_flight = s->in_flight;
	reply = s->next < s->script_len ? s->script[s->next] : FAKE_SNP_OK;
	s->next++;
	pthread_mutex_unlock(&s->mu);
	if (s->delay_ms)
		sleep_ms(s->delay_ms);

	pthread_mutex_lock(&s->mu);
	if (s->locked) {
		rc = -ENOTTY;
		goto done;
	}
	if (!g->msg_version) {
		rc = -EINVAL;
		goto done;
	}
	if (request == COCOON_SNP_GET_EXT_REPORT) {
		ext = (struct cocoon_snp_ext_report_req *)(uintptr_t)g->req_data;
		req = &ext->data;
		s->ext_calls++;
	} else if (request == COCOON_SNP_GET_REPORT) {
		req = (struct cocoon_snp_report_req *)(uintptr_t)g->req_data;
		s->plain_calls++;
	} else {
		rc = -ENOTTY;
		goto done;
	}
	s->last_vmpl = req->vmpl;
	switch (reply) {
	case FAKE_SNP_BUSY:
		g->vmm_error = SNP_GUEST_VMM_ERR_BUSY;
		rc = -EAGAIN;
		goto done;
	case FAKE_SNP_FW_ERROR:
		g->fw_error = 0x27;
		s->locked = 1;
		rc = -EIO;
		goto done;
	default:
		break;
	}
	if (ext && s->certs_size) {
		uint32_t need = (uint32_t)((s->certs_size + 4095) / 4096 * 4096);
		if (ext->certs_len && ext->certs_address && (ext->certs_len % 4096 || ext->certs_len > 16384)) {
			rc = -EINVAL;
			goto done;
		}
		if (reply == FAKE_SNP_BAD_CERTS_LEN || !ext->certs_len || !ext->certs_address || ext->certs_len < need) {
			/* The kernel's contract: EIO, vmm_error INVALID_LEN, the size written back. */
			s->size_queries++;
			g->vmm_error = SNP_GUEST_VMM_ERR_INVALID_LEN;
			ext->certs_len = reply == FAKE_SNP_BAD_CERTS_LEN ? need + 1 : need;
			rc = -EIO;
			goto done;
		}
		memset((void *)(uintptr_t)ext->certs_address, 0, ext->certs_len);
		fake_snp_certtable((uint8_t *)(uintptr_t)ext->certs_address, s->certs_size);
	}
	resp = (uint8_t *)(uintptr_t)g->resp_data;
	memset(resp, 0, sizeof(struct cocoon_snp_report_resp));
	put_le32(resp, reply == FAKE_SNP_STATUS ? SNP_FW_STATUS_INVALID_PARAM : 0);
	put_le32(resp + 4, reply == FAKE_SNP_BAD_LENGTH ? 100 : SNP_REPORT_SIZE);
	snp_report(resp + SNP_RESP_HDR_SIZE, req->user_data, req->vmpl, reply == FAKE_SNP_WRONG_DATA);
done:
	s->in_flight--;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int tdx_ioctl(fake_tdx *t, unsigned long request, void *arg)
{
	struct cocoon_tdx_report_req *req = arg;

	t->calls++;
	if (request != COCOON_TDX_CMD_GET_REPORT0)
		return -ENOTTY;
	if (t->rc)
		return t->rc;
	memset(req->tdreport, 0, sizeof(req->tdreport));
	req->tdreport[0] = 0x81;
	req->tdreport[2] = 1;
	memcpy(req->tdreport + 128, req->reportdata, 64);
	if (t->wrong_data)
		req->tdreport[128] ^= 0xff;
	return 0;
}

/* ---- the system-call table ---- */

static int f_open(void *ctx, const char *path, int flags, unsigned int mode)
{
	fake_sys *f = ctx;
	char entry[256];
	const char *attr = NULL;
	int kind = FD_REAL, fd, idx = -1, pending = 0, acc = flags & O_ACCMODE;
	struct fake_fd *slot;

	if (f->snp && f->snp_path && strcmp(path, f->snp_path) == 0) {
		pthread_mutex_lock(&f->mu);
		fd = FAKE_DEV_FD_BASE + f->next_dev_fd++;
		pthread_mutex_unlock(&f->mu);
		return fd_add(f, fd, FD_SNP, path) ? fd : -EMFILE;
	}
	if (f->tdx && f->tdx_path && strcmp(path, f->tdx_path) == 0) {
		pthread_mutex_lock(&f->mu);
		fd = FAKE_DEV_FD_BASE + f->next_dev_fd++;
		pthread_mutex_unlock(&f->mu);
		return fd_add(f, fd, FD_TDX, path) ? fd : -EMFILE;
	}
	if (f->tsm && tsm_split(f->tsm, path, entry, sizeof(entry), &attr) && attr) {
		if ((idx = tsm_entry_index(f->tsm, entry)) < 0)
			return -ENOENT;
		if (acc != O_RDONLY && strcmp(attr, "inblob") == 0) {
			kind = FD_TSM_INBLOB;
			flags |= O_TRUNC;
		} else if (acc != O_RDONLY && strcmp(attr, "privlevel") == 0) {
			kind = FD_TSM_PRIVLEVEL;
		} else if (acc != O_RDONLY) {
			return -EACCES;   /* read-only attributes */
		} else if (strcmp(attr, "outblob") == 0 || strcmp(attr, "auxblob") == 0) {
			pending = tsm_generate(f->tsm, &f->tsm->entries[idx]);
			kind = strcmp(attr, "outblob") == 0 ? FD_TSM_OUTBLOB : FD_REAL;
		} else if (strcmp(attr, "inblob") == 0 || strcmp(attr, "privlevel") == 0) {
			return -EACCES;   /* write-only attributes */
		}
	} else if (gramine_attr(f->gramine, path, &attr)) {
		if (acc != O_RDONLY && strcmp(attr, "user_report_data") == 0) {
			kind = FD_GRAMINE_RD;
			flags |= O_TRUNC;
		} else if (strcmp(attr, "quote") == 0 && f->gramine->quote_errno) {
			pending = -f->gramine->quote_errno;
		}
	}
	if ((fd = open(path, flags | O_CLOEXEC, (mode_t)mode)) < 0)
		return -errno;
	if (!(slot = fd_add(f, fd, kind, path))) {
		close(fd);
		return -EMFILE;
	}
	slot->entry = idx;
	slot->pending_err = pending;
	return fd;
}

static int f_close(void *ctx, int fd)
{
	fake_sys *f = ctx;
	struct fake_fd *slot = fd_find(f, fd);
	uint8_t buf[256];
	size_t len = 0;

	if (!slot)
		return -EBADF;
	if (slot->kind == FD_SNP || slot->kind == FD_TDX) {
		fd_del(f, slot);
		return 0;
	}
	close(fd);
	if (slot->kind == FD_TSM_INBLOB && slot->entry >= 0) {
		/* configfs applies a binary attribute at release; its result is ignored. */
		fake_tsm_entry *e = &f->tsm->entries[slot->entry];
		read_small(slot->path, buf, sizeof(buf), &len);
		f->tsm->inblob_writes++;
		f->tsm->last_inblob_len = len;
		if (f->tsm->drop_inblob_writes) {
			f->tsm->drop_inblob_writes--;
		} else if (len <= sizeof(e->inblob)) {
			memcpy(e->inblob, buf, len);
			e->inblob_len = len;
			e->write_gen++;
			tsm_write_generation(f->tsm, e);
		}
	} else if (slot->kind == FD_TSM_OUTBLOB && slot->entry >= 0) {
		fake_tsm_entry *e = &f->tsm->entries[slot->entry];
		f->tsm->outblob_reads++;
		if (f->tsm->concurrent_bumps) {
			f->tsm->concurrent_bumps--;
			e->write_gen++;
			tsm_write_generation(f->tsm, e);
		}
	} else if (slot->kind == FD_GRAMINE_RD) {
		uint8_t rd[64] = { 0 }, q[512];
		size_t qlen;
		read_small(slot->path, buf, sizeof(buf), &len);
		/* Gramine zero-pads short writes and truncates long ones. */
		memcpy(rd, buf, len < 64 ? len : 64);
		f->gramine->report_data_writes++;
		qlen = sgx_quote(q, rd, f->gramine->wrong_data);
		fake_write_file(f->gramine->root, "quote", q, qlen);
	}
	fd_del(f, slot);
	return 0;
}

static ssize_t f_read(void *ctx, int fd, void *buf, size_t len)
{
	fake_sys *f = ctx;
	struct fake_fd *slot = fd_find(f, fd);
	ssize_t n;

	if (!slot)
		return -EBADF;
	if (slot->pending_err)
		return slot->pending_err;
	if (slot->kind == FD_SNP || slot->kind == FD_TDX)
		return -EINVAL;
	n = read(fd, buf, len);
	return n < 0 ? -errno : n;
}

static ssize_t f_write(void *ctx, int fd, const void *buf, size_t len)
{
	fake_sys *f = ctx;
	struct fake_fd *slot = fd_find(f, fd);
	ssize_t n;

	if (!slot)
		return -EBADF;
	if (slot->kind == FD_SNP || slot->kind == FD_TDX)
		return -EINVAL;
	if (slot->kind == FD_TSM_INBLOB) {
		off_t pos = lseek(fd, 0, SEEK_CUR);
		if (pos < 0 || (size_t)pos + len > 64)
			return -EFBIG;  /* configfs_bin_write_iter: more than cb_max_size */
	}
	if (slot->kind == FD_TSM_PRIVLEVEL) {
		/* A text attribute applies at write(): kstrtouint, floor..3. */
		fake_tsm *t = f->tsm;
		fake_tsm_entry *e = &t->entries[slot->entry];
		char text[16];
		char *end;
		unsigned long v;
		if (len == 0 || len >= sizeof(text))
			return -EINVAL;
		memcpy(text, buf, len);
		text[len] = '\0';
		snprintf(t->last_privlevel, sizeof(t->last_privlevel), "%s", text);
		t->privlevel_writes++;
		errno = 0;
		v = strtoul(text, &end, 10);
		if (end == text || (*end != '\0' && strcmp(end, "\n") != 0) || errno || v < t->privlevel_floor || v > 3)
			return -EINVAL;
		e->privlevel = (unsigned)v;
		e->write_gen++;
		tsm_write_generation(t, e);
		return (ssize_t)len;
	}
	n = write(fd, buf, len);
	return n < 0 ? -errno : n;
}

static int f_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	fake_sys *f = ctx;
	struct fake_fd *slot = fd_find(f, fd);

	if (!slot)
		return -EBADF;
	if (slot->kind == FD_SNP)
		return snp_ioctl(f->snp, request, arg);
	if (slot->kind == FD_TDX)
		return tdx_ioctl(f->tdx, request, arg);
	return -ENOTTY;
}

static int f_mkdir(void *ctx, const char *path, unsigned int mode)
{
	fake_sys *f = ctx;
	char entry[256];
	const char *attr = NULL;

	if (f->tsm && tsm_split(f->tsm, path, entry, sizeof(entry), &attr) && !attr)
		return tsm_mkdir(f->tsm, path, entry, mode);
	return mkdir(path, (mode_t)mode) < 0 ? -errno : 0;
}

static int f_rmdir(void *ctx, const char *path)
{
	fake_sys *f = ctx;
	char entry[256];
	const char *attr = NULL;

	if (f->tsm && tsm_split(f->tsm, path, entry, sizeof(entry), &attr) && !attr)
		return tsm_rmdir(f->tsm, path, entry);
	return rmdir(path) < 0 ? -errno : 0;
}

static void f_sleep_ms(void *ctx, unsigned int ms)
{
	fake_sys *f = ctx;
	pthread_mutex_lock(&f->mu);
	f->sleeps++;
	f->slept_ms += ms;
	pthread_mutex_unlock(&f->mu);
}

fake_sys *fake_sys_new(void)
{
	fake_sys *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	pthread_mutex_init(&f->mu, NULL);
	for (int i = 0; i < FAKE_MAX_FDS; i++)
		f->fds[i].fd = -1;
	f->sys.ctx = f;
	f->sys.open = f_open;
	f->sys.close = f_close;
	f->sys.read = f_read;
	f->sys.write = f_write;
	f->sys.ioctl = f_ioctl;
	f->sys.mkdir = f_mkdir;
	f->sys.rmdir = f_rmdir;
	f->sys.sleep_ms = f_sleep_ms;
	return f;
}

void fake_sys_free(fake_sys *f)
{
	if (!f)
		return;
	for (int i = 0; i < FAKE_MAX_FDS; i++)
		if (f->fds[i].fd >= 0 && f->fds[i].fd < FAKE_DEV_FD_BASE)
			close(f->fds[i].fd);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
