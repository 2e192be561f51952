/*
 * One AESM request in, one response out. Requests are parsed with the
 * lenient copy of the messages (every field optional) so that a missing
 * required field is answered, as AESM does, with AESM_UNEXPECTED_ERROR in
 * the request's own response type; responses use the strict messages.
 *
 * Answers where AESM would close the socket in silence (the client then
 * only sees a transport error) are an UnsupportedRequestResponse instead:
 *   AESM_MSG_ERROR           the bytes are not one aesm.message.Request with
 *                            exactly one sub-message (also used for framing
 *                            errors and read timeouts, see server.c)
 *   AESM_SERVICE_UNAVAILABLE a well-formed request outside the quote-ex
 *                            family (EPID quoting, launch tokens, ...), as
 *                            AESM answers when that service is not installed
 */
#ifndef QUOTED_HANDLER_H
#define QUOTED_HANDLER_H

#include <stddef.h>
#include <stdint.h>
#include "backend.h"
#include "metrics.h"

typedef struct {
	quoted_req_type type;
	uint32_t status;       /* the aesm_error_t answered */
	const char *detail;    /* why it was refused, for the log; static text */
} quoted_outcome;

/*
 * Serves a serialized Request: *resp is the framed Response (caller frees).
 * Returns 0, or -1 when not even an error response could be built (out of
 * memory); the connection is then closed without an answer.
 */
int quoted_handle(uint8_t **resp, size_t *resp_len, quoted_outcome *oc, quoted_backend *b, const uint8_t *req,
                  size_t req_len);

/* A framed UnsupportedRequestResponse carrying code (for errors before a request exists). */
int quoted_error_response(uint8_t **resp, size_t *resp_len, uint32_t code);

#endif
