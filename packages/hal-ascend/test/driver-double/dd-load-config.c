/*
 * Test-double Ascend driver: configuration applied when the core library is loaded, for tests
 * that cannot reach the dd_* control API (a child process such as the CLI, or a package that
 * may not load koffi). Each setting comes from a build-time define (a jest sandbox's
 * process.env never reaches the C environment), else from the environment variable of the
 * same name:
 *   DD_LOGICAL_DEVICES  "user:logical[,user:logical...]"  remaps device ids (dd-core.c)
 *   DD_FAIL_AT_LOAD     "call:code[,call:code...]"        arms failures, each failing once
 */
#define _GNU_SOURCE
#include "dd-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dd_fail_next(const char *call, int code);

#if defined(DD_LOGICAL_DEVICES)
#define LOGICAL_SPEC DD_LOGICAL_DEVICES
#else
#define LOGICAL_SPEC getenv("DD_LOGICAL_DEVICES")
#endif

#if defined(DD_FAIL_AT_LOAD)
#define FAIL_SPEC DD_FAIL_AT_LOAD
#else
#define FAIL_SPEC getenv("DD_FAIL_AT_LOAD")
#endif

/* Calls apply(left, right) for every "left:right" item of a comma-separated spec. */
static void each_pair(const char *spec, void (*apply)(const char *left, const char *right)) {
  if (spec == NULL || *spec == '\0') return;
  char buf[512];
  snprintf(buf, sizeof buf, "%s", spec);
  for (char *save = NULL, *item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
    char *colon = strrchr(item, ':');
    if (colon == NULL) continue;
    *colon = '\0';
    apply(item, colon + 1);
  }
}

static void remap(const char *user, const char *logical) {
  ddi_set_logical_device((int32_t)atoi(user), (int32_t)atoi(logical), 1);
}

static void arm(const char *call, const char *code) { dd_fail_next(call, atoi(code)); }

__attribute__((constructor)) static void dd_load_config(void) {
  each_pair(LOGICAL_SPEC, remap);
  each_pair(FAIL_SPEC, arm);
}
