/*
 * The three device-plugin resources and their RPC bodies: device lists,
 * Allocate, GetPreferredAllocation and PreStartContainer, encoded and
 * decoded with the protobuf-c code generated from proto/api.proto.
 * No I/O here, so the gRPC plumbing and the policy can be tested apart.
 */
#ifndef COCOON_RESOURCE_H
#define COCOON_RESOURCE_H

#include <stddef.h>
#include <stdint.h>
#include "grpc.h"

typedef enum {
	COCOON_RES_EPC_MIB = 0, /* kubernetes.azure.com/sgx_epc_mem_in_MiB: one device per MiB */
	COCOON_RES_ENCLAVE = 1, /* sgx.intel.com/enclave: N shared devices */
	COCOON_RES_PROVISION = 2, /* sgx.intel.com/provision: N shared devices */
	COCOON_RES_COUNT = 3
} cocoon_res_kind;

#define COCOON_RES_NAME_EPC_MIB "kubernetes.azure.com/sgx_epc_mem_in_MiB"
#define COCOON_RES_NAME_ENCLAVE "sgx.intel.com/enclave"
#define COCOON_RES_NAME_PROVISION "sgx.intel.com/provision"
#define COCOON_RES_NAME_EPC_BYTES "sgx.intel.com/epc"

typedef struct {
	cocoon_res_kind kind;
	const char *name;       /* the extended resource name */
	const char *socket;     /* socket file name in the device-plugin directory */
	uint32_t count;         /* devices advertised */
	int quote_helper;       /* add the AESM socket mount and SGX_AESM_ADDR */
	const char *aesmd_dir;  /* host directory of aesm.socket */
} cocoon_res;

/* Fills the constant parts of a resource of that kind. */
void cocoon_res_init(cocoon_res *r, cocoon_res_kind kind, uint32_t count);

/* Writes the ID of device i (< r->count) into buf; returns its length. */
size_t cocoon_res_device_id(const cocoon_res *r, uint32_t i, char *buf, size_t len);
/* 0 when id names one of r's devices; COCOON_ENOTFOUND with a message otherwise. */
int cocoon_res_device_check(const cocoon_res *r, const char *id);

/* The ListAndWatchResponse for the current health, at most limit bytes.
 * Unhealthy devices carry "Unhealthy" unless that would not fit, in which
 * case health is left empty (the kubelet counts anything but "Healthy" as
 * unhealthy). */
int cocoon_res_list(cocoon_grpc_msg **out, const cocoon_res *r, int healthy, size_t limit);

/* RPC bodies. On a bad request they return COCOON_EFORMAT/EINVAL (malformed),
 * COCOON_ENOTFOUND (unknown device ID) or COCOON_EREJECT (devices unhealthy),
 * with the message set; cocoon_res_grpc_status() maps those to gRPC. */
int cocoon_res_options(cocoon_grpc_msg **out);
int cocoon_res_allocate(cocoon_grpc_msg **out, const cocoon_res *r, int healthy, const uint8_t *req, size_t len);
int cocoon_res_preferred(cocoon_grpc_msg **out, const cocoon_res *r, const uint8_t *req, size_t len);
int cocoon_res_prestart(cocoon_grpc_msg **out, const cocoon_res *r, const uint8_t *req, size_t len);
/* The RegisterRequest announcing r on socket r->socket. */
int cocoon_res_register_request(uint8_t **out, size_t *out_len, const cocoon_res *r);

int cocoon_res_grpc_status(int error_code);

#endif
