// Keys and team limits as the SDK meets them: a wrong key is an AuthenticationError, the team's
// concurrency limit is a RateLimitError (429), and freeing a slot lets the next create through.
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { AuthenticationError, RateLimitError, SDK_LABEL, Sandbox, TEMPLATE, rejectsWith } from './support.mjs'

const LIMITED_KEY = process.env.SBX_LIMITED_API_KEY
const LIMIT = Number(process.env.SBX_LIMITED_CONCURRENCY ?? 0)

describe(`keys and limits (${SDK_LABEL})`, () => {
  const created = []
  after(async () => {
    for (const s of created) await s.kill().catch(() => {})
  })

  test('a key sbx never issued gets AuthenticationError', async () => {
    const wrong = `e2b_${'0'.repeat(40)}`
    const error = await rejectsWith(Sandbox.create(TEMPLATE, { apiKey: wrong }), AuthenticationError)
    assert.match(error.message, /invalid api key/i)
    await rejectsWith(Sandbox.list({ apiKey: wrong }).nextItems(), AuthenticationError)
  })

  test('the concurrency limit answers 429, and a kill frees a slot', { skip: !LIMITED_KEY && 'no limited key' }, async () => {
    assert.ok(LIMIT >= 1, 'SBX_LIMITED_CONCURRENCY')
    const opts = { apiKey: LIMITED_KEY, timeoutMs: 60_000 }
    for (let i = 0; i < LIMIT; i++) created.push(await Sandbox.create(TEMPLATE, opts))

    const error = await rejectsWith(Sandbox.create(TEMPLATE, { ...opts, retries: 0 }), RateLimitError)
    assert.match(error.message, new RegExp(`maximum number of concurrent E2B sandboxes \\(${LIMIT}\\)`))

    // the other team is not limited by this one
    const other = await Sandbox.create(TEMPLATE, { timeoutMs: 60_000 })
    created.push(other)

    await created.shift().kill()
    created.push(await Sandbox.create(TEMPLATE, opts))
  })
})
