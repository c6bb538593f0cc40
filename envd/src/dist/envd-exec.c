/*
 * envd-exec: the single step between envd and a user's command. envd posix_spawns it with the
 * command's session, working directory, descriptors and environment already in place; it
 *   1. raises its own OOM score (writes OOM_SCORE_ADJ to /proc/self/oom_score_adj), so that the OOM
 *      killer picks the user's processes before envd; a missing /proc is ignored;
 *   2. takes the user's groups, gid and uid (setgroups, setgid, setuid: real, effective and saved),
 *      unless it already has exactly those;
 *   3. execs the command, searching the PATH of its environment (execvp).
 * It replaces `busybox sh -c 'echo 100 > /proc/$$/oom_score_adj && exec "$@"'` followed by util-linux
 * setpriv (through the dist's glibc loader): one exec of a static binary instead of three execs and a
 * dynamic link. Being static, it runs on any rootfs.
 *
 * usage: envd-exec OOM_SCORE_ADJ UID GID GROUPS -- CMD [ARG...]
 *   GROUPS: supplementary gids separated by commas, or an empty string for none.
 * Failures print "envd-exec: ..." on stderr and exit like a shell: 127 when the command is not found,
 * 126 when it cannot be executed, 125 for a failed id switch or bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_GROUPS 65536

static void fail(int code, const char *what, const char *detail) {
  fprintf(stderr, "envd-exec: %s: %s\n", what, detail);
  exit(code);
}

static unsigned long number(const char *text, unsigned long max, const char *what) {
  char *end;
  errno = 0;
  unsigned long value = strtoul(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value > max || text[0] == '-') {
    fail(125, what, text);
  }
  return value;
}

static int compare_gids(const void *a, const void *b) {
  gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
  return (x > y) - (x < y);
}

/* Whether the process already has exactly these ids (groups compared as sets). */
static int has_ids(uid_t uid, gid_t gid, gid_t *groups, size_t count) {
  if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
    return 0;
  }
  int n = getgroups(0, NULL);
  if (n < 0 || (size_t)n != count) {
    return 0;
  }
  if (n == 0) {
    return 1;
  }
  gid_t *current = calloc((size_t)n, sizeof *current);
  if (current == NULL || getgroups(n, current) != n) {
    free(current);
    return 0;
  }
  gid_t *wanted = calloc(count, sizeof *wanted);
  if (wanted == NULL) {
    free(current);
    return 0;
  }
  memcpy(wanted, groups, count * sizeof *wanted);
  qsort(current, (size_t)n, sizeof *current, compare_gids);
  qsort(wanted, count, sizeof *wanted, compare_gids);
  int same = memcmp(current, wanted, count * sizeof *wanted) == 0;
  free(current);
  free(wanted);
  return same;
}

int main(int argc, char **argv) {
  if (argc < 7 || strcmp(argv[5], "--") != 0) {
    fail(125, "usage", "envd-exec OOM_SCORE_ADJ UID GID GROUPS -- CMD [ARG...]");
  }
  const char *oom = argv[1];
  long oom_value = strtol(oom, NULL, 10);
  if (oom_value < -1000 || oom_value > 1000) {
    fail(125, "OOM_SCORE_ADJ out of range", oom);
  }
  uid_t uid = (uid_t)number(argv[2], UINT_MAX - 1, "bad UID");
  gid_t gid = (gid_t)number(argv[3], UINT_MAX - 1, "bad GID");

  static gid_t groups[MAX_GROUPS];
  size_t count = 0;
  if (argv[4][0] != '\0') {
    char *list = strdup(argv[4]);
    if (list == NULL) {
      fail(125, "out of memory", "");
    }
    for (char *save = NULL, *item = strtok_r(list, ",", &save); item != NULL;
         item = strtok_r(NULL, ",", &save)) {
      if (count == MAX_GROUPS) {
        fail(125, "too many groups", argv[4]);
      }
      groups[count++] = (gid_t)number(item, UINT_MAX - 1, "bad group");
    }
    free(list);
  }

  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t ignored = write(fd, oom, strlen(oom));
    (void)ignored;
    close(fd);
  }

  if (!has_ids(uid, gid, groups, count)) {
    if (setgroups(count, groups) != 0) {
      fail(125, "setgroups", strerror(errno));
    }
    if (setgid(gid) != 0) {
      fail(125, "setgid", strerror(errno));
    }
    if (setuid(uid) != 0) {
      fail(125, "setuid", strerror(errno));
    }
  }

  execvp(argv[6], argv + 6);
  int code = errno == ENOENT || errno == ENOTDIR ? 127 : 126;
  fail(code, argv[6], strerror(errno));
  return code;
}
