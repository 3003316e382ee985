'use strict'
// zkrs/testing: a session expired and a connection dropped on purpose.
const { test } = require('node:test')
const assert = require('node:assert/strict')

const { Client } = require('..')
const { expireSession, dropConnection, withMember, withEnsemble } = require('../testing')

test('expireSession ends the session; its ephemerals go', async () => {
  await withMember(async (member) => {
    const client = new Client(member.connectString, { sessionTimeout: 8000 })
    const other = new Client(member.connectString)
    await client.connect()
    await other.connect()
    const states = []
    client.on('state', (s) => states.push(s))
    await client.create('/eph', 'x', { mode: 'ephemeral' })
    await expireSession(client)
    assert.equal(client.state, 'Expired')
    assert.ok(states.includes('Expired'))
    assert.equal(await other.exists('/eph'), null)
    await assert.rejects(client.getData('/'), (err) => err.code === 'SESSIONEXPIRED')
    await other.close()
    await client.close()
  })
})

test('dropConnection: the client reconnects with the same session', async () => {
  await withEnsemble(async (ensemble) => {
    const client = new Client(ensemble.connectString, { sessionTimeout: 8000 })
    await client.connect()
    const id = client.sessionId
    await client.create('/kept', 'x', { mode: 'ephemeral' })
    const states = []
    client.on('state', (s) => states.push(s))
    await dropConnection(client)
    // A call made while the old connection is going fails with
    // CONNECTIONLOSS, as in ZooKeeper: wait for the new connection first.
    const reconnected = () => {
      const lost = states.indexOf('Disconnected')
      return lost >= 0 && states.indexOf('SyncConnected', lost) > lost
    }
    for (let i = 0; i < 200 && !reconnected(); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.ok(reconnected(), JSON.stringify(states))
    const { data } = await client.getData('/kept')
    assert.equal(data.toString(), 'x')
    assert.equal(client.sessionId, id)
    assert.ok(states.includes('Disconnected'), JSON.stringify(states))
    await client.close()
  }, { members: 1, tickTime: 200 })
})
