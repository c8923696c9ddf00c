/*
 * Test-double Ascend driver: a native "device" thread running the round-trip kernel of spec
 * section 11. It addresses the region only through DEVICE addresses, polls with C11 acquire
 * loads and publishes with C11 release stores, concurrently with the JavaScript host.
 */
#define _GNU_SOURCE
#include "dd-internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#define DD_EXPORT __attribute__((visibility("default")))

static pthread_mutex_t g_dev_mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
  uint64_t data_dev;
  uint64_t signals_dev;
  uint32_t iters;
  uint64_t n;
  uint32_t timeout_ms;
  int status;
  uint32_t failed_seq;
} job_t;

static job_t g_job;
static pthread_t g_thread;
static int g_thread_running;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Acquire-polls until *slot >= target; 0 on timeout. */
static int poll_at_least(_Atomic uint32_t *slot, uint32_t target, uint32_t timeout_ms) {
  uint64_t deadline = now_ms() + timeout_ms;
  for (unsigned spins = 0;; spins++) {
    if (atomic_load_explicit(slot, memory_order_acquire) >= target) return 1;
    if ((spins & 255u) == 255u) {
      if (now_ms() > deadline) return 0;
      sched_yield();
    }
  }
}

/* The round-trip kernel of spec section 11, addressing the region only through device addresses. */
static void *device_main(void *arg) {
  job_t *j = (job_t *)arg;
  _Atomic uint32_t *sig0 = (_Atomic uint32_t *)(uintptr_t)j->signals_dev;
  _Atomic uint32_t *sig1 = (_Atomic uint32_t *)(uintptr_t)(j->signals_dev + 64);
  uint8_t *data = (uint8_t *)(uintptr_t)j->data_dev;
  for (uint32_t seq = 1; seq <= j->iters; seq++) {
    if (!poll_at_least(sig0, seq, j->timeout_ms)) {
      j->failed_seq = seq;
      j->status = -11;
      return NULL;
    }
    for (uint64_t i = 0; i < j->n; i++) data[j->n + i] = data[i] ^ (uint8_t)((seq + i * 3u) & 0xFFu);
    atomic_store_explicit(sig1, seq, memory_order_release);
  }
  j->status = 0;
  return NULL;
}

/**
 * Starts the device thread running `iters` round trips of `n` bytes on the region whose data
 * area and signal slots are at the given DEVICE addresses. Returns 0, -22 when an address is not
 * device memory (e.g. a host address was passed), -16 when a device thread already runs.
 */
DD_EXPORT int dd_start_round_trip(uint64_t data_dev, uint64_t signals_dev, uint32_t iters, uint64_t n,
                                  uint32_t timeout_ms) {
  pthread_mutex_lock(&g_dev_mu);
  int rc = 0;
  if (g_thread_running) {
    rc = -16;
  } else if (n == 0 || n > UINT64_MAX / 2 || !ddi_inside_device_memory(data_dev, 2 * n) ||
             !ddi_inside_device_memory(signals_dev, 128)) {
    rc = -22;
  } else {
    g_job = (job_t){data_dev, signals_dev, iters, n, timeout_ms, 1, 0};
    if (pthread_create(&g_thread, NULL, device_main, &g_job) != 0) {
      rc = -12;
    } else {
      g_thread_running = 1;
    }
  }
  pthread_mutex_unlock(&g_dev_mu);
  return rc;
}

/** Joins the device thread: 0 on success, -11 when a poll timed out, -3 when none was started. */
DD_EXPORT int dd_join_device(void) {
  pthread_mutex_lock(&g_dev_mu);
  int running = g_thread_running;
  pthread_mutex_unlock(&g_dev_mu);
  if (!running) return -3;
  pthread_join(g_thread, NULL);
  pthread_mutex_lock(&g_dev_mu);
  g_thread_running = 0;
  int status = g_job.status;
  pthread_mutex_unlock(&g_dev_mu);
  return status;
}

/** The sequence number at which the last device run timed out (0 when it did not). */
DD_EXPORT uint32_t dd_device_failed_seq(void) { return g_job.failed_seq; }
