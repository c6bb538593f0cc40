package dev.sbx.orchestrator.lifecycle;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.network.EgressPolicy;
import dev.sbx.orchestrator.network.NetworkSlot;
import dev.sbx.orchestrator.runtime.ResourceLimits;
import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A running sandbox of this node.
 *
 * @param containerId the runtime's id of its container (the sandbox id for a cold start, an
 *     internal id for a sandbox claimed from the warm pool)
 * @param slot its network slot: {@link NetworkSlot#ip()} is where envd listens
 * @param endTime when the node deletes it, or null for never
 */
public record Sandbox(
    String sandboxId,
    String containerId,
    String templateId,
    NetworkSlot slot,
    ResourceLimits limits,
    Map<String, String> metadata,
    Instant startTime,
    @Nullable Instant endTime,
    EgressPolicy egress) {

  public Sandbox {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(containerId, "containerId");
    requireNonNull(templateId, "templateId");
    requireNonNull(slot, "slot");
    requireNonNull(limits, "limits");
    metadata = Map.copyOf(requireNonNull(metadata, "metadata"));
    requireNonNull(startTime, "startTime");
    requireNonNull(egress, "egress");
  }

  /** Whether its end time is set and not after {@code now}. */
  public boolean expiredAt(Instant now) {
    return endTime != null && !endTime.isAfter(now);
  }

  Sandbox withEndTime(@Nullable Instant endTime) {
    return new Sandbox(
        sandboxId, containerId, templateId, slot, limits, metadata, startTime, endTime, egress);
  }

  Sandbox withEgress(EgressPolicy egress) {
    return new Sandbox(
        sandboxId, containerId, templateId, slot, limits, metadata, startTime, endTime, egress);
  }
}
