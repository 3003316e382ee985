'use strict'
// The Node side of tests/cross/test_cross_language.py: a client of the zkrs
// member that runs inside the Python test process.
//
//   ZKRS_CONNECT=127.0.0.1:PORT ZKRS_NODE_PACKAGE=<repo>/node node node_client.js
//
// Reads /cross/py (must hold "from-python"), creates /cross/node holding
// "from-node", sets a one-shot data watch on /cross/py, then prints one JSON
// line {"ready": ...} and waits for the watch. When the Python side changes
// /cross/py, it prints {"event": ..., "data": ...} and exits 0. Any failure
// prints {"error": ...} and exits 1; with no event within
// ZKRS_NODE_WAIT_MS (default 20 s) it exits 2.
const path = require('node:path')

const pkg = process.env.ZKRS_NODE_PACKAGE
const hosts = process.env.ZKRS_CONNECT
if (!pkg || !hosts) {
  console.error('node_client.js: ZKRS_NODE_PACKAGE and ZKRS_CONNECT must be set')
  process.exit(64)
}
// The addon built by `npm install` in node/, loaded by path.
const { Client } = require(path.resolve(pkg))

const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

async function main() {
  const client = new Client(hosts, { sessionTimeout: 10000 })
  await client.connect()
  try {
    const first = await client.getData('/cross/py')
    const seen = first.data.toString()
    if (seen !== 'from-python') throw new Error(`/cross/py holds ${JSON.stringify(seen)}`)

    const created = await client.create('/cross/node', 'from-node')

    let fire
    const fired = new Promise((resolve) => (fire = resolve))
    const watched = await client.getData('/cross/py', (event) => fire(event))

    say({
      ready: true,
      read: seen,
      created,
      sessionId: String(client.sessionId),
      pyVersion: watched.stat.version,
    })

    const waitMs = Number(process.env.ZKRS_NODE_WAIT_MS || 20000)
    let timer
    const event = await Promise.race([
      fired,
      new Promise((resolve) => (timer = setTimeout(() => resolve(null), waitMs))),
    ])
    clearTimeout(timer)
    if (event === null) {
      say({ error: `no watch event on /cross/py within ${waitMs} ms` })
      return 2
    }
    const after = await client.getData('/cross/py')
    say({ event, data: after.data.toString(), pyVersion: after.stat.version })
    return 0
  } finally {
    await client.close()
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    say({ error: String(err && err.stack ? err.stack : err), code: err && err.code })
    process.exit(1)
  },
)
