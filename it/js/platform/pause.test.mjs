// Pause and resume with memory, auto-pause on timeout, auto-resume by traffic through the client
// proxy, snapshots and fork (issue 7), with the official SDK against the whole server. A Python
// server in the sandbox keeps a random token and a request counter in its memory only: the same
// token after a resume (or in a fork / a sandbox from a snapshot) and a counter that goes on from
// where it was show that the process and its memory were kept, not restarted.
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { Sandbox, SandboxNotFoundError, SDK_LABEL, Sandboxes, TEMPLATE, requestHost, unique, until } from './support.mjs'

const MEMORY_SERVER = String.raw`
import http.server, json, secrets
state = {"token": secrets.token_hex(8), "n": 0}
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        state["n"] += 1
        body = json.dumps(state).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
`

// counts in a shell variable (memory), writes it to a file every 100 ms
const COUNTER = `sh -c 'i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done'`

/**
 * Starts the memory server and the counter as the sandbox's default user, as an SDK user's
 * commands run; returns the server's first answer.
 */
async function startServers(sandbox) {
  await sandbox.files.write('/home/user/memory_server.py', MEMORY_SERVER)
  const server = await sandbox.commands.run('python3 /home/user/memory_server.py', { background: true })
  const counter = await sandbox.commands.run(COUNTER, { background: true })
  const first = await ask(sandbox, { timeoutMs: 30_000 })
  return { server, counter, first }
}

/** GET / of the memory server through the client proxy (retried until it answers 200). */
async function ask(sandbox, { timeoutMs = 15_000 } = {}) {
  const response = await until(async () => {
    const r = await requestHost(sandbox.getHost(8000), { headers: { accept: 'application/json' } })
    return r.status === 200 ? r : null
  }, `the memory server of ${sandbox.sandboxId} to answer`, { timeoutMs })
  return JSON.parse(response.body)
}

async function count(sandbox) {
  return Number((await sandbox.files.read('/tmp/count')).trim())
}

describe(`pause, resume, snapshots and fork (${SDK_LABEL})`, { skip: TEMPLATE !== 'base' && 'the servers run on python3 (base template)' }, () => {
  const sandboxes = new Sandboxes()
  const snapshots = []
  after(async () => {
    for (const id of snapshots) await Sandbox.deleteSnapshot(id).catch(() => {})
    await sandboxes.killAll()
  })

  test('pause keeps processes, memory and files; connect resumes the same sandbox', async () => {
    const sandbox = await sandboxes.create()
    await sandbox.files.write('/home/user/kept.txt', 'written before the pause')
    const { server, counter, first } = await startServers(sandbox)
    assert.equal(first.n, 1)
    await until(async () => (await count(sandbox)) >= 5, 'the counter to count')
    const before = await count(sandbox)

    assert.equal(await sandbox.pause(), true)
    assert.equal(await sandbox.isRunning(), false)
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId)).state, 'paused')
    assert.equal(await sandbox.pause(), false, 'pausing a paused sandbox is false (409)')
    assert.equal(await Sandbox.pause(sandbox.sandboxId), false)

    const resumed = await Sandbox.connect(sandbox.sandboxId, { timeoutMs: 120_000 })
    assert.equal(resumed.sandboxId, sandbox.sandboxId)
    assert.equal(await resumed.isRunning(), true)
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId)).state, 'running')
    assert.equal(await resumed.files.read('/home/user/kept.txt'), 'written before the pause')

    // the same processes, not new ones: the server's token is the one it drew at start and its
    // counter goes on; the shell loop counts on from where it was
    const again = await ask(resumed)
    assert.equal(again.token, first.token)
    assert.equal(again.n, 2)
    const pids = (await resumed.commands.list()).map((p) => p.pid)
    assert.ok(pids.includes(server.pid), `the server ${server.pid} runs (${pids})`)
    assert.ok(pids.includes(counter.pid), `the counter ${counter.pid} runs (${pids})`)
    const afterResume = await count(resumed)
    assert.ok(afterResume >= before, `the counter went on from ${before} (now ${afterResume})`)
    await until(async () => (await count(resumed)) > afterResume, 'the counter to keep counting')

    // connect to a running sandbox keeps it running (200)
    const same = await Sandbox.connect(sandbox.sandboxId, { timeoutMs: 120_000 })
    assert.equal((await ask(same)).n, 3)
  })

  test('a files-only pause keeps the files and boots cold', async () => {
    const sandbox = await sandboxes.create()
    await sandbox.files.write('/home/user/cold.txt', 'kept on disk')
    const { first } = await startServers(sandbox)
    assert.equal(await sandbox.pause({ keepMemory: false }), true)
    const resumed = await Sandbox.connect(sandbox.sandboxId, { timeoutMs: 120_000 })
    assert.equal(await resumed.files.read('/home/user/cold.txt'), 'kept on disk')
    const response = await requestHost(resumed.getHost(8000), { headers: { accept: 'application/json' } })
    assert.equal(response.status, 502, 'no process survived a files-only pause')
    assert.notEqual(first.token, undefined)
  })

  test('killing a paused sandbox deletes it; connect then finds nothing', async () => {
    const sandbox = await sandboxes.create()
    assert.equal(await sandbox.pause(), true)
    assert.equal(await Sandbox.kill(sandbox.sandboxId), true)
    assert.equal(await Sandbox.kill(sandbox.sandboxId), false)
    await assert.rejects(Sandbox.connect(sandbox.sandboxId), SandboxNotFoundError)
    await assert.rejects(Sandbox.getInfo(sandbox.sandboxId), SandboxNotFoundError)
  })

  test('autoPause at the timeout, then a request through the proxy resumes it and is served', async () => {
    const sandbox = await sandboxes.create({ timeoutMs: 120_000, lifecycle: { onTimeout: 'pause', autoResume: true } })
    const info = await Sandbox.getInfo(sandbox.sandboxId)
    assert.deepEqual(info.lifecycle, { onTimeout: 'pause', autoResume: true })
    const { first } = await startServers(sandbox)
    // a short timeout from now (the create's is long so that the servers start in time)
    await sandbox.setTimeout(3_000)

    await until(async () => (await Sandbox.getInfo(sandbox.sandboxId)).state === 'paused', 'the auto-pause', {
      timeoutMs: 90_000,
      intervalMs: 500,
    })

    // the proxy holds this request while the sandbox resumes, then forwards it
    const response = await requestHost(sandbox.getHost(8000), { headers: { accept: 'application/json' } })
    assert.equal(response.status, 200, response.body)
    const served = JSON.parse(response.body)
    assert.equal(served.token, first.token)
    assert.equal(served.n, 2)
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId)).state, 'running')
  })

  test('a paused sandbox without autoResume gets the 502 "not found" through the proxy', async () => {
    const sandbox = await sandboxes.create()
    assert.equal(await sandbox.pause(), true)
    const response = await requestHost(sandbox.getHost(8000), { headers: { accept: 'application/json' } })
    assert.equal(response.status, 502)
    assert.equal(JSON.parse(response.body).message, 'The sandbox was not found')
    assert.equal((await Sandbox.getInfo(sandbox.sandboxId)).state, 'paused')
  })

  test('a snapshot is a template: a new sandbox starts from its files and memory', async () => {
    const sandbox = await sandboxes.create()
    await sandbox.files.write('/home/user/snap.txt', 'in the snapshot')
    const { first } = await startServers(sandbox)
    const name = unique('snap')
    const snapshot = await sandbox.createSnapshot({ name })
    snapshots.push(snapshot.snapshotId)
    assert.ok(snapshot.names.some((n) => n.includes(name)), JSON.stringify(snapshot))
    assert.equal(await sandbox.isRunning(), true, 'the sandbox runs on after the snapshot')

    const listed = await Sandbox.listSnapshots({ sandboxId: sandbox.sandboxId }).nextItems()
    assert.deepEqual(listed.map((s) => s.snapshotId), [snapshot.snapshotId])

    await sandbox.files.write('/home/user/snap.txt', 'changed after the snapshot')
    const fromSnapshot = await Sandbox.create(snapshot.snapshotId, { timeoutMs: 120_000 })
    await sandboxes.adopt(fromSnapshot)
    assert.notEqual(fromSnapshot.sandboxId, sandbox.sandboxId)
    assert.equal(await fromSnapshot.files.read('/home/user/snap.txt'), 'in the snapshot')
    const state = await ask(fromSnapshot)
    assert.equal(state.token, first.token, 'the server from the snapshot has its memory')
    assert.equal(state.n, 2)

    assert.equal(await Sandbox.deleteSnapshot(snapshot.snapshotId), true)
    assert.equal(await Sandbox.deleteSnapshot(snapshot.snapshotId), false)
  })

  test('fork gives 3 sandboxes with the parent\'s files and memory, independent afterwards', async () => {
    const parent = await sandboxes.create()
    await parent.files.write('/home/user/fork.txt', 'from the parent')
    const { first } = await startServers(parent)

    const forks = await parent.fork({ count: 3, timeoutMs: 120_000 })
    assert.equal(forks.length, 3)
    for (const fork of forks) {
      assert.ok(fork instanceof Sandbox, `a fork failed: ${fork?.message}`)
      await sandboxes.adopt(fork)
    }
    const ids = new Set([parent.sandboxId, ...forks.map((f) => f.sandboxId)])
    assert.equal(ids.size, 4)

    for (const [i, fork] of forks.entries()) {
      assert.equal(await fork.files.read('/home/user/fork.txt'), 'from the parent')
      const state = await ask(fork)
      assert.equal(state.token, first.token, 'the fork has the parent server\'s memory')
      assert.equal(state.n, 2)
      await fork.files.write('/home/user/fork.txt', `fork ${i}`)
    }
    // independent: each fork's file and counter are its own, the parent is untouched
    for (const [i, fork] of forks.entries()) {
      assert.equal(await fork.files.read('/home/user/fork.txt'), `fork ${i}`)
      assert.equal((await ask(fork)).n, 3)
    }
    assert.equal(await parent.files.read('/home/user/fork.txt'), 'from the parent')
    assert.equal((await ask(parent)).n, 2)
    await forks[0].kill()
    assert.equal(await forks[1].isRunning(), true)
    assert.equal(await parent.isRunning(), true)
  })
})
