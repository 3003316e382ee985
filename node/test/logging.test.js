'use strict'
// Core logs of a member in this process reach a JS callback.
const { test } = require('node:test')
const assert = require('node:assert/strict')

const { Member, setLogger } = require('..')

test('member logs reach setLogger, and stop with null', async () => {
  const records = []
  setLogger((r) => records.push(r), 'info')
  const member = await Member.start()
  for (let i = 0; i < 100 && !records.some((r) => r.message.includes('serving clients on')); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const serving = records.find((r) => r.message.includes('serving clients on'))
  assert.ok(serving, JSON.stringify(records.slice(-5)))
  assert.equal(serving.level, 'info')
  assert.match(serving.target, /^zkrs::server/)
  assert.ok(records.every((r) => ['error', 'warn', 'info'].includes(r.level)))
  setLogger(null)
  const seen = records.length
  await member.stop()
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(records.length, seen, 'no records after setLogger(null)')
  assert.throws(() => setLogger(() => {}, 'loud'), /BADARGUMENTS/)
})
