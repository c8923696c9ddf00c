/*
 * Test-double Ascend driver core: device memory, host registrations, a call log, failure
 * injection (the native "device" thread is in dd-device.c). Shared by the test-double driver and runtime libraries.
 *
 * Device ids follow CANN: the runtime (aclrtSetDevice, aclrtMalloc) takes the user-visible id,
 * the driver (halHostRegister, halHostUnregister) the logical id, and
 * aclrtGetLogicDevIdByUserDevId converts. The map is the identity unless set at build time
 * (-DDD_LOGICAL_DEVICES="user:logical,..."), by the DD_LOGICAL_DEVICES environment variable or
 * by dd_set_logical_device, so a backend that hands the driver a user id fails.
 *
 * Device memory is a memfd mapped once at the "device" address; halHostRegister maps the same
 * memfd a second time, so the host sees the same bytes at a different address. Using one
 * address where the other is expected is therefore caught (the double rejects it, or the bytes
 * simply never arrive).
 *
 * Return codes follow CANN: DRV_ERROR_NONE = 0, DRV_ERROR_INVALID_DEVICE = 2,
 * DRV_ERROR_INVALID_VALUE = 3, DRV_ERROR_OUT_OF_MEMORY = 6; ACL_SUCCESS = 0,
 * ACL_ERROR_INVALID_PARAM = 100000, ACL_ERROR_UNINITIALIZE = 100001,
 * ACL_ERROR_REPEAT_INITIALIZE = 100002, ACL_ERROR_REPEAT_FINALIZE = 100037,
 * ACL_ERROR_RT_PARAM_INVALID = 107000, ACL_ERROR_RT_INVALID_DEVICEID = 107001,
 * ACL_ERROR_RT_CONTEXT_NULL = 107002, ACL_ERROR_RT_MEMORY_ALLOCATION = 207001.
 */
#define _GNU_SOURCE
#include "dd-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DD_EXPORT __attribute__((visibility("default")))

enum {
  DRV_OK = 0,
  DRV_INVALID_DEVICE = 2,
  DRV_INVALID_VALUE = 3,
  DRV_OUT_OF_MEMORY = 6,
  ACL_OK = 0,
  ACL_INVALID_PARAM = 100000,
  ACL_UNINITIALIZE = 100001,
  ACL_REPEAT_INITIALIZE = 100002,
  ACL_REPEAT_FINALIZE = 100037,
  ACL_RT_PARAM_INVALID = 107000,
  ACL_RT_INVALID_DEVICEID = 107001,
  ACL_RT_CONTEXT_NULL = 107002,
  ACL_RT_MEMORY_ALLOCATION = 207001,
  DEV_SVM_MAP_HOST = 2,
};

#define MAX_ALLOCS 256
#define MAX_DEVICES 64
#define MAX_LOG 8192
#define MAX_FAIL 32

typedef struct {
  int used;
  int fd;
  size_t size;
  uint8_t *dev;
  uint8_t *host;
  size_t host_size;
  uint32_t drv_devid; /* the LOGICAL id the driver knows this memory by */
} alloc_t;

typedef struct {
  const char *call;
  uint64_t args[5];
  int nargs;
  int ret;
  int has_out;
  uint64_t out;
} entry_t;

typedef struct {
  char call[64];
  int code;
} fail_t;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static alloc_t g_allocs[MAX_ALLOCS];
static int g_acl_initialized;
static int g_device_refs[MAX_DEVICES];
static uint32_t g_device_count = 2;
static long g_order_violations;
static entry_t g_log[MAX_LOG];
static size_t g_log_len;
static size_t g_log_dropped;
static fail_t g_fail[MAX_FAIL];
static int g_fail_len;
static __thread int t_device = -1;
/* User-visible id -> logical id + 1, so that the zero-initialised table is the identity map.
 * g_logical_loaded is the map as configured at load time, which dd_reset restores. */
static int32_t g_logical[MAX_DEVICES];
static int32_t g_logical_loaded[MAX_DEVICES];

/* Caller holds g_mu. */
static int32_t logical_of(int32_t user) { return g_logical[user] == 0 ? user : g_logical[user] - 1; }

static uint64_t p2u(const void *p) { return (uint64_t)(uintptr_t)p; }

/* Caller holds g_mu. */
static void log_call(const char *call, int nargs, const uint64_t *args, int ret, int has_out, uint64_t out) {
  if (g_log_len >= MAX_LOG) {
    g_log_dropped++;
    return;
  }
  entry_t *e = &g_log[g_log_len++];
  e->call = call;
  e->nargs = nargs;
  for (int i = 0; i < nargs && i < 5; i++) e->args[i] = args[i];
  e->ret = ret;
  e->has_out = has_out;
  e->out = out;
}

/* Caller holds g_mu. Consumes the first pending failure for `call`. */
static int take_failure(const char *call, int *code) {
  for (int i = 0; i < g_fail_len; i++) {
    if (strcmp(g_fail[i].call, call) == 0) {
      *code = g_fail[i].code;
      memmove(&g_fail[i], &g_fail[i + 1], (size_t)(g_fail_len - i - 1) * sizeof(fail_t));
      g_fail_len--;
      return 1;
    }
  }
  return 0;
}

static alloc_t *find_by_dev(const void *dev) {
  if (dev == NULL) return NULL;
  for (int i = 0; i < MAX_ALLOCS; i++) {
    if (g_allocs[i].used && g_allocs[i].dev == dev) return &g_allocs[i];
  }
  return NULL;
}

/* Caller holds g_mu. True when [addr, addr + len) lies inside one live device allocation. */
static int inside_device_memory_locked(uint64_t addr, uint64_t len) {
  for (int i = 0; i < MAX_ALLOCS; i++) {
    const alloc_t *a = &g_allocs[i];
    if (!a->used) continue;
    uint64_t base = p2u(a->dev);
    if (addr >= base && addr - base <= a->size && len <= a->size - (addr - base)) return 1;
  }
  return 0;
}

/* ---------------------------------------------------------------- runtime (ACL) */

int ddi_acl_init(const char *config_path) {
  pthread_mutex_lock(&g_mu);
  int ret;
  if (!take_failure("aclInit", &ret)) {
    ret = g_acl_initialized ? ACL_REPEAT_INITIALIZE : ACL_OK;
    g_acl_initialized = 1;
  }
  uint64_t a[1] = {p2u(config_path)};
  log_call("aclInit", 1, a, ret, 0, 0);
  pthread_mutex_unlock(&g_mu);
  return ret;
}

int ddi_acl_finalize(void) {
  pthread_mutex_lock(&g_mu);
  int ret;
  if (!take_failure("aclFinalize", &ret)) {
    ret = g_acl_initialized ? ACL_OK : ACL_REPEAT_FINALIZE;
    g_acl_initialized = 0;
  }
  log_call("aclFinalize", 0, NULL, ret, 0, 0);
  pthread_mutex_unlock(&g_mu);
  return ret;
}

int ddi_acl_set_device(int32_t device_id) {
  pthread_mutex_lock(&g_mu);
  int ret;
  if (!take_failure("aclrtSetDevice", &ret)) {
    if (!g_acl_initialized) {
      ret = ACL_UNINITIALIZE;
    } else if (device_id < 0 || (uint32_t)device_id >= g_device_count || device_id >= MAX_DEVICES) {
      ret = ACL_RT_INVALID_DEVICEID;
    } else {
      g_device_refs[device_id]++;
      t_device = device_id;
      ret = ACL_OK;
    }
  }
  uint64_t a[1] = {(uint64_t)(int64_t)device_id};
  log_call("aclrtSetDevice", 1, a, ret, 0, 0);
  pthread_mutex_unlock(&g_mu);
  return ret;
}

int ddi_acl_reset_device(int32_t device_id) {
  pthread_mutex_lock(&g_mu);
  int ret;
  if (!take_failure("aclrtResetDevice", &ret)) {
    if (device_id < 0 || device_id >= MAX_DEVICES || g_device_refs[device_id] == 0) {
      ret = ACL_RT_INVALID_DEVICEID;
    } else {
      g_device_refs[device_id]--;
      if (g_device_refs[device_id] == 0 && t_device == device_id) t_device = -1;
      ret = ACL_OK;
    }
  }
  uint64_t a[1] = {(uint64_t)(int64_t)device_id};
  log_call("aclrtResetDevice", 1, a, ret, 0, 0);
  pthread_mutex_unlock(&g_mu);
  return ret;
}

int ddi_acl_get_device_count(uint32_t *count) {
  pthread_mutex_lock(&g_mu);
  int ret;
  if (!take_failure("aclrtGetDeviceCount", &ret)) {
    if (count == NULL) {
      ret = ACL_INVALID_PARAM;
    } else {
      *count = g_device_count;
      ret = ACL_OK;
    }
  }
  log_call("aclrtGetDeviceCount", 0, NULL, ret, ret == ACL_OK, ret == ACL_OK ? g_device_count : 0);
  pthread_mutex_unlock(&g_mu);
  return ret;
}

int ddi_acl_get_logic_dev_id(int32_t user_dev_id, int32_t *logic_dev_id) {
  pthread_mutex_lock(&g_mu);
  int ret;
  int32_t logic = 0;
  if (!take_failure("aclrtGetLogicDevIdByUserDevId", &ret)) {
    if (!g_acl_initialized) {
      ret = ACL_UNINITIALIZE;
    } else if (logic_dev_id == NULL) {
      ret = ACL_INVALID_PARAM;
    } else if (user_dev_id < 0 || (uint32_t)user_dev_id >= g_device_count || user_dev_id >= MAX_DEVICES) {
      ret = ACL_RT_INVALID_DEVICEID;
    } else {
      logic = logical_of(user_dev_id);
      *logic_dev_id = logic;
      ret = ACL_OK;
    }
  }
  uint64_t a[1] = {(uint64_t)(int64_t)user_dev_id};
  log_call("aclrtGetLogicDevIdByUserDevId", 1, a, ret, ret == ACL_OK, (uint64_t)(int64_t)logic);
  pthread_mutex_unlock(&g_mu);
  return ret;
}

int ddi_acl_malloc(void **dev_ptr, size_t size, int policy) {
  pthread_mutex_lock(&g_mu);
  int ret;
  uint8_t *dev = NULL;
  if (take_failure("aclrtMalloc", &ret)) goto out;
  if (!g_acl_initialized) { ret = ACL_UNINITIALIZE; goto out; }
  if (t_device < 0) { ret = ACL_RT_CONTEXT_NULL; goto out; }
  if (dev_ptr == NULL || size == 0 || policy < 0) { ret = ACL_INVALID_PARAM; goto out; }
  alloc_t *slot = NULL;
  for (int i = 0; i < MAX_ALLOCS; i++) {
    if (!g_allocs[i].used) { slot = &g_allocs[i]; break; }
  }
  if (slot == NULL) { ret = ACL_RT_MEMORY_ALLOCATION; goto out; }
  int fd = memfd_create("dd-device-memory", MFD_CLOEXEC);
  if (fd < 0) { ret = ACL_RT_MEMORY_ALLOCATION; goto out; }
  if (ftruncate(fd, (off_t)size) != 0) { close(fd); ret = ACL_RT_MEMORY_ALLOCATION; goto out; }
  void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) { close(fd); ret = ACL_RT_MEMORY_ALLOCATION; goto out; }
  dev = (uint8_t *)m;
  /* Real device memory is not zeroed: make sure the backend does not rely on it. */
  memset(dev, 0xA5, size);
  slot->used = 1;
  slot->fd = fd;
  slot->size = size;
  slot->dev = dev;
  slot->host = NULL;
  slot->host_size = 0;
  slot->drv_devid = (uint32_t)logical_of(t_device);
  *dev_ptr = dev;
  ret = ACL_OK;
out:;
  uint64_t a[2] = {(uint64_t)size, (uint64_t)(int64_t)policy};
  log_call("aclrtMalloc", 2, a, ret, ret == ACL_OK, p2u(dev));
  pthread_mutex_unlock(&g_mu);
  return ret;
}

int ddi_acl_free(void *dev_ptr) {
  pthread_mutex_lock(&g_mu);
  int ret;
  if (!take_failure("aclrtFree", &ret)) {
    alloc_t *a = find_by_dev(dev_ptr);
    if (a == NULL) {
      ret = ACL_RT_PARAM_INVALID;
    } else {
      if (a->host != NULL) {
        /* Freed while still mapped into the host: the order the backend must avoid. */
        g_order_violations++;
        munmap(a->host, a->host_size);
      }
      munmap(a->dev, a->size);
      close(a->fd);
      memset(a, 0, sizeof(*a));
      ret = ACL_OK;
    }
  }
  uint64_t args[1] = {p2u(dev_ptr)};
  log_call("aclrtFree", 1, args, ret, 0, 0);
  pthread_mutex_unlock(&g_mu);
  return ret;
}

/*
 * aclrtMemFlush / aclrtMemInvalidate: addressed by DEVICE pointer, so a host address (or a range
 * running past the allocation) is rejected. The double's "device" shares coherent memory with
 * the host, so the only maintenance left is a full fence.
 */
static int mem_maintain(const char *call, void *dev_ptr, size_t size) {
  pthread_mutex_lock(&g_mu);
  int ret;
  if (!take_failure(call, &ret)) {
    if (!g_acl_initialized) {
      ret = ACL_UNINITIALIZE;
    } else if (dev_ptr == NULL || size == 0) {
      ret = ACL_INVALID_PARAM;
    } else if (!inside_device_memory_locked(p2u(dev_ptr), (uint64_t)size)) {
      ret = ACL_RT_PARAM_INVALID;
    } else {
      __atomic_thread_fence(__ATOMIC_SEQ_CST);
      ret = ACL_OK;
    }
  }
  uint64_t args[2] = {p2u(dev_ptr), (uint64_t)size};
  log_call(call, 2, args, ret, 0, 0);
  pthread_mutex_unlock(&g_mu);
  return ret;
}

int ddi_acl_mem_flush(void *dev_ptr, size_t size) { return mem_maintain("aclrtMemFlush", dev_ptr, size); }

int ddi_acl_mem_invalidate(void *dev_ptr, size_t size) { return mem_maintain("aclrtMemInvalidate", dev_ptr, size); }

/* ---------------------------------------------------------------- driver (HAL) */

int ddi_hal_host_register(void *src, uint64_t size, uint32_t flag, uint32_t devid, void **dst) {
  pthread_mutex_lock(&g_mu);
  int ret;
  uint8_t *host = NULL;
  if (take_failure("halHostRegister", &ret)) goto out;
  if (take_failure("halHostRegister.nullHost", &ret)) {
    /* A driver that reports success without a mapping: the backend must not trust it. */
    if (dst != NULL) *dst = NULL;
    ret = DRV_OK;
    goto out;
  }
  if (dst == NULL || flag != DEV_SVM_MAP_HOST || size == 0) { ret = DRV_INVALID_VALUE; goto out; }
  alloc_t *a = find_by_dev(src);
  if (a == NULL || size > a->size || a->host != NULL) { ret = DRV_INVALID_VALUE; goto out; }
  if (devid != a->drv_devid) { ret = DRV_INVALID_DEVICE; goto out; }
  void *m = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
  if (m == MAP_FAILED) { ret = DRV_OUT_OF_MEMORY; goto out; }
  host = (uint8_t *)m;
  a->host = host;
  a->host_size = (size_t)size;
  *dst = host;
  ret = DRV_OK;
out:;
  uint64_t args[4] = {p2u(src), size, flag, devid};
  log_call("halHostRegister", 4, args, ret, ret == DRV_OK, p2u(host));
  pthread_mutex_unlock(&g_mu);
  return ret;
}

/* Caller holds g_mu. Registrations are keyed by the source (device) pointer, as in CANN. */
static int unregister_locked(void *src, uint32_t devid) {
  alloc_t *a = find_by_dev(src);
  if (a == NULL || a->host == NULL) return DRV_INVALID_VALUE;
  if (devid != a->drv_devid) return DRV_INVALID_DEVICE;
  munmap(a->host, a->host_size);
  a->host = NULL;
  a->host_size = 0;
  return DRV_OK;
}

int ddi_hal_host_unregister(void *src, uint32_t devid) {
  pthread_mutex_lock(&g_mu);
  int ret;
  if (!take_failure("halHostUnregister", &ret)) ret = unregister_locked(src, devid);
  uint64_t args[2] = {p2u(src), devid};
  log_call("halHostUnregister", 2, args, ret, 0, 0);
  pthread_mutex_unlock(&g_mu);
  return ret;
}

int ddi_hal_host_unregister_ex(void *src, uint32_t devid, uint32_t flag) {
  pthread_mutex_lock(&g_mu);
  int ret;
  if (!take_failure("halHostUnregisterEx", &ret)) {
    ret = flag == DEV_SVM_MAP_HOST ? unregister_locked(src, devid) : DRV_INVALID_VALUE;
  }
  uint64_t args[3] = {p2u(src), devid, flag};
  log_call("halHostUnregisterEx", 3, args, ret, 0, 0);
  pthread_mutex_unlock(&g_mu);
  return ret;
}

/* ---------------------------------------------------------------- control API for tests */

/** Clears the call log, pending failures and the order-violation counter, and restores the load-time device map (not allocations). */
DD_EXPORT void dd_reset(void) {
  pthread_mutex_lock(&g_mu);
  g_log_len = 0;
  g_log_dropped = 0;
  g_fail_len = 0;
  g_order_violations = 0;
  memcpy(g_logical, g_logical_loaded, sizeof g_logical);
  pthread_mutex_unlock(&g_mu);
}

/**
 * Makes the runtime report `logical` for the user-visible device `user` and the driver know that
 * device's memory by `logical`; dd_reset restores the load-time map. Returns 0, or -1 when an id
 * is out of range. `as_loaded` (internal use) also makes it the map dd_reset restores.
 */
int ddi_set_logical_device(int32_t user, int32_t logical, int as_loaded) {
  if (user < 0 || user >= MAX_DEVICES || logical < 0 || logical > 0xFFFF) return -1;
  pthread_mutex_lock(&g_mu);
  g_logical[user] = logical + 1;
  if (as_loaded) g_logical_loaded[user] = logical + 1;
  pthread_mutex_unlock(&g_mu);
  return 0;
}

/** Remaps one device until the next dd_reset (see ddi_set_logical_device). */
DD_EXPORT int dd_set_logical_device(int32_t user, int32_t logical) { return ddi_set_logical_device(user, logical, 0); }

/**
 * Makes the next call to `call` return `code` without doing anything. `halHostRegister.nullHost`
 * makes the next halHostRegister report success with a null host pointer. Returns 0, or -1 when
 * the table is full or the name too long.
 */
DD_EXPORT int dd_fail_next(const char *call, int code) {
  if (call == NULL || strlen(call) >= sizeof(g_fail[0].call)) return -1;
  pthread_mutex_lock(&g_mu);
  int rc = -1;
  if (g_fail_len < MAX_FAIL) {
    strcpy(g_fail[g_fail_len].call, call);
    g_fail[g_fail_len].code = code;
    g_fail_len++;
    rc = 0;
  }
  pthread_mutex_unlock(&g_mu);
  return rc;
}

/** Sets what aclrtGetDeviceCount reports (and which ids aclrtSetDevice accepts). */
DD_EXPORT void dd_set_device_count(uint32_t count) {
  pthread_mutex_lock(&g_mu);
  g_device_count = count > MAX_DEVICES ? MAX_DEVICES : count;
  pthread_mutex_unlock(&g_mu);
}

/**
 * Writes the call log as a JSON array into buf (NUL-terminated, truncated to n - 1 bytes) and
 * returns the full length. Pointers and 64-bit values are decimal strings.
 */
DD_EXPORT size_t dd_calls_json(char *buf, size_t n) {
  pthread_mutex_lock(&g_mu);
  size_t len = 0;
#define EMIT(...)                                                                  \
  do {                                                                             \
    int w_ = snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, __VA_ARGS__); \
    if (w_ > 0) len += (size_t)w_;                                                 \
  } while (0)
  EMIT("[");
  for (size_t i = 0; i < g_log_len; i++) {
    const entry_t *e = &g_log[i];
    EMIT("%s{\"call\":\"%s\",\"args\":[", i ? "," : "", e->call);
    for (int k = 0; k < e->nargs; k++) EMIT("%s\"%llu\"", k ? "," : "", (unsigned long long)e->args[k]);
    EMIT("],\"ret\":%d", e->ret);
    if (e->has_out) EMIT(",\"out\":\"%llu\"", (unsigned long long)e->out);
    EMIT("}");
  }
  EMIT("]");
#undef EMIT
  if (n > 0 && len >= n) buf[n - 1] = '\0';
  pthread_mutex_unlock(&g_mu);
  return len;
}

static int count_allocs(int registered_only) {
  int c = 0;
  pthread_mutex_lock(&g_mu);
  for (int i = 0; i < MAX_ALLOCS; i++) {
    if (g_allocs[i].used && (!registered_only || g_allocs[i].host != NULL)) c++;
  }
  pthread_mutex_unlock(&g_mu);
  return c;
}

/** Device allocations not yet freed. */
DD_EXPORT int dd_live_allocations(void) { return count_allocs(0); }

/** Host registrations not yet unregistered. */
DD_EXPORT int dd_live_registrations(void) { return count_allocs(1); }

/** Memory mappings the double holds: one per device allocation plus one per registration. */
DD_EXPORT int dd_live_mappings(void) { return count_allocs(0) + count_allocs(1); }

/** How often device memory was freed while still registered. */
DD_EXPORT long dd_order_violations(void) {
  pthread_mutex_lock(&g_mu);
  long v = g_order_violations;
  pthread_mutex_unlock(&g_mu);
  return v;
}

/** 1 while the runtime is initialised (aclInit without aclFinalize). */
DD_EXPORT int dd_acl_initialized(void) {
  pthread_mutex_lock(&g_mu);
  int v = g_acl_initialized;
  pthread_mutex_unlock(&g_mu);
  return v;
}

/** aclrtSetDevice calls on `device_id` not yet matched by aclrtResetDevice. */
DD_EXPORT int dd_device_refs(int32_t device_id) {
  if (device_id < 0 || device_id >= MAX_DEVICES) return -1;
  pthread_mutex_lock(&g_mu);
  int v = g_device_refs[device_id];
  pthread_mutex_unlock(&g_mu);
  return v;
}

/** Releases everything still held (test teardown) and returns how many allocations that was. */
DD_EXPORT int dd_force_cleanup(void) {
  pthread_mutex_lock(&g_mu);
  int c = 0;
  for (int i = 0; i < MAX_ALLOCS; i++) {
    alloc_t *a = &g_allocs[i];
    if (!a->used) continue;
    if (a->host != NULL) munmap(a->host, a->host_size);
    munmap(a->dev, a->size);
    close(a->fd);
    memset(a, 0, sizeof(*a));
    c++;
  }
  for (int d = 0; d < MAX_DEVICES; d++) g_device_refs[d] = 0;
  g_acl_initialized = 0;
  pthread_mutex_unlock(&g_mu);
  return c;
}

/* True when [addr, addr + len) lies inside one live device allocation. */
int ddi_inside_device_memory(uint64_t addr, uint64_t len) {
  pthread_mutex_lock(&g_mu);
  int found = inside_device_memory_locked(addr, len);
  pthread_mutex_unlock(&g_mu);
  return found;
}
