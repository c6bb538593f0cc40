package dev.sbx.sdk;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * A persistent snapshot of a sandbox ({@link Sandbox#createSnapshot}): {@code snapshotId} is usable
 * as the template of {@link Sandbox#create(String)}. E2B: {@code SnapshotInfo}.
 *
 * @param snapshotId the snapshot's ID, e.g. {@code team-slug/my-snap:default}
 * @param names the names it is known by (empty for an unnamed one)
 */
public record SnapshotInfo(String snapshotId, List<String> names) {
  public SnapshotInfo {
    requireNonNull(snapshotId, "snapshotId");
    names = List.copyOf(names);
  }
}
