'use strict'
// Watch and session-state callbacks: delivered on the JS thread through
// thread-safe functions, in order, as ZooKeeper defines them.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')

const { Member, Client } = require('..')

let member
let client

before(async () => {
  member = await Member.start()
  client = new Client(member.connectString, { sessionTimeout: 4000 })
  await client.connect()
})

after(async () => {
  await client.close()
  await member.stop()
})

/** A callback that records events, and a way to await the next ones. */
function recorder() {
  const events = []
  const waiters = []
  const cb = (ev) => {
    events.push(ev)
    while (waiters.length && waiters[0].n <= events.length) waiters.shift().resolve()
  }
  cb.events = events
  cb.until = async (pred, ms = 5000) => {
    for (const deadline = Date.now() + ms; !events.some(pred); ) {
      if (Date.now() > deadline) throw new Error(`no such event after ${ms} ms: ${JSON.stringify(events)}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  cb.count = (n, ms = 3000) =>
    new Promise((resolve, reject) => {
      if (events.length >= n) return resolve(events.slice(0, n))
      const timer = setTimeout(() => reject(new Error(`${events.length}/${n} events after ${ms} ms: ${JSON.stringify(events)}`)), ms)
      waiters.push({ n, resolve: () => (clearTimeout(timer), resolve(events.slice(0, n))) })
    })
  return cb
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 150))

test('getData watcher fires once on change, with type, state and path', async () => {
  await client.create('/w-data', 'a')
  const w = recorder()
  await client.getData('/w-data', w)
  await client.setData('/w-data', 'b')
  const [ev] = await w.count(1)
  assert.deepEqual(ev, { type: 'NodeDataChanged', typeCode: 3, state: 'SyncConnected', path: '/w-data' })
  await client.setData('/w-data', 'c') // one-shot: no second event
  await settle()
  assert.equal(w.events.length, 1)
})

test('exists watcher on a missing node fires NodeCreated; data watcher NodeDeleted', async () => {
  const created = recorder()
  assert.equal(await client.exists('/w-exists', created), null)
  await client.create('/w-exists')
  assert.equal((await created.count(1))[0].type, 'NodeCreated')

  const deleted = recorder()
  await client.getData('/w-exists', deleted)
  await client.delete('/w-exists')
  assert.deepEqual((await deleted.count(1)).map((e) => [e.type, e.path]), [['NodeDeleted', '/w-exists']])
})

test('getChildren watcher fires NodeChildrenChanged', async () => {
  await client.create('/w-kids')
  const w = recorder()
  assert.deepEqual(await client.getChildren('/w-kids', w), [])
  await client.create('/w-kids/one')
  assert.deepEqual((await w.count(1)).map((e) => [e.type, e.path]), [['NodeChildrenChanged', '/w-kids']])
})

test('addWatch persistent keeps firing; recursive covers the subtree without child events', async () => {
  await client.create('/w-p')
  const persistent = recorder()
  const recursive = recorder()
  await client.addWatch('/w-p', persistent)
  await client.addWatch('/w-p', recursive, { recursive: true })

  await client.setData('/w-p', '1')
  await client.setData('/w-p', '2')
  await client.create('/w-p/kid')
  await client.setData('/w-p/kid', 'x')
  await client.delete('/w-p/kid')

  assert.deepEqual(
    (await persistent.count(4)).map((e) => e.type),
    ['NodeDataChanged', 'NodeDataChanged', 'NodeChildrenChanged', 'NodeChildrenChanged'],
  )
  assert.deepEqual(
    (await recursive.count(5)).map((e) => [e.type, e.path]),
    [
      ['NodeDataChanged', '/w-p'],
      ['NodeDataChanged', '/w-p'],
      ['NodeCreated', '/w-p/kid'],
      ['NodeDataChanged', '/w-p/kid'],
      ['NodeDeleted', '/w-p/kid'],
    ],
  )

  await client.removeWatches('/w-p', 'persistent_recursive')
  assert.equal((await recursive.count(6))[5].type, 'PersistentWatchRemoved')
  await client.setData('/w-p', '3')
  assert.equal((await persistent.count(5))[4].type, 'NodeDataChanged')
  await settle()
  assert.equal(recursive.events.length, 6)
})

test('removeWatches: the watcher hears DataWatchRemoved; NOWATCHER when there is none', async () => {
  await client.create('/w-rm')
  const w = recorder()
  await client.getData('/w-rm', w)
  await client.removeWatches('/w-rm', 'data')
  assert.deepEqual((await w.count(1)).map((e) => e.type), ['DataWatchRemoved'])
  await assert.rejects(client.removeWatches('/w-rm', 'data'), { code: 'NOWATCHER', zkCode: -121 })
})

test('a slow callback only queues: every event arrives, in order', async () => {
  await client.create('/w-slow', '0')
  const seen = []
  await client.addWatch('/w-slow', (ev) => {
    const until = Date.now() + 20
    while (Date.now() < until); // a callback hogging the JS thread
    seen.push(ev.type)
  })
  const writes = []
  for (let i = 1; i <= 20; i++) writes.push(client.setData('/w-slow', String(i)))
  const stats = await Promise.all(writes)
  assert.deepEqual(stats.map((s) => s.version), Array.from({ length: 20 }, (_, i) => i + 1))
  for (let i = 0; i < 100 && seen.length < 20; i++) await settle()
  assert.deepEqual(seen, Array(20).fill('NodeDataChanged'))
})

/** A TCP proxy to `target` whose links can be cut and restored. */
async function proxy(target) {
  const [host, port] = target.split(':')
  const sockets = new Set()
  let server
  const listen = (onPort) =>
    new Promise((resolve) => {
      server = net.createServer((inbound) => {
        const outbound = net.connect({ host, port: Number(port) })
        for (const s of [inbound, outbound]) {
          sockets.add(s)
          s.on('close', () => sockets.delete(s))
          s.on('error', () => {})
        }
        inbound.pipe(outbound).pipe(inbound)
      })
      server.listen(onPort, '127.0.0.1', () => resolve(server.address().port))
    })
  const listenPort = await listen(0)
  return {
    connectString: `127.0.0.1:${listenPort}`,
    cut: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
    restore: () => listen(listenPort),
    close: () => new Promise((resolve) => (server.close(() => resolve()), sockets.forEach((s) => s.destroy()))),
  }
}

test('session state listener: Disconnected on a cut link, SyncConnected again, Closed on close', async () => {
  const link = await proxy(member.connectString)
  const c = new Client(link.connectString, { sessionTimeout: 8000 })
  const states = recorder()
  c.onStateChange(states) // before connect: attached once connect resolves
  await c.connect()
  assert.equal(c.state, 'SyncConnected')
  const sessionId = c.sessionId
  const eph = await c.create('/w-state-eph', '', { mode: 'ephemeral' })

  await link.cut()
  await states.until((s) => s === 'Disconnected')
  assert.equal(c.state, 'Disconnected')
  await link.restore()
  await states.until((s, i) => s === 'SyncConnected' && states.events.indexOf('Disconnected') < i)
  assert.equal(c.sessionId, sessionId) // the same session, so the ephemeral stays
  assert.notEqual(await c.exists(eph), null)

  await c.close()
  await states.until((s) => s === 'Closed')
  assert.equal(states.events[states.events.length - 1], 'Closed')
  assert.equal(c.state, 'Closed')
  await link.close()
})
