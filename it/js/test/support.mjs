// Shared by every *.test.mjs: loads the SDK version under test and connects to envd in debug mode.
//
// SBX_E2B_PACKAGE picks the SDK: "e2b-2.45" (npm:e2b@2.45.0) or "e2b-2.51" (npm:e2b@2.51.0).
// E2B_DEBUG=true is required: the SDK then makes no API call and talks to http://localhost:49983.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'

export const SDK_PACKAGE = process.env.SBX_E2B_PACKAGE ?? 'e2b-2.51'
export const e2b = await import(SDK_PACKAGE)
export const {
  Sandbox,
  SandboxError,
  CommandExitError,
  TimeoutError,
  AuthenticationError,
  NotFoundError,
  FileNotFoundError,
  InvalidArgumentError,
} = e2b

/** envd's address in the SDK's debug mode. */
export const ENVD_URL = 'http://localhost:49983'

/** The default user envd was given through POST /init (E2B's default sandbox user). */
export const DEFAULT_USER = process.env.SBX_DEFAULT_USER ?? 'user'

/** A world-writable folder the Java side created for this run (and removes afterwards). */
export const SCRATCH = process.env.SBX_IT_SCRATCH ?? '/tmp'

/** A label for test names, e.g. "e2b@2.45.0". */
export const SDK_LABEL = `e2b@${(await import(`${SDK_PACKAGE}/package.json`, { with: { type: 'json' } })).default.version}`

export async function connect() {
  assert.equal(process.env.E2B_DEBUG, 'true', 'run with E2B_DEBUG=true (the SDK debug mode)')
  const sandbox = await Sandbox.create()
  assert.equal(sandbox.sandboxId, 'debug_sandbox_id')
  return sandbox
}

/** A fresh name such as "sbx-it-files-1a2b3c4d". */
export function uniqueName(prefix) {
  return `sbx-it-${prefix}-${randomBytes(4).toString('hex')}`
}

/**
 * Polls `probe` until it returns a truthy value (returned), failing after `timeoutMs`.
 * `describe` explains what was awaited in the failure message.
 */
export async function until(probe, describe, { timeoutMs = 10_000, intervalMs = 50 } = {}) {
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

/** The rwx string of the permission bits of `mode`, e.g. 0o644 -> "rw-r--r--". */
export function rwx(mode) {
  const chars = 'rwxrwxrwx'
  let out = ''
  for (let bit = 8; bit >= 0; bit--) out += mode & (1 << bit) ? chars[8 - bit] : '-'
  return out
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
