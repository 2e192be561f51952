/*
 * CPUID, from the instruction or from a file (--cpuid-file) so that tests and
 * operators can replay another machine. The file format is the raw dump of
 * the `cpuid` tool (`cpuid -1 -r`), one sub-leaf per line:
 *
 *   CPU 0:
 *      0x00000012 0x02: eax=0x70200001 ebx=0x00000000 ecx=0x7ec00002 edx=0x00000000
 *
 * Blank lines and lines starting with '#' are ignored; only the first CPU's
 * block is read; a leaf/sub-leaf missing from the file reads as all zeros.
 */
#ifndef COCOON_X86CPUID_H
#define COCOON_X86CPUID_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint32_t leaf, subleaf;
	uint32_t eax, ebx, ecx, edx;
} cocoon_cpuid_entry;

typedef struct {
	int from_file;
	size_t n;
	cocoon_cpuid_entry *entries;
} cocoon_cpuid;

/* Loads path, or uses the instruction when path is NULL. COCOON_EFORMAT names the line. */
int cocoon_cpuid_open(cocoon_cpuid *out, const char *path);
/* Parses the file format from memory (text need not be NUL-terminated). */
int cocoon_cpuid_parse(cocoon_cpuid *out, const char *text, size_t len);
void cocoon_cpuid_close(cocoon_cpuid *c);
/* regs: eax, ebx, ecx, edx. Leaves above the maximum (basic or extended) read as zeros. */
void cocoon_cpuid_query(const cocoon_cpuid *c, uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);

#endif
