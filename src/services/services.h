/* services.h — the service commands' definitions, run by service_run (core/service.h) from main's command table. */
#ifndef BROTR_SERVICES_SERVICES_H
#define BROTR_SERVICES_SERVICES_H

#include "core/service.h"

/* brotr initializer: seeds the relay registry from [initializer] seed_file; runs once (no --loop). */
extern const struct service_def initializer_service;

/* brotr monitor: NIP-11 and NIP-66 checks of the relays due, one snapshot per relay per pass. */
extern const struct service_def monitor_service;

/* brotr synchronizer: every event of every readable relay, verified, without gaps. */
extern const struct service_def synchronizer_service;

/* brotr priority-synchronizer: the same engine over [priority_synchronizer] relay_file. */
extern const struct service_def priority_synchronizer_service;

/* brotr finder: relay URLs read out of newly archived events, stored as relay candidates. */
extern const struct service_def finder_service;

/* brotr validator: relay candidates tested; those answering like Nostr relays become relays. */
extern const struct service_def validator_service;

#endif
