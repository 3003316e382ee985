'use strict'
// ServiceRegistry: instances as ephemeral nodes with a payload, the live
// set watched, and an instance gone with its session.
const { test } = require('node:test')
const assert = require('node:assert/strict')

const { Member, Client, ServiceRegistry } = require('..')

function until(cond, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs
    const poll = () => {
      if (cond()) return resolve()
      if (Date.now() > deadline) return reject(new Error('condition not met in time'))
      setTimeout(poll, 20)
    }
    poll()
  })
}

test('a ServiceRegistry tracks the live instances of a service', async () => {
  const member = await Member.start({ tickTime: 200 })
  const a = new Client(member.connectString)
  const b = new Client(member.connectString)
  await a.connect()
  await b.connect()
  try {
    const ra = new ServiceRegistry(a, '/svc')
    const rb = new ServiceRegistry(b, '/svc')
    const seen = []
    const watch = rb.watch('api', (now) => seen.push(now.map((i) => i.id)))
    await until(() => seen.length === 1)
    assert.deepEqual(seen[0], [])
    await ra.register('api', 'a1', '10.0.0.1:80')
    await rb.register('api', 'b1')
    const now = await rb.instances('api')
    assert.deepEqual(now.map((i) => [i.id, i.payload.toString()]), [['a1', '10.0.0.1:80'], ['b1', '']])
    await assert.rejects(rb.register('api', 'a1', 'theirs'), (err) => err.code === 'NODEEXISTS')
    await assert.rejects(rb.register('api', 'a/1'), (err) => err.code === 'BADARGUMENTS')
    await ra.register('api', 'a1', '10.0.0.1:81') // its own: an update
    assert.equal((await rb.instances('api'))[0].payload.toString(), '10.0.0.1:81')
    await a.close() // a's session ends: a1 goes
    await until(() => JSON.stringify(seen.at(-1)) === '["b1"]')
    assert.equal(watch.running, true)
    watch.stop()
    assert.equal(await rb.unregister('api', 'b1'), true)
    assert.equal(await rb.unregister('api', 'b1'), false)
    assert.deepEqual(await rb.instances('api'), [])
  } finally {
    await b.close()
    await member.stop()
  }
})
