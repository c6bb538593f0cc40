package dev.sbx.orchestrator.proxy;

import java.util.concurrent.CountDownLatch;

/**
 * Runs a node proxy in its own JVM for {@link NodeProxySmallHeapTest}: arguments are a sandbox id
 * and its address; prints {@code port <n>} once listening and runs until stdin closes.
 */
final class NodeProxyProcess {

  private NodeProxyProcess() {}

  public static void main(String[] args) throws Exception {
    InMemorySandboxAddresses addresses = new InMemorySandboxAddresses();
    addresses.put(args[0], args[1]);
    try (NodeProxy proxy = NodeProxy.start(NodeProxySettings.defaults("127.0.0.1", 0), addresses)) {
      System.out.println("port " + proxy.port());
      System.out.flush();
      CountDownLatch stdinClosed = new CountDownLatch(1);
      Thread.ofPlatform()
          .start(
              () -> {
                try {
                  while (System.in.read() >= 0) {
                    // wait for the parent to close our stdin
                  }
                } catch (java.io.IOException e) {
                  // parent gone
                }
                stdinClosed.countDown();
              });
      stdinClosed.await();
    }
  }
}
