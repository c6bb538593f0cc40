/*
 * glibc-exec: runs a dynamically linked program of the envd dist through the dist's own glibc, so that
 * it works on any rootfs (glibc, musl or none at all) without an absolute path baked in anywhere.
 *
 * Installed as <path>/NAME, it executes <path>/NAME.real as
 *   <dist>/glibc/ld-linux-x86-64.so.2 --library-path <dist>/glibc --argv0 <argv[0]> <path>/NAME.real ...
 * where <dist> is the nearest ancestor directory of <path> that holds glibc/ld-linux-x86-64.so.2.
 * Its own location comes from /proc/self/exe, or from argv[0] when /proc is not mounted.
 * It is linked statically: it must itself run without any libc on the rootfs.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOADER "glibc/ld-linux-x86-64.so.2"

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "glibc-exec: %s: %s\n", what, detail);
  exit(127);
}

int main(int argc, char **argv) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
  } else if (argc > 0 && argv[0][0] == '/' && strlen(argv[0]) < sizeof self) {
    strcpy(self, argv[0]);
  } else {
    fail("cannot find my own path", "/proc is not mounted and argv[0] is not absolute");
  }

  char real[PATH_MAX + 8];
  snprintf(real, sizeof real, "%s.real", self);

  char dist[PATH_MAX];
  strcpy(dist, self);
  char loader[PATH_MAX + sizeof LOADER + 1];
  for (;;) {
    char *slash = strrchr(dist, '/');
    if (slash == NULL || slash == dist) {
      fail("no " LOADER " in any parent directory of", self);
    }
    *slash = '\0';
    snprintf(loader, sizeof loader, "%s/" LOADER, dist);
    if (access(loader, X_OK) == 0) {
      break;
    }
  }
  char libs[PATH_MAX + 8];
  snprintf(libs, sizeof libs, "%s/glibc", dist);

  char **args = calloc((size_t)argc + 7, sizeof *args);
  if (args == NULL) {
    fail("out of memory", "");
  }
  int i = 0;
  args[i++] = loader;
  args[i++] = "--library-path";
  args[i++] = libs;
  args[i++] = "--argv0";
  args[i++] = argc > 0 ? argv[0] : self;
  args[i++] = real;
  for (int a = 1; a < argc; a++) {
    args[i++] = argv[a];
  }
  args[i] = NULL;
  execv(loader, args);
  fail(loader, strerror(errno));
  return 127;
}
