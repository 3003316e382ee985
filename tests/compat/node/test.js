'use strict';
// zkrs compatibility test with node-zookeeper-client.
// Run: ZK_HOST=127.0.0.1 ZK_PORT=2181 ZK_BASE=/compat/node-x node --test test.js
const test = require('node:test');
const assert = require('node:assert/strict');
const zookeeper = require('node-zookeeper-client');

const HOSTPORT = `${process.env.ZK_HOST || '127.0.0.1'}:${process.env.ZK_PORT || '2181'}`;
const BASE = process.env.ZK_BASE || `/compat/node-${process.pid}-${Date.now()}`;
const { Exception, Event, CreateMode } = zookeeper;

function connect() {
  return new Promise((resolve, reject) => {
    const c = zookeeper.createClient(HOSTPORT, { sessionTimeout: 10000, retries: 2 });
    const t = setTimeout(() => { c.close(); reject(new Error(`no connection to ${HOSTPORT} in 15 s`)); }, 15000);
    c.once('connected', () => { clearTimeout(t); resolve(c); });
    c.connect();
  });
}

// promise wrappers: resolve with the callback's results, reject with the Exception
const p = (fn) => new Promise((resolve, reject) =>
  fn((err, ...res) => (err ? reject(err) : resolve(res))));
const create = (c, path, data, mode) =>
  p((cb) => c.create(path, data ? Buffer.from(data) : undefined, mode || CreateMode.PERSISTENT, cb));
const getData = (c, path, watcher) =>
  p((cb) => (watcher ? c.getData(path, watcher, cb) : c.getData(path, cb)));
const setData = (c, path, data, version) => p((cb) => c.setData(path, Buffer.from(data), version, cb));
const exists = (c, path, watcher) => p((cb) => (watcher ? c.exists(path, watcher, cb) : c.exists(path, cb)));
const getChildren = (c, path) => p((cb) => c.getChildren(path, cb));
const remove = (c, path, version) => p((cb) => c.remove(path, version, cb));
const commit = (tx) => new Promise((resolve) => tx.commit((err, results) => resolve({ err, results })));

function nextEvent(timeoutMs) {
  let resolve;
  const pr = new Promise((r) => { resolve = r; });
  const watcher = (ev) => resolve(ev);
  const timed = Promise.race([pr, new Promise((_, rej) =>
    setTimeout(() => rej(new Error(`no watch event within ${timeoutMs} ms`)), timeoutMs).unref())]);
  return { watcher, event: timed };
}

async function expectCode(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.getCode(), code, `got ${e}`);
    return true;
  });
}

let a, b;

test.before(async () => {
  a = await connect();
  b = await connect();
  await p((cb) => a.mkdirp(BASE, cb));
});

test.after(() => { if (a) a.close(); if (b) b.close(); });

test('create, getData, exists with Stat', async () => {
  const [path] = await create(a, `${BASE}/n`, 'hello');
  assert.equal(path, `${BASE}/n`);
  const [data, stat] = await getData(a, path);
  assert.equal(data.toString(), 'hello');
  assert.equal(stat.version, 0);
  assert.equal(stat.dataLength, 5);
  assert.equal(stat.numChildren, 0);
  const [st2] = await exists(a, path);
  assert.ok(st2);
  assert.equal(st2.version, 0);
  const [none] = await exists(a, `${BASE}/none`);
  assert.equal(none, null);
});

test('setData with version, BadVersion', async () => {
  await create(a, `${BASE}/s`, 'a');
  const [st] = await setData(a, `${BASE}/s`, 'b', 0);
  assert.equal(st.version, 1);
  await expectCode(setData(a, `${BASE}/s`, 'c', 0), Exception.BAD_VERSION);
  const [data] = await getData(a, `${BASE}/s`);
  assert.equal(data.toString(), 'b');
});

test('getChildren and remove', async () => {
  await create(a, `${BASE}/p`);
  for (const k of ['x', 'y', 'z']) await create(a, `${BASE}/p/${k}`);
  const [kids] = await getChildren(a, `${BASE}/p`);
  assert.deepEqual(kids.sort(), ['x', 'y', 'z']);
  await expectCode(remove(a, `${BASE}/p`, -1), Exception.NOT_EMPTY);
  await remove(a, `${BASE}/p/x`, 0);
  await expectCode(remove(a, `${BASE}/p/x`, -1), Exception.NO_NODE);
  const [kids2] = await getChildren(a, `${BASE}/p`);
  assert.deepEqual(kids2.sort(), ['y', 'z']);
});

test('error codes', async () => {
  await expectCode(getData(a, `${BASE}/missing`), Exception.NO_NODE);
  await create(a, `${BASE}/dup`);
  await expectCode(create(a, `${BASE}/dup`), Exception.NODE_EXISTS);
  await expectCode(create(a, `${BASE}/missing/child`), Exception.NO_NODE);
  assert.equal(Exception.NO_NODE, -101);
  assert.equal(Exception.NODE_EXISTS, -110);
});

test('sequential and ephemeral modes', async () => {
  await create(a, `${BASE}/q`);
  const [s0] = await create(a, `${BASE}/q/s-`, '', CreateMode.PERSISTENT_SEQUENTIAL);
  const [s1] = await create(a, `${BASE}/q/s-`, '', CreateMode.EPHEMERAL_SEQUENTIAL);
  assert.equal(s0, `${BASE}/q/s-0000000000`);
  assert.equal(s1, `${BASE}/q/s-0000000001`);
  const [st] = await exists(b, s1);
  assert.ok(st);
  assert.equal(st.ephemeralOwner.toString('hex'), a.getSessionId().toString('hex'));
});

test('data watch fires once on change', async () => {
  await create(a, `${BASE}/w`, '0');
  const w = nextEvent(5000);
  await getData(a, `${BASE}/w`, w.watcher);
  await setData(b, `${BASE}/w`, '1', -1);
  const ev = await w.event;
  assert.equal(ev.getType(), Event.NODE_DATA_CHANGED);
  assert.equal(ev.getPath(), `${BASE}/w`);
});

test('exists watch on a missing node fires NodeCreated', async () => {
  const w = nextEvent(5000);
  const [st] = await exists(a, `${BASE}/later`, w.watcher);
  assert.equal(st, null);
  await create(b, `${BASE}/later`);
  const ev = await w.event;
  assert.equal(ev.getType(), Event.NODE_CREATED);
});

test('transaction committed and rolled back', async () => {
  await create(a, `${BASE}/t`, 'v');
  let r = await commit(a.transaction()
    .create(`${BASE}/t/a`, Buffer.from('1'))
    .setData(`${BASE}/t`, Buffer.from('v2'), 0)
    .check(`${BASE}/t`, 1));
  assert.ok(!r.err, `unexpected ${r.err}`);
  assert.equal(r.results.length, 3);
  const [data] = await getData(a, `${BASE}/t`);
  assert.equal(data.toString(), 'v2');
  r = await commit(a.transaction()
    .create(`${BASE}/t/b`)
    .remove(`${BASE}/t/a`, 7)
    .create(`${BASE}/t/c`));
  assert.ok(r.err);
  assert.equal(r.err.getCode(), Exception.BAD_VERSION);
  assert.deepEqual(r.results.map((x) => x.err), [0, Exception.BAD_VERSION, -2]);
  const [kids] = await getChildren(a, `${BASE}/t`);
  assert.deepEqual(kids, ['a']);
});

test('ephemeral removed when its session closes', async () => {
  const c = await connect();
  await create(c, `${BASE}/eph`, '', CreateMode.EPHEMERAL);
  const w = nextEvent(5000);
  await exists(a, `${BASE}/eph`, w.watcher);
  c.close();
  const ev = await w.event;
  assert.equal(ev.getType(), Event.NODE_DELETED);
  const [st] = await exists(a, `${BASE}/eph`);
  assert.equal(st, null);
});
