'use strict'
// SetPartitioner: two members split a set (kazoo's stride), each item has
// one owner; a third member joining moves everyone to RELEASE, and after
// releaseSet() the set is split three ways.
const { test } = require('node:test')
const assert = require('node:assert/strict')

const { Member, Client } = require('..')

const ITEMS = ['a', 'b', 'c', 'd', 'e', 'f']

async function join(member, id, states) {
  const c = new Client(member.connectString)
  await c.connect()
  const p = await c.setPartitioner('/parts', ITEMS, {
    identifier: id,
    timeBoundaryMs: 300,
    onState: (s) => states.push(s),
  })
  return { c, p }
}

test('a SetPartitioner splits the set among its members and again when one joins', async () => {
  const member = await Member.start({ tickTime: 200 })
  const states = { m1: [], m2: [], m3: [] }
  const made = []
  try {
    const m1 = await join(member, 'm1', states.m1)
    const m2 = await join(member, 'm2', states.m2)
    made.push(m1, m2)
    assert.equal(await m1.p.waitForAcquire(15000), true)
    assert.equal(await m2.p.waitForAcquire(15000), true)
    // Both may have split before the other joined: release until settled.
    for (let round = 0; round < 5; round++) {
      const all = [...m1.p.partitions, ...m2.p.partitions].sort()
      if (JSON.stringify(all) === JSON.stringify(ITEMS) && m1.p.state === 'ACQUIRED' && m2.p.state === 'ACQUIRED') break
      for (const m of [m1, m2]) {
        if (m.p.state === 'RELEASE') await m.p.releaseSet()
        await m.p.waitForAcquire(15000)
      }
    }
    assert.deepEqual(m1.p.partitions, ['a', 'c', 'e'])
    assert.deepEqual(m2.p.partitions, ['b', 'd', 'f'])

    const m3 = await join(member, 'm3', states.m3)
    made.push(m3)
    const deadline = Date.now() + 15000
    while (m1.p.state !== 'RELEASE' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    assert.equal(m1.p.state, 'RELEASE')
    for (const m of [m1, m2]) await m.p.releaseSet()
    for (const m of [m1, m2, m3]) assert.equal(await m.p.waitForAcquire(15000), true)
    const owners = [m1, m2, m3].map((m) => m.p.partitions)
    assert.deepEqual(owners, [['a', 'd'], ['b', 'e'], ['c', 'f']])
    assert.ok(states.m1.includes('ACQUIRED') && states.m1.includes('RELEASE'), states.m1.join())

    await m3.p.finish()
    assert.equal(m3.p.state, 'FAILURE')
    await assert.rejects(new Client('127.0.0.1:1').setPartitioner('/x', ITEMS), (err) => typeof err.code === 'string')
  } finally {
    for (const m of made) await m.c.close()
    await member.stop()
  }
})
