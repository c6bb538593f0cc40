// Filesystem: write/read in every format, several files at once, gzip, metadata, list, exists,
// getInfo, makeDir, rename, remove. Works in a fresh folder in the default user's home.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { DEFAULT_USER, FileNotFoundError, SDK_LABEL, connect, rejectsWith, rwx, uniqueName } from './support.mjs'

describe(`files (${SDK_LABEL})`, () => {
  let sandbox
  let dir // absolute path of the test folder
  let home

  before(async () => {
    sandbox = await connect()
    const name = uniqueName('files')
    assert.equal(await sandbox.files.makeDir(name), true) // relative: below the home of the default user
    const info = await sandbox.files.getInfo(name)
    dir = info.path
    home = dir.slice(0, dir.lastIndexOf('/'))
  })

  after(async () => {
    if (dir) await sandbox.files.remove(dir)
  })

  test('a relative path is below the default user\'s home', async () => {
    const result = await sandbox.commands.run('echo $HOME')
    assert.equal(`${home}\n`, result.stdout)
  })

  test('write a string and read it as text', async () => {
    const info = await sandbox.files.write(`${dir}/hello.txt`, 'hello world')
    assert.equal(info.name, 'hello.txt')
    assert.equal(info.path, `${dir}/hello.txt`)
    assert.equal(info.type, 'file')
    assert.equal(await sandbox.files.read(`${dir}/hello.txt`), 'hello world')
  })

  test('write overwrites and truncates', async () => {
    await sandbox.files.write(`${dir}/over.txt`, 'a much longer first content')
    await sandbox.files.write(`${dir}/over.txt`, 'short')
    assert.equal(await sandbox.files.read(`${dir}/over.txt`), 'short')
  })

  test('write creates missing parent folders', async () => {
    const info = await sandbox.files.write(`${dir}/a/b/c/deep.txt`, 'deep')
    assert.equal(info.path, `${dir}/a/b/c/deep.txt`)
    assert.equal((await sandbox.files.getInfo(`${dir}/a/b`)).type, 'dir')
    assert.equal((await sandbox.files.getInfo(`${dir}/a/b`)).owner, DEFAULT_USER)
  })

  test('a relative path writes below the home directory', async () => {
    const name = dir.slice(dir.lastIndexOf('/') + 1)
    const info = await sandbox.files.write(`${name}/relative.txt`, 'rel')
    assert.equal(info.path, `${dir}/relative.txt`)
    assert.equal(await sandbox.files.read(`${dir}/relative.txt`), 'rel')
  })

  test('bytes: every byte value round-trips (format bytes)', async () => {
    const bytes = new Uint8Array(256 * 4).map((_, i) => i % 256)
    await sandbox.files.write(`${dir}/bytes.bin`, bytes.buffer)
    const read = await sandbox.files.read(`${dir}/bytes.bin`, { format: 'bytes' })
    assert.ok(read instanceof Uint8Array)
    assert.deepEqual(read, bytes)
  })

  test('blob: write a Blob, read format blob', async () => {
    await sandbox.files.write(`${dir}/blob.txt`, new Blob(['blob ', 'content']))
    const blob = await sandbox.files.read(`${dir}/blob.txt`, { format: 'blob' })
    assert.ok(blob instanceof Blob)
    assert.equal(await blob.text(), 'blob content')
  })

  test('stream: write a ReadableStream, read format stream', async () => {
    const chunks = ['first chunk, ', 'second chunk, ', 'third']
    const body = new ReadableStream({
      start(controller) {
        for (const c of chunks) controller.enqueue(new TextEncoder().encode(c))
        controller.close()
      },
    })
    const info = await sandbox.files.write(`${dir}/stream.txt`, body)
    assert.equal(info.path, `${dir}/stream.txt`)
    const stream = await sandbox.files.read(`${dir}/stream.txt`, { format: 'stream' })
    assert.ok(stream instanceof ReadableStream)
    let text = ''
    const decoder = new TextDecoder()
    for await (const part of stream) text += decoder.decode(part, { stream: true })
    assert.equal(text, chunks.join(''))
  })

  test('a large file round-trips', async () => {
    const big = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => (i * 31) % 251)
    await sandbox.files.write(`${dir}/big.bin`, big.buffer)
    assert.deepEqual(await sandbox.files.read(`${dir}/big.bin`, { format: 'bytes' }), big)
    assert.equal((await sandbox.files.getInfo(`${dir}/big.bin`)).size, big.length)
  })

  test('an empty file reads as empty text and zero bytes', async () => {
    await sandbox.files.write(`${dir}/empty.txt`, '')
    assert.equal(await sandbox.files.read(`${dir}/empty.txt`), '')
    assert.equal((await sandbox.files.read(`${dir}/empty.txt`, { format: 'bytes' })).length, 0)
    assert.equal((await sandbox.files.getInfo(`${dir}/empty.txt`)).size, 0)
  })

  test('several files at once with write([{path, data}, ...])', async () => {
    const infos = await sandbox.files.write([
      { path: `${dir}/multi/one.txt`, data: 'one' },
      { path: `${dir}/multi/two.txt`, data: new TextEncoder().encode('two').buffer },
      { path: `${dir}/multi/sub/three.txt`, data: new Blob(['three']) },
    ])
    assert.ok(Array.isArray(infos))
    assert.deepEqual(infos.map((i) => i.path).sort(), [`${dir}/multi/one.txt`, `${dir}/multi/sub/three.txt`, `${dir}/multi/two.txt`])
    assert.equal(await sandbox.files.read(`${dir}/multi/one.txt`), 'one')
    assert.equal(await sandbox.files.read(`${dir}/multi/two.txt`), 'two')
    assert.equal(await sandbox.files.read(`${dir}/multi/sub/three.txt`), 'three')
  })

  test('several files at once as octet-stream uploads', async () => {
    const infos = await sandbox.files.writeFiles(
      [
        { path: `${dir}/octet/a.txt`, data: 'A' },
        { path: `${dir}/octet/b.txt`, data: 'B' },
      ],
      { useOctetStream: true },
    )
    assert.equal(infos.length, 2)
    assert.equal(await sandbox.files.read(`${dir}/octet/a.txt`), 'A')
    assert.equal(await sandbox.files.read(`${dir}/octet/b.txt`), 'B')
  })

  test('gzip upload and gzip download', async () => {
    const text = 'compress me '.repeat(1000)
    await sandbox.files.write(`${dir}/gzip.txt`, text, { gzip: true })
    assert.equal(await sandbox.files.read(`${dir}/gzip.txt`), text)
    assert.equal(await sandbox.files.read(`${dir}/gzip.txt`, { gzip: true }), text)
    assert.equal((await sandbox.files.getInfo(`${dir}/gzip.txt`)).size, text.length)
  })

  test('metadata is stored on the file and read back (keys lowercased)', async () => {
    const info = await sandbox.files.write(`${dir}/meta.txt`, 'm', { metadata: { Purpose: 'sbx-it', build: '42' } })
    assert.deepEqual(info.metadata, { purpose: 'sbx-it', build: '42' })
    assert.deepEqual((await sandbox.files.getInfo(`${dir}/meta.txt`)).metadata, { purpose: 'sbx-it', build: '42' })
    const listed = (await sandbox.files.list(dir)).find((e) => e.name === 'meta.txt')
    assert.deepEqual(listed.metadata, { purpose: 'sbx-it', build: '42' })
    await sandbox.files.write(`${dir}/no-meta.txt`, 'n')
    assert.equal((await sandbox.files.getInfo(`${dir}/no-meta.txt`)).metadata, undefined)
  })

  test('read of a missing file is a FileNotFoundError', async () => {
    await rejectsWith(sandbox.files.read(`${dir}/missing.txt`), FileNotFoundError)
  })

  test('getInfo of a file: type, size, mode, permissions, owner, group, modifiedTime', async () => {
    const before = Date.now()
    await sandbox.files.write(`${dir}/info.txt`, '12345')
    const info = await sandbox.files.getInfo(`${dir}/info.txt`)
    assert.equal(info.name, 'info.txt')
    assert.equal(info.path, `${dir}/info.txt`)
    assert.equal(info.type, 'file')
    assert.equal(info.size, 5)
    assert.equal(typeof info.mode, 'number')
    assert.equal(info.permissions, `-${rwx(info.mode)}`)
    assert.equal(info.owner, DEFAULT_USER)
    assert.equal(typeof info.group, 'string')
    assert.ok(info.group.length > 0)
    assert.ok(info.modifiedTime instanceof Date)
    assert.ok(Math.abs(info.modifiedTime.getTime() - before) < 60_000, `modifiedTime ${info.modifiedTime.toISOString()}`)
    assert.equal(info.symlinkTarget, undefined)
  })

  test('getInfo of a folder and of a symlink', async () => {
    const folder = await sandbox.files.getInfo(dir)
    assert.equal(folder.type, 'dir')
    assert.equal(folder.permissions, `d${rwx(folder.mode)}`)
    assert.equal(folder.owner, DEFAULT_USER)

    await sandbox.files.write(`${dir}/target.txt`, 'target')
    await sandbox.commands.run(`ln -s ${dir}/target.txt ${dir}/link.txt`)
    const link = await sandbox.files.getInfo(`${dir}/link.txt`)
    assert.equal(link.symlinkTarget, `${dir}/target.txt`)
    assert.equal(link.type, 'file')
    assert.match(link.permissions, /^L/)
  })

  test('getInfo of a missing path is a FileNotFoundError', async () => {
    await rejectsWith(sandbox.files.getInfo(`${dir}/missing`), FileNotFoundError)
  })

  test('files written as root are owned by root', async () => {
    await sandbox.files.write(`${dir}/root-owned.txt`, 'r', { user: 'root' })
    assert.equal((await sandbox.files.getInfo(`${dir}/root-owned.txt`)).owner, 'root')
  })

  test('exists', async () => {
    await sandbox.files.write(`${dir}/exists.txt`, 'x')
    assert.equal(await sandbox.files.exists(`${dir}/exists.txt`), true)
    assert.equal(await sandbox.files.exists(dir), true)
    assert.equal(await sandbox.files.exists(`${dir}/does-not-exist`), false)
  })

  test('makeDir returns true, then false when it exists; creates parents', async () => {
    assert.equal(await sandbox.files.makeDir(`${dir}/made/x/y`), true)
    assert.equal(await sandbox.files.makeDir(`${dir}/made/x/y`), false)
    const info = await sandbox.files.getInfo(`${dir}/made/x`)
    assert.equal(info.type, 'dir')
    assert.equal(info.owner, DEFAULT_USER)
  })

  test('list: entries with their fields; depth', async () => {
    await sandbox.files.makeDir(`${dir}/listing/sub`)
    await sandbox.files.write(`${dir}/listing/f.txt`, 'abc')
    await sandbox.files.write(`${dir}/listing/sub/g.txt`, 'g')
    const entries = await sandbox.files.list(`${dir}/listing`)
    assert.deepEqual(entries.map((e) => e.name).sort(), ['f.txt', 'sub'])
    const file = entries.find((e) => e.name === 'f.txt')
    assert.equal(file.type, 'file')
    assert.equal(file.path, `${dir}/listing/f.txt`)
    assert.equal(file.size, 3)
    assert.equal(file.owner, DEFAULT_USER)
    assert.equal(file.permissions, `-${rwx(file.mode)}`)
    assert.equal(entries.find((e) => e.name === 'sub').type, 'dir')

    const deep = await sandbox.files.list(`${dir}/listing`, { depth: 2 })
    assert.deepEqual(deep.map((e) => e.path).sort(), [`${dir}/listing/f.txt`, `${dir}/listing/sub`, `${dir}/listing/sub/g.txt`])
  })

  test('list of a missing folder is a FileNotFoundError', async () => {
    await rejectsWith(sandbox.files.list(`${dir}/no-such-folder`), FileNotFoundError)
  })

  test('rename moves a file and returns its new info', async () => {
    await sandbox.files.write(`${dir}/old-name.txt`, 'moving')
    const info = await sandbox.files.rename(`${dir}/old-name.txt`, `${dir}/moved/new-name.txt`)
    assert.equal(info.name, 'new-name.txt')
    assert.equal(info.path, `${dir}/moved/new-name.txt`)
    assert.equal(info.type, 'file')
    assert.equal(await sandbox.files.exists(`${dir}/old-name.txt`), false)
    assert.equal(await sandbox.files.read(`${dir}/moved/new-name.txt`), 'moving')
  })

  test('rename of a missing file is a FileNotFoundError', async () => {
    await rejectsWith(sandbox.files.rename(`${dir}/nothing-here`, `${dir}/elsewhere`), FileNotFoundError)
  })

  test('remove deletes files and whole folders; a missing path is fine', async () => {
    await sandbox.files.write(`${dir}/rm/a/b.txt`, 'b')
    await sandbox.files.remove(`${dir}/rm/a/b.txt`)
    assert.equal(await sandbox.files.exists(`${dir}/rm/a/b.txt`), false)
    await sandbox.files.write(`${dir}/rm/a/c.txt`, 'c')
    await sandbox.files.remove(`${dir}/rm`)
    assert.equal(await sandbox.files.exists(`${dir}/rm`), false)
    await sandbox.files.remove(`${dir}/rm`)
  })
})
