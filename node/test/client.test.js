'use strict'
// The Promise API against a Member in this process: results, Stat, ACLs,
// create modes, multi, and ZooKeeper error codes on every failure path.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { Member, Client, Perms } = require('..')

let member
let client
let dataDir

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkrs-node-client-'))
  // TTL nodes need extendedTypesEnabled, as in ZooKeeper.
  member = await Member.start({
    zooCfg: `tickTime=200\nclientPort=0\ndataDir=${dataDir}\nextendedTypesEnabled=true\n`,
  })
  client = new Client(member.connectString, { sessionTimeout: 4000 })
  await client.connect()
})

after(async () => {
  await client.close()
  await member.stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

/** Asserts that `promise` rejects with ZooKeeper error `code`/`zkCode`. */
async function rejectsWith(promise, code, zkCode) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof Error, 'an Error object')
    assert.equal(err.code, code)
    assert.equal(err.zkCode, zkCode)
    assert.equal(typeof err.message, 'string')
    return true
  })
}

test('connect gives a session', () => {
  assert.equal(client.state, 'SyncConnected')
  assert.equal(typeof client.sessionId, 'bigint')
  assert.notEqual(client.sessionId, 0n)
})

test('create, getData, setData, exists, getChildren, delete', async () => {
  assert.equal(await client.create('/crud', Buffer.from([0, 1, 2])), '/crud')
  let { data, stat } = await client.getData('/crud')
  assert.ok(Buffer.isBuffer(data))
  assert.deepEqual([...data], [0, 1, 2])
  assert.equal(stat.version, 0)
  assert.equal(stat.dataLength, 3)
  assert.equal(stat.ephemeralOwner, 0n)

  const s1 = await client.setData('/crud', 'text')
  assert.equal(s1.version, 1)
  const s2 = await client.setData('/crud', 'v2', 1)
  assert.equal(s2.version, 2)
  ;({ data } = await client.getData('/crud'))
  assert.equal(data.toString(), 'v2')

  await client.create('/crud/a')
  await client.create('/crud/b', null)
  assert.deepEqual((await client.getChildren('/crud')).sort(), ['a', 'b'])
  const c2 = await client.getChildren2('/crud')
  assert.equal(c2.stat.numChildren, 2)
  assert.equal((await client.exists('/crud')).numChildren, 2)

  await client.delete('/crud/a')
  await client.delete('/crud/b', 0)
  await client.delete('/crud')
  assert.equal(await client.exists('/crud'), null)
})

test('null data (no data, or null) reads back as null, apart from an empty buffer', async () => {
  await client.create('/nulldata')
  await client.create('/nulldata/empty', '')
  assert.equal((await client.getData('/nulldata')).data, null)
  assert.deepEqual((await client.getData('/nulldata/empty')).data, Buffer.alloc(0))
  const st = await client.setData('/nulldata/empty', null)
  assert.equal(st.dataLength, 0)
  assert.equal((await client.getData('/nulldata/empty')).data, null)
  await client.multi([
    { type: 'create', path: '/nulldata/m' },
    { type: 'setData', path: '/nulldata', data: 'x' },
  ])
  assert.equal((await client.getData('/nulldata/m')).data, null)
  assert.equal((await client.getData('/nulldata')).data.toString(), 'x')
  await client.removeRecursive('/nulldata')
})

test('create modes: sequential, ephemeral, container, ttl', async () => {
  await client.create('/modes')
  const p1 = await client.create('/modes/seq-', 'x', { mode: 'persistent_sequential' })
  const p2 = await client.create('/modes/seq-', 'x', { mode: 'persistent_sequential' })
  assert.match(p1, /^\/modes\/seq-\d{10}$/)
  assert.ok(p2 > p1)

  const eph = await client.create('/modes/eph', '', { mode: 'ephemeral' })
  assert.equal((await client.exists(eph)).ephemeralOwner, client.sessionId)
  const ephSeq = await client.create('/modes/eph-', '', { mode: 'ephemeral_sequential' })
  assert.match(ephSeq, /^\/modes\/eph-\d{10}$/)

  // Containers and TTL nodes report ephemeralOwner 0 to clients, as
  // ZooKeeper's DataNode.copyStat does.
  assert.equal(await client.create('/modes/box', '', { mode: 'container' }), '/modes/box')
  assert.equal((await client.exists('/modes/box')).ephemeralOwner, 0n)
  assert.equal(await client.create('/modes/ttl', '', { mode: 'ttl', ttl: 60000 }), '/modes/ttl')
  const ttlSeq = await client.create('/modes/ttl-', '', { mode: 'persistent_sequential_with_ttl', ttl: 60000 })
  assert.match(ttlSeq, /^\/modes\/ttl-\d{10}$/)
  assert.equal((await client.exists('/modes/ttl')).ephemeralOwner, 0n)
})

test('error codes: NONODE, NODEEXISTS, BADVERSION, NOTEMPTY, NOCHILDRENFOREPHEMERALS', async () => {
  await rejectsWith(client.getData('/missing'), 'NONODE', -101)
  await rejectsWith(client.setData('/missing', 'x'), 'NONODE', -101)
  await rejectsWith(client.delete('/missing'), 'NONODE', -101)
  await rejectsWith(client.getChildren('/missing'), 'NONODE', -101)
  await rejectsWith(client.create('/missing/child'), 'NONODE', -101)

  await client.create('/errs')
  await rejectsWith(client.create('/errs'), 'NODEEXISTS', -110)
  await rejectsWith(client.setData('/errs', 'x', 7), 'BADVERSION', -103)
  await rejectsWith(client.delete('/errs', 7), 'BADVERSION', -103)
  await client.create('/errs/kid')
  await rejectsWith(client.delete('/errs'), 'NOTEMPTY', -111)
  await client.create('/errs/eph', '', { mode: 'ephemeral' })
  await rejectsWith(client.create('/errs/eph/kid'), 'NOCHILDRENFOREPHEMERALS', -108)
})

test('error codes: BADARGUMENTS for bad paths and arguments', async () => {
  await rejectsWith(client.create('no-slash'), 'BADARGUMENTS', -8)
  await rejectsWith(client.getData('/trailing/'), 'BADARGUMENTS', -8)
  await rejectsWith(client.create('/x', '', { mode: 'bogus' }), 'BADARGUMENTS', -8)
  await rejectsWith(client.create('/x', '', { mode: 'ttl' }), 'BADARGUMENTS', -8)
  await rejectsWith(client.multi([{ type: 'rename', path: '/x' }]), 'BADARGUMENTS', -8)
})

function digest(user, password) {
  const hash = crypto.createHash('sha1').update(`${user}:${password}`).digest('base64')
  return `${user}:${hash}`
}

test('ACLs: getAcl, setAcl, NOAUTH, addAuth', async () => {
  const open = await client.getAcl('/')
  assert.deepEqual(open.acl, [{ perms: Perms.All, id: { scheme: 'world', id: 'anyone' } }])

  const acl = [{ perms: Perms.All, id: { scheme: 'digest', id: digest('alice', 'secret') } }]
  await client.create('/guarded', 'private', { acl })

  // A session without alice's credentials is refused ...
  const other = new Client(member.connectString)
  await other.connect()
  await rejectsWith(other.getData('/guarded'), 'NOAUTH', -102)
  await rejectsWith(other.getAcl('/guarded'), 'NOAUTH', -102)
  // ... until it authenticates.
  await other.addAuth('digest', 'alice:secret')
  assert.equal((await other.getData('/guarded')).data.toString(), 'private')
  assert.deepEqual((await other.getAcl('/guarded')).acl, acl)

  const readOnly = [{ perms: Perms.Read, id: { scheme: 'world', id: 'anyone' } }]
  await rejectsWith(other.setAcl('/guarded', readOnly, 5), 'BADVERSION', -103)
  const stat = await other.setAcl('/guarded', readOnly, 0)
  assert.equal(stat.aversion, 1)
  assert.equal((await client.getData('/guarded')).data.toString(), 'private')
  await rejectsWith(client.setData('/guarded', 'x'), 'NOAUTH', -102)
  await other.close()
})

test('credentials in the constructor options are sent on connect', async () => {
  const acl = [{ perms: Perms.All, id: { scheme: 'digest', id: digest('bob', 'pw') } }]
  await client.addAuth('digest', 'bob:pw')
  await client.create('/bobs', 'b', { acl })
  const bob = new Client(member.connectString, { auth: [{ scheme: 'digest', auth: 'bob:pw' }] })
  await bob.connect()
  assert.equal((await bob.getData('/bobs')).data.toString(), 'b')
  await bob.close()
})

test('multi commits all ops or rejects with the failing op\'s code', async () => {
  const results = await client.multi([
    { type: 'create', path: '/tx' },
    { type: 'create', path: '/tx/seq-', mode: 'persistent_sequential', data: 'a' },
    { type: 'setData', path: '/tx', data: 'top' },
    { type: 'check', path: '/tx', version: 1 },
  ])
  assert.deepEqual(
    results.map((r) => r.type),
    ['create', 'create', 'setData', 'check'],
  )
  assert.equal(results[0].path, '/tx')
  assert.match(results[1].path, /^\/tx\/seq-\d{10}$/)
  assert.equal(results[2].stat.version, 1)

  await rejectsWith(
    client.multi([
      { type: 'create', path: '/tx/never' },
      { type: 'delete', path: '/tx/missing' },
    ]),
    'NONODE',
    -101,
  )
  assert.equal(await client.exists('/tx/never'), null)
  await rejectsWith(client.multi([{ type: 'check', path: '/tx', version: 0 }]), 'BADVERSION', -103)
})

test('sync resolves', async () => {
  await client.sync('/')
})

test('CONNECTIONLOSS before connect and when nothing listens; SESSIONEXPIRED after close', async () => {
  const idle = new Client(member.connectString)
  assert.equal(idle.state, 'Disconnected')
  assert.equal(idle.sessionId, 0n)
  await rejectsWith(idle.exists('/'), 'CONNECTIONLOSS', -4)

  const stopped = await Member.start()
  const where = stopped.connectString
  await stopped.stop()
  const nobody = new Client(where, { connectTimeout: 500 })
  await rejectsWith(nobody.connect(), 'CONNECTIONLOSS', -4)

  const closing = new Client(member.connectString)
  await closing.connect()
  const eph = await closing.create('/closing-eph', '', { mode: 'ephemeral' })
  await closing.close()
  assert.equal(closing.state, 'Closed')
  await rejectsWith(closing.getData('/'), 'SESSIONEXPIRED', -112)
  assert.equal(await client.exists(eph), null)
})

test('mkdirp makes every missing parent; removeRecursive deletes a subtree', async () => {
  await client.mkdirp('/deep/a/b/c')
  await client.mkdirp('/deep/a/b/c') // again: fine
  assert.deepEqual(await client.getChildren('/deep/a/b'), ['c'])
  await client.create('/deep/a/x', 'x')
  await client.removeRecursive('/deep')
  assert.equal(await client.exists('/deep'), null)
  await client.removeRecursive('/deep') // missing: fine
})
