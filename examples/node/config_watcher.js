#!/usr/bin/env node
'use strict'
// A config watcher: one process publishes an application's config in a
// znode, another reacts to every change as it lands.
//
//   node config_watcher.js                    demo: runs a zkrs member in
//                                             this process, starts a watcher
//                                             process and publishes 3 configs
//   node config_watcher.js watch HOSTS [N]    print each config as it
//                                             changes; stop after N
//   node config_watcher.js set HOSTS JSON     publish one config
//
// HOSTS is a ZooKeeper connect string ("127.0.0.1:2181"); any ZooKeeper
// ensemble works, zkrs or Apache's.
const { spawn } = require('node:child_process')
const readline = require('node:readline')

// In this repository the package is ../../node; installed, it is require('zkrs').
const { Client, Member } = require('../../node')

const CONFIG = '/app/config'

async function ensurePath(client, path) {
  let prefix = ''
  for (const part of path.split('/').slice(1)) {
    prefix += `/${part}`
    try {
      await client.create(prefix)
    } catch (err) {
      if (err.code !== 'NODEEXISTS') throw err
    }
  }
}

/** Publishes `config` (an object) as the new config. */
async function publish(hosts, config) {
  const client = new Client(hosts)
  await client.connect()
  try {
    await ensurePath(client, CONFIG)
    const stat = await client.setData(CONFIG, JSON.stringify(config))
    return stat.version
  } finally {
    await client.close()
  }
}

/**
 * Calls `onConfig(config, version)` with the current config and then with
 * each new one, re-arming a one-shot data watch after every read, until
 * `onConfig` returns false.
 */
async function watchConfig(hosts, onConfig) {
  const client = new Client(hosts)
  await client.connect()
  await ensurePath(client, CONFIG)
  await new Promise((resolve, reject) => {
    const read = async () => {
      try {
        const { data, stat } = await client.getData(CONFIG, (event) => {
          if (event.type === 'NodeDataChanged') read()
        })
        const config = data && data.length ? JSON.parse(data.toString()) : null
        if (onConfig(config, stat.version) === false) resolve()
      } catch (err) {
        reject(err)
      }
    }
    read()
  })
  await client.close()
}

async function watchMain(hosts, count) {
  let changes = 0
  await watchConfig(hosts, (config, version) => {
    console.log(`config v${version}: ${JSON.stringify(config)}`)
    if (version > 0) changes++
    return !(count && changes >= count)
  })
}

async function demo() {
  const member = await Member.start()
  const hosts = member.connectString
  console.log(`zkrs member serving on ${hosts}`)

  const watcher = spawn(process.execPath, [__filename, 'watch', hosts, '3'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = readline.createInterface({ input: watcher.stdout })[Symbol.asyncIterator]()
  const nextLine = async () => {
    const { value, done } = await lines.next()
    if (done) throw new Error('the watcher exited early')
    console.log(`  watcher> ${value}`)
    return value
  }

  await nextLine() // the watcher has read the initial (empty) config
  const configs = [
    { logLevel: 'info', workers: 2 },
    { logLevel: 'debug', workers: 2 },
    { logLevel: 'debug', workers: 8 },
  ]
  for (const config of configs) {
    const version = await publish(hosts, config)
    console.log(`published v${version}: ${JSON.stringify(config)}`)
    const seen = await nextLine()
    if (seen !== `config v${version}: ${JSON.stringify(config)}`) {
      throw new Error(`the watcher saw "${seen}"`)
    }
  }

  const code = await new Promise((resolve) => watcher.on('exit', resolve))
  await member.stop()
  if (code !== 0) throw new Error(`the watcher exited with ${code}`)
  console.log('the watcher reacted to every change')
}

async function main(argv) {
  const [command, hosts, arg] = argv
  switch (command) {
    case undefined:
      return demo()
    case 'watch':
      return watchMain(hosts, Number(arg ?? 0))
    case 'set':
      console.log(`published v${await publish(hosts, JSON.parse(arg))}`)
      return
    default:
      throw new Error(`unknown command ${command}`)
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`config_watcher: ${err.message}${err.code ? ` (${err.code})` : ''}`)
  process.exit(1)
})
