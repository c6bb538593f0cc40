/**
 * Who is calling: API keys (X-API-Key), the operator's admin token (X-Admin-Token + X-Team-ID), and
 * the request rate of each key.
 */
@NullMarked
package dev.sbx.api.auth;

import org.jspecify.annotations.NullMarked;
