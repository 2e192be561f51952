/* Opens attestd's database from the configuration: --database URL, else sqlite:<data-dir>/attestd.db. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "common/util.h"
#include "attestd.h"

int attestd_database_open(cocoon_store **out, const attestd_config *cfg, const cocoon_kek *kek)
{
	cocoon_store_options o = COCOON_STORE_OPTIONS_INIT;
	char *url = NULL;
	int err;

	*out = NULL;
	o.kek = kek;
	if (cfg->database)
		return cocoon_store_open(out, cfg->database, &o);
	/* The embedded default lives in the data directory, which only we may read. */
	if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST)
		return cocoon_error_set(COCOON_EIO, "data directory '%s' cannot be created: %s", cfg->data_dir,
		                        strerror(errno));
	if (asprintf(&url, "sqlite:%s/attestd.db", cfg->data_dir) < 0)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	err = cocoon_store_open(out, url, &o);
	free(url);
	return err;
}
