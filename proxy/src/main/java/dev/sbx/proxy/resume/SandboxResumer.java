package dev.sbx.proxy.resume;

import java.util.concurrent.CompletionStage;

/**
 * Resumes a paused sandbox because a request arrived for it (E2B's auto-resume). The control plane
 * decides: it resumes only a sandbox created with {@code autoResume.enabled} whose memory was kept,
 * checks the request's tokens (the traffic token for a non-envd port of a sandbox that has one, the
 * envd token for envd's port of a secure sandbox), waits out a pause or resume in progress, and
 * holds the team's concurrency limit.
 */
@FunctionalInterface
public interface SandboxResumer {

  /**
   * Resumes the sandbox, or says why not. Called on the proxy's event loop: must not block; the
   * stage may complete on any thread. A failed stage is answered with a 502.
   */
  CompletionStage<ResumeResult> resume(ResumeRequest request);
}
