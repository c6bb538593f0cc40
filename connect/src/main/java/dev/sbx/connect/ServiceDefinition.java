package dev.sbx.connect;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A protobuf service as {@link ConnectHandler} serves it: its fully qualified name (e.g. {@code
 * process.Process}) and a handler per method.
 */
public final class ServiceDefinition {
  private final String name;
  private final Map<String, MethodDefinition<?, ?>> methods;

  private ServiceDefinition(String name, Map<String, MethodDefinition<?, ?>> methods) {
    this.name = name;
    this.methods = Map.copyOf(methods);
  }

  public static Builder builder(String serviceName) {
    return new Builder(serviceName);
  }

  /** The fully qualified service name, e.g. {@code filesystem.Filesystem}. */
  public String name() {
    return name;
  }

  /** The method of that name, or {@code null}. */
  public @Nullable MethodDefinition<?, ?> method(String methodName) {
    return methods.get(methodName);
  }

  public Map<String, MethodDefinition<?, ?>> methods() {
    return methods;
  }

  /** How a method exchanges messages. */
  public enum Kind {
    UNARY,
    SERVER_STREAMING,
    CLIENT_STREAMING
  }

  /**
   * One method: its request prototype (for parsing) and the handler of its kind; exactly one of the
   * three handlers is set.
   */
  public record MethodDefinition<Req extends Message, Res extends Message>(
      String name,
      Kind kind,
      Req requestPrototype,
      @Nullable UnaryHandler<Req, Res> unary,
      @Nullable ServerStreamHandler<Req, Res> serverStream,
      @Nullable ClientStreamHandler<Req, Res> clientStream) {}

  /** Collects the methods of one service. */
  public static final class Builder {
    private final String name;
    private final Map<String, MethodDefinition<?, ?>> methods = new LinkedHashMap<>();

    private Builder(String name) {
      this.name = requireNonNull(name, "name");
    }

    public <Req extends Message, Res extends Message> Builder unary(
        String method, Req requestPrototype, UnaryHandler<Req, Res> handler) {
      return add(
          new MethodDefinition<>(
              method,
              Kind.UNARY,
              requestPrototype,
              requireNonNull(handler, "handler"),
              null,
              null));
    }

    public <Req extends Message, Res extends Message> Builder serverStreaming(
        String method, Req requestPrototype, ServerStreamHandler<Req, Res> handler) {
      return add(
          new MethodDefinition<>(
              method,
              Kind.SERVER_STREAMING,
              requestPrototype,
              null,
              requireNonNull(handler, "handler"),
              null));
    }

    public <Req extends Message, Res extends Message> Builder clientStreaming(
        String method, Req requestPrototype, ClientStreamHandler<Req, Res> handler) {
      return add(
          new MethodDefinition<>(
              method,
              Kind.CLIENT_STREAMING,
              requestPrototype,
              null,
              null,
              requireNonNull(handler, "handler")));
    }

    private Builder add(MethodDefinition<?, ?> method) {
      if (methods.putIfAbsent(method.name(), method) != null) {
        throw new IllegalArgumentException("duplicate method " + name + "/" + method.name());
      }
      return this;
    }

    public ServiceDefinition build() {
      return new ServiceDefinition(name, methods);
    }
  }
}
