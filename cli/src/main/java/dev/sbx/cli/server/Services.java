package dev.sbx.cli.server;

import java.util.concurrent.CountDownLatch;

/** Keeps a service command running until SIGTERM/SIGINT, then stops it once. */
final class Services {

  private Services() {}

  static void runUntilStopped(Runnable stop) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            Thread.ofPlatform()
                .name("sbx-shutdown")
                .unstarted(
                    () -> {
                      try {
                        stop.run();
                      } finally {
                        stopped.countDown();
                      }
                    }));
    stopped.await();
  }
}
