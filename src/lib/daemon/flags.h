/*
 * Command-line and config values for the daemons: one parser for integer
 * flags, so every daemon accepts the same spelling and names a bad value the
 * same way.
 */
#ifndef COCOON_DAEMON_FLAGS_H
#define COCOON_DAEMON_FLAGS_H

/*
 * A decimal integer in [min, max]: digits only (no sign, spaces, base prefix
 * or unit). Returns 0, or COCOON_EINVAL with
 * "<name>: expected an integer from <min> to <max>, got '<text>'".
 */
int cocoon_flag_uint(unsigned long *out, const char *name, const char *text, unsigned long min,
                     unsigned long max);

#endif
