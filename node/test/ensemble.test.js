'use strict'
// Ensemble: a throw-away zkrs ensemble running inside this Node process.
const { test } = require('node:test')
const assert = require('node:assert/strict')

const { Ensemble, Client } = require('..')

// Retries `fn` while a new leader is being elected.
async function retry(fn, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      const transient = ['CONNECTIONLOSS', 'OPERATIONTIMEOUT', 'SESSIONEXPIRED']
      if (Date.now() > deadline || !transient.includes(err.code)) throw err
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

test('a 3-member Ensemble serves a Client and survives losing its leader', async () => {
  const ensemble = await Ensemble.start({ members: 3, observers: 0, tickTime: 200 })
  try {
    const hosts = ensemble.connectString
    assert.equal(hosts.split(',').length, 3)
    for (const h of hosts.split(',')) assert.match(h, /^127\.0\.0\.1:\d+$/)
    const leader = ensemble.leader
    assert.ok([0, 1, 2].includes(leader))

    let client = new Client(hosts)
    await client.connect()
    assert.equal(await client.create('/ens', 'quorum'), '/ens')
    const { data } = await client.getData('/ens')
    assert.equal(data.toString(), 'quorum')
    await client.close()

    await ensemble.stopMember(leader)
    await ensemble.stopMember(leader) // a stopped member stays stopped
    client = new Client(hosts, { connectTimeout: 15000 })
    await client.connect()
    const again = await retry(() => client.getData('/ens'))
    assert.equal(again.data.toString(), 'quorum')
    await client.close()
    assert.notEqual(ensemble.leader, leader)

    await ensemble.startMember(leader)
    assert.notEqual(ensemble.leader, null)
    await assert.rejects(ensemble.stopMember(7), (err) => err.code === 'BADARGUMENTS')
  } finally {
    await ensemble.stop()
  }
  await ensemble.stop() // a second stop is a no-op
  assert.equal(ensemble.leader, null)
})

test('isolateMember cuts the leader off: the majority elects another, the session moves', async () => {
  const ensemble = await Ensemble.start({ members: 3, tickTime: 200 })
  const client = new Client(ensemble.connectString, { sessionTimeout: 6000 })
  try {
    await client.connect()
    await client.create('/iso-eph', '', { mode: 'ephemeral' })
    const session = client.sessionId
    const old = ensemble.leader
    await ensemble.isolateMember(old)
    const deadline = Date.now() + 15000
    while (ensemble.leader === null || ensemble.leader === old) {
      assert.ok(Date.now() < deadline, 'no new leader while cut off')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await retry(() => client.create('/iso-during', 'x'))
    assert.equal(client.sessionId, session)
    assert.ok(await client.exists('/iso-eph'))
    await ensemble.healMember(old)
    await assert.rejects(ensemble.isolateMember(9), (err) => err.code === 'BADARGUMENTS')
  } finally {
    await client.close()
    await ensemble.stop()
  }
})

test('an Ensemble without voting members rejects', async () => {
  await assert.rejects(Ensemble.start({ members: 0 }), (err) => err instanceof Error)
})
