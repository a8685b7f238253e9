// SPDX-License-Identifier: Apache-2.0
// A tight syscall generator for the benchmarks: hits podtrace's process tracepoints as fast as one
// core allows and reports how many operations it completed.
//
//   gen MODE MAX_MS [MAX_OPS] [CPU]
//     MODE   vfork : vfork() + _exit(0) + waitpid  -> process.fork + process.exit per op, no exec
//            exec  : vfork() + execve(/bin/true) + waitpid -> fork + exec + exit per op
//     MAX_MS stop after this many milliseconds (0 = no limit)
//     MAX_OPS stop after this many operations (0 = no limit)
//     CPU    pin to this CPU (-1 = do not pin; default 0)
//   prints one JSON line: {"mode":...,"ops":N,"seconds":S,"opsPerSec":R,"cpuUsPerOp":C}
//   cpuUsPerOp: user + system CPU of the generator and its reaped children per operation, i.e.
//   what the traced workload itself pays (in-kernel probe time included), apart from the CPU share
//   other processes take from it.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double cpu_s(int who) {
  struct rusage ru;
  getrusage(who, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: gen vfork|exec MAX_MS [MAX_OPS] [CPU]\n");
    return 2;
  }
  const char *mode = argv[1];
  int exec_mode = strcmp(mode, "exec") == 0;
  if (!exec_mode && strcmp(mode, "vfork") != 0) {
    fprintf(stderr, "gen: unknown mode %s\n", mode);
    return 2;
  }
  double max_s = atof(argv[2]) / 1000.0;
  long max_ops = argc > 3 ? atol(argv[3]) : 0;
  int cpu = argc > 4 ? atoi(argv[4]) : 0;
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) perror("gen: sched_setaffinity");
  }
  char *const true_argv[] = {"/bin/true", NULL};
  char *const envp[] = {NULL};
  double cpu0 = cpu_s(RUSAGE_SELF) + cpu_s(RUSAGE_CHILDREN);
  double start = now_s(), end = start;
  long ops = 0;
  for (;;) {
    pid_t pid = vfork();
    if (pid == 0) {
      if (exec_mode) execve("/bin/true", true_argv, envp);
      _exit(0);
    }
    if (pid < 0) {
      perror("gen: vfork");
      return 1;
    }
    int status;
    waitpid(pid, &status, 0);
    ops++;
    if (max_ops > 0 && ops >= max_ops) break;
    if ((ops & 63) == 0 && max_s > 0) {
      end = now_s();
      if (end - start >= max_s) break;
    }
  }
  end = now_s();
  double used = cpu_s(RUSAGE_SELF) + cpu_s(RUSAGE_CHILDREN) - cpu0;
  printf("{\"mode\":\"%s\",\"ops\":%ld,\"seconds\":%.6f,\"opsPerSec\":%.1f,\"cpuUsPerOp\":%.3f}\n", mode, ops,
         end - start, ops / (end - start), ops > 0 ? used * 1e6 / ops : 0.0);
  return 0;
}
