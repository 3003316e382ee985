'use strict'
// LockingQueue and the leases, with several sessions.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')

const { Member, Client, LockingQueue, obtainLease, obtainOneOfLeases } = require('..')

let member
const clients = []

async function client() {
  const c = new Client(member.connectString)
  await c.connect()
  clients.push(c)
  return c
}

before(async () => {
  member = await Member.start({ tickTime: 200 })
})

after(async () => {
  for (const c of clients) await c.close()
  await member.stop()
})

test('a LockingQueue locks items, consumes them and gives them back', async () => {
  const [a, b] = [await client(), await client()]
  const qa = new LockingQueue(a, '/lq')
  const qb = new LockingQueue(b, '/lq')
  assert.equal(await qa.get(100), null) // empty: null after the timeout
  await qa.put('one')
  await qa.putAll(['two', Buffer.from('three')])
  await qa.put('urgent', 1)
  assert.equal(await qa.size(), 4)
  assert.equal((await qa.get()).toString(), 'urgent')
  assert.equal(await qa.holdsLock(), true)
  assert.equal(await qa.consume(), true)
  assert.equal((await qa.get()).toString(), 'one')
  assert.equal((await qb.get(1000)).toString(), 'two') // 'one' is locked by a
  assert.equal(await qa.release(), true) // 'one' is offered again
  assert.equal(await qb.consume(), true)
  assert.equal((await qb.get(1000)).toString(), 'one')
  assert.equal(await qb.consume(), true)
  const waiting = qa.get(10000).then((got) => got.toString())
  await new Promise((resolve) => setTimeout(resolve, 100))
  await qb.put('late')
  // 'three' was there already: the waiter gets it, then 'late' is left.
  assert.equal(await waiting, 'three')
  assert.equal(await qa.consume(), true)
  assert.equal(await qa.size(), 1)
})

test('a lease is held until it runs out; one of N for N holders', async () => {
  const [a, b, c] = [await client(), await client(), await client()]
  assert.equal(await obtainLease(a, '/lease', 60000, 'a'), true)
  assert.equal(await obtainLease(a, '/lease', 60000, 'a'), true) // renewed
  assert.equal(await obtainLease(b, '/lease', 60000, 'b'), false)
  assert.equal(await obtainLease(a, '/short', 1, 'a'), true)
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(await obtainLease(b, '/short', 60000, 'b'), true) // a's ran out
  assert.equal(await obtainOneOfLeases(a, 2, '/multi', 60000, 'a'), true)
  assert.equal(await obtainOneOfLeases(b, 2, '/multi', 60000, 'b'), true)
  assert.equal(await obtainOneOfLeases(c, 2, '/multi', 60000, 'c'), false)
})
