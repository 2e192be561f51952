/*
 * libFuzzer target for the request handler: any bytes a client can send
 * after the length prefix, served by the sim backend of a simulation
 * directory made once at start-up. Built with -DCOCOON_FUZZ=ON as
 * fuzz_quoted_request; seeds: the .req files of tests/quoted/golden (a leading length
 * prefix that matches the input size is skipped, so the framed golden
 * requests seed the real message).
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/sim.h"
#include "common/util.h"
#include "backend.h"
#include "handler.h"
#include "nlog.h"

static quoted_backend *backend;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/cocoon-fuzz-quoted-XXXXXX", sim[64], err[512];
	(void)argc;
	(void)argv;

	cocoon_nlog_set_level(COCOON_NLOG_ERROR + 1); /* quiet */
	if (!mkdtemp(dir))
		abort();
	snprintf(sim, sizeof(sim), "%s/sim", dir);
	if (cocoon_sim_init(sim, NULL) != 0 || quoted_backend_sim_open(&backend, sim, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_quoted_request: %s %s\n", cocoon_error_last()->message, err);
		abort();
	}
	/* The backend holds everything in memory once open. */
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	quoted_outcome oc;
	uint8_t *resp = NULL;
	size_t resp_len = 0;

	if (size >= 4 && cocoon_le32(data) == size - 4) {
		data += 4;
		size -= 4;
	}
	if (quoted_handle(&resp, &resp_len, &oc, backend, data, size) == 0) {
		/* Every answer is a framed Response of the length it announces. */
		if (resp_len < 4 || cocoon_le32(resp) != resp_len - 4)
			abort();
	}
	free(resp);
	return 0;
}
