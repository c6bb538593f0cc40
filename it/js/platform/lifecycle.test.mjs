// The control plane through the official SDK: create, getInfo, list (paged, metadata filter),
// connect, setTimeout, isRunning, getMetrics, kill, and expiry after a short timeout.
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { SDK_LABEL, ROUTING, Sandbox, SandboxNotFoundError, Sandboxes, TEMPLATE, rejectsWith, unique, until } from './support.mjs'

describe(`sandbox lifecycle (${SDK_LABEL}, ${ROUTING})`, () => {
  const sandboxes = new Sandboxes()
  after(() => sandboxes.killAll())

  test('create → getInfo → a command → kill, and the sandbox is gone', async () => {
    const run = unique()
    const sandbox = await sandboxes.create({ metadata: { run }, envs: { SBX_GREETING: 'hello' } })
    assert.match(sandbox.sandboxId, /^[a-z0-9]+$/)

    const info = await sandbox.getInfo()
    assert.equal(info.sandboxId, sandbox.sandboxId)
    assert.equal(info.state, 'running')
    assert.deepEqual(info.metadata, { run })
    assert.ok(info.startedAt instanceof Date && info.endAt > info.startedAt, `${info.startedAt} < ${info.endAt}`)
    assert.ok(info.cpuCount >= 1 && info.memoryMB >= 128, JSON.stringify(info))

    const result = await sandbox.commands.run('echo "$SBX_GREETING from $(hostname)"')
    assert.equal(result.exitCode, 0)
    assert.equal(result.stdout, `hello from ${sandbox.sandboxId}\n`)

    assert.equal(await sandbox.isRunning(), true)
    assert.equal(await sandbox.kill(), true, 'kill() finds and kills it')
    assert.equal(await sandbox.isRunning(), false)
    assert.equal(await Sandbox.kill(sandbox.sandboxId), false, 'a second kill finds nothing')
    await rejectsWith(Sandbox.getInfo(sandbox.sandboxId), SandboxNotFoundError)
  })

  test('list filters by metadata and pages with nextToken', async () => {
    const run = unique()
    const created = []
    for (let i = 0; i < 3; i++) created.push(await sandboxes.create({ metadata: { run, index: String(i) } }))

    const paginator = Sandbox.list({ query: { metadata: { run } }, limit: 2 })
    const first = await paginator.nextItems()
    assert.equal(first.length, 2)
    assert.equal(paginator.hasNext, true)
    const second = await paginator.nextItems()
    assert.equal(second.length, 1)
    assert.equal(paginator.hasNext, false)

    const listed = [...first, ...second].map((s) => s.sandboxId).sort()
    assert.deepEqual(listed, created.map((s) => s.sandboxId).sort())
    for (const s of [...first, ...second]) {
      assert.equal(s.state, 'running')
      assert.equal(s.metadata.run, run)
    }
    // newest first
    assert.ok(first[0].startedAt >= first[1].startedAt && first[1].startedAt >= second[0].startedAt)

    const none = await Sandbox.list({ query: { metadata: { run: `${run}-other` } } }).nextItems()
    assert.deepEqual(none, [])
    for (const s of created) await s.kill()
  })

  test('connect reaches a running sandbox by id and keeps its files', async () => {
    const sandbox = await sandboxes.create()
    await sandbox.files.write('/tmp/connect.txt', 'kept')
    const again = await Sandbox.connect(sandbox.sandboxId)
    assert.equal(again.sandboxId, sandbox.sandboxId)
    assert.equal(await again.files.read('/tmp/connect.txt'), 'kept')
    await sandbox.kill()
    await rejectsWith(Sandbox.connect(sandbox.sandboxId), SandboxNotFoundError)
  })

  test('setTimeout moves endAt, and a sandbox past its timeout is removed', async () => {
    const sandbox = await sandboxes.create()
    const before = await sandbox.getInfo()
    await sandbox.setTimeout(600_000)
    const later = await sandbox.getInfo()
    assert.ok(later.endAt > before.endAt, `${later.endAt} > ${before.endAt}`)

    await sandbox.setTimeout(2_000)
    await until(async () => !(await sandbox.isRunning()), 'the sandbox to stop after its 2 s timeout', { timeoutMs: 20_000 })
    await rejectsWith(Sandbox.getInfo(sandbox.sandboxId), SandboxNotFoundError)
  })

  test('getMetrics reports CPU, memory and disk of the sandbox', async () => {
    const sandbox = await sandboxes.create()
    const metrics = await until(async () => {
      const m = await sandbox.getMetrics()
      return m.length > 0 ? m : null
    }, 'a first metrics sample')
    const last = metrics[metrics.length - 1]
    assert.ok(last.memTotal > 0 && last.memUsed > 0 && last.memUsed <= last.memTotal, JSON.stringify(last))
    assert.ok(last.diskTotal > 0 && last.diskUsed >= 0, JSON.stringify(last))
    assert.ok(last.cpuCount >= 1 && last.cpuUsedPct >= 0, JSON.stringify(last))
    await sandbox.kill()
  })

  test(`an unknown template is refused (${TEMPLATE} exists)`, async () => {
    await assert.rejects(Sandbox.create(`no-such-${unique('t')}`), (err) => {
      assert.match(err.message, /not found/i)
      return true
    })
  })
})

