/*
 * The sim provider's slot. Placeholder until the simulated TEE's evidence
 * writer lands: the real provider replaces this file and keeps the symbol
 * name, { "sim", 0, probe, collect }. It must stay out of auto-detection
 * (auto_detect 0): sim runs only when asked for by name, with
 * ctx->sim_dir (`--sim DIR`) and ctx->tee (`--tee`) choosing what it makes.
 */
#include <stdio.h>
#include "common/util.h"
#include "evidence/provider.h"

static int sim_collect(cocoon_evidence *out, const cocoon_evidence_ctx *c)
{
	(void)out;
	(void)c;
	return cocoon_error_set(COCOON_EUNSUPPORTED, "sim: the simulated TEE provider is not built into this libcocoon");
}

static void sim_probe(cocoon_probe_entry *out, const cocoon_evidence_ctx *c)
{
	(void)c;
	out->state = COCOON_PROBE_UNUSABLE;
	ev_detail(out, "not built into this libcocoon; never used by auto-detection");
}

const cocoon_evidence_provider cocoon_evidence_provider_sim = {
	"sim", 0, sim_probe, sim_collect,
};
