// Shared by the platform suites: the official SDK against a whole sbx server (API + client proxy +
// orchestrator with real sandboxes), started by the Java side (it/, PlatformIT), which passes:
//   E2B_API_URL, E2B_API_KEY, E2B_DOMAIN        the server and a key of a team with default limits
//   E2B_SANDBOX_URL                             the client proxy (header routing) — or unset for Host routing
//   SBX_PROXY_URL                               the client proxy (always set; for getHost() requests)
//   SBX_LIMITED_API_KEY, SBX_LIMITED_CONCURRENCY  a key of a team whose concurrency limit is small
//   SBX_TEMPLATE                                the template the sandboxes start from
//   SBX_E2B_PACKAGE                             "e2b-2.45" or "e2b-2.51"
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import http from 'node:http'

export const SDK_PACKAGE = process.env.SBX_E2B_PACKAGE ?? 'e2b-2.51'
export const e2b = await import(SDK_PACKAGE)
export const { Sandbox, AuthenticationError, RateLimitError, SandboxError, SandboxNotFoundError, CommandExitError } = e2b

export const SDK_LABEL = `e2b@${(await import(`${SDK_PACKAGE}/package.json`, { with: { type: 'json' } })).default.version}`
export const TEMPLATE = process.env.SBX_TEMPLATE ?? 'base'
export const PROXY_URL = new URL(required('SBX_PROXY_URL'))
export const DOMAIN = required('E2B_DOMAIN')
export const ROUTING = process.env.E2B_SANDBOX_URL ? 'header routing' : 'host routing'

function required(name) {
  const value = process.env[name]
  assert.ok(value, `${name} must be set (the Java side, PlatformIT, sets it)`)
  return value
}

/** Sandboxes a test file created; `killAll` in an `after` hook removes the ones still running. */
export class Sandboxes {
  #ids = new Set()

  async create(opts = {}) {
    const sandbox = await Sandbox.create(TEMPLATE, { timeoutMs: 120_000, ...opts })
    this.#ids.add(sandbox.sandboxId)
    return sandbox
  }

  /** Adds a sandbox made elsewhere (a fork, one from a snapshot) to those `killAll` removes. */
  adopt(sandbox) {
    this.#ids.add(sandbox.sandboxId)
    return sandbox
  }

  async killAll() {
    for (const id of this.#ids) await Sandbox.kill(id).catch(() => {})
    this.#ids.clear()
  }
}

/** A fresh value such as "sbx-it-1a2b3c4d". */
export function unique(prefix = 'sbx-it') {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

/** Polls `probe` until it returns a truthy value, failing after `timeoutMs`. */
export async function until(probe, describe, { timeoutMs = 15_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs
  let last
  for (;;) {
    try {
      const value = await probe()
      if (value) return value
      last = value
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      throw new assert.AssertionError({ message: `timed out after ${timeoutMs} ms waiting for ${describe} (last: ${last})` })
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/**
 * A request to `sandbox.getHost(port)` the way a browser would send it: to the client proxy's
 * address with that Host header (no DNS for *.<domain> on this machine).
 */
export function requestHost(host, { method = 'GET', path = '/', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: PROXY_URL.hostname, port: PROXY_URL.port, method, path, headers: { ...headers, host } },
      (response) => {
        const chunks = []
        response.on('data', (chunk) => chunks.push(chunk))
        response.on('end', () =>
          resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
        )
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    if (body) request.write(body)
    request.end()
  })
}

/** Asserts that `promise` rejects with an instance of `type`, and returns the error. */
export async function rejectsWith(promise, type) {
  let error
  await assert.rejects(promise, (err) => {
    error = err
    assert.ok(err instanceof type, `expected ${type.name}, got ${err?.constructor?.name}: ${err?.message}`)
    return true
  })
  return error
}
