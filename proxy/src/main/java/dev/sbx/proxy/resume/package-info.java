/**
 * Auto-resume (E2B wire protocol §3.2 step 2): the {@link dev.sbx.proxy.resume.SandboxResumer} SPI
 * the client proxy asks to resume a paused sandbox a request is for, and {@link
 * dev.sbx.proxy.resume.HttpSandboxResumer}, which asks the API server over HTTP with the operator's
 * token. Single-node {@code sbx up} wires the API's own resumer in-process instead.
 */
@NullMarked
package dev.sbx.proxy.resume;

import org.jspecify.annotations.NullMarked;
