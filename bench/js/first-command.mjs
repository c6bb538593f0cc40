// Time to first command through the official e2b JS SDK, for dev.sbx.bench.FirstCommandBenchmark.
// Run with the working directory it/js (whose node_modules hold the pinned SDK versions, installed by
// `npm ci` there) and E2B_API_KEY, E2B_API_URL, E2B_SANDBOX_URL, E2B_DOMAIN set. It reads one line per
// run from stdin ("run"), then creates a sandbox from $SBX_TEMPLATE and runs `echo hi` in it, and
// answers one JSON line {"createMs":…,"totalMs":…,"secondMs":…,"stdout":…} (secondMs: a second
// `echo hi` in the same sandbox, outside the total); the kill afterwards is not timed.
// "warm N" runs N commands in one sandbox first (the server's JIT, as on a server that has been up
// for a while) and answers {"warmed":N}. EOF on stdin ends it.
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'

const require = createRequire(pathToFileURL(`${process.cwd()}/package.json`))
const pkg = process.env.SBX_E2B_PACKAGE ?? 'e2b-2.51'
const { Sandbox } = require(pkg)
const template = process.env.SBX_TEMPLATE ?? 'base'

const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  const warm = /^warm (\d+)$/.exec(line.trim())
  if (warm) {
    try {
      const sandbox = await Sandbox.create(template)
      for (let i = 0; i < Number(warm[1]); i++) await sandbox.commands.run('echo hi')
      await sandbox.kill()
      console.log(JSON.stringify({ warmed: Number(warm[1]) }))
    } catch (e) {
      console.log(JSON.stringify({ error: String(e?.stack ?? e) }))
    }
    continue
  }
  if (line.trim() !== 'run') continue
  try {
    const start = performance.now()
    const sandbox = await Sandbox.create(template)
    const created = performance.now()
    const result = await sandbox.commands.run('echo hi')
    const end = performance.now()
    // not part of the time to first command: the same command once envd is warm
    await sandbox.commands.run('echo hi')
    const secondMs = performance.now() - end
    await sandbox.kill()
    console.log(JSON.stringify({ createMs: created - start, totalMs: end - start, secondMs, stdout: result.stdout }))
  } catch (e) {
    console.log(JSON.stringify({ error: String(e?.stack ?? e) }))
  }
}
