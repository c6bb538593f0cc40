/*
 * envd-exec: the single step between envd and a user's command. envd posix_spawns it with the
 * command's session, working directory, descriptors and environment already in place; it
 *   1. raises its own OOM score (writes OOM_SCORE_ADJ to /proc/self/oom_score_adj), so that the OOM
 *      killer picks the user's processes before envd; a missing /proc is ignored;
 *   2. takes the user's groups, gid and uid (setgroups, setgid, setuid: real, effective and saved),
 *      unless it already has exactly those;
 *   3. execs the command, searching the PATH of its environment as execvp does (a file without '#!'
 *      that the kernel refuses with ENOEXEC is run by /bin/sh).
 * It replaces `busybox sh -c 'echo 100 > /proc/$$/oom_score_adj && exec "$@"'` followed by util-linux
 * setpriv (through the dist's glibc loader): one exec of a static binary instead of three execs and a
 * dynamic link. Being static, it runs on any rootfs.
 *
 * It uses no libc at all (raw system calls, x86_64 and aarch64): a static glibc binary spends about a
 * millisecond of CPU on every start before main (CPU feature probing with cpuid, which traps in a VM;
 * IRELATIVE relocations; TLS and stdio set-up) and maps 670 KB; this one is a few pages. Every
 * command pays for this helper, so its start-up is the whole point.
 *
 * usage: envd-exec OOM_SCORE_ADJ UID GID GROUPS -- CMD [ARG...]
 *   GROUPS: supplementary gids separated by commas, or an empty string for none.
 * Failures print "envd-exec: ..." on stderr and exit like a shell: 127 when the command is not found,
 * 126 when it cannot be executed, 125 for a failed id switch or bad usage.
 */
#include <asm/unistd.h>
#include <linux/errno.h>

#define MAX_GROUPS 65536
#define PATH_MAX 4096
#define AT_FDCWD (-100)
#define O_WRONLY 01
#define O_CLOEXEC 02000000
#define ID_MAX 4294967294UL /* (uid_t)-1 means "unchanged" to the kernel */

typedef unsigned int id32;
typedef unsigned long size_t;

#if defined(__x86_64__)
__asm__(
    ".text\n.global _start\n_start:\n"
    "  xor %rbp, %rbp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call start_c\n  hlt\n");

static long sys(long n, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
__asm__(
    ".text\n.global _start\n_start:\n"
    "  mov x29, #0\n  mov x30, #0\n  mov x0, sp\n  bl start_c\n  brk #0\n");

static long sys(long n, long a, long b, long c) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}
#else
#error "envd-exec: only x86_64 and aarch64"
#endif

/* gcc may emit calls to these even in freestanding code */
void *memset(void *d, int c, size_t n) {
  unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}

void *memcpy(void *d, const void *s, size_t n) {
  unsigned char *p = d;
  const unsigned char *q = s;
  while (n--) *p++ = *q++;
  return d;
}

static size_t length(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static int equal(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

static int has_slash(const char *s) {
  for (; *s; s++) {
    if (*s == '/') return 1;
  }
  return 0;
}

static __attribute__((noreturn)) void exit_with(int code) {
  for (;;) sys(__NR_exit_group, code, 0, 0);
}

static void put(const char *s) { sys(__NR_write, 2, (long)s, (long)length(s)); }

static const char *error_text(long e) {
  switch (e) {
    case EPERM: return "Operation not permitted";
    case ENOENT: return "No such file or directory";
    case EIO: return "Input/output error";
    case E2BIG: return "Argument list too long";
    case ENOEXEC: return "Exec format error";
    case ENOMEM: return "Cannot allocate memory";
    case EACCES: return "Permission denied";
    case EFAULT: return "Bad address";
    case ENOTDIR: return "Not a directory";
    case EISDIR: return "Is a directory";
    case EINVAL: return "Invalid argument";
    case ENFILE: return "Too many open files in system";
    case EMFILE: return "Too many open files";
    case ETXTBSY: return "Text file busy";
    case ENAMETOOLONG: return "File name too long";
    case ELOOP: return "Too many levels of symbolic links";
    case ELIBBAD: return "Accessing a corrupted shared library";
    default: return "Unknown error";
  }
}

static __attribute__((noreturn)) void fail(int code, const char *what, const char *detail) {
  put("envd-exec: ");
  put(what);
  put(": ");
  put(detail);
  put("\n");
  exit_with(code);
}

/* A decimal number in [0, max]; anything else fails with what. */
static unsigned long number(const char *text, unsigned long max, const char *what) {
  unsigned long value = 0;
  if (*text == '\0') fail(125, what, text);
  for (const char *p = text; *p; p++) {
    if (*p < '0' || *p > '9') fail(125, what, text);
    unsigned long digit = (unsigned long)(*p - '0');
    if (value > (max - digit) / 10) fail(125, what, text);
    value = value * 10 + digit;
  }
  return value;
}

static void sort(id32 *a, long n) {
  for (long gap = n / 2; gap > 0; gap /= 2) {
    for (long i = gap; i < n; i++) {
      id32 v = a[i];
      long j = i;
      for (; j >= gap && a[j - gap] > v; j -= gap) a[j] = a[j - gap];
      a[j] = v;
    }
  }
}

static id32 groups[MAX_GROUPS];
static id32 current[MAX_GROUPS];

/* Whether the process already has exactly these ids (groups compared as sets). */
static int has_ids(id32 uid, id32 gid, long count) {
  if ((id32)sys(__NR_getuid, 0, 0, 0) != uid || (id32)sys(__NR_geteuid, 0, 0, 0) != uid ||
      (id32)sys(__NR_getgid, 0, 0, 0) != gid || (id32)sys(__NR_getegid, 0, 0, 0) != gid) {
    return 0;
  }
  long n = sys(__NR_getgroups, 0, 0, 0);
  if (n != count) return 0;
  if (n == 0) return 1;
  if (sys(__NR_getgroups, n, (long)current, 0) != n) return 0;
  static id32 wanted[MAX_GROUPS];
  memcpy(wanted, groups, (size_t)count * sizeof *wanted);
  sort(current, n);
  sort(wanted, n);
  for (long i = 0; i < n; i++) {
    if (current[i] != wanted[i]) return 0;
  }
  return 1;
}

static const char *env_value(char **envp, const char *name) {
  size_t n = length(name);
  for (; *envp; envp++) {
    const char *e = *envp;
    size_t i = 0;
    while (i < n && e[i] == name[i]) i++;
    if (i == n && e[n] == '=') return e + n + 1;
  }
  return 0;
}

/* execve, and for a file the kernel cannot execute (ENOEXEC) /bin/sh FILE ARGS as execvp does. */
static long run(const char *file, char **argv, int argc, char **envp) {
  long e = sys(__NR_execve, (long)file, (long)argv, (long)envp);
  if (e == -ENOEXEC) {
    char *script[argc + 2];
    script[0] = "/bin/sh";
    script[1] = (char *)file;
    for (int i = 1; i <= argc; i++) script[i + 1] = argv[i]; /* argv[argc] is NULL */
    sys(__NR_execve, (long)"/bin/sh", (long)script, (long)envp);
  }
  return e;
}

static int envd_exec(int argc, char **argv, char **envp) {
  if (argc < 7 || !equal(argv[5], "--")) {
    fail(125, "usage", "envd-exec OOM_SCORE_ADJ UID GID GROUPS -- CMD [ARG...]");
  }
  const char *oom = argv[1];
  const char *magnitude = oom[0] == '-' ? oom + 1 : oom;
  for (const char *p = magnitude; *p; p++) {
    if (*p < '0' || *p > '9') fail(125, "OOM_SCORE_ADJ out of range", oom);
  }
  if (*magnitude == '\0' || length(magnitude) > 4 || number(magnitude, 9999, "") > 1000) {
    fail(125, "OOM_SCORE_ADJ out of range", oom);
  }
  id32 uid = (id32)number(argv[2], ID_MAX, "bad UID");
  id32 gid = (id32)number(argv[3], ID_MAX, "bad GID");

  long count = 0;
  char *item = argv[4];
  while (*item) {
    char *end = item;
    while (*end && *end != ',') end++;
    char separator = *end;
    *end = '\0';
    if (*item) {
      if (count == MAX_GROUPS) fail(125, "too many groups", item);
      groups[count++] = (id32)number(item, ID_MAX, "bad group");
    }
    if (!separator) break;
    item = end + 1;
  }

  long fd = sys(__NR_openat, AT_FDCWD, (long)"/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    sys(__NR_write, fd, (long)oom, (long)length(oom));
    sys(__NR_close, fd, 0, 0);
  }

  if (!has_ids(uid, gid, count)) {
    long e;
    if ((e = sys(__NR_setgroups, count, (long)groups, 0)) != 0) fail(125, "setgroups", error_text(-e));
    if ((e = sys(__NR_setgid, gid, 0, 0)) != 0) fail(125, "setgid", error_text(-e));
    if ((e = sys(__NR_setuid, uid, 0, 0)) != 0) fail(125, "setuid", error_text(-e));
  }

  char *file = argv[6];
  char **args = argv + 6;
  int args_count = argc - 6;
  long e;
  if (*file == '\0') {
    e = -ENOENT;
  } else if (has_slash(file)) {
    e = run(file, args, args_count, envp);
  } else {
    /* execvp's search: each PATH element (empty = the current directory); EACCES is remembered */
    const char *path = env_value(envp, "PATH");
    if (path == 0) path = "/bin:/usr/bin";
    size_t file_length = length(file);
    int denied = 0;
    e = -ENOENT;
    for (const char *p = path;; p++) {
      const char *start = p;
      while (*p && *p != ':') p++;
      size_t dir_length = (size_t)(p - start);
      char full[PATH_MAX];
      if (dir_length + 1 + file_length + 1 <= sizeof full) {
        size_t n = 0;
        if (dir_length == 0) {
          full[n++] = '.';
        } else {
          memcpy(full, start, dir_length);
          n = dir_length;
        }
        full[n++] = '/';
        memcpy(full + n, file, file_length + 1);
        long r = run(full, args, args_count, envp);
        if (r == -EACCES) {
          denied = 1;
        } else if (r != -ENOENT && r != -ENOTDIR && r != -ESTALE && r != -ENODEV &&
                   r != -ETIMEDOUT) {
          e = r;
          break;
        }
      }
      if (*p == '\0') break;
    }
    if (e == -ENOENT && denied) e = -EACCES;
  }
  fail(e == -ENOENT || e == -ENOTDIR ? 127 : 126, file, error_text(-e));
}

__attribute__((used, noreturn)) void start_c(long *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  exit_with(envd_exec(argc, argv, envp));
}
