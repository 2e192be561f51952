/*
 * The secret envelope: AES-256-GCM under the key-encryption key, with the
 * storage location as AAD so a sealed value only opens where it was written.
 * The KEK file is checked like an SSH private key: exact size, mode 0600,
 * owned by us.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "common/util.h"
#include "cocoon/store.h"

#define KEK_LEN 32
#define IV_LEN 12
#define TAG_LEN 16

struct cocoon_kek {
	uint8_t key[KEK_LEN];
};

int cocoon_kek_from_bytes(cocoon_kek **out, const uint8_t key[32])
{
	cocoon_kek *k;
	*out = NULL;
	if (!key)
		return cocoon_error_set(COCOON_EINVAL, "secret key: no key bytes given");
	if (!(k = malloc(sizeof(*k))))
		return cocoon_error_set(COCOON_ENOMEM, "secret key: out of memory");
	memcpy(k->key, key, KEK_LEN);
	*out = k;
	return 0;
}

void cocoon_kek_free(cocoon_kek *k)
{
	if (!k)
		return;
	cocoon_zeroize(k->key, sizeof(k->key));
	free(k);
}

/* One read that must return exactly KEK_LEN bytes and then end of file. */
static int read_exact(int fd, uint8_t *buf, const char *path)
{
	size_t got = 0;
	uint8_t extra;
	while (got < KEK_LEN) {
		ssize_t n = read(fd, buf + got, KEK_LEN - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cocoon_error_set(COCOON_EIO, "secret key %s cannot be read: %s", path, strerror(errno));
		if (n == 0)
			return cocoon_error_set(COCOON_EFORMAT, "secret key %s: %zu bytes, expected exactly 32 raw bytes "
			                        "(make one with: head -c 32 /dev/urandom > FILE; chmod 600 FILE)", path, got);
		got += (size_t)n;
	}
	if (read(fd, &extra, 1) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "secret key %s is longer than 32 bytes: it must hold exactly 32 "
		                        "raw bytes (not hex, no newline)", path);
	return 0;
}

int cocoon_kek_load(cocoon_kek **out, const char *path)
{
	uint8_t buf[KEK_LEN];
	struct stat st;
	int fd, err;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return cocoon_error_set(COCOON_EIO, "secret key %s cannot be opened: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		err = cocoon_error_set(COCOON_EIO, "secret key %s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		err = cocoon_error_set(COCOON_EINVAL, "secret key %s is not a regular file", path);
		goto done;
	}
	if ((st.st_mode & 07777) != 0600) {
		err = cocoon_error_set(COCOON_EINVAL, "secret key %s has mode %04o: it must be 0600 (chmod 600 %s)", path,
		                       (unsigned)(st.st_mode & 07777), path);
		goto done;
	}
	if (st.st_uid != geteuid()) {
		err = cocoon_error_set(COCOON_EINVAL, "secret key %s is owned by uid %u, not by this process's uid %u "
		                       "(chown it to the service user)", path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto done;
	}
	if ((err = read_exact(fd, buf, path)) == 0)
		err = cocoon_kek_from_bytes(out, buf);
done:
	cocoon_zeroize(buf, sizeof(buf));
	close(fd);
	return err;
}

static int gcm(EVP_CIPHER_CTX **c, const cocoon_kek *kek, const uint8_t *iv, int enc, const char *aad)
{
	int n;
	if (!(*c = EVP_CIPHER_CTX_new()) || EVP_CipherInit_ex(*c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(*c, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(*c, NULL, NULL, kek->key, iv, enc) != 1 ||
	    EVP_CipherUpdate(*c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) != 1)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "secret envelope: AES-256-GCM setup failed");
	return 0;
}

int cocoon_secret_seal(uint8_t **out, size_t *out_len, const cocoon_kek *kek, const char *aad,
                       const uint8_t *plain, size_t plain_len)
{
	EVP_CIPHER_CTX *c = NULL;
	uint8_t *buf = NULL;
	size_t total;
	int n = 0, m = 0, err;

	*out = NULL;
	*out_len = 0;
	if (!kek)
		return cocoon_error_set(COCOON_EINVAL, "secret envelope: no secret key configured (--secret-key FILE)");
	if (!aad || (!plain && plain_len))
		return cocoon_error_set(COCOON_EINVAL, "secret envelope: no location (AAD) or no value given");
	if (plain_len > (size_t)INT32_MAX - COCOON_SECRET_OVERHEAD)
		return cocoon_error_set(COCOON_EINVAL, "secret envelope: %zu bytes is too large", plain_len);
	total = plain_len + COCOON_SECRET_OVERHEAD;
	if (!(buf = malloc(total)))
		return cocoon_error_set(COCOON_ENOMEM, "secret envelope: out of memory");
	buf[0] = COCOON_SECRET_ENVELOPE_V1;
	/* A random 96-bit IV per value: 2^32 seals per key keep the collision odds negligible. */
	if (RAND_bytes(buf + 1, IV_LEN) != 1) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "secret envelope: no random IV");
		goto done;
	}
	if ((err = gcm(&c, kek, buf + 1, 1, aad)) != 0)
		goto done;
	if (EVP_EncryptUpdate(c, buf + 1 + IV_LEN, &n, plain ? plain : (const uint8_t *)"", (int)plain_len) != 1 ||
	    EVP_EncryptFinal_ex(c, buf + 1 + IV_LEN + n, &m) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, buf + total - TAG_LEN) != 1) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "secret envelope: encryption failed");
		goto done;
	}
	*out = buf;
	*out_len = total;
	buf = NULL;
done:
	EVP_CIPHER_CTX_free(c);
	free(buf);
	return err;
}

int cocoon_secret_open(uint8_t **out, size_t *out_len, const cocoon_kek *kek, const char *aad,
                       const uint8_t *sealed, size_t sealed_len)
{
	EVP_CIPHER_CTX *c = NULL;
	uint8_t *buf = NULL;
	size_t plain_len;
	int n = 0, m = 0, err;

	*out = NULL;
	*out_len = 0;
	if (!kek)
		return cocoon_error_set(COCOON_EINVAL, "secret envelope: no secret key configured (--secret-key FILE)");
	if (!aad || !sealed)
		return cocoon_error_set(COCOON_EINVAL, "secret envelope: no location (AAD) or no envelope given");
	if (sealed_len < COCOON_SECRET_OVERHEAD || sealed_len > (size_t)INT32_MAX)
		return cocoon_error_set(COCOON_EFORMAT, "secret envelope for %s: %zu bytes is not a valid envelope", aad,
		                        sealed_len);
	if (sealed[0] != COCOON_SECRET_ENVELOPE_V1)
		return cocoon_error_set(COCOON_EUNSUPPORTED, "secret envelope for %s: version %u is unknown to this build",
		                        aad, sealed[0]);
	plain_len = sealed_len - COCOON_SECRET_OVERHEAD;
	/* One spare byte so an empty secret still gets a distinct, NUL-terminated buffer. */
	if (!(buf = malloc(plain_len + 1)))
		return cocoon_error_set(COCOON_ENOMEM, "secret envelope: out of memory");
	if ((err = gcm(&c, kek, sealed + 1, 0, aad)) != 0)
		goto done;
	if (EVP_DecryptUpdate(c, buf, &n, sealed + 1 + IV_LEN, (int)plain_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, (void *)(sealed + sealed_len - TAG_LEN)) != 1 ||
	    EVP_DecryptFinal_ex(c, buf + n, &m) != 1) {
		ERR_clear_error();
		err = cocoon_error_set(COCOON_EREJECT, "secret envelope for %s does not authenticate: it was altered, "
		                       "moved from another row, or sealed under a different secret key", aad);
		goto done;
	}
	buf[plain_len] = '\0';
	*out = buf;
	*out_len = plain_len;
	buf = NULL;
done:
	EVP_CIPHER_CTX_free(c);
	if (buf) {
		cocoon_zeroize(buf, plain_len + 1);
		free(buf);
	}
	return err;
}
