// Background commands: connect, list, kill, stdin; and command timeouts.
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { CommandExitError, NotFoundError, SDK_LABEL, TimeoutError, connect, rejectsWith, until } from './support.mjs'

/** A pid that no process of envd has (above the kernel's pid_max of 2^22). */
const UNKNOWN_PID = 4_194_304 + 12_345

describe(`background commands (${SDK_LABEL})`, () => {
  let sandbox

  before(async () => {
    sandbox = await connect()
  })

  async function listed(pid) {
    return (await sandbox.commands.list()).find((p) => p.pid === pid)
  }

  test('run({background:true}) returns a handle at once; wait() gives the result', async () => {
    const handle = await sandbox.commands.run('sleep 0.5; echo finished', { background: true })
    assert.ok(Number.isInteger(handle.pid) && handle.pid > 0, `pid ${handle.pid}`)
    assert.equal(handle.exitCode, undefined)
    const result = await handle.wait()
    assert.equal(result.exitCode, 0)
    assert.equal(result.stdout, 'finished\n')
    assert.equal(handle.exitCode, 0)
  })

  test('commands.list shows a running command with its config', async () => {
    const handle = await sandbox.commands.run('sleep 30', { background: true, envs: { SBX_IT: 'listed' }, cwd: '/tmp' })
    try {
      const info = await listed(handle.pid)
      assert.ok(info, `pid ${handle.pid} not in commands.list()`)
      assert.equal(info.cmd, '/bin/bash')
      assert.deepEqual(info.args, ['-l', '-c', 'sleep 30'])
      assert.equal(info.envs.SBX_IT, 'listed')
      assert.equal(info.cwd, '/tmp')
    } finally {
      await sandbox.commands.kill(handle.pid)
    }
  })

  test('kill returns true, ends the command, and it leaves the list', async () => {
    const handle = await sandbox.commands.run('sleep 30', { background: true })
    assert.equal(await sandbox.commands.kill(handle.pid), true)
    const error = await rejectsWith(handle.wait(), CommandExitError)
    assert.notEqual(error.exitCode, 0)
    await until(async () => !(await listed(handle.pid)), `pid ${handle.pid} to leave commands.list()`)
  })

  test('kill of an unknown pid returns false', async () => {
    assert.equal(await sandbox.commands.kill(UNKNOWN_PID), false)
  })

  test('handle.kill() kills the command', async () => {
    const handle = await sandbox.commands.run('sleep 30', { background: true })
    assert.equal(await handle.kill(), true)
    await rejectsWith(handle.wait(), CommandExitError)
  })

  test('commands.connect attaches to a running command and receives its later output', async () => {
    const first = await sandbox.commands.run('sleep 2; echo after-connect; exit 4', { background: true })
    await first.disconnect()
    const chunks = []
    const second = await sandbox.commands.connect(first.pid, { onStdout: (data) => chunks.push(data) })
    assert.equal(second.pid, first.pid)
    const error = await rejectsWith(second.wait(), CommandExitError)
    assert.equal(error.exitCode, 4)
    assert.match(chunks.join(''), /after-connect/)
  })

  test('commands.connect to an unknown pid fails', async () => {
    await rejectsWith(sandbox.commands.connect(UNKNOWN_PID), NotFoundError)
  })

  test('sendStdin and closeStdin drive cat', async () => {
    const chunks = []
    const handle = await sandbox.commands.run('cat', { background: true, stdin: true, onStdout: (data) => chunks.push(data) })
    await sandbox.commands.sendStdin(handle.pid, 'hello\n')
    await until(() => chunks.join('') === 'hello\n', 'cat to echo the first line')
    await handle.sendStdin(new TextEncoder().encode('wörld\n'))
    await until(() => chunks.join('') === 'hello\nwörld\n', 'cat to echo the second line')
    await sandbox.commands.closeStdin(handle.pid)
    const result = await handle.wait()
    assert.equal(result.exitCode, 0)
    assert.equal(result.stdout, 'hello\nwörld\n')
  })

  test('handle.closeStdin ends wc with its count', async () => {
    const handle = await sandbox.commands.run('wc -c', { background: true, stdin: true })
    await handle.sendStdin('12345')
    await handle.closeStdin()
    const result = await handle.wait()
    assert.equal(result.stdout.trim(), '5')
  })

  test('sendStdin to an unknown pid fails', async () => {
    await rejectsWith(sandbox.commands.sendStdin(UNKNOWN_PID, 'x'), NotFoundError)
  })
})

describe(`command timeouts (${SDK_LABEL})`, () => {
  let sandbox

  before(async () => {
    sandbox = await connect()
  })

  test('run with a short timeoutMs throws TimeoutError', async () => {
    const started = Date.now()
    await rejectsWith(sandbox.commands.run('sleep 20', { timeoutMs: 1000 }), TimeoutError)
    assert.ok(Date.now() - started < 15_000, 'the timeout did not cut the command short')
  })

  test('the timeout also ends the process in the sandbox', async () => {
    const handle = await sandbox.commands.run('sleep 20', { background: true, timeoutMs: 1000 })
    await rejectsWith(handle.wait(), TimeoutError)
    await until(async () => !(await sandbox.commands.list()).some((p) => p.pid === handle.pid), `pid ${handle.pid} to leave commands.list()`)
    await until(async () => !(await sandbox.files.exists(`/proc/${handle.pid}`)), `pid ${handle.pid} to be gone from /proc`)
  })

  test('timeoutMs 0 means no limit', async () => {
    const result = await sandbox.commands.run('sleep 1.5; echo ok', { timeoutMs: 0 })
    assert.equal(result.stdout, 'ok\n')
  })
})
