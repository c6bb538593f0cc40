// files.watchDir: recursive watching with entries, and stop().
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { DEFAULT_USER, FileNotFoundError, SDK_LABEL, connect, rejectsWith, uniqueName, until } from './support.mjs'

describe(`files.watchDir (${SDK_LABEL})`, () => {
  let sandbox
  let dir

  before(async () => {
    sandbox = await connect()
    const name = uniqueName('watch')
    await sandbox.files.makeDir(name)
    dir = (await sandbox.files.getInfo(name)).path
  })

  after(async () => {
    if (dir) await sandbox.files.remove(dir)
  })

  test('events for a file in the folder, with type and name', async () => {
    await sandbox.files.makeDir(`${dir}/flat`)
    const events = []
    const handle = await sandbox.files.watchDir(`${dir}/flat`, (e) => events.push(e))
    try {
      await sandbox.files.write(`${dir}/flat/a.txt`, 'a')
      await until(() => events.some((e) => e.name === 'a.txt' && (e.type === 'create' || e.type === 'write')), `an event for a.txt; got ${JSON.stringify(events)}`)
      await sandbox.files.remove(`${dir}/flat/a.txt`)
      await until(() => events.some((e) => e.name === 'a.txt' && e.type === 'remove'), `a remove event for a.txt; got ${JSON.stringify(events)}`)
      assert.ok(events.every((e) => e.entry === undefined), 'no entries unless includeEntry')
    } finally {
      await handle.stop()
    }
  })

  test('recursive with includeEntry: events in sub-folders carry the entry', async () => {
    await sandbox.files.makeDir(`${dir}/rec`)
    const events = []
    const handle = await sandbox.files.watchDir(`${dir}/rec`, (e) => events.push(e), { recursive: true, includeEntry: true })
    try {
      await sandbox.files.makeDir(`${dir}/rec/sub`)
      await until(() => events.some((e) => e.name === 'sub' && e.type === 'create'), `create of sub; got ${JSON.stringify(events)}`)
      await sandbox.files.write(`${dir}/rec/sub/n.txt`, 'nested')
      const event = await until(
        () => events.find((e) => e.name === 'sub/n.txt' && (e.type === 'create' || e.type === 'write') && e.entry),
        `an event with entry for sub/n.txt; got ${JSON.stringify(events)}`,
      )
      assert.equal(event.entry.path, `${dir}/rec/sub/n.txt`)
      assert.equal(event.entry.name, 'n.txt')
      assert.equal(event.entry.type, 'file')
      // an entry is a stat at event time: the create may still see the file before its chown
      await until(
        () => events.some((e) => e.name === 'sub/n.txt' && e.entry?.owner === DEFAULT_USER && e.entry?.size === 6),
        `an event whose entry shows the written file owned by ${DEFAULT_USER}; got ${JSON.stringify(events)}`,
      )
      await sandbox.files.rename(`${dir}/rec/sub/n.txt`, `${dir}/rec/sub/m.txt`)
      await until(() => events.some((e) => e.name === 'sub/n.txt' && e.type === 'rename'), `rename of sub/n.txt; got ${JSON.stringify(events)}`)
    } finally {
      await handle.stop()
    }
  })

  test('stop ends the watch: onExit is called and later changes are not reported', async () => {
    await sandbox.files.makeDir(`${dir}/stopped`)
    const events = []
    let exited
    const exit = new Promise((resolve) => (exited = resolve))
    const handle = await sandbox.files.watchDir(`${dir}/stopped`, (e) => events.push(e), { onExit: (err) => exited(err ?? 'clean') })
    await sandbox.files.write(`${dir}/stopped/before.txt`, 'b')
    await until(() => events.some((e) => e.name === 'before.txt'), 'the event before stop')
    await handle.stop()
    await exit

    // a second watcher proves the change after stop was seen by envd
    const seen = []
    const marker = await sandbox.files.watchDir(`${dir}/stopped`, (e) => seen.push(e))
    try {
      const count = events.length
      await sandbox.files.write(`${dir}/stopped/after.txt`, 'a')
      await until(() => seen.some((e) => e.name === 'after.txt'), 'the second watcher to see after.txt')
      assert.equal(events.length, count, `events after stop: ${JSON.stringify(events.slice(count))}`)
    } finally {
      await marker.stop()
    }
  })

  test('watching a missing folder fails', async () => {
    await rejectsWith(sandbox.files.watchDir(`${dir}/no-such-folder`, () => {}), FileNotFoundError)
  })
})
