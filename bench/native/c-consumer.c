// SPDX-License-Identifier: Apache-2.0
// The physical limit for the drain benchmark: a plain C libbpf consumer of the SAME BPF object the
// addon loads (build/bpf/process.bpf.o), configured the same way (ring size, argv bytes, wakeup
// threshold), counting records in the ring_buffer callback and doing nothing else.
//
//   c-consumer OBJECT RING_BYTES backlog
//       load + attach, print "ready", wait for "go N" on stdin, then drain as fast as possible until
//       N records were taken; prints {"records":N,"seconds":S,"lost":L} (S = "go" to the Nth record)
//   c-consumer OBJECT RING_BYTES live MAX_MS [DRAIN_MS]
//       drain every DRAIN_MS (default 2) like the addon for MAX_MS; prints
//       {"records":N,"seconds":S,"lost":L,"cpuSeconds":C}
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static unsigned long long g_records;

static int on_sample(void *ctx, void *data, size_t size) {
  (void)ctx;
  (void)data;
  (void)size;
  g_records++;
  return 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

// Sets a const volatile global in .rodata by name (as the addon's loader does).
static int set_rodata(struct bpf_object *obj, const char *name, const void *value, size_t size) {
  struct bpf_map *m, *rodata = NULL;
  bpf_object__for_each_map(m, obj) {
    const char *n = bpf_map__name(m);
    if (n && strstr(n, ".rodata")) rodata = m;
  }
  const struct btf *b = bpf_object__btf(obj);
  if (!rodata || !b) return -1;
  int sec_id = btf__find_by_name_kind(b, ".rodata", BTF_KIND_DATASEC);
  if (sec_id < 0) return -1;
  const struct btf_type *sec = btf__type_by_id(b, sec_id);
  const struct btf_var_secinfo *vs = btf_var_secinfos(sec);
  size_t data_size = 0;
  const void *initial = bpf_map__initial_value(rodata, &data_size);
  if (!initial) return -1;
  char *data = malloc(data_size);
  memcpy(data, initial, data_size);
  for (unsigned i = 0; i < btf_vlen(sec); i++, vs++) {
    const struct btf_type *var = btf__type_by_id(b, vs->type);
    if (strcmp(btf__name_by_offset(b, var->name_off), name) != 0) continue;
    if (vs->size != size) break;
    memcpy(data + vs->offset, value, size);
    int err = bpf_map__set_initial_value(rodata, data, data_size);
    free(data);
    return err;
  }
  free(data);
  return -1;
}

static unsigned long long losses(int fd) {
  int ncpu = libbpf_num_possible_cpus();
  unsigned long long total = 0, *per = calloc(ncpu, sizeof(*per));
  for (unsigned k = 0; k < 16; k++) {
    if (bpf_map_lookup_elem(fd, &k, per) != 0) continue;
    for (int c = 0; c < ncpu; c++) total += per[c];
  }
  free(per);
  return total;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: c-consumer OBJECT RING_BYTES backlog | live MAX_MS [DRAIN_MS]\n");
    return 2;
  }
  const char *path = argv[1];
  __u32 ring = (__u32)strtoul(argv[2], NULL, 10);
  const char *mode = argv[3];
  struct bpf_object *obj = bpf_object__open_file(path, NULL);
  if (!obj) {
    perror("c-consumer: open");
    return 1;
  }
  __u32 argv_bytes = 512;
  __u64 wakeup = ring / 2;
  if (set_rodata(obj, "pt_argv_bytes", &argv_bytes, sizeof(argv_bytes)) ||
      set_rodata(obj, "pt_wakeup_bytes", &wakeup, sizeof(wakeup))) {
    fprintf(stderr, "c-consumer: set rodata failed\n");
    return 1;
  }
  struct bpf_map *events = bpf_object__find_map_by_name(obj, "events");
  struct bpf_map *loss_map = bpf_object__find_map_by_name(obj, "losses");
  if (!events || !loss_map || bpf_map__set_max_entries(events, ring) || bpf_object__load(obj)) {
    fprintf(stderr, "c-consumer: load failed\n");
    return 1;
  }
  struct bpf_program *prog;
  bpf_object__for_each_program(prog, obj) {
    if (!bpf_program__attach(prog)) {
      fprintf(stderr, "c-consumer: attach %s failed\n", bpf_program__section_name(prog));
      return 1;
    }
  }
  struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(events), on_sample, NULL, NULL);
  if (!rb) {
    perror("c-consumer: ring_buffer__new");
    return 1;
  }
  if (strcmp(mode, "backlog") == 0) {
    printf("ready\n");
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof(line), stdin)) return 1;
    // "go N": N records are waiting (what the generators produced); time until they are all taken.
    unsigned long long target = strtoull(line + 2, NULL, 10);
    double start = now_s(), last = start;
    while (g_records < target) {
      int n = ring_buffer__consume(rb);
      if (n < 0) break;
      if (n > 0) {
        last = now_s();
        continue;
      }
      if (now_s() - last > 2.0) break;  // fewer records than expected: reported as such
    }
    printf("{\"records\":%llu,\"seconds\":%.6f,\"lost\":%llu}\n", g_records, last - start,
           losses(bpf_map__fd(loss_map)));
  } else {
    double max_s = argc > 4 ? atof(argv[4]) / 1000.0 : 5;
    int drain_ms = argc > 5 ? atoi(argv[5]) : 2;
    printf("ready\n");
    fflush(stdout);
    double cpu0 = cpu_s(), start = now_s();
    while (now_s() - start < max_s) {
      ring_buffer__poll(rb, drain_ms);
      ring_buffer__consume(rb);
    }
    ring_buffer__consume(rb);
    printf("{\"records\":%llu,\"seconds\":%.6f,\"lost\":%llu,\"cpuSeconds\":%.6f}\n", g_records, now_s() - start,
           losses(bpf_map__fd(loss_map)), cpu_s() - cpu0);
  }
  ring_buffer__free(rb);
  bpf_object__close(obj);
  return 0;
}
