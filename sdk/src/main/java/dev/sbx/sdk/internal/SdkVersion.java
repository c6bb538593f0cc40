package dev.sbx.sdk.internal;

/** The SDK's identity on the wire. */
public final class SdkVersion {
  /** The SDK's version. */
  public static final String VERSION = "0.1.0";

  /** {@code User-Agent} of every request, API and envd. */
  public static final String USER_AGENT = "sbx-java-sdk/" + VERSION;

  private SdkVersion() {}
}
