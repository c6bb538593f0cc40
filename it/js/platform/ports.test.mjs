// A user's own servers inside a sandbox, reached at sandbox.getHost(port) through the client proxy
// (HTTP and WebSocket), and E2B's 502 body for a port nobody listens on.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import { after, before, describe, test } from 'node:test'
import { PROXY_URL, SDK_LABEL, Sandboxes, TEMPLATE, requestHost, until } from './support.mjs'

// A WebSocket echo server in the Python standard library only (RFC 6455: handshake, frames up to
// 64 KiB - 1, masked from the client, unmasked back; close frames end the connection).
const WS_ECHO = String.raw`
import base64, hashlib, socketserver, struct
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        key = None
        while True:
            line = self.rfile.readline().strip()
            if not line: break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key": key = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        while True:
            head = self.rfile.read(2)
            if len(head) < 2: return
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126: length = struct.unpack(">H", self.rfile.read(2))[0]
            mask = self.rfile.read(4)
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(length)))
            if opcode == 8: return
            header = bytes([0x80 | opcode]) + (bytes([length]) if length < 126 else bytes([126]) + struct.pack(">H", length))
            self.wfile.write(header + data); self.wfile.flush()
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("0.0.0.0", 8765), Echo).serve_forever()
`

describe(`user servers through the proxy (${SDK_LABEL})`, { skip: TEMPLATE !== 'base' && 'the servers run on python3 (base template)' }, () => {
  const sandboxes = new Sandboxes()
  let sandbox
  before(async () => {
    sandbox = await sandboxes.create()
    await sandbox.files.write('/home/user/www/hello.txt', 'hello from the sandbox')
    await sandbox.files.write('/home/user/ws_echo.py', WS_ECHO)
    await sandbox.commands.run('python3 -m http.server 8000 --directory /home/user/www', { background: true })
    await sandbox.commands.run('python3 /home/user/ws_echo.py', { background: true })
  })
  after(() => sandboxes.killAll())

  test('an HTTP server on port 8000 answers at getHost(8000)', async () => {
    const host = sandbox.getHost(8000)
    assert.equal(host, `8000-${sandbox.sandboxId}.${process.env.E2B_DOMAIN}`)
    const response = await until(async () => {
      const r = await requestHost(host, { path: '/hello.txt' })
      return r.status === 200 ? r : null
    }, 'python3 -m http.server to answer')
    assert.equal(response.body, 'hello from the sandbox')
  })

  test('a WebSocket server on port 8765 echoes text through the proxy', async () => {
    const host = sandbox.getHost(8765)
    const socket = await until(() => upgrade(host).catch(() => null), 'the WebSocket upgrade')
    try {
      for (const size of [5, 1000, 60_000]) {
        const text = randomBytes(size).toString('base64').slice(0, size)
        assert.equal(await socket.echo(text), text)
      }
    } finally {
      socket.close()
    }
  })

  test('a port nobody listens on gives the 502 JSON with the port', async () => {
    const response = await requestHost(sandbox.getHost(9), { headers: { accept: 'application/json' } })
    assert.equal(response.status, 502)
    const body = JSON.parse(response.body)
    assert.equal(body.message, 'The sandbox is running but port is not open')
    assert.equal(body.port, 9)
    assert.equal(body.sandboxId, sandbox.sandboxId)
    assert.equal(body.code, 502)
  })

  test('an unknown sandbox gives the 502 not-found JSON', async () => {
    const response = await requestHost(`8000-nosuchsandbox0000.${process.env.E2B_DOMAIN}`)
    assert.equal(response.status, 502)
    assert.equal(JSON.parse(response.body).message, 'The sandbox was not found')
  })
})

// Answers every GET with the Host and X-Forwarded-Host it received, as JSON.
const HOST_ECHO = String.raw`
import http.server, json
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"host": self.headers.get("Host"), "forwardedHost": self.headers.get("X-Forwarded-Host")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8001), Echo).serve_forever()
`

describe(`network.maskRequestHost (${SDK_LABEL})`, { skip: TEMPLATE !== 'base' && 'the server runs on python3 (base template)' }, () => {
  const sandboxes = new Sandboxes()
  let sandbox
  before(async () => {
    // envd's port is never masked: files and commands below go through the proxy unharmed
    sandbox = await sandboxes.create({ network: { maskRequestHost: 'masked.example:${PORT}' } })
    await sandbox.files.write('/home/user/host_echo.py', HOST_ECHO)
    await sandbox.commands.run('python3 /home/user/host_echo.py', { background: true })
  })
  after(() => sandboxes.killAll())

  test('the server sees the masked Host, the original one in X-Forwarded-Host', async () => {
    const host = sandbox.getHost(8001)
    const response = await until(async () => {
      const r = await requestHost(host, { path: '/' })
      return r.status === 200 ? r : null
    }, 'the Host echo server to answer')
    const seen = JSON.parse(response.body)
    assert.equal(seen.host, 'masked.example:8001')
    assert.equal(seen.forwardedHost, host)
  })

  test('getInfo shows the mask as it was given', async () => {
    const info = await sandbox.getInfo()
    assert.equal(info.network?.maskRequestHost, 'masked.example:${PORT}')
  })

  test('an invalid mask is refused with 400', async () => {
    await assert.rejects(
      sandboxes.create({ network: { maskRequestHost: 'not a host' } }),
      (error) => /maskRequestHost/.test(error.message),
    )
  })
})

/** A minimal WebSocket client over Node's http upgrade: text frames, masked, one at a time. */
function upgrade(host) {
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: PROXY_URL.hostname,
      port: PROXY_URL.port,
      path: '/',
      headers: {
        host,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
      },
    })
    request.on('response', (response) => reject(new Error(`no upgrade: HTTP ${response.statusCode}`)))
    request.on('error', reject)
    request.on('upgrade', (response, socket, head) => {
      let buffered = head
      let waiting = null
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk])
        waiting?.()
      })
      const readFrame = () =>
        new Promise((done) => {
          const attempt = () => {
            if (buffered.length < 2) return
            let length = buffered[1] & 0x7f
            let offset = 2
            if (length === 126) {
              if (buffered.length < 4) return
              length = buffered.readUInt16BE(2)
              offset = 4
            }
            if (buffered.length < offset + length) return
            const payload = buffered.subarray(offset, offset + length).toString('utf8')
            buffered = buffered.subarray(offset + length)
            waiting = null
            done(payload)
          }
          waiting = attempt
          attempt()
        })
      resolve({
        echo(text) {
          const payload = Buffer.from(text, 'utf8')
          const mask = randomBytes(4)
          const header =
            payload.length < 126
              ? Buffer.from([0x81, 0x80 | payload.length])
              : Buffer.concat([Buffer.from([0x81, 0x80 | 126]), Buffer.from([payload.length >> 8, payload.length & 0xff])])
          const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))
          socket.write(Buffer.concat([header, mask, masked]))
          return readFrame()
        },
        close() {
          socket.end(Buffer.from([0x88, 0x80, 0, 0, 0, 0]))
        },
      })
    })
    request.end()
  })
}
