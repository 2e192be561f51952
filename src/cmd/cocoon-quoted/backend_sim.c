/* The sim backend: the simulated QE3 of a `cocoon sim init` directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "sim/sim_report.h"
#include "backend.h"
#include "nlog.h"

static uint32_t sim_target_info(quoted_backend *b, uint8_t ti[COCOON_SGX_TARGET_INFO_SIZE])
{
	cocoon_sim_qe_target_info(ti, b->state);
	return COCOON_AESM_SUCCESS;
}

static uint32_t sim_pub_key_id(quoted_backend *b, uint8_t id[COCOON_SGX_PUB_KEY_ID_SIZE], int *known)
{
	cocoon_sim_qe_pub_key_id(id, b->state);
	*known = 1;
	return COCOON_AESM_SUCCESS;
}

static uint32_t sim_quote_size(quoted_backend *b, uint32_t *size)
{
	*size = (uint32_t)cocoon_sim_qe_quote_size(b->state);
	return COCOON_AESM_SUCCESS;
}

static uint32_t sim_quote(quoted_backend *b, uint8_t **quote, size_t *quote_len,
                          const uint8_t report[COCOON_SGX_REPORT_SIZE_FULL], uint8_t *qe_report_info,
                          uint32_t buf_size)
{
	size_t need = cocoon_sim_qe_quote_size(b->state);
	int err;

	*quote = NULL;
	*quote_len = 0;
	if (buf_size < need) {
		nlog_info("quote buffer too small", "{s:i,s:I}", "buf_size", (int)buf_size, "quote_size",
		          (json_int_t)need);
		return COCOON_AESM_PARAMETER_ERROR;
	}
	err = cocoon_sim_qe_quote(quote, quote_len, b->state, report, qe_report_info);
	if (err == COCOON_EREJECT) {
		nlog_info("app report rejected", "{s:s}", "reason", cocoon_error_last()->message);
		return COCOON_AESM_INVALID_REPORT;
	}
	if (err != 0) {
		nlog_error("sim quote failed", "{s:s}", "reason", cocoon_error_last()->message);
		return err == COCOON_ENOMEM ? COCOON_AESM_OUT_OF_MEMORY_ERROR : COCOON_AESM_UNEXPECTED_ERROR;
	}
	return COCOON_AESM_SUCCESS;
}

static void sim_free(quoted_backend *b)
{
	if (!b)
		return;
	cocoon_sim_qe_free(b->state);
	free(b);
}

int quoted_backend_sim_open(quoted_backend **out, const char *dir, char *err, size_t err_len)
{
	quoted_backend *b;
	cocoon_sim_qe *qe = NULL;

	*out = NULL;
	if (cocoon_sim_qe_open(&qe, dir) != 0) {
		snprintf(err, err_len, "backend sim: cannot open the simulation directory %s: %s", dir,
		         cocoon_error_last()->message);
		return -1;
	}
	if (!(b = calloc(1, sizeof(*b)))) {
		cocoon_sim_qe_free(qe);
		snprintf(err, err_len, "backend sim: out of memory");
		return -1;
	}
	b->name = "sim";
	b->target_info = sim_target_info;
	b->pub_key_id = sim_pub_key_id;
	b->quote_size = sim_quote_size;
	b->quote = sim_quote;
	b->free = sim_free;
	b->state = qe;
	*out = b;
	return 0;
}
