'use strict'
// The client over TLS ({tls: {ca, cert, key}}) against a Member serving
// secureClientPort; certificates from the openssl CLI.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const { Member, Client, Perms } = require('..')

let dir
let member
let secure

function openssl(...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 60000 })
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkrs-node-tls-'))
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
    '-days', '2', '-subj', '/CN=ca', '-addext', 'basicConstraints=critical,CA:TRUE')
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n')
  for (const name of ['server', 'client']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`,
      '-subj', `/CN=${name}`)
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key',
      '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', `${name}.pem`)
  }
  const serverPem = ['server.pem', 'server.key'].map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
  fs.writeFileSync(path.join(dir, 'server-all.pem'), serverPem.join(''))
  const port = await freePort()
  secure = `127.0.0.1:${port}`
  member = await Member.start({
    zooCfg: `tickTime=200\nclientPort=0\ndataDir=${path.join(dir, 'data')}\n` +
      `secureClientPort=${port}\nsecureClientPortAddress=127.0.0.1\n` +
      `ssl.keyStore.location=${path.join(dir, 'server-all.pem')}\n` +
      `ssl.trustStore.location=${path.join(dir, 'ca.pem')}\n`,
  })
})

after(async () => {
  if (member) await member.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a client with a certificate connects over TLS and is known by it (x509)', async () => {
  const tls = { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client.key') }
  const c = new Client(secure, { tls })
  await c.connect()
  const acl = [{ perms: Perms.All, id: { scheme: 'x509', id: 'CN=client' } }]
  await c.create('/node-tls', 'x', { acl })
  assert.equal((await c.getData('/node-tls')).data.toString(), 'x')
  const plain = new Client(member.connectString)
  await plain.connect()
  await assert.rejects(plain.getData('/node-tls'), (e) => e.code === 'NOAUTH')
  await plain.close()
  await c.close()
})

test('no client certificate: the member refuses the handshake', async () => {
  const c = new Client(secure, { connectTimeout: 1500, tls: { ca: path.join(dir, 'ca.pem') } })
  await assert.rejects(c.connect(), (e) => e.code === 'CONNECTIONLOSS')
})
