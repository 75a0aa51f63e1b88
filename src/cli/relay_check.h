/* relay_check.h — `brotr relay check`: open, read and NIP-11 of each relay through the configured path, one line each. */
#ifndef BROTR_CLI_RELAY_CHECK_H
#define BROTR_CLI_RELAY_CHECK_H

#include <stdio.h>

#include "core/config.h"
#include "core/log.h"

/*
 * Normalises every URL with relay_url_parse (honouring [network] allow_local), which also gives
 * its network, then checks them concurrently within the configured limits: opens a websocket
 * (open RTT), sends ["REQ",<id>,{"limit":1}] and waits for EVENT or EOSE (read RTT; a NOTICE or
 * AUTH is not an answer, but silence after it is bounded by the response timeout too, and the
 * failure reason mentions both), and fetches the NIP-11 document. Writes one line per URL, in the order given, starting with the canonical
 * URL (or, for a URL the normaliser refused, the argument as given):
 *   URL network=clearnet open_ms=N read_ms=N nip11_ms=N name="..."
 *   URL network=tor failed=open error=socks reason="SOCKS: ... (0xF0)" nip11_error=... nip11_reason="..."
 *   ARG failed=url error=url reason="scheme must be ws or wss"
 * A NIP-11 document that is not a JSON object gives nip11_error=document. A relay "answered" when
 * both open and read succeeded; the NIP-11 result is reported but does not decide. Returns 0 when
 * every relay answered, 1 otherwise (or when the network layer cannot start, reported on stderr).
 * Everything a relay sent (NOTICE, CLOSED and close reasons, the NIP-11 name, redirect
 * targets) is printed escaped: control characters, C1 controls, bidirectional overrides and
 * invalid UTF-8 as \xNN or \uNNNN, so no relay can move the cursor or rewrite the terminal.
 */
int relay_check_run(const struct config *cfg, const struct logger *lg, int n_urls, char **urls, FILE *out);

#endif
