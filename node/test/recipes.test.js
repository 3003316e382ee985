'use strict'
// The recipes against a Member in this process, several sessions each:
// mutual exclusion, leases, leadership hand-over, counter, barriers,
// queue order, party membership.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const {
  Member, Client, Lock, Semaphore, LeaderLatch, Counter, Barrier, DoubleBarrier, Queue, Party,
  DataWatch, ChildrenWatch, Election, ShallowParty,
} = require('..')

let member
let dataDir
const clients = []

async function client () {
  const c = new Client(member.connectString, { sessionTimeout: 4000 })
  await c.connect()
  clients.push(c)
  return c
}

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkrs-node-recipes-'))
  member = await Member.start({ zooCfg: `tickTime=200\nclientPort=0\ndataDir=${dataDir}\n` })
})

after(async () => {
  for (const c of clients) await c.close()
  await member.stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

test('a lock keeps read-modify-write increments from being lost', async () => {
  const first = await client()
  await first.create('/n', '0')
  let inside = false
  const worker = async (i) => {
    const c = await client()
    const lock = new Lock(c, '/locks/n', `w${i}`)
    for (let k = 0; k < 10; k++) {
      assert.equal(await lock.acquire(), true)
      assert.equal(inside, false, 'two holders at once')
      inside = true
      const { data } = await c.getData('/n')
      await new Promise((resolve) => setTimeout(resolve, 1))
      await c.setData('/n', String(Number(data.toString()) + 1))
      inside = false
      assert.equal(await lock.release(), true)
    }
  }
  await Promise.all([0, 1, 2].map(worker))
  assert.equal((await first.getData('/n')).data.toString(), '30')
})

test('try, timeout, contenders and read locks', async () => {
  const a = new Lock(await client(), '/l', 'alice')
  const b = new Lock(await client(), '/l', 'bob')
  assert.equal(await a.acquire(), true)
  assert.equal(a.isAcquired, true)
  assert.equal(await b.acquire(0), false)
  assert.equal(await b.acquire(200), false)
  assert.deepEqual(await a.contenders(), ['alice'])
  await a.release()
  assert.equal(await b.acquire(5000), true)
  await b.release()
  const r1 = new Lock(await client(), '/rw', 'r1', { shared: true })
  const r2 = new Lock(await client(), '/rw', 'r2', { shared: true })
  const w = new Lock(await client(), '/rw', 'w')
  assert.equal(await r1.acquire(0), true)
  assert.equal(await r2.acquire(0), true)
  assert.equal(await w.acquire(0), false)
})

test('a lock passes on when its holder closes the session', async () => {
  const holder = await client()
  const a = new Lock(holder, '/lc', 'a')
  assert.equal(await a.acquire(), true)
  const waiting = new Lock(await client(), '/lc', 'b').acquire(10000)
  await holder.close()
  assert.equal(await waiting, true)
  assert.equal(a.isAcquired, false)
})

test('semaphore leases', async () => {
  const s = []
  for (let i = 0; i < 3; i++) s.push(new Semaphore(await client(), '/sem', `s${i}`, 2))
  assert.equal(await s[0].acquire(), true)
  assert.equal(await s[1].acquire(), true)
  assert.equal(await s[2].acquire(300), false)
  assert.deepEqual((await s[2].leaseHolders()).sort(), ['s0', 's1'])
  await s[0].release()
  assert.equal(await s[2].acquire(5000), true)
  assert.throws(() => new Semaphore(clients[0], '/bad', 'x', 0), /BADARGUMENTS/)
})

test('one leader at a time, and the next takes over', async () => {
  const latches = []
  for (let i = 0; i < 3; i++) latches.push(new LeaderLatch(await client(), '/elect', `c${i}`))
  const leading = () => latches.filter((l) => l.hasLeadership)
  await Promise.race(latches.map((l) => l.awaitLeadership(5000)))
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal(leading().length, 1)
  const first = leading()[0]
  await first.close()
  const rest = latches.filter((l) => l !== first)
  await Promise.race(rest.map((l) => l.awaitLeadership(5000)))
  assert.equal(leading().length, 1)
  assert.notEqual(leading()[0], first)
})

test('counter, barriers, queue and party', async () => {
  const c = await client()
  const n = new Counter(c, '/count', 5)
  assert.equal(await n.value(), 5)
  await Promise.all([0, 1, 2, 3].map(async () => new Counter(await client(), '/count', 5).add(2)))
  assert.equal(await n.value(), 13)

  const gate = new Barrier(c, '/gate')
  await gate.create()
  assert.equal(await new Barrier(await client(), '/gate').wait(200), false)
  const passing = new Barrier(await client(), '/gate').wait(10000)
  await gate.remove()
  assert.equal(await passing, true)

  const members = []
  for (let i = 0; i < 3; i++) members.push(new DoubleBarrier(await client(), '/db', 3, `m${i}`))
  assert.deepEqual(await Promise.all(members.map((m) => m.enter(10000))), [true, true, true])
  assert.deepEqual(await Promise.all(members.map((m) => m.leave(10000))), [true, true, true])

  const q = new Queue(c, '/q')
  assert.equal(await q.get(), null)
  await q.put('a')
  await q.put(Buffer.from('b'))
  await q.put('urgent', 1)
  assert.equal(await q.size(), 3)
  const got = []
  for (let i = 0; i < 3; i++) got.push((await q.get()).toString())
  assert.deepEqual(got, ['urgent', 'a', 'b'])
  const later = new Queue(await client(), '/q').get(10000)
  await q.put('late')
  assert.equal((await later).toString(), 'late')

  const p = new Party(c, '/party', 'zero')
  const other = await client()
  const o = new Party(other, '/party', 'one')
  await p.join()
  await o.join()
  assert.deepEqual((await p.members()).sort(), ['one', 'zero'])
  await other.close()
  assert.deepEqual(await p.members(), ['zero'])
})

test('Election runs one task at a time as leader; cancel leaves the line', async () => {
  const [a, b] = [await client(), await client()]
  let running = 0
  const task = async (name) => {
    assert.equal(running++, 0, 'two leaders')
    await new Promise((r) => setTimeout(r, 50))
    running--
    return name
  }
  const led = await Promise.all([
    new Election(a, '/election', 'one').run(task, 'one'),
    new Election(b, '/election', 'two').run(task, 'two'),
  ])
  assert.deepEqual(led, ['one', 'two'])

  const holder = new Lock(a, '/elect-held', 'holder')
  assert.equal(await holder.acquire(), true)
  const waiting = new Election(b, '/elect-held', 'waiting')
  let ran = false
  const outcome = waiting.run(() => { ran = true })
  try {
    let line = []
    for (let i = 0; i < 250 && line.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      line = await waiting.contenders()
    }
    assert.deepEqual(line, ['holder', 'waiting'])
  } finally {
    waiting.cancel()
  }
  assert.equal(await outcome, undefined)
  assert.equal(ran, false)
  assert.deepEqual(await holder.contenders(), ['holder'])
  await holder.release()
})

test('ShallowParty lists its members by node name', async () => {
  const [a, b] = [await client(), await client()]
  const one = new ShallowParty(a, '/shallow', 'one')
  const two = new ShallowParty(b, '/shallow', 'two')
  await one.join()
  await two.join()
  assert.deepEqual((await one.members()).sort(), ['one', 'two'])
  assert.equal(await two.leave(), true)
  assert.deepEqual(await one.members(), ['one'])
})

test('a recipe needs a connected client', () => {
  const c = new Client('127.0.0.1:1')
  assert.throws(() => new Lock(c, '/x'), /CONNECTIONLOSS/)
})

async function until (what, check) {
  for (let i = 0; i < 250; i++) {
    if (check()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  assert.fail(`timed out waiting for ${what}`)
}

test('standing watches call back on every change, with the event', async () => {
  const c = await client()
  const seen = []
  const data = new DataWatch(c, '/dw', (v) => {
    seen.push([v.data ? v.data.toString() : null, v.event ? v.event.type : null])
  })
  await until('first call', () => seen.length === 1)
  await c.create('/dw', 'a')
  await until('created', () => seen.length === 2)
  await c.setData('/dw', 'b')
  await until('changed', () => seen.length === 3)
  assert.deepEqual(seen, [[null, null], ['a', 'NodeCreated'], ['b', 'NodeDataChanged']])
  const kids = []
  const children = new ChildrenWatch(c, '/dw', (v) => kids.push(v.children))
  await until('children first call', () => kids.length === 1)
  await c.create('/dw/x')
  await until('child', () => kids.length === 2)
  assert.deepEqual(kids, [[], ['x']])
  data.stop()
  assert.equal(data.running, false)
  await c.removeRecursive('/dw')
  await until('children watch ends with its node', () => !children.running)
  const missing = new ChildrenWatch(c, '/nothing', () => assert.fail('no node, no call'))
  await until('a watch of no node ends', () => !missing.running)
})

