/*
 * A launch queue peer that knows the layout only through the generated header: it maps a queue
 * file that TypeScript formatted (MAP_SHARED) and produces or consumes launches with GCC __atomic
 * builtins, following the producer and consumer protocol of docs/l3-protocol.md.
 *
 *   produce FILE NAME COUNT FIRST   push COUNT launches of kernel NAME, sequence numbers FIRST...;
 *                                   stops at the first push that is not queued
 *   race FILE PROCS COUNT           PROCS forked processes, kernels racer-0.., push COUNT each at once
 *   consume FILE MAX                take up to MAX launches and print them
 *
 * Launch s of kernel k carries 1 + s % HDMR_LQ_MAX_ARGS args: s, then arg_value(k, s, j).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "simpler/hdmr_abi.h"

enum push_result { QUEUED, FULL, CLOSED, HELD };
static const char *const PUSH_RESULT[] = { "queued", "full", "closed", "held" };

static uint8_t *base;
static size_t mapped;
static uint32_t capacity;
static unsigned wakes;

static void die(const char *what) {
  fprintf(stderr, "launch-queue-peer: %s\n", what);
  exit(2);
}

static uint32_t *word(size_t offset) { return (uint32_t *)(void *)(base + offset); }

static size_t slot_offset(uint32_t pos) { return HDMR_LQ_SLOTS_OFFSET + (size_t)(pos & (capacity - 1u)) * HDMR_LQ_SLOT_BYTES; }

static uint64_t *slot_args(uint32_t pos) { return (uint64_t *)(void *)(base + slot_offset(pos) + HDMR_LQ_SLOT_ARGS_OFFSET); }

static uint32_t load(size_t offset) { return __atomic_load_n(word(offset), __ATOMIC_ACQUIRE); }

/** Maps FILE and refuses it unless its header is a queue of this layout that fits in the file. */
static void map_queue(const char *file) {
  int fd = open(file, O_RDWR);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) die("cannot open the queue file");
  mapped = (size_t)st.st_size;
  if (mapped < HDMR_LQ_SLOTS_OFFSET) die("file smaller than a queue header and kernel table");
  base = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) die("mmap failed");
  close(fd);
  if (load(HDMR_LQ_MAGIC_OFFSET) != HDMR_LQ_MAGIC) die("bad magic");
  if (load(HDMR_LQ_VERSION_OFFSET) != HDMR_LQ_VERSION) die("bad version");
  if (load(HDMR_LQ_SLOT_BYTES_OFFSET) != HDMR_LQ_SLOT_BYTES) die("bad slot size");
  capacity = load(HDMR_LQ_CAPACITY_OFFSET);
  if (capacity < HDMR_LQ_MIN_CAPACITY || capacity > HDMR_LQ_MAX_CAPACITY || (capacity & (capacity - 1u)) != 0) die("bad capacity");
  if (HDMR_LQ_SLOTS_OFFSET + (size_t)capacity * HDMR_LQ_SLOT_BYTES > mapped) die("capacity larger than the file");
}

/** The id the kernel table lists NAME under, or -1. */
static int kernel_id(const char *name) {
  size_t length = strlen(name);
  uint32_t count = load(HDMR_LQ_KERNEL_COUNT_OFFSET);
  if (count > HDMR_LQ_KERNEL_TABLE_ENTRIES) count = HDMR_LQ_KERNEL_TABLE_ENTRIES;
  for (uint32_t id = 0; id < count; id++) {
    size_t entry = HDMR_LQ_KERNEL_TABLE_OFFSET + (size_t)id * HDMR_LQ_KERNEL_ENTRY_BYTES;
    uint32_t bytes = load(entry);
    if (bytes == length && bytes <= HDMR_LQ_KERNEL_NAME_BYTES && memcmp(base + entry + 4, name, length) == 0) return (int)id;
  }
  return -1;
}

static uint64_t arg_value(uint32_t kernel, uint64_t seq, uint32_t j) {
  if (j == 0) return seq;
  return ((j & 1u) ? UINT64_C(1) << 63 : 0) | ((uint64_t)kernel << 48) | (seq << 8) | j;
}

static enum push_result push(uint32_t kernel, uint32_t argc, const uint64_t *args) {
  if (__atomic_load_n(word(HDMR_LQ_CLOSED_OFFSET), __ATOMIC_SEQ_CST) != 0) return CLOSED;
  if (__atomic_load_n(word(HDMR_LQ_HELD_OFFSET), __ATOMIC_SEQ_CST) != 0) return HELD;
  uint32_t pos = __atomic_load_n(word(HDMR_LQ_TAIL_OFFSET), __ATOMIC_RELAXED);
  for (;;) {
    uint32_t seq = __atomic_load_n(word(slot_offset(pos) + HDMR_LQ_SLOT_SEQ_OFFSET), __ATOMIC_ACQUIRE);
    int32_t lead = (int32_t)(seq - pos);
    if (lead < 0) return FULL;
    if (lead == 0) {
      /* On failure the builtin stores the tail it saw into pos: try that position next. */
      if (__atomic_compare_exchange_n(word(HDMR_LQ_TAIL_OFFSET), &pos, pos + 1u, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) break;
    } else {
      pos = __atomic_load_n(word(HDMR_LQ_TAIL_OFFSET), __ATOMIC_RELAXED);
    }
  }
  size_t slot = slot_offset(pos);
  __atomic_store_n(word(slot + HDMR_LQ_SLOT_KERNEL_OFFSET), kernel, __ATOMIC_RELAXED);
  __atomic_store_n(word(slot + HDMR_LQ_SLOT_ARGC_OFFSET), argc, __ATOMIC_RELAXED);
  for (uint32_t j = 0; j < argc; j++) __atomic_store_n(&slot_args(pos)[j], args[j], __ATOMIC_RELAXED);
  /* The release store publishes the slot's contents to a consumer that loads seq with acquire. */
  __atomic_store_n(word(slot + HDMR_LQ_SLOT_SEQ_OFFSET), pos + 1u, __ATOMIC_RELEASE);
  /* Sequentially consistent on both sides: either the consumer sees the new doorbell before it
   * sleeps, or this load sees its `sleeping` and wakes it. */
  __atomic_add_fetch(word(HDMR_LQ_DOORBELL_OFFSET), 1u, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(word(HDMR_LQ_SLEEPING_OFFSET), __ATOMIC_SEQ_CST) != 0) {
    syscall(SYS_futex, word(HDMR_LQ_DOORBELL_OFFSET), FUTEX_WAKE, 1, NULL, NULL, 0);
    wakes++;
  }
  return QUEUED;
}

static enum push_result push_seq(uint32_t kernel, uint64_t seq) {
  uint64_t args[HDMR_LQ_MAX_ARGS];
  uint32_t argc = 1u + (uint32_t)(seq % HDMR_LQ_MAX_ARGS);
  for (uint32_t j = 0; j < argc; j++) args[j] = arg_value(kernel, seq, j);
  return push(kernel, argc, args);
}

static int produce(const char *name, uint64_t count, uint64_t first) {
  int id = kernel_id(name);
  if (id < 0) {
    printf("unlisted\n");
    return 0;
  }
  printf("kernel %d\n", id);
  uint64_t queued = 0;
  enum push_result result = QUEUED;
  while (queued < count && (result = push_seq((uint32_t)id, first + queued)) == QUEUED) queued++;
  printf("queued %" PRIu64 "\n", queued);
  if (result != QUEUED) printf("%s\n", PUSH_RESULT[result]);
  printf("wakes %u\n", wakes);
  return 0;
}

static int race(unsigned procs, uint64_t count) {
  /* A start line in memory the children share, so that they push at the same time. */
  uint32_t *ready = mmap(NULL, sizeof *ready, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (ready == MAP_FAILED) die("mmap of the start line failed");
  for (unsigned p = 0; p < procs; p++) {
    pid_t pid = fork();
    if (pid < 0) die("fork failed");
    if (pid > 0) continue;
    char name[32];
    snprintf(name, sizeof name, "racer-%u", p);
    int id = kernel_id(name);
    if (id < 0) _exit(3);
    __atomic_add_fetch(ready, 1u, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(ready, __ATOMIC_SEQ_CST) < procs) sched_yield();
    for (uint64_t s = 0; s < count; s++) {
      if (push_seq((uint32_t)id, s) != QUEUED) _exit(4);
    }
    _exit(0);
  }
  int failed = 0;
  for (unsigned p = 0; p < procs; p++) {
    int status = 0;
    if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
  }
  if (failed != 0) {
    printf("failed %d\n", failed);
    return 1;
  }
  printf("ok\n");
  return 0;
}

/** Takes the launch at the head into the arguments: 1, or 0 with *why set to "empty" or "pending". */
static int take(uint32_t *kernel, uint32_t *argc, uint64_t *args, const char **why) {
  uint32_t pos = __atomic_load_n(word(HDMR_LQ_HEAD_OFFSET), __ATOMIC_RELAXED);
  size_t slot = slot_offset(pos);
  if (__atomic_load_n(word(slot + HDMR_LQ_SLOT_SEQ_OFFSET), __ATOMIC_ACQUIRE) != pos + 1u) {
    *why = (int32_t)(__atomic_load_n(word(HDMR_LQ_TAIL_OFFSET), __ATOMIC_SEQ_CST) - pos) > 0 ? "pending" : "empty";
    return 0;
  }
  *kernel = __atomic_load_n(word(slot + HDMR_LQ_SLOT_KERNEL_OFFSET), __ATOMIC_RELAXED);
  *argc = __atomic_load_n(word(slot + HDMR_LQ_SLOT_ARGC_OFFSET), __ATOMIC_RELAXED);
  uint32_t n = *argc < HDMR_LQ_MAX_ARGS ? *argc : HDMR_LQ_MAX_ARGS;
  for (uint32_t j = 0; j < n; j++) args[j] = __atomic_load_n(&slot_args(pos)[j], __ATOMIC_RELAXED);
  /* Free the slot for the next lap before moving the head (release: the reads above are done). */
  __atomic_store_n(word(slot + HDMR_LQ_SLOT_SEQ_OFFSET), pos + capacity, __ATOMIC_RELEASE);
  __atomic_store_n(word(HDMR_LQ_HEAD_OFFSET), pos + 1u, __ATOMIC_RELEASE);
  return 1;
}

static int consume(uint64_t max) {
  uint64_t args[HDMR_LQ_MAX_ARGS];
  uint32_t kernel = 0;
  uint32_t argc = 0;
  const char *why = "max";
  for (uint64_t taken = 0; taken < max; taken++) {
    if (!take(&kernel, &argc, args, &why)) break;
    printf("launch %" PRIu32 " %" PRIu32, kernel, argc);
    for (uint32_t j = 0; j < argc && j < HDMR_LQ_MAX_ARGS; j++) printf(" %" PRIu64, args[j]);
    printf("\n");
    why = "max";
  }
  printf("%s\n", why);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) die("usage: produce FILE NAME COUNT FIRST | race FILE PROCS COUNT | consume FILE MAX");
  map_queue(argv[2]);
  int status = 2;
  if (strcmp(argv[1], "produce") == 0 && argc == 6) {
    status = produce(argv[3], strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10));
  } else if (strcmp(argv[1], "race") == 0 && argc == 5) {
    status = race((unsigned)strtoul(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
  } else if (strcmp(argv[1], "consume") == 0 && argc == 4) {
    status = consume(strtoull(argv[3], NULL, 10));
  } else {
    die("bad arguments");
  }
  fflush(stdout);
  munmap(base, mapped);
  return status;
}
