// Type-checked with `npx tsc -p tsconfig.json` (no emit): the generated
// index.d.ts must describe the API a TypeScript program uses.
import { Client, Lock, Member, Perms } from '..'
import { dropConnection, withMember } from '../testing'
import type { Acl, CreateMode, KeeperState, MultiOp, Stat, WatchedEvent } from '..'

interface ZkError extends Error {
  code: string
  zkCode: number
}

function isZkError(err: unknown): err is ZkError {
  return err instanceof Error && typeof (err as Partial<ZkError>).code === 'string'
}

export async function typedExample(): Promise<number> {
  const member: Member = await Member.start({ tickTime: 200 })
  const client = new Client(member.connectString, { sessionTimeout: 4000, connectTimeout: 2000 })
  const states: KeeperState[] = []
  client.onStateChange((state: KeeperState) => states.push(state))
  client.on('state', (state: KeeperState) => states.push(state))
  client.once('expired', () => console.log('expired'))
  await client.connect()
  const bounded: Stat | null = await client.withSignal(AbortSignal.timeout(1000)).exists('/')
  const lock = new Lock(client, '/typed-lock', 'me')
  const held: boolean = await lock.acquire(null, { signal: AbortSignal.timeout(1000) })
  if (held) await lock.release()
  const sessionId: bigint = client.sessionId

  const acl: Acl[] = [{ perms: Perms.Read | Perms.Write, id: { scheme: 'world', id: 'anyone' } }]
  const mode: CreateMode = 'persistent_sequential'
  const created: string = await client.create('/typed-', Buffer.from('x'), { mode, acl })
  await client.create('/typed-ttl', 'y', { mode: 'ttl', ttl: 1000 }).catch(() => undefined)

  const { data, stat }: { data: Buffer | null; stat: Stat } = await client.getData(created, (event: WatchedEvent) => {
    const path: string = event.path
    console.log(event.type, event.state, path)
  })
  const version: number = stat.version
  const owner: bigint = stat.ephemeralOwner
  const next: Stat = await client.setData(created, data, version)
  const maybe: Stat | null = await client.exists('/nope')
  const children: string[] = await client.getChildren('/', () => {})

  const ops: MultiOp[] = [
    { type: 'create', path: '/typed-tx', data: 'a' },
    { type: 'check', path: '/typed-tx', version: 0 },
  ]
  const results = await client.multi(ops)
  const firstPath: string | undefined = results[0].path ?? undefined

  await client.addWatch('/', (event) => console.log(event.typeCode), { recursive: true })
  await client.sync('/')
  await client.addAuth('digest', 'user:password')
  const { acl: current } = await client.getAcl(created)
  await client.setAcl(created, current, -1)

  try {
    await client.delete('/nope')
  } catch (err) {
    if (isZkError(err) && err.code === 'NONODE') console.log(err.zkCode)
  }
  await client.close()
  await member.stop()
  return next.version + children.length + (maybe ? 1 : 0) + (bounded ? 1 : 0) + Number(owner + sessionId) + (firstPath?.length ?? 0)
}

export async function typedTesting(): Promise<string> {
  return withMember(async (member: Member) => {
    const client = new Client(member.connectString)
    await client.connect()
    await dropConnection(client)
    await client.close()
    return member.connectString
  })
}
