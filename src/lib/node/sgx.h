/*
 * SGX discovery: CPUID feature bits and the EPC sections of leaf 0x12
 * (node-components.md 3.2), cross-checked against the kernel's per-NUMA-node
 * sysfs counters /sys/devices/system/node/node*<N>/x86/sgx_total_bytes (3.3).
 */
#ifndef COCOON_SGX_H
#define COCOON_SGX_H

#include <stddef.h>
#include <stdint.h>
#include "x86cpuid.h"

#define COCOON_SGX_MAX_SECTIONS 8

typedef struct {
	int sgx;  /* CPUID.(7,0):EBX[2] */
	int flc;  /* CPUID.(7,0):ECX[30], flexible launch control */
	int sgx1; /* CPUID.(0x12,0):EAX[0] */
	int sgx2; /* CPUID.(0x12,0):EAX[1], EDMM instructions */
	unsigned n_sections;
	struct {
		uint64_t base, size;
	} sections[COCOON_SGX_MAX_SECTIONS];
	uint64_t cpuid_epc_bytes;
	int sysfs_present;       /* at least one node exposes sgx_total_bytes */
	unsigned sysfs_nodes;
	uint64_t sysfs_epc_bytes;
	uint64_t epc_bytes;      /* what the node advertises: the kernel's count when present */
	char mismatch[256];      /* non-empty when CPUID and sysfs disagree */
} cocoon_sgx_info;

/* Never fails for lack of SGX (info->sgx == 0, epc_bytes == 0); fails on a
 * malformed sysfs counter, naming the file. */
int cocoon_sgx_probe(cocoon_sgx_info *out, const cocoon_cpuid *c, const char *sysfs_root);

/* Parses the content of one sgx_total_bytes file (len bytes, no NUL needed):
 * a decimal count and an optional newline. COCOON_EFORMAT names path. */
int cocoon_sgx_parse_bytes(uint64_t *out, const char *path, const char *text, size_t len);

/* 1 when SGX is usable: the CPU has it and some EPC is present. */
int cocoon_sgx_present(const cocoon_sgx_info *info);

#endif
