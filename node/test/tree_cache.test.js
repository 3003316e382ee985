'use strict'
// TreeCache: a subtree mirrored in this process, each change heard.
const { test } = require('node:test')
const assert = require('node:assert/strict')

const { Member, Client, TreeCache } = require('..')

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

test('a TreeCache mirrors a subtree and reports each change', async () => {
  const member = await Member.start({ tickTime: 200 })
  const client = new Client(member.connectString)
  await client.connect()
  try {
    await client.create('/t', 'root')
    await client.create('/t/a', '1')
    const heard = []
    const cache = new TreeCache(client, '/t', (e) => heard.push([e.type, e.path ?? null]))
    await until(() => heard.some(([t]) => t === 'initialized'))
    assert.deepEqual(cache.getChildren('/t'), ['a'])
    assert.equal(cache.getData('/t/a').data.toString(), '1')
    await client.create('/t/b', '2')
    await client.setData('/t/a', '3')
    await client.delete('/t/b')
    await until(() => heard.some(([t, p]) => t === 'removed' && p === '/t/b'))
    await until(() => cache.getData('/t/a')?.data.toString() === '3')
    assert.ok(heard.some(([t, p]) => t === 'added' && p === '/t/b'))
    assert.ok(heard.some(([t, p]) => t === 'updated' && p === '/t/a'))
    assert.equal(cache.getData('/t/b'), null)
    assert.equal(cache.getData('/none'), null)
    assert.equal(cache.running, true)
    cache.close()
    assert.equal(cache.running, false)
    assert.equal(cache.getChildren('/t'), null)
  } finally {
    await client.close()
    await member.stop()
  }
})
