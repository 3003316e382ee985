'use strict'
// examples/node/config_watcher.js end to end: a member in the example's
// process, a watcher in a child process, three published configs.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const path = require('node:path')

const example = path.join(__dirname, '..', '..', 'examples', 'node', 'config_watcher.js')

test('config_watcher demo: the watcher process reacts to every published config', async () => {
  const { stdout } = await new Promise((resolve, reject) =>
    execFile(process.execPath, [example], { timeout: 30000 }, (err, stdout, stderr) =>
      err ? reject(Object.assign(err, { stdout, stderr })) : resolve({ stdout, stderr }),
    ),
  )
  const seen = stdout.split('\n').filter((l) => l.startsWith('  watcher> '))
  assert.deepEqual(seen, [
    '  watcher> config v0: null',
    '  watcher> config v1: {"logLevel":"info","workers":2}',
    '  watcher> config v2: {"logLevel":"debug","workers":2}',
    '  watcher> config v3: {"logLevel":"debug","workers":8}',
  ])
  assert.match(stdout, /the watcher reacted to every change/)
})
