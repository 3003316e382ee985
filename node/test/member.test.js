'use strict'
// Member: a zkrs member running inside this Node process.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const net = require('node:net')

const { Member, Client } = require('..')

function ruok(connectString) {
  const [host, port] = connectString.split(':')
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port: Number(port) }, () => sock.write('ruok'))
    let out = ''
    sock.on('data', (d) => (out += d))
    sock.on('end', () => resolve(out))
    sock.on('error', reject)
  })
}

// Member.stop() resolves a moment before the core releases the data
// directory's log lock (reported as a core issue), so a restart on the same
// directory retries briefly.
async function startWhenUnlocked(options) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await Member.start(options)
    } catch (err) {
      if (attempt >= 40 || !/locked/.test(err.message)) throw err
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

test('Member.start serves clients on its connectString and stops', async () => {
  const member = await Member.start()
  assert.match(member.connectString, /^127\.0\.0\.1:\d+$/)
  assert.equal(await ruok(member.connectString), 'imok')

  const client = new Client(member.connectString)
  await client.connect()
  assert.equal(await client.create('/from-member-test', 'x'), '/from-member-test')
  await client.close()

  await member.stop()
  await member.stop() // a second stop is a no-op
  await assert.rejects(ruok(member.connectString))
})

test('Member.start takes zoo.cfg text and a data directory that survives restart', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkrs-node-member-'))
  try {
    // dataDir is given in the text: the core's zoo.cfg parser requires it
    // even when MemberOptions.dataDir would override it.
    const zooCfg = `tickTime=200\nclientPort=0\ndataDir=${dataDir}\n`
    let member = await Member.start({ zooCfg, dataDir })
    let client = new Client(member.connectString)
    await client.connect()
    await client.create('/durable', 'kept')
    await client.close()
    await member.stop()

    member = await startWhenUnlocked({ zooCfg, dataDir })
    client = new Client(member.connectString)
    await client.connect()
    const { data } = await client.getData('/durable')
    assert.equal(data.toString(), 'kept')
    await client.close()
    await member.stop()
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})

test('a bad zoo.cfg rejects with a ZooKeeper-coded Error', async () => {
  await assert.rejects(Member.start({ zooCfg: 'tickTime=abc\n' }), (err) => {
    assert.ok(err instanceof Error)
    assert.equal(err.code, 'SYSTEMERROR')
    assert.equal(err.zkCode, -1)
    assert.match(err.message, /tickTime/)
    return true
  })
})

test('two members run side by side in one process', async () => {
  const [a, b] = await Promise.all([Member.start(), Member.start()])
  assert.notEqual(a.connectString, b.connectString)
  const ca = new Client(a.connectString)
  const cb = new Client(b.connectString)
  await Promise.all([ca.connect(), cb.connect()])
  await ca.create('/only-on-a')
  assert.equal(await cb.exists('/only-on-a'), null)
  await Promise.all([ca.close(), cb.close()])
  await Promise.all([a.stop(), b.stop()])
})
