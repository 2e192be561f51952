/* Compact base-64 device IDs; see devid.h. */
#include <string.h>
#include "devid.h"

static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

size_t cocoon_devid_encode(char out[COCOON_DEVID_MAX_LEN + 1], uint32_t index)
{
	size_t len;

	if (index < 64) {
		len = 1;
	} else if (index < 64 + 4096) {
		len = 2;
		index -= 64;
	} else {
		len = 3;
		index -= 64 + 4096;
	}
	for (size_t i = len; i-- > 0;) {
		out[i] = digits[index & 63];
		index >>= 6;
	}
	out[len] = '\0';
	return len;
}

static int digit_value(char ch)
{
	if (ch >= '0' && ch <= '9') return ch - '0';
	if (ch >= 'a' && ch <= 'z') return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'Z') return ch - 'A' + 36;
	if (ch == '-') return 62;
	if (ch == '_') return 63;
	return -1;
}

int cocoon_devid_decode(uint32_t *index, const char *id, size_t len)
{
	uint32_t v = 0;
	static const uint32_t base[4] = { 0, 0, 64, 64 + 4096 };

	if (len < 1 || len > COCOON_DEVID_MAX_LEN)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int d = digit_value(id[i]);
		if (d < 0)
			return -1;
		v = (v << 6) | (uint32_t)d;
	}
	*index = base[len] + v;
	return 0;
}

uint64_t cocoon_devid_list_size(uint32_t n, unsigned health_cost)
{
	/* Per device: tag + 1-byte length of Device, tag + length of ID, the ID, health. */
	uint64_t n1 = n < 64 ? n : 64;
	uint64_t rest = n - n1;
	uint64_t n2 = rest < 4096 ? rest : 4096;
	uint64_t n3 = rest - n2;

	return n1 * (1 + 4 + health_cost) + n2 * (2 + 4 + health_cost) + n3 * (3 + 4 + health_cost);
}

uint32_t cocoon_devid_max_devices(uint64_t limit)
{
	uint32_t lo = 0, hi = COCOON_DEVID_MAX_COUNT;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		if (cocoon_devid_list_size(mid, COCOON_DEVHEALTH_HEALTHY) <= limit)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}
