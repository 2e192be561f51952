/* CPUID from the instruction or a `cpuid -r` dump; see cpuid.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include "common/util.h"
#include "x86cpuid.h"

#define MAX_ENTRIES 4096
#define MAX_FILE ((size_t)1 << 20)

/* Parses "0x" followed by 1..8 hex digits at *p. */
static int parse_hex32(uint32_t *out, const char **p, const char *end)
{
	const char *s = *p;
	uint32_t v = 0;
	int digits = 0;

	if (end - s < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	s += 2;
	while (s < end) {
		int d;
		if (*s >= '0' && *s <= '9') d = *s - '0';
		else if (*s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
		else break;
		if (++digits > 8)
			return -1;
		v = (v << 4) | (uint32_t)d;
		s++;
	}
	if (digits == 0)
		return -1;
	*out = v;
	*p = s;
	return 0;
}

static void skip_space(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t' || **p == '\r'))
		(*p)++;
}

static int expect(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return -1;
	*p += n;
	return 0;
}

/* "LEAF SUB: eax=X ebx=X ecx=X edx=X" */
static int parse_entry(cocoon_cpuid_entry *e, const char *p, const char *end)
{
	static const char *const regs[4] = { "eax=", "ebx=", "ecx=", "edx=" };
	uint32_t *dst[4] = { &e->eax, &e->ebx, &e->ecx, &e->edx };

	skip_space(&p, end);
	if (parse_hex32(&e->leaf, &p, end) != 0)
		return -1;
	skip_space(&p, end);
	if (parse_hex32(&e->subleaf, &p, end) != 0 || expect(&p, end, ":") != 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		skip_space(&p, end);
		if (expect(&p, end, regs[i]) != 0 || parse_hex32(dst[i], &p, end) != 0)
			return -1;
	}
	skip_space(&p, end);
	return p == end ? 0 : -1;
}

static int is_cpu_header(const char *p, const char *end)
{
	skip_space(&p, end);
	if (expect(&p, end, "CPU ") != 0)
		return 0;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (expect(&p, end, ":") != 0)
		return 0;
	skip_space(&p, end);
	return p == end;
}

int cocoon_cpuid_parse(cocoon_cpuid *out, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	unsigned line = 0, cpus = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->from_file = 1;
	out->entries = calloc(MAX_ENTRIES, sizeof(*out->entries));
	if (!out->entries)
		return cocoon_error_set(COCOON_ENOMEM, "cpuid file: out of memory");
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end, *q = p;
		cocoon_cpuid_entry e;

		line++;
		skip_space(&q, le);
		if (q == le || *q == '#') {
			/* comment or blank */
		} else if (is_cpu_header(q, le)) {
			if (++cpus > 1)
				break;
		} else if (parse_entry(&e, q, le) != 0) {
			rc = cocoon_error_set(COCOON_EFORMAT,
			                      "cpuid file line %u: expected 'LEAF SUBLEAF: eax=0x.. ebx=0x.. "
			                      "ecx=0x.. edx=0x..' (the output of `cpuid -1 -r`)",
			                      line);
			goto done;
		} else {
			for (size_t i = 0; i < out->n; i++) {
				if (out->entries[i].leaf == e.leaf && out->entries[i].subleaf == e.subleaf) {
					rc = cocoon_error_set(COCOON_EFORMAT,
					                      "cpuid file line %u: leaf 0x%x sub-leaf 0x%x appears twice",
					                      line, e.leaf, e.subleaf);
					goto done;
				}
			}
			if (out->n == MAX_ENTRIES) {
				rc = cocoon_error_set(COCOON_EFORMAT, "cpuid file line %u: more than %d entries", line,
				                      MAX_ENTRIES);
				goto done;
			}
			out->entries[out->n++] = e;
		}
		p = eol ? eol + 1 : end;
	}
done:
	if (rc != 0)
		cocoon_cpuid_close(out);
	return rc;
}

int cocoon_cpuid_open(cocoon_cpuid *out, const char *path)
{
	char why[sizeof(cocoon_error_last()->message)];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!path)
		return 0;
	if ((rc = cocoon_file_read(&buf, &len, path)) != 0) {
		snprintf(why, sizeof(why), "%s", cocoon_error_last()->message);
		return cocoon_error_set(rc, "--cpuid-file: %s", why);
	}
	if (len > MAX_FILE) {
		free(buf);
		return cocoon_error_set(COCOON_EFORMAT, "--cpuid-file %s: %zu bytes is more than the 1 MiB allowed",
		                        path, len);
	}
	rc = cocoon_cpuid_parse(out, (const char *)buf, len);
	free(buf);
	if (rc != 0) {
		snprintf(why, sizeof(why), "%s", cocoon_error_last()->message);
		return cocoon_error_set(rc, "--cpuid-file %s: %s", path, why);
	}
	return 0;
}

void cocoon_cpuid_close(cocoon_cpuid *c)
{
	free(c->entries);
	memset(c, 0, sizeof(*c));
}

static void hw_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
	memset(regs, 0, 4 * sizeof(uint32_t));
#if defined(__x86_64__) || defined(__i386__)
	{
		unsigned int max = __get_cpuid_max(leaf & 0x80000000u, NULL);
		unsigned int a, b, c, d;
		if (max == 0 || leaf > max)
			return;
		__cpuid_count(leaf, subleaf, a, b, c, d);
		regs[0] = a;
		regs[1] = b;
		regs[2] = c;
		regs[3] = d;
	}
#else
	(void)leaf;
	(void)subleaf;
#endif
}

void cocoon_cpuid_query(const cocoon_cpuid *c, uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
	uint32_t max[4];

	if (!c->from_file) {
		hw_cpuid(leaf, subleaf, regs);
		return;
	}
	memset(regs, 0, 4 * sizeof(uint32_t));
	if (leaf != (leaf & 0x80000000u)) {
		cocoon_cpuid_query(c, leaf & 0x80000000u, 0, max);
		if (leaf > max[0])
			return;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (c->entries[i].leaf == leaf && c->entries[i].subleaf == subleaf) {
			regs[0] = c->entries[i].eax;
			regs[1] = c->entries[i].ebx;
			regs[2] = c->entries[i].ecx;
			regs[3] = c->entries[i].edx;
			return;
		}
	}
}
