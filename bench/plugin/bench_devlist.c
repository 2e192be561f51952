/*
 * Micro-benchmark of the plugin's hot paths, in process: building the
 * ListAndWatch message for 256 GiB of EPC (262,144 one-MiB devices) and
 * answering an Allocate for 1 GiB (1,024 IDs). The end-to-end numbers
 * (over gRPC, and idle RSS) come from bench/plugin/bench_plugin.py.
 * Usage: bench_sgx_plugin [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "api.pb-c.h"
#include "grpc.h"
#include "resource.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 20;
	double *t = calloc((size_t)(iters > 0 ? iters : 1), sizeof(double));
	cocoon_res r;
	cocoon_grpc_msg *m = NULL;
	V1beta1__AllocateRequest ar = V1BETA1__ALLOCATE_REQUEST__INIT;
	V1beta1__ContainerAllocateRequest cr = V1BETA1__CONTAINER_ALLOCATE_REQUEST__INIT, *crp = &cr;
	char *ids[1024], idbuf[1024][8];
	uint8_t *req;
	size_t req_len;

	if (!t || iters < 1)
		return 2;
	cocoon_res_init(&r, COCOON_RES_EPC_MIB, 262144);
	for (int i = 0; i < iters; i++) {
		double t0 = now_ms();
		if (cocoon_res_list(&m, &r, 1, COCOON_GRPC_MAX_MESSAGE) != 0)
			return 1;
		t[i] = now_ms() - t0;
		if (i == 0)
			printf("list_256GiB_bytes %zu (limit %zu)\n", cocoon_grpc_msg_payload_len(m),
			       COCOON_GRPC_MAX_MESSAGE);
		cocoon_grpc_msg_unref(m);
	}
	qsort(t, (size_t)iters, sizeof(double), cmp_double);
	printf("list_256GiB_build_ms median %.2f min %.2f max %.2f (n=%d)\n", t[iters / 2], t[0], t[iters - 1], iters);

	for (int i = 0; i < 1024; i++) {
		cocoon_res_device_id(&r, (uint32_t)(i * 200), idbuf[i], sizeof(idbuf[i]));
		ids[i] = idbuf[i];
	}
	cr.n_devices_ids = 1024;
	cr.devices_ids = ids;
	ar.n_container_requests = 1;
	ar.container_requests = &crp;
	req_len = v1beta1__allocate_request__get_packed_size(&ar);
	req = malloc(req_len);
	if (!req)
		return 1;
	v1beta1__allocate_request__pack(&ar, req);
	for (int i = 0; i < iters; i++) {
		double t0 = now_ms();
		for (int k = 0; k < 100; k++) {
			if (cocoon_res_allocate(&m, &r, 1, req, req_len) != 0)
				return 1;
			cocoon_grpc_msg_unref(m);
		}
		t[i] = (now_ms() - t0) * 10.0; /* microseconds per call */
	}
	qsort(t, (size_t)iters, sizeof(double), cmp_double);
	printf("allocate_1024_ids_us median %.1f min %.1f max %.1f (in process, no I/O)\n", t[iters / 2], t[0],
	       t[iters - 1]);
	free(req);
	free(t);
	return 0;
}
