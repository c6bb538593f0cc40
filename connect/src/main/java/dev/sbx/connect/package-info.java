/**
 * The Connect RPC protocol (connectrpc.com) for the JVM: {@link dev.sbx.connect.ConnectHandler}
 * serves protobuf services on the JDK {@code HttpServer}, {@link dev.sbx.connect.ConnectClient}
 * calls them over {@code java.net.http}. Unary, server-streaming and client-streaming calls; JSON
 * and binary protobuf codecs; the 5-byte envelope and end-stream message; Connect error codes and
 * their HTTP statuses; {@code Connect-Timeout-Ms}; gzip.
 */
@NullMarked
package dev.sbx.connect;

import org.jspecify.annotations.NullMarked;
