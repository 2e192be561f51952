/*
 * Delivering resources to the app: files in a memory-backed directory and
 * the argv/envp handed to execve. A secret must never reach the image's
 * writable layer, so the directory is checked with fstatfs on the very
 * descriptor the files are created through (no check-then-use race).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <openssl/rand.h>
#include "cocoon/run.h"
#include "common/util.h"

#ifndef RAMFS_MAGIC
#define RAMFS_MAGIC 0x858458f6
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

int cocoon_run_secrets_dir_open(int *dirfd, const char *path)
{
	struct statfs fs;
	int fd;

	*dirfd = -1;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return cocoon_error_set(errno == ENOENT ? COCOON_ENOTFOUND : COCOON_EIO,
		                        "secrets directory %s: %s; mount a tmpfs there (Kubernetes: an emptyDir "
		                        "with medium: Memory)",
		                        path, strerror(errno));
	if (fstatfs(fd, &fs) != 0) {
		int e = errno;
		close(fd);
		return cocoon_error_set(COCOON_EIO, "secrets directory %s: statfs: %s", path, strerror(e));
	}
	if ((unsigned long)fs.f_type != (unsigned long)TMPFS_MAGIC &&
	    (unsigned long)fs.f_type != (unsigned long)RAMFS_MAGIC) {
		close(fd);
		return cocoon_error_set(COCOON_EREJECT,
		                        "secrets directory %s is not memory-backed (filesystem type 0x%lx, not tmpfs or "
		                        "ramfs): a secret written there could reach a disk; mount a tmpfs there "
		                        "(Kubernetes: an emptyDir with medium: Memory)",
		                        path, (unsigned long)fs.f_type);
	}
	*dirfd = fd;
	return 0;
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int cocoon_run_secret_write(int dirfd, const char *name, const uint8_t *data, size_t len, unsigned int mode,
                            uid_t uid, gid_t gid)
{
	char tmp[300];
	uint8_t rnd[8];
	char hex[17];
	int fd = -1, e = 0, err = 0;

	if (!name || !*name || strchr(name, '/') || name[0] == '.' || strlen(name) > 255)
		return cocoon_error_set(COCOON_EINVAL, "secret file name \"%.64s\" is not a plain file name",
		                        name ? name : "");
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "secret file %s: no randomness", name);
	cocoon_hex_encode(hex, rnd, sizeof(rnd));
	snprintf(tmp, sizeof(tmp), ".%s.%s", name, hex);
	/* Created 0600: the final mode and owner come after the data, never wider before. */
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		e = errno;
		err = cocoon_error_set(COCOON_EIO, "secret file %s: create: %s", name, strerror(e));
		goto done;
	}
	if ((e = write_all(fd, data, len)) != 0 || (fchown(fd, uid, gid) != 0 && (e = errno)) ||
	    (fchmod(fd, mode) != 0 && (e = errno))) {
		err = cocoon_error_set(COCOON_EIO, "secret file %s: write, chown %u:%u or chmod %04o: %s", name,
		                       (unsigned)uid, (unsigned)gid, mode, strerror(e));
		goto done;
	}
	if (close(fd) != 0) {
		fd = -1;
		err = cocoon_error_set(COCOON_EIO, "secret file %s: close: %s", name, strerror(errno));
		goto done;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) != 0)
		err = cocoon_error_set(COCOON_EIO, "secret file %s: rename: %s", name, strerror(errno));
done:
	if (fd >= 0)
		close(fd);
	if (err != 0)
		unlinkat(dirfd, tmp, 0);
	return err;
}

void cocoon_run_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++) {
		cocoon_zeroize(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

static int cat_var(char **out, const char *name, const char *value, size_t vlen)
{
	size_t n = strlen(name);
	if (!(*out = malloc(n + 1 + vlen + 1)))
		return cocoon_error_set(COCOON_ENOMEM, "environment: out of memory");
	memcpy(*out, name, n);
	(*out)[n] = '=';
	memcpy(*out + n + 1, value, vlen);
	(*out)[n + 1 + vlen] = '\0';
	return 0;
}

/* True when entry ("NAME=...") sets a variable the configuration sets, so it is dropped. */
static int overridden(const char *entry, const cocoon_run_config *c)
{
	size_t n = strcspn(entry, "=");
	for (size_t i = 0; i < c->n_resources; i++)
		if (c->resources[i].env && strlen(c->resources[i].env) == n && memcmp(entry, c->resources[i].env, n) == 0)
			return 1;
	for (size_t i = 0; i < c->n_env; i++)
		if (strlen(c->env_names[i]) == n && memcmp(entry, c->env_names[i], n) == 0)
			return 1;
	return 0;
}

/* Expansion with no fetched values still must not fall into check-only mode. */
static const cocoon_run_value no_values[1];

static const cocoon_run_value *find_value(const char *path, const cocoon_run_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].path, path) == 0)
			return &v[i];
	return NULL;
}

static int build_env(char ***envp, const cocoon_run_config *c, char *const *base, const cocoon_run_value *values,
                     size_t n_values)
{
	size_t nb = 0, k = 0;
	char **e;
	int err = 0;

	for (; base && base[nb]; nb++)
		;
	if (!(e = calloc(nb + c->n_resources + c->n_env + 1, sizeof(char *))))
		return cocoon_error_set(COCOON_ENOMEM, "environment: out of memory");
	for (size_t i = 0; i < nb && err == 0; i++)
		if (!overridden(base[i], c) && !(e[k++] = strdup(base[i])))
			err = cocoon_error_set(COCOON_ENOMEM, "environment: out of memory");
	for (size_t i = 0; i < c->n_resources && err == 0; i++) {
		const cocoon_run_resource *r = &c->resources[i];
		const cocoon_run_value *v;
		if (!r->env)
			continue;
		if (!(v = find_value(r->path, values, n_values)))
			err = cocoon_error_set(COCOON_ENOTFOUND, "resource \"%s\" was not fetched", r->path);
		else if (memchr(v->data, '\0', v->len))
			err = cocoon_error_set(COCOON_EFORMAT, "resource \"%s\" contains a NUL byte and cannot be "
			                       "variable %s; deliver it as a file", r->path, r->env);
		else
			err = cat_var(&e[k++], r->env, (const char *)v->data, v->len);
	}
	for (size_t i = 0; i < c->n_env && err == 0; i++) {
		char *val = NULL;
		if ((err = cocoon_run_template_expand(&val, c->env_values[i], values ? values : no_values,
		                                      n_values, NULL, 0)) != 0) {
			err = cocoon_error_set(err, "env.%s: %s", c->env_names[i], cocoon_error_last()->message);
			break;
		}
		err = cat_var(&e[k++], c->env_names[i], val, strlen(val));
		cocoon_zeroize(val, strlen(val));
		free(val);
	}
	if (err != 0) {
		cocoon_run_strv_free(e);
		return err;
	}
	*envp = e;
	return 0;
}

static int build_argv(char ***argv, const cocoon_run_config *c, char *const *cmdline, size_t argc,
                      const cocoon_run_value *values, size_t n_values)
{
	char *const *src = c->command ? c->command : cmdline;
	size_t n = c->command ? c->command_len : argc;
	char **a;
	int err = 0;

	if (c->command && argc > 0)
		return cocoon_error_set(COCOON_EINVAL,
		                        "a command line (%s ...) was given but the launch configuration fixes the "
		                        "command (it is part of what is attested); change \"command\" in the "
		                        "configuration instead",
		                        cmdline[0]);
	if (n == 0)
		return cocoon_error_set(COCOON_EINVAL,
		                        "no command: the launch configuration has no \"command\" and none follows --");
	if (n > COCOON_RUN_MAX_ARGS)
		return cocoon_error_set(COCOON_EINVAL, "more than %d arguments", COCOON_RUN_MAX_ARGS);
	if (!(a = calloc(n + 1, sizeof(char *))))
		return cocoon_error_set(COCOON_ENOMEM, "argv: out of memory");
	for (size_t i = 0; i < n && err == 0; i++) {
		/* Templates in a command line that came from outside the configuration are not expanded:
		 * they would let whoever sets the arguments pick where secrets go. */
		if (!c->command) {
			if (!(a[i] = strdup(src[i])))
				err = cocoon_error_set(COCOON_ENOMEM, "argv: out of memory");
		} else if ((err = cocoon_run_template_expand(&a[i], src[i], values ? values : no_values,
		                                             n_values, NULL, 0)) != 0) {
			err = cocoon_error_set(err, "command[%zu]: %s", i, cocoon_error_last()->message);
		}
	}
	if (err != 0) {
		cocoon_run_strv_free(a);
		return err;
	}
	*argv = a;
	return 0;
}

int cocoon_run_build_exec(char ***argv, char ***envp, const cocoon_run_config *c, char *const *cmdline,
                          size_t argc, char *const *base_env, const cocoon_run_value *values, size_t n_values)
{
	int err;

	if (!argv || !envp || !c)
		return cocoon_error_set(COCOON_EINVAL, "run: no configuration or output given");
	*argv = NULL;
	*envp = NULL;
	if ((err = build_argv(argv, c, cmdline, argc, values, n_values)) != 0)
		return err;
	if ((err = build_env(envp, c, base_env, values, n_values)) != 0) {
		cocoon_run_strv_free(*argv);
		*argv = NULL;
	}
	return err;
}
