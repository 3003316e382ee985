'use strict'
// One Node contender of test_cross_lock.py (see lock_worker.py):
//   ZKRS_NODE_PACKAGE=<repo>/node node lock_worker.js HOSTS COUNT ID
const path = require('node:path')
const { Client, Lock } = require(path.resolve(process.env.ZKRS_NODE_PACKAGE))

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function retry (call) {
  for (let i = 0; i < 600; i++) {
    try {
      return await call()
    } catch (err) {
      if (err.code !== 'CONNECTIONLOSS' && err.code !== 'OPERATIONTIMEOUT') throw err
      await sleep(50)
    }
  }
  throw new Error('no connection for 30 s')
}

async function main () {
  const [hosts, count, id] = process.argv.slice(2)
  const client = new Client(hosts, { sessionTimeout: 10000, connectTimeout: 20000 })
  await client.connect()
  const lock = new Lock(client, '/xlock/lock', id)
  for (let i = 0; i < Number(count); i++) {
    await lock.acquire()
    const { data } = await retry(() => client.getData('/xlock/n'))
    await retry(() => client.setData('/xlock/n', String(Number(data.toString()) + 1)))
    if (!lock.isAcquired) throw new Error('lock lost inside the critical section')
    await lock.release()
  }
  await client.close()
  process.stdout.write(JSON.stringify({ id, done: Number(count) }) + '\n')
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ id: process.argv[4], error: String(err) }) + '\n')
  process.exit(1)
})
