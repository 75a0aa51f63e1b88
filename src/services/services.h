/* services.h — the service commands' definitions, run by src/main.c through service_run. */
#ifndef BROTR_SERVICES_SERVICES_H
#define BROTR_SERVICES_SERVICES_H

#include "core/service.h"

extern const struct service_def synchronizer_service;
extern const struct service_def priority_synchronizer_service;

#endif
