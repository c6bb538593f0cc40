// PTYs: create, input, resize, output, kill.
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { CommandExitError, SDK_LABEL, connect, rejectsWith, until } from './support.mjs'

describe(`pty (${SDK_LABEL})`, () => {
  let sandbox

  before(async () => {
    sandbox = await connect()
  })

  test('create, sendInput, resize (stty size), onData, kill', async () => {
    const decoder = new TextDecoder()
    let output = ''
    const terminal = await sandbox.pty.create({
      cols: 80,
      rows: 24,
      timeoutMs: 30_000,
      onData: (data) => {
        assert.ok(data instanceof Uint8Array)
        output += decoder.decode(data, { stream: true })
      },
    })
    assert.ok(terminal.pid > 0)
    const input = (line) => sandbox.pty.sendInput(terminal.pid, new TextEncoder().encode(`${line}\n`))
    try {
      await input('stty size; echo "term=$TERM"')
      await until(() => /24 80/.test(output) && /term=xterm-256color/.test(output), `"24 80" from stty size; got ${JSON.stringify(output)}`)

      await sandbox.pty.resize(terminal.pid, { cols: 100, rows: 30 })
      await input('stty size')
      await until(() => /30 100/.test(output), `"30 100" after resize; got ${JSON.stringify(output.slice(-300))}`)

      await input('tty')
      await until(() => /\/dev\/pts\/\d+/.test(output), 'tty to name a pseudo-terminal')

      const listed = (await sandbox.commands.list()).find((p) => p.pid === terminal.pid)
      assert.ok(listed, 'the pty is in commands.list()')
      assert.deepEqual(listed.args, ['-i', '-l'])
    } finally {
      assert.equal(await sandbox.pty.kill(terminal.pid), true)
    }
    await rejectsWith(terminal.wait(), CommandExitError)
  })

  test('exit in the shell ends the pty with that code', async () => {
    const terminal = await sandbox.pty.create({ cols: 80, rows: 24, timeoutMs: 30_000, onData: () => {} })
    await sandbox.pty.sendInput(terminal.pid, new TextEncoder().encode('exit 7\n'))
    const error = await rejectsWith(terminal.wait(), CommandExitError)
    assert.equal(error.exitCode, 7)
  })

  test('pty.connect receives output of a running pty', async () => {
    const terminal = await sandbox.pty.create({ cols: 80, rows: 24, timeoutMs: 30_000, onData: () => {} })
    try {
      await terminal.disconnect()
      let output = ''
      const decoder = new TextDecoder()
      const again = await sandbox.pty.connect(terminal.pid, { onData: (data) => (output += decoder.decode(data, { stream: true })) })
      assert.equal(again.pid, terminal.pid)
      await sandbox.pty.sendInput(terminal.pid, new TextEncoder().encode('echo reconnected-$((40+2))\n'))
      await until(() => /reconnected-42/.test(output), 'output after pty.connect')
    } finally {
      await sandbox.pty.kill(terminal.pid)
    }
  })

  test('kill of an unknown pty returns false', async () => {
    assert.equal(await sandbox.pty.kill(4_194_304 + 54_321), false)
  })
})
