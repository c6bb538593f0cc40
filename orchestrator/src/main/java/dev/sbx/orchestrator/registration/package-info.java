/**
 * Registration with an API server: {@link dev.sbx.orchestrator.registration.NodeRegistration} posts
 * this node's id and addresses to {@code POST /admin/nodes} at start and every interval (the
 * heartbeat that keeps the node in the API's placement).
 */
@NullMarked
package dev.sbx.orchestrator.registration;

import org.jspecify.annotations.NullMarked;
