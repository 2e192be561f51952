/*
 * libFuzzer target for cocoon-run's launch configuration (src/lib/run):
 * the strict JSON parser, template checks, and argv/envp construction
 * with stand-in values for every configured resource.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cocoon_run_config *c = NULL;
	cocoon_run_value *v = NULL;
	char **argv = NULL, **envp = NULL;
	char *base[] = { "PATH=/bin", "HOME=/", NULL };
	char *cmdline[] = { "/bin/true", NULL };

	if (cocoon_run_config_parse(&c, (const char *)data, size) != 0)
		return 0;
	if (c->n_resources && !(v = calloc(c->n_resources, sizeof(*v))))
		goto done;
	for (size_t i = 0; i < c->n_resources; i++) {
		v[i].path = c->resources[i].path;
		v[i].data = (const uint8_t *)c->resources[i].path;
		v[i].len = strlen(c->resources[i].path);
	}
	if (cocoon_run_build_exec(&argv, &envp, c, cmdline, c->command ? 0 : 1, base, v, c->n_resources) == 0) {
		cocoon_run_strv_free(argv);
		cocoon_run_strv_free(envp);
	}
done:
	free(v);
	cocoon_run_config_free(c);
	return 0;
}
