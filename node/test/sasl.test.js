'use strict'
// The client logging in with SASL DIGEST-MD5 ({sasl: {username, password}})
// to a Member with JAAS users; a wrong password is AUTHFAILED.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { Member, Client, Perms } = require('..')

let dir
let member

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkrs-node-sasl-'))
  const jaas = path.join(dir, 'jaas.conf')
  fs.writeFileSync(jaas, 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n' +
    '  user_jaasuser="jaas_password";\n};\n')
  member = await Member.start({
    zooCfg: `tickTime=200\nclientPort=0\ndataDir=${path.join(dir, 'data')}\n` +
      `java.security.auth.login.config=${jaas}\n`,
  })
})

after(async () => {
  if (member) await member.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a SASL user owns what its sasl ACL names', async () => {
  const c = new Client(member.connectString, { sasl: { username: 'jaasuser', password: 'jaas_password' } })
  await c.connect()
  const acl = [{ perms: Perms.All, id: { scheme: 'sasl', id: 'jaasuser' } }]
  await c.create('/node-sasl', 'x', { acl })
  assert.equal((await c.getData('/node-sasl')).data.toString(), 'x')
  const plain = new Client(member.connectString)
  await plain.connect()
  await assert.rejects(plain.getData('/node-sasl'), (e) => e.code === 'NOAUTH')
  await plain.close()
  await c.close()
})

test('a wrong password is AUTHFAILED', async () => {
  const c = new Client(member.connectString, { connectTimeout: 3000, sasl: { username: 'jaasuser', password: 'no' } })
  await assert.rejects(c.connect(), (e) => e.code === 'AUTHFAILED')
})
