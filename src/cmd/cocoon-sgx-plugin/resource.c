/* Device-plugin resources and their RPC bodies; see resource.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.pb-c.h"
#include "common/util.h"
#include "devid.h"
#include "resource.h"

#define DEV_ENCLAVE "/dev/sgx_enclave"
#define DEV_ENCLAVE_ALIAS "/dev/sgx/enclave"
#define DEV_PROVISION "/dev/sgx_provision"
#define DEV_PROVISION_ALIAS "/dev/sgx/provision"
#define AESMD_CONTAINER_DIR "/var/run/aesmd"
#define MAX_SHARED_ID 32

void cocoon_res_init(cocoon_res *r, cocoon_res_kind kind, uint32_t count)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->count = count;
	r->aesmd_dir = "/var/run/aesmd";
	switch (kind) {
	case COCOON_RES_EPC_MIB:
		r->name = COCOON_RES_NAME_EPC_MIB;
		r->socket = "cocoon-sgx-epc-mib.sock";
		break;
	case COCOON_RES_ENCLAVE:
		r->name = COCOON_RES_NAME_ENCLAVE;
		r->socket = "cocoon-sgx-enclave.sock";
		break;
	default:
		r->kind = COCOON_RES_PROVISION;
		r->name = COCOON_RES_NAME_PROVISION;
		r->socket = "cocoon-sgx-provision.sock";
		break;
	}
}

static const char *shared_prefix(const cocoon_res *r)
{
	return r->kind == COCOON_RES_ENCLAVE ? "sgx-enclave-" : "sgx-provision-";
}

size_t cocoon_res_device_id(const cocoon_res *r, uint32_t i, char *buf, size_t len)
{
	int n;

	if (r->kind == COCOON_RES_EPC_MIB && len > COCOON_DEVID_MAX_LEN)
		return cocoon_devid_encode(buf, i);
	n = snprintf(buf, len, "%s%u", shared_prefix(r), i);
	return n < 0 ? 0 : (size_t)n;
}

/* An ID as it may appear in a message: printable ASCII, at most 40 bytes. */
static void id_show(char *out, size_t out_len, const char *id)
{
	size_t o = 0;

	for (; *id && o + 4 < out_len && o < 40; id++)
		out[o++] = (*id >= 0x20 && *id <= 0x7e && *id != '\'') ? *id : '?';
	if (*id && o + 4 < out_len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int shared_index(uint32_t *out, const char *digits)
{
	uint64_t v = 0;
	size_t n = strlen(digits);

	if (n == 0 || n > 10 || (digits[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(digits[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* The index of a device ID, or -1 when r did not advertise it. */
static int device_index(uint32_t *index, const cocoon_res *r, const char *id)
{
	int ok;

	if (r->kind == COCOON_RES_EPC_MIB) {
		ok = cocoon_devid_decode(index, id, strlen(id)) == 0;
	} else {
		const char *prefix = shared_prefix(r);
		ok = strncmp(id, prefix, strlen(prefix)) == 0 && shared_index(index, id + strlen(prefix)) == 0;
	}
	return ok && *index < r->count ? 0 : -1;
}

int cocoon_res_device_check(const cocoon_res *r, const char *id)
{
	char shown[64], first[MAX_SHARED_ID], last[MAX_SHARED_ID];
	uint32_t index = 0;

	if (device_index(&index, r, id) == 0)
		return 0;
	id_show(shown, sizeof(shown), id);
	if (r->count == 0)
		return cocoon_error_set(COCOON_ENOTFOUND, "unknown device ID '%s' for %s: no devices are advertised",
		                        shown, r->name);
	cocoon_res_device_id(r, 0, first, sizeof(first));
	cocoon_res_device_id(r, r->count - 1, last, sizeof(last));
	return cocoon_error_set(COCOON_ENOTFOUND,
	                        "unknown device ID '%s' for %s: this plugin advertised %u devices, '%s' to '%s'%s",
	                        shown, r->name, r->count, first, last,
	                        r->kind == COCOON_RES_EPC_MIB ? " in its compact base-64 numbering" : "");
}

static int pack(cocoon_grpc_msg **out, const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	int rc;

	if ((rc = cocoon_grpc_msg_new(out, len)) != 0)
		return rc;
	protobuf_c_message_pack(m, cocoon_grpc_msg_payload(*out));
	return 0;
}

/*
 * The encoding of a repeated field is the concatenation of its elements, so
 * ListAndWatchResponses packed chunk by chunk and laid end to end are the
 * encoding of one response with all devices (protobuf merges concatenated
 * messages). Chunks keep the unpacked form small: 4,096 Device structs
 * instead of 262,144 (12 MiB) at 256 GiB.
 */
#define LIST_CHUNK 4096

typedef struct {
	const cocoon_res *r;
	char *health;
	V1beta1__Device devs[LIST_CHUNK];
	V1beta1__Device *ptrs[LIST_CHUNK];
	char ids[LIST_CHUNK][MAX_SHARED_ID];
	V1beta1__ListAndWatchResponse resp;
} list_chunk;

static void chunk_fill(list_chunk *c, uint32_t first)
{
	uint32_t n = c->r->count - first < LIST_CHUNK ? c->r->count - first : LIST_CHUNK;

	v1beta1__list_and_watch_response__init(&c->resp);
	for (uint32_t i = 0; i < n; i++) {
		v1beta1__device__init(&c->devs[i]);
		cocoon_res_device_id(c->r, first + i, c->ids[i], sizeof(c->ids[i]));
		c->devs[i].id = c->ids[i];
		c->devs[i].health = c->health;
		c->ptrs[i] = &c->devs[i];
	}
	c->resp.n_devices = n;
	c->resp.devices = c->ptrs;
}

static size_t list_size(list_chunk *c)
{
	size_t total = 0;

	for (uint32_t first = 0; first < c->r->count; first += LIST_CHUNK) {
		chunk_fill(c, first);
		total += v1beta1__list_and_watch_response__get_packed_size(&c->resp);
	}
	return total;
}

int cocoon_res_list(cocoon_grpc_msg **out, const cocoon_res *r, int healthy, size_t limit)
{
	list_chunk *c = malloc(sizeof(*c));
	size_t size, off = 0;
	uint8_t *payload;
	int rc;

	*out = NULL;
	if (!c)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory listing the devices of %s", r->name);
	c->r = r;
	c->health = healthy ? "Healthy" : "Unhealthy";
	size = list_size(c);
	if (size > limit && !healthy) {
		c->health = "";
		size = list_size(c);
	}
	if (size > limit) {
		rc = cocoon_error_set(COCOON_EINVAL, "%s: a list of %u devices takes %zu bytes, over the %zu-byte limit",
		                      r->name, r->count, size, limit);
		goto done;
	}
	if ((rc = cocoon_grpc_msg_new(out, size)) != 0)
		goto done;
	payload = cocoon_grpc_msg_payload(*out);
	for (uint32_t first = 0; first < r->count; first += LIST_CHUNK) {
		chunk_fill(c, first);
		off += v1beta1__list_and_watch_response__pack(&c->resp, payload + off);
	}
	if (off != size) {
		cocoon_grpc_msg_unref(*out);
		*out = NULL;
		rc = cocoon_error_set(COCOON_EINTERNAL, "%s: packed %zu bytes, expected %zu", r->name, off, size);
	}
done:
	free(c);
	return rc;
}

int cocoon_res_options(cocoon_grpc_msg **out)
{
	V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;

	/* Any device of a resource is as good as another, so a preferred
	 * allocation would only cost the kubelet one more RPC per pod carrying
	 * every available ID (1.3 MB at 256 GiB). */
	o.pre_start_required = 0;
	o.get_preferred_allocation_available = 0;
	return pack(out, &o.base);
}

static int check_ids(const cocoon_res *r, size_t container, const char *field, char **ids, size_t n)
{
	char why[sizeof(cocoon_error_last()->message)];

	for (size_t i = 0; i < n; i++) {
		if (cocoon_res_device_check(r, ids[i]) != 0) {
			snprintf(why, sizeof(why), "%s", cocoon_error_last()->message);
			return cocoon_error_set(COCOON_ENOTFOUND, "container request %zu, %s[%zu]: %s", container, field,
			                        i, why);
		}
	}
	return 0;
}

int cocoon_res_allocate(cocoon_grpc_msg **out, const cocoon_res *r, int healthy, const uint8_t *req, size_t len)
{
	V1beta1__AllocateRequest *ar = NULL;
	V1beta1__AllocateResponse resp = V1BETA1__ALLOCATE_RESPONSE__INIT;
	V1beta1__ContainerAllocateResponse cr = V1BETA1__CONTAINER_ALLOCATE_RESPONSE__INIT;
	V1beta1__ContainerAllocateResponse **crs = NULL;
	V1beta1__DeviceSpec specs[4];
	V1beta1__DeviceSpec *spec_ptrs[4];
	V1beta1__Mount mount = V1BETA1__MOUNT__INIT;
	V1beta1__Mount *mount_ptr = &mount;
	V1beta1__ContainerAllocateResponse__EnvsEntry env = V1BETA1__CONTAINER_ALLOCATE_RESPONSE__ENVS_ENTRY__INIT;
	V1beta1__ContainerAllocateResponse__EnvsEntry *env_ptr = &env;
	size_t nspecs = 0;
	int rc;

	*out = NULL;
	ar = v1beta1__allocate_request__unpack(NULL, len, req);
	if (!ar)
		return cocoon_error_set(COCOON_EFORMAT, "AllocateRequest for %s: not a valid protobuf message (%zu bytes)",
		                        r->name, len);
	if (ar->n_container_requests == 0) {
		rc = cocoon_error_set(COCOON_EINVAL, "AllocateRequest for %s: no container requests", r->name);
		goto done;
	}
	for (size_t i = 0; i < ar->n_container_requests; i++) {
		V1beta1__ContainerAllocateRequest *c = ar->container_requests[i];
		if (c->n_devices_ids == 0) {
			rc = cocoon_error_set(COCOON_EINVAL, "AllocateRequest for %s: container request %zu lists no device IDs",
			                      r->name, i);
			goto done;
		}
		if ((rc = check_ids(r, i, "devices_ids", c->devices_ids, c->n_devices_ids)) != 0)
			goto done;
	}
	if (!healthy) {
		rc = cocoon_error_set(COCOON_EREJECT,
		                      "%s: the SGX device nodes are missing on this node, so its devices are Unhealthy; "
		                      "check that the SGX driver is loaded (%s%s)",
		                      r->name, DEV_ENCLAVE, r->kind == COCOON_RES_PROVISION ? ", " DEV_PROVISION : "");
		goto done;
	}
	/* Any SGX resource opens the enclave device, under both names user
	 * space looks for; only provision adds the provisioning key device. */
	{
		static const char *const paths[4][2] = { { DEV_ENCLAVE, DEV_ENCLAVE }, { DEV_ENCLAVE_ALIAS, DEV_ENCLAVE },
		                                         { DEV_PROVISION, DEV_PROVISION },
		                                         { DEV_PROVISION_ALIAS, DEV_PROVISION } };
		size_t want = r->kind == COCOON_RES_PROVISION ? 4 : 2;
		for (; nspecs < want; nspecs++) {
			v1beta1__device_spec__init(&specs[nspecs]);
			specs[nspecs].container_path = (char *)paths[nspecs][0];
			specs[nspecs].host_path = (char *)paths[nspecs][1];
			specs[nspecs].permissions = "rw";
			spec_ptrs[nspecs] = &specs[nspecs];
		}
	}
	cr.n_devices = nspecs;
	cr.devices = spec_ptrs;
	/* Out-of-process quoting (AKS quote helper) for enclave users; a
	 * provisioning container quotes in-process and must not see SGX_AESM_ADDR. */
	if (r->quote_helper && r->kind != COCOON_RES_PROVISION) {
		mount.container_path = AESMD_CONTAINER_DIR;
		mount.host_path = (char *)r->aesmd_dir;
		mount.read_only = 1;
		cr.n_mounts = 1;
		cr.mounts = &mount_ptr;
		env.key = "SGX_AESM_ADDR";
		env.value = "1";
		cr.n_envs = 1;
		cr.envs = &env_ptr;
	}
	crs = malloc(ar->n_container_requests * sizeof(*crs));
	if (!crs) {
		rc = cocoon_error_set(COCOON_ENOMEM, "out of memory answering Allocate");
		goto done;
	}
	for (size_t i = 0; i < ar->n_container_requests; i++)
		crs[i] = &cr;
	resp.n_container_responses = ar->n_container_requests;
	resp.container_responses = crs;
	rc = pack(out, &resp.base);
done:
	free(crs);
	v1beta1__allocate_request__free_unpacked(ar, NULL);
	return rc;
}

int cocoon_res_preferred(cocoon_grpc_msg **out, const cocoon_res *r, const uint8_t *req, size_t len)
{
	V1beta1__PreferredAllocationRequest *pr = NULL;
	V1beta1__PreferredAllocationResponse resp = V1BETA1__PREFERRED_ALLOCATION_RESPONSE__INIT;
	V1beta1__ContainerPreferredAllocationResponse *crs = NULL, **crp = NULL;
	char **chosen = NULL;
	uint8_t *taken = NULL;
	size_t total = 0, used = 0, map_len = ((size_t)r->count + 7) / 8;
	int rc;

	*out = NULL;
	pr = v1beta1__preferred_allocation_request__unpack(NULL, len, req);
	if (!pr)
		return cocoon_error_set(COCOON_EFORMAT,
		                        "PreferredAllocationRequest for %s: not a valid protobuf message (%zu bytes)", r->name,
		                        len);
	for (size_t i = 0; i < pr->n_container_requests; i++) {
		V1beta1__ContainerPreferredAllocationRequest *c = pr->container_requests[i];
		if ((rc = check_ids(r, i, "available_deviceIDs", c->available_deviceids, c->n_available_deviceids)) != 0 ||
		    (rc = check_ids(r, i, "must_include_deviceIDs", c->must_include_deviceids,
		                    c->n_must_include_deviceids)) != 0)
			goto done;
		if (c->allocation_size < 0 || (size_t)c->allocation_size < c->n_must_include_deviceids ||
		    (size_t)c->allocation_size > c->n_available_deviceids) {
			rc = cocoon_error_set(COCOON_EINVAL,
			                      "PreferredAllocationRequest for %s: container request %zu asks for %d devices "
			                      "with %zu required and %zu available",
			                      r->name, i, c->allocation_size, c->n_must_include_deviceids,
			                      c->n_available_deviceids);
			goto done;
		}
		total += (size_t)c->allocation_size;
	}
	crs = calloc(pr->n_container_requests + 1, sizeof(*crs));
	crp = calloc(pr->n_container_requests + 1, sizeof(*crp));
	chosen = calloc(total + 1, sizeof(*chosen));
	taken = malloc(map_len + 1);
	if (!crs || !crp || !chosen || !taken) {
		rc = cocoon_error_set(COCOON_ENOMEM, "out of memory answering GetPreferredAllocation");
		goto done;
	}
	/* The required IDs first, then the available ones in the kubelet's
	 * order, each once: a bitmap over device indexes keeps this linear
	 * whatever the request holds. */
	for (size_t i = 0; i < pr->n_container_requests; i++) {
		V1beta1__ContainerPreferredAllocationRequest *c = pr->container_requests[i];
		size_t want = (size_t)c->allocation_size, start = used;
		char **lists[2] = { c->must_include_deviceids, c->available_deviceids };
		size_t lens[2] = { c->n_must_include_deviceids, c->n_available_deviceids };

		v1beta1__container_preferred_allocation_response__init(&crs[i]);
		memset(taken, 0, map_len + 1);
		for (int l = 0; l < 2; l++) {
			for (size_t k = 0; k < lens[l] && used - start < want; k++) {
				uint32_t idx = 0;
				if (device_index(&idx, r, lists[l][k]) != 0 || (taken[idx / 8] & (1u << (idx % 8))))
					continue;
				taken[idx / 8] |= (uint8_t)(1u << (idx % 8));
				chosen[used++] = lists[l][k];
			}
		}
		crs[i].n_deviceids = used - start;
		crs[i].deviceids = chosen + start;
		crp[i] = &crs[i];
	}
	resp.n_container_responses = pr->n_container_requests;
	resp.container_responses = crp;
	rc = pack(out, &resp.base);
done:
	free(taken);
	free(chosen);
	free(crp);
	free(crs);
	v1beta1__preferred_allocation_request__free_unpacked(pr, NULL);
	return rc;
}

int cocoon_res_prestart(cocoon_grpc_msg **out, const cocoon_res *r, const uint8_t *req, size_t len)
{
	V1beta1__PreStartContainerRequest *pr;
	V1beta1__PreStartContainerResponse resp = V1BETA1__PRE_START_CONTAINER_RESPONSE__INIT;
	int rc;

	*out = NULL;
	pr = v1beta1__pre_start_container_request__unpack(NULL, len, req);
	if (!pr)
		return cocoon_error_set(COCOON_EFORMAT,
		                        "PreStartContainerRequest for %s: not a valid protobuf message (%zu bytes)", r->name,
		                        len);
	rc = check_ids(r, 0, "devices_ids", pr->devices_ids, pr->n_devices_ids);
	if (rc == 0)
		rc = pack(out, &resp.base);
	v1beta1__pre_start_container_request__free_unpacked(pr, NULL);
	return rc;
}

int cocoon_res_register_request(uint8_t **out, size_t *out_len, const cocoon_res *r)
{
	V1beta1__RegisterRequest rr = V1BETA1__REGISTER_REQUEST__INIT;
	V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;
	size_t len;

	rr.version = "v1beta1";
	rr.endpoint = (char *)r->socket;
	rr.resource_name = (char *)r->name;
	rr.options = &o;
	len = v1beta1__register_request__get_packed_size(&rr);
	*out = malloc(len ? len : 1);
	if (!*out)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory building RegisterRequest");
	*out_len = v1beta1__register_request__pack(&rr, *out);
	return 0;
}

int cocoon_res_grpc_status(int error_code)
{
	switch (error_code) {
	case COCOON_EFORMAT:
	case COCOON_EINVAL:
	case COCOON_ENOTFOUND:
		return COCOON_GRPC_INVALID_ARGUMENT;
	case COCOON_EREJECT:
		return COCOON_GRPC_FAILED_PRECONDITION;
	case COCOON_ENOMEM:
		return COCOON_GRPC_RESOURCE_EXHAUSTED;
	default:
		return COCOON_GRPC_INTERNAL;
	}
}
