/* Argument parsers shared by the CLI's commands: errors name the flag. */
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "cli.h"

int cocoon_cli_hex_arg(uint8_t *out, size_t n, const char *flag, const char *hex)
{
	size_t len = strlen(hex);
	memset(out, 0, n);
	if (len > 2 * n || len % 2 || cocoon_hex_decode(out, len / 2, hex, len) != 0)
		return cocoon_cli_error("%s: expected up to %zu bytes of hex, got '%.80s'", flag, n, hex);
	return 0;
}

int cocoon_cli_u16_arg(uint16_t *out, const char *flag, const char *text)
{
	char *end;
	unsigned long v = strtoul(text, &end, 0);
	if (!*text || *end || v > 0xffff)
		return cocoon_cli_error("%s: expected an integer 0..65535, got '%s'", flag, text);
	*out = (uint16_t)v;
	return 0;
}
