// The access token: POST /init {accessToken} makes envd require X-Access-Token on everything
// except /health (and signed /files); POST /init without a token, sent with the current token,
// opens it again. The SDK in debug mode sends no token, so it must surface AuthenticationError.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { AuthenticationError, DEFAULT_USER, ENVD_URL, SCRATCH, SDK_LABEL, Sandbox, connect, rejectsWith } from './support.mjs'

const TOKEN = `sbx-it-${randomBytes(16).toString('hex')}`

function init(body, token) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers['x-access-token'] = token
  return fetch(`${ENVD_URL}/init`, { method: 'POST', headers, body: JSON.stringify(body) })
}

function stat(path, token) {
  const headers = { 'content-type': 'application/json', 'connect-protocol-version': '1' }
  if (token) headers['x-access-token'] = token
  return fetch(`${ENVD_URL}/filesystem.Filesystem/Stat`, { method: 'POST', headers, body: JSON.stringify({ path }) })
}

describe(`access token (${SDK_LABEL})`, () => {
  let sandbox

  before(async () => {
    sandbox = await connect()
    const response = await init({ accessToken: TOKEN, defaultUser: DEFAULT_USER })
    assert.equal(response.status, 204, `POST /init with a token: ${await response.text()}`)
  })

  after(async () => {
    // back to an open envd for the other test files, also when a test here failed
    const response = await init({ defaultUser: DEFAULT_USER }, TOKEN)
    assert.equal(response.status, 204, `POST /init to clear the token: ${await response.text()}`)
    assert.equal((await stat('/')).status, 200, 'envd is open again')
  })

  test('a request without the token gets 401 with envd\'s JSON error', async () => {
    const response = await stat('/')
    assert.equal(response.status, 401)
    const body = await response.json()
    assert.equal(body.code, 401)
    assert.equal(typeof body.message, 'string')
  })

  test('a request with a wrong token gets 401', async () => {
    assert.equal((await stat('/', `${TOKEN}-wrong`)).status, 401)
  })

  test('a request with the token is served', async () => {
    const response = await stat('/', TOKEN)
    const text = await response.text()
    assert.equal(response.status, 200, text)
    const body = JSON.parse(text)
    assert.equal(body.entry.path, '/')
  })

  test('/health needs no token', async () => {
    assert.equal((await fetch(`${ENVD_URL}/health`)).status, 204)
    assert.equal(await sandbox.isRunning(), true)
  })

  test('the SDK without the token gets AuthenticationError from unary RPCs', async () => {
    await rejectsWith(sandbox.files.getInfo('/'), AuthenticationError)
    await rejectsWith(sandbox.files.list('/'), AuthenticationError)
    await rejectsWith(sandbox.commands.list(), AuthenticationError)
  })

  test('the SDK without the token gets AuthenticationError from streaming RPCs', async () => {
    await rejectsWith(sandbox.commands.run('echo never'), AuthenticationError)
    await rejectsWith(sandbox.files.watchDir('/tmp', () => {}), AuthenticationError)
  })

  test('the SDK without the token gets AuthenticationError from /files', async () => {
    await rejectsWith(sandbox.files.read('/etc/hostname'), AuthenticationError)
    await rejectsWith(sandbox.files.write(`${SCRATCH}/never-written`, 'x'), AuthenticationError)
  })

  test('the SDK with the token (as after a real Sandbox.create) is served', async () => {
    // what Sandbox.create builds from the API's envdAccessToken; debug keeps it on localhost:49983
    const withToken = new Sandbox({ sandboxId: 'debug_sandbox_id', envdVersion: '99.99.99', envdAccessToken: TOKEN, debug: true })
    assert.equal((await withToken.files.getInfo('/')).type, 'dir')
    assert.equal((await withToken.commands.run('echo with-token')).stdout, 'with-token\n')
    assert.match(await withToken.files.read('/etc/passwd'), /^root:/)
  })

  test('/init without the current token is refused and keeps the token', async () => {
    const response = await init({ defaultUser: DEFAULT_USER })
    assert.equal(response.status, 401)
    assert.equal((await stat('/')).status, 401)
  })
})
