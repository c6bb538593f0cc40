// commands.run: output, exit codes, environment, working directory, users.
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import {
  AuthenticationError,
  CommandExitError,
  DEFAULT_USER,
  InvalidArgumentError,
  SandboxError,
  SCRATCH,
  SDK_LABEL,
  connect,
  rejectsWith,
} from './support.mjs'

describe(`commands.run (${SDK_LABEL})`, () => {
  let sandbox
  let defaultUid
  let defaultHome

  before(async () => {
    sandbox = await connect()
    const passwd = await sandbox.commands.run(`getent passwd ${DEFAULT_USER}`, { user: 'root' })
    const fields = passwd.stdout.trim().split(':')
    defaultUid = fields[2]
    defaultHome = fields[5]
  })

  test('stdout of a command', async () => {
    const result = await sandbox.commands.run('echo hello')
    assert.equal(result.exitCode, 0)
    assert.equal(result.stdout, 'hello\n')
    assert.equal(result.stderr, '')
    assert.equal(result.error, undefined)
  })

  test('stderr of a command', async () => {
    const result = await sandbox.commands.run('echo out; echo err >&2')
    assert.equal(result.stdout, 'out\n')
    assert.equal(result.stderr, 'err\n')
  })

  test('output callbacks see every chunk', async () => {
    const out = []
    const err = []
    const result = await sandbox.commands.run('for i in 1 2 3; do echo o$i; echo e$i >&2; done', {
      onStdout: (data) => out.push(data),
      onStderr: (data) => err.push(data),
    })
    assert.equal(out.join(''), 'o1\no2\no3\n')
    assert.equal(err.join(''), 'e1\ne2\ne3\n')
    assert.equal(result.stdout, 'o1\no2\no3\n')
  })

  test('large output arrives whole', async () => {
    const result = await sandbox.commands.run('head -c 300000 /dev/zero | tr "\\0" a')
    assert.equal(result.stdout.length, 300000)
    assert.match(result.stdout, /^a+$/)
  })

  test('a non-zero exit code throws CommandExitError with the output', async () => {
    const error = await rejectsWith(sandbox.commands.run('echo partial; echo bad >&2; exit 3'), CommandExitError)
    assert.ok(error instanceof SandboxError)
    assert.equal(error.exitCode, 3)
    assert.equal(error.stdout, 'partial\n')
    assert.equal(error.stderr, 'bad\n')
  })

  test('exit code 1 of false', async () => {
    const error = await rejectsWith(sandbox.commands.run('false'), CommandExitError)
    assert.equal(error.exitCode, 1)
  })

  test('envs reach the command', async () => {
    const result = await sandbox.commands.run('echo "$FOO|$BAR"', { envs: { FOO: 'foo value', BAR: 'b=a=r' } })
    assert.equal(result.stdout, 'foo value|b=a=r\n')
  })

  test('E2B_SANDBOX is set in every command', async () => {
    const result = await sandbox.commands.run('echo $E2B_SANDBOX')
    assert.equal(result.stdout, 'true\n')
  })

  test('cwd sets the working directory', async () => {
    const result = await sandbox.commands.run('pwd', { cwd: SCRATCH })
    assert.equal(result.stdout, `${SCRATCH}\n`)
  })

  test('without cwd a command runs in the home directory of its user', async () => {
    assert.equal((await sandbox.commands.run('pwd')).stdout, `${defaultHome}\n`)
    assert.equal((await sandbox.commands.run('pwd', { user: 'root' })).stdout, '/root\n')
  })

  test('a cwd that does not exist is an InvalidArgumentError', async () => {
    await rejectsWith(sandbox.commands.run('pwd', { cwd: '/sbx-it-no-such-dir' }), InvalidArgumentError)
  })

  test('the default user is the one from /init', async () => {
    const result = await sandbox.commands.run('whoami; id -u; echo $HOME; echo $USER')
    assert.equal(result.stdout, `${DEFAULT_USER}\n${defaultUid}\n${defaultHome}\n${DEFAULT_USER}\n`)
    assert.notEqual(defaultUid, '0')
  })

  test("user 'root' runs as root", async () => {
    const result = await sandbox.commands.run('whoami; id -u; echo $HOME', { user: 'root' })
    assert.equal(result.stdout, 'root\n0\n/root\n')
  })

  test('an explicit user equal to the default user', async () => {
    const result = await sandbox.commands.run('whoami', { user: DEFAULT_USER })
    assert.equal(result.stdout, `${DEFAULT_USER}\n`)
  })

  test('an unknown user is an AuthenticationError', async () => {
    await rejectsWith(sandbox.commands.run('true', { user: 'sbx-it-nobody' }), AuthenticationError)
  })

  test('stdin is closed unless asked for', async () => {
    const result = await sandbox.commands.run('cat; echo done', { timeoutMs: 10_000 })
    assert.equal(result.stdout, 'done\n')
  })

  test('a login shell runs the command', async () => {
    const result = await sandbox.commands.run('shopt -q login_shell && echo login')
    assert.equal(result.stdout, 'login\n')
  })
})
