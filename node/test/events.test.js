'use strict'
// What zkrs.js adds in JavaScript: Client as an EventEmitter of its session
// states, calls abandoned through an AbortSignal, and lock acquires that
// give back what an abort left them.
const { test } = require('node:test')
const assert = require('node:assert/strict')

const { Ensemble, Client, Lock, Semaphore } = require('..')

// The next `name` event. A plain (ref'd) timer bounds the wait and keeps
// the process alive meanwhile: native callbacks alone do not.
function nextEvent(emitter, name, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${name}' event in ${timeoutMs} ms`)), timeoutMs)
    emitter.once(name, (...args) => {
      clearTimeout(timer)
      resolve(args)
    })
  })
}

test('a Client emits its session states as events', async () => {
  const ensemble = await Ensemble.start({ members: 1, tickTime: 200 })
  const client = new Client(ensemble.connectString, { sessionTimeout: 8000 })
  try {
    const states = []
    client.on('state', (s) => states.push(s))
    const connected = nextEvent(client, 'connected')
    await client.connect()
    await connected
    assert.deepEqual(states, ['SyncConnected'])
    assert.ok(client.listenerCount('state') === 1)

    const disconnected = nextEvent(client, 'disconnected')
    await ensemble.stopMember(0)
    await disconnected
    const back = nextEvent(client, 'connected')
    await ensemble.startMember(0)
    await back
    assert.deepEqual(states.slice(-2), ['Disconnected', 'SyncConnected'])

    const closed = nextEvent(client, 'closed')
    await client.close()
    await closed
    assert.equal(states.at(-1), 'Closed')
  } finally {
    await ensemble.stop()
  }
})

test('withSignal abandons calls: aborted before, or while a member is down', async () => {
  const ensemble = await Ensemble.start({ members: 1, tickTime: 200 })
  const client = new Client(ensemble.connectString, { sessionTimeout: 8000 })
  try {
    await client.connect()
    const gone = new AbortController()
    gone.abort()
    await assert.rejects(client.withSignal(gone.signal).create('/never'), (err) => err.name === 'AbortError')
    assert.equal(await client.exists('/never'), null) // nothing was sent

    const bounded = client.withSignal(AbortSignal.timeout(5000))
    assert.equal(await bounded.create('/kept', 'x'), '/kept')
    assert.equal(bounded.state, 'SyncConnected') // properties pass through

    await ensemble.stopMember(0)
    const started = Date.now()
    await assert.rejects(
      client.withSignal(AbortSignal.timeout(300)).getData('/kept'),
      (err) => err.name === 'TimeoutError',
    )
    assert.ok(Date.now() - started < 3000, 'the abort, not the call, ended the wait')
    await ensemble.startMember(0)
  } finally {
    await client.close()
    await ensemble.stop()
  }
})

test('an aborted acquire gives back a lock or lease granted after it', async () => {
  const ensemble = await Ensemble.start({ members: 1, tickTime: 200 })
  const clients = []
  for (let i = 0; i < 3; i++) {
    const c = new Client(ensemble.connectString)
    await c.connect()
    clients.push(c)
  }
  try {
    for (const [Kind, args] of [[Lock, []], [Semaphore, [1]]]) {
      const path = `/${Kind.name.toLowerCase()}`
      const holder = new Kind(clients[0], path, 'holder', ...args)
      assert.equal(await holder.acquire(), true)
      const quitter = new Kind(clients[1], path, 'quitter', ...args)
      await assert.rejects(
        quitter.acquire(null, { signal: AbortSignal.timeout(200) }),
        (err) => err.name === 'TimeoutError',
      )
      if (Kind === Lock) {
        // The abort cancelled the wait in the core: the quitter leaves the
        // line (its node's delete is one round trip behind the rejection).
        let line = await holder.contenders()
        for (let i = 0; i < 100 && line.length > 1; i++) {
          await new Promise((r) => setTimeout(r, 20))
          line = await holder.contenders()
        }
        assert.deepEqual(line, ['holder'])
      }
      assert.equal(await holder.release(), true)
      // The next in line gets it; the quitter never held it.
      const next = new Kind(clients[2], path, 'next', ...args)
      assert.equal(await next.acquire(10000), true)
      assert.equal(quitter.isAcquired, false)
      assert.equal(await next.release(), true)
    }
  } finally {
    for (const c of clients) await c.close()
    await ensemble.stop()
  }
})
