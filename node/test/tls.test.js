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
let elsewhere
let elsewhereHosts

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
  issue('server', '/CN=server', 'IP:127.0.0.1')
  issue('client', '/CN=client', 'IP:127.0.0.1')
  // A server certificate that names another host, not 127.0.0.1.
  issue('other', '/CN=other.example', 'DNS:other.example')
  ;[member, secure] = await startSecure('server', 'data')
  ;[elsewhere, elsewhereHosts] = await startSecure('other', 'data-other')
})

// `name`.pem and `name`.key, signed by the CA, with one alternative name.
function issue(name, subject, altName) {
  fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${altName}\n`)
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`,
    '-subj', subject)
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key',
    '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`)
}

// A member serving TLS with the `name` certificate; [member, host:port].
async function startSecure(name, data) {
  const pem = [`${name}.pem`, `${name}.key`].map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
  fs.writeFileSync(path.join(dir, `${name}-all.pem`), pem.join(''))
  const port = await freePort()
  const m = await Member.start({
    zooCfg: `tickTime=200\nclientPort=0\ndataDir=${path.join(dir, data)}\n` +
      `secureClientPort=${port}\nsecureClientPortAddress=127.0.0.1\n` +
      `ssl.keyStore.location=${path.join(dir, `${name}-all.pem`)}\n` +
      `ssl.trustStore.location=${path.join(dir, 'ca.pem')}\n`,
  })
  return [m, `127.0.0.1:${port}`]
}

after(async () => {
  if (member) await member.stop()
  if (elsewhere) await elsewhere.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a certificate naming another host is refused unless hostnameVerification is false', async () => {
  const files = { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client.key') }
  const checked = new Client(elsewhereHosts, { connectTimeout: 1500, tls: files })
  await assert.rejects(checked.connect(), (e) => e.code === 'CONNECTIONLOSS')
  await checked.close()
  const unchecked = new Client(elsewhereHosts, { tls: { ...files, hostnameVerification: false } })
  await unchecked.connect()
  assert.equal((await unchecked.exists('/')) !== null, true)
  await unchecked.close()
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
