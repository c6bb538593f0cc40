package dev.sbx.api.sandbox;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A checked create request.
 *
 * @param template the {@code templateID} as given (an id or {@code [namespace/]alias[:tag]})
 * @param timeoutSeconds how long the sandbox lives after it started
 * @param allowInternetAccess E2B's {@code allow_internet_access}
 * @param allowOut IPv4 CIDRs the sandbox may reach even when denied otherwise
 * @param denyOut IPv4 CIDRs it may not reach ({@code 0.0.0.0/0}: no internet)
 * @param networkJson the {@code network} object as given, kept for {@code GET}
 * @param autoPause pause instead of kill at the end time
 * @param autoPauseMemory whether that pause keeps memory
 */
public record NewSandbox(
    String template,
    int timeoutSeconds,
    boolean secure,
    boolean allowInternetAccess,
    boolean allowPublicTraffic,
    List<String> allowOut,
    List<String> denyOut,
    @Nullable String networkJson,
    boolean autoPause,
    boolean autoPauseMemory,
    boolean autoResume,
    Map<String, String> metadata,
    Map<String, String> envVars) {}
