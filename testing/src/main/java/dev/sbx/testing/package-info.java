/**
 * Fixtures for tests that run real things on the host: an envd process started from its dist or its
 * class path ({@link dev.sbx.testing.HostEnvd}), a process tree that is killed as a whole ({@link
 * dev.sbx.testing.HostProcess}), throwaway Linux users ({@link dev.sbx.testing.HostUser}), and a
 * Node project whose {@code node --test} suites are run with their output in the build log ({@link
 * dev.sbx.testing.NodeProject}). Every fixture is {@link java.lang.AutoCloseable} and removes what
 * it created when closed, also after a failed test.
 */
@NullMarked
package dev.sbx.testing;

import org.jspecify.annotations.NullMarked;
