'use strict'
// zkrs/testing: the failures code must survive, made to happen in a test,
// without Java or Docker. The work is the core's (over ZooKeeper's wire, so
// it works against any server); these are the names tests call.

const { Ensemble, Member } = require('./zkrs.js')

/**
 * Ends the client's session on the server now, as an expiry does (its
 * ephemeral nodes go, watchers are told); resolves once the client has
 * seen it (state 'Expired') and emitted its 'expired' event.
 */
async function expireSession(client, { timeoutMs = 10000 } = {}) {
  // The state events reach JavaScript through a queue of their own: wait
  // for 'expired' too, so the client's listeners have heard it on return.
  const heard = typeof client.once === 'function' ? new Promise((resolve) => client.once('expired', resolve)) : null
  await client.expireSessionForTest(timeoutMs)
  if (!heard) return
  let timer
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('the expired event did not come')), timeoutMs)
  })
  try {
    await Promise.race([heard, late])
  } finally {
    clearTimeout(timer)
  }
}

/** Cuts the client's connection; it reconnects with the same session. */
function dropConnection(client) {
  return client.dropConnectionForTest()
}

/** Runs `fn(member)` against a fresh in-process member, then stops it. */
async function withMember(fn, options = { tickTime: 200 }) {
  const member = await Member.start(options)
  try {
    return await fn(member)
  } finally {
    await member.stop()
  }
}

/** Runs `fn(ensemble)` against a fresh in-process ensemble, then stops it. */
async function withEnsemble(fn, options = { members: 3, tickTime: 200 }) {
  const ensemble = await Ensemble.start(options)
  try {
    return await fn(ensemble)
  } finally {
    await ensemble.stop()
  }
}

module.exports = { expireSession, dropConnection, withMember, withEnsemble }
