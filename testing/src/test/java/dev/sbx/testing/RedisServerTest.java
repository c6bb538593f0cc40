package dev.sbx.testing;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import org.junit.jupiter.api.Test;

class RedisServerTest {

  /** Sends one inline command and reads one reply line. */
  private static String command(int port, String line) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(5000);
      OutputStream out = socket.getOutputStream();
      out.write((line + "\r\n").getBytes(US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      StringBuilder reply = new StringBuilder();
      int c;
      while ((c = in.read()) != -1 && c != '\n') {
        reply.append((char) c);
      }
      return reply.toString().strip();
    }
  }

  @Test
  void startsEmptyWithoutPersistenceRestartsEmptyAndCleansUp() throws Exception {
    RedisServer redis = RedisServer.start();
    int port = redis.port();
    try {
      assertThat(redis.uri()).isEqualTo("redis://127.0.0.1:" + port);
      assertThat(command(port, "SET k v")).isEqualTo("+OK");
      assertThat(command(port, "CONFIG GET save")).isEqualTo("*2");
      assertThat(command(port, "DBSIZE")).isEqualTo(":1");

      redis.stop();
      assertThat(redis.running()).isFalse();
      redis.launch();
      assertThat(redis.running()).isTrue();
      assertThat(redis.port()).isEqualTo(port);
      assertThat(command(port, "DBSIZE")).isEqualTo(":0");
    } finally {
      redis.close();
    }
    assertThat(redis.running()).isFalse();
    assertThat(portIsClosed(port)).isTrue();
  }

  private static boolean portIsClosed(int port) {
    try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }
}
