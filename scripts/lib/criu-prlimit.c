/*
 * Preloaded into CRIU by /opt/sbx-criu/criu (built by scripts/install-deps.sh).
 *
 * CRIU reads the rlimits of every process it dumps with prlimit(pid, res, NULL, &old) (glibc's
 * prlimit64() or syscall(__NR_prlimit64, ...): both are wrapped). For a
 * process of another user (a sandbox's `user`, uid 1000) the kernel allows that only with
 * CAP_SYS_RESOURCE, which root lacks on hosts that are themselves containers (their bounding set
 * drops it), so the dump fails with "Can't get rlimit 0: Operation not permitted". The same values
 * are world-readable in /proc/<pid>/limits: when a read-only prlimit of another process fails with
 * EPERM, they are read from there. Every other call goes to glibc unchanged; nothing is ever set
 * through this path, and the sandbox gets no capability.
 */
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef int (*prlimit64_fn)(pid_t, __rlimit_resource_t, const struct rlimit64 *, struct rlimit64 *);

static int parse_value(const char *text, rlim64_t *value) {
  if (strncmp(text, "unlimited", 9) == 0) {
    *value = RLIM64_INFINITY;
    return 0;
  }
  char *end;
  errno = 0;
  unsigned long long parsed = strtoull(text, &end, 10);
  if (errno != 0 || end == text) {
    return -1;
  }
  *value = parsed;
  return 0;
}

/* Line resource + 1 of /proc/<pid>/limits: a 25-column name, then the soft and hard limit. */
static int limits_from_proc(pid_t pid, int resource, struct rlimit64 *old) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/limits", (int)pid);
  FILE *file = fopen(path, "re");
  if (file == NULL) {
    return -1;
  }
  char line[256];
  int index = -1; /* the header line comes first */
  int found = -1;
  while (fgets(line, sizeof line, file) != NULL) {
    if (index++ != resource) {
      continue;
    }
    if (strlen(line) > 25) {
      char *soft = line + 25;
      while (*soft == ' ') {
        soft++;
      }
      char *hard = soft;
      while (*hard != ' ' && *hard != '\0') {
        hard++;
      }
      while (*hard == ' ') {
        hard++;
      }
      if (parse_value(soft, &old->rlim_cur) == 0 && parse_value(hard, &old->rlim_max) == 0) {
        found = 0;
      }
    }
    break;
  }
  fclose(file);
  return found;
}

static int fallback(pid_t pid, int resource, const struct rlimit64 *new_limit,
                    struct rlimit64 *old, int result) {
  if (result != 0 && errno == EPERM && new_limit == NULL && old != NULL && pid != 0 &&
      pid != getpid()) {
    if (limits_from_proc(pid, resource, old) == 0) {
      return 0;
    }
    errno = EPERM;
  }
  return result;
}

int prlimit64(pid_t pid, __rlimit_resource_t resource, const struct rlimit64 *new_limit, struct rlimit64 *old) {
  static prlimit64_fn real;
  if (real == NULL) {
    real = (prlimit64_fn)dlsym(RTLD_NEXT, "prlimit64");
    if (real == NULL) {
      errno = ENOSYS;
      return -1;
    }
  }
  return fallback(pid, resource, new_limit, old, real(pid, resource, new_limit, old));
}

typedef long (*syscall_fn)(long, ...);

long syscall(long number, ...) {
  static syscall_fn real;
  va_list list;
  va_start(list, number);
  long a = va_arg(list, long), b = va_arg(list, long), c = va_arg(list, long);
  long d = va_arg(list, long), e = va_arg(list, long), f = va_arg(list, long);
  va_end(list);
  if (real == NULL) {
    real = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
    if (real == NULL) {
      errno = ENOSYS;
      return -1;
    }
  }
  long result = real(number, a, b, c, d, e, f);
  if (number == SYS_prlimit64) {
    return fallback((pid_t)a, (int)b, (const struct rlimit64 *)c, (struct rlimit64 *)d,
                    (int)result);
  }
  return result;
}
