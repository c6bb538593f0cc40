// envd through the client proxy: commands, files (also signed upload/download URLs), and a PTY,
// in a sandbox of the template under test (python3 is part of E2B's base template).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { CommandExitError, DOMAIN, SDK_LABEL, ROUTING, Sandboxes, TEMPLATE, rejectsWith, requestHost, unique } from './support.mjs'

describe(`envd through the proxy (${SDK_LABEL}, ${ROUTING})`, () => {
  const sandboxes = new Sandboxes()
  let sandbox
  before(async () => {
    sandbox = await sandboxes.create()
  })
  after(() => sandboxes.killAll())

  test("python3 -c 'print(1+1)' prints 2", { skip: TEMPLATE !== 'base' && 'python3 is in the base template' }, async () => {
    const result = await sandbox.commands.run(`python3 -c 'print(1+1)'`)
    assert.equal(result.stdout, '2\n')
  })

  test('commands run as the default user in its home, and a failure is a CommandExitError', async () => {
    const result = await sandbox.commands.run('whoami; pwd')
    assert.equal(result.stdout, 'user\n/home/user\n')
    const error = await rejectsWith(sandbox.commands.run('echo out; echo err >&2; exit 3'), CommandExitError)
    assert.equal(error.exitCode, 3)
    assert.equal(error.stdout, 'out\n')
    assert.equal(error.stderr, 'err\n')
  })

  test('output streams while the command runs; a background command can be killed', async () => {
    const chunks = []
    await sandbox.commands.run('for i in 1 2 3; do echo $i; sleep 0.2; done', { onStdout: (d) => chunks.push(d) })
    assert.equal(chunks.join(''), '1\n2\n3\n')
    assert.ok(chunks.length >= 2, `streamed in ${chunks.length} chunk(s)`)

    const handle = await sandbox.commands.run('sleep 600', { background: true })
    const listed = await sandbox.commands.list()
    assert.ok(listed.some((p) => p.pid === handle.pid), 'the background command is listed')
    assert.equal(await handle.kill(), true)
  })

  test('files: write, read, list, rename, remove', async () => {
    const dir = `/home/user/${unique('files')}`
    await sandbox.files.makeDir(dir)
    const content = 'x'.repeat(1 << 20)
    await sandbox.files.write(`${dir}/big.txt`, content)
    assert.equal(await sandbox.files.read(`${dir}/big.txt`), content)
    const entries = await sandbox.files.list(dir)
    assert.deepEqual(entries.map((e) => [e.name, e.size]), [['big.txt', 1 << 20]])
    await sandbox.files.rename(`${dir}/big.txt`, `${dir}/moved.txt`)
    assert.equal(await sandbox.files.exists(`${dir}/big.txt`), false)
    await sandbox.files.remove(dir)
    assert.equal(await sandbox.files.exists(dir), false)
  })

  // Signed URLs carry no sandbox header. With E2B_SANDBOX_URL they would arrive at the shared proxy
  // address naming no sandbox at all, which the proxy cannot route yet; at the sandbox's own host
  // (E2B's layout without a shared sandbox URL) they work: sent there with Host routing.
  test('signed upload and download URLs work through the proxy at the sandbox host', async () => {
    const path = `/home/user/${unique('signed')}.txt`
    const host = `49983-${sandbox.sandboxId}.${DOMAIN}`
    const upload = new URL(await sandbox.uploadUrl(path))
    assert.ok(upload.searchParams.get('signature'), `signed: ${upload}`)
    const put = await requestHost(host, {
      method: 'POST',
      path: upload.pathname + upload.search,
      headers: { 'content-type': 'application/octet-stream' },
      body: 'signed content',
    })
    assert.equal(put.status, 200, put.body)
    const download = new URL(await sandbox.downloadUrl(path))
    const get = await requestHost(host, { path: download.pathname + download.search })
    assert.equal(get.status, 200, get.body)
    assert.equal(get.body, 'signed content')

    const forged = await requestHost(host, { path: download.pathname + download.search.replace(/signature=[^&]+/, 'signature=v1_forged') })
    assert.equal(forged.status, 401, forged.body)
  })

  test('signed URLs at the shared sandbox URL (E2B_SANDBOX_URL) find their sandbox', { skip: !process.env.E2B_SANDBOX_URL && 'host routing' }, async () => {
    const path = `/home/user/${unique('shared')}.txt`
    const form = new FormData()
    form.append('file', new Blob(['shared content']), 'shared.txt')
    const upload = await fetch(await sandbox.uploadUrl(path), { method: 'POST', body: form })
    assert.equal(upload.status, 200, await upload.text())
    const download = await fetch(await sandbox.downloadUrl(path))
    assert.equal(download.status, 200)
    assert.equal(await download.text(), 'shared content')
  })

  test('a PTY is a terminal', async () => {
    let output = ''
    const pty = await sandbox.pty.create({ cols: 80, rows: 24, onData: (d) => (output += new TextDecoder().decode(d)) })
    await sandbox.pty.sendInput(pty.pid, new TextEncoder().encode('tty; stty size; exit\n'))
    await pty.wait().catch(() => {})
    assert.match(output, /\/dev\/pts\/\d+/)
    assert.match(output, /24 80/)
  })
})
