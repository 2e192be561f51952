/*
 * Node features for node-feature-discovery's local source: a file of
 * "name=value" lines in /etc/kubernetes/node-feature-discovery/features.d/
 * that nfd-worker turns into node labels, so that heterogeneous pools can be
 * targeted (SGX nodes, SEV-SNP and TDX confidential VMs).
 */
#ifndef COCOON_LABELS_H
#define COCOON_LABELS_H

#include "x86cpuid.h"
#include "sgx.h"

#define COCOON_LABELS_PREFIX "cocoon.feature.node.kubernetes.io/"

typedef struct {
	const cocoon_cpuid *cpuid;
	const char *dev_root;      /* /dev */
	const char *sysfs_root;    /* /sys */
	const char *configfs_root; /* /sys/kernel/config */
} cocoon_labels_env;

typedef struct {
	cocoon_sgx_info sgx;
	int snp_guest;
	const char *snp_source;    /* what showed it */
	int tdx_guest;
	const char *tdx_source;
} cocoon_node_features;

int cocoon_node_features_probe(cocoon_node_features *out, const cocoon_labels_env *env);
/* The feature file's text (caller frees). */
int cocoon_node_features_render(char **out, const cocoon_node_features *f);
/* Replaces path atomically (temporary file + rename), mode 0644. */
int cocoon_node_features_write(const char *path, const char *text);

#endif
