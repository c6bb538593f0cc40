/**
 * The Redis catalog: routes in a Redis shared by every API server and client proxy, read through a
 * short-lived local cache that pub/sub keeps fresh. See {@link
 * dev.sbx.proxy.catalog.redis.RedisCatalog}.
 */
@NullMarked
package dev.sbx.proxy.catalog.redis;

import org.jspecify.annotations.NullMarked;
