// The store, the plugin scenarios and three instances against a three-node Redis Cluster through
// an ioredis Cluster client of the major under test (cluster.ioredis6.test.ts: ioredis 6).
import t from 'tap'
import { startCluster } from '../helpers/cluster.js'
import { SessionSecurityStore } from '../../lib/store.js'
import { idleLeavesActiveStays, slowReaderKeepsFastWrite, slowWriterDoesNotMoveActivityBack, ttlFollowsIdleTimeout } from '../helpers/scenarios.js'
import { threeInstancesAgree } from '../helpers/multi.js'

const cluster = await startCluster()
t.teardown(() => cluster.stop())
const client = cluster.client()

t.test('the store on a cluster: keys spread over the nodes, one script call each', async t => {
  const store = new SessionSecurityStore({ client })
  const now = Date.now()
  const iso = (ms: number): string => new Date(ms).toISOString()
  const ids = Array.from({ length: 30 }, (_, i) => `cluster-${i}`)
  for (const id of ids) {
    // Saved at sign-in (no activity yet), then its first activity, as the plugin does.
    await store.set(id, { user: id, arr: [] })
    await store.recordActivity(id, now - 5000, 30, now - 6000)
  }
  const before = await cluster.commandStats()
  const results = await Promise.all(ids.map(id => store.recordActivity(id, now, 30)))
  const after = await cluster.commandStats()
  t.same(results.map(r => r.status === 'recorded' ? r.at : r), ids.map(() => now))
  // A first call on a node is EVALSHA (NOSCRIPT, not counted as a call) then EVAL.
  const scripts = (after.evalsha ?? 0) - (before.evalsha ?? 0) + (after.eval ?? 0) - (before.eval ?? 0)
  t.equal(scripts, ids.length, 'one script execution per activity write')
  const nodes = await Promise.all(cluster.ports.map(async port => {
    const node = client.nodes('master').find(n => n.options.port === port)
    return node === undefined ? 0 : await node.dbsize()
  }))
  t.ok(nodes.filter(n => n > 0).length >= 2, `keys on several nodes: ${nodes.join(', ')}`)
  for (const id of ids) {
    const raw = await client.get(`sess:${id}`)
    t.equal(raw, `{"_session_security":"${iso(now)}","_session_security_since":${now - 6000},"user":"${id}","arr":[]}`)
  }
  // A save keeps the later activity and the TTL there too.
  await store.set(ids[0], { _session_security: iso(now - 9000), user: 'x' })
  t.equal(await client.get(`sess:${ids[0]}`), `{"_session_security":"${iso(now)}","user":"x"}`)
  t.ok(await client.pttl(`sess:${ids[0]}`) <= 30_000)
  t.equal((await store.recordActivity('missing', now, 30)).status, 'gone')
  t.ok(Math.abs(await store.time() - Date.now()) < 1000, 'Redis\'s clock through the cluster client')

  // Tombstones on every node: ended once, never replaced, read as no session.
  const ended = await Promise.all(ids.map(id => store.end(id, 'idle')))
  t.ok(ended.every(r => r.status === 'ended'))
  t.ok((await Promise.all(ids.map(id => store.end(id, 'absolute')))).every(r => r.status === 'already-ended' && r.reason === 'idle'))
  await Promise.all(ids.map(id => store.set(id, { _session_security: iso(now), user: id })))
  const writes = await Promise.all(ids.map(id => store.recordActivity(id, now, 30)))
  t.ok(writes.every(r => r.status === 'ended' && r.reason === 'idle'), 'activity writes answer ended')
  for (const id of ids) t.equal(await client.get(`sess:${id}`), '{"_session_security_ended":"idle"}')
  t.equal(await store.get(ids[1]), null)
})

t.test('lost update: a slow reader leaves the key that a fast request wrote', async t => {
  t.equal(await slowReaderKeepsFastWrite(t, client), 'book')
})

t.test('stale write-back: a slow request does not move activity back, no early logout', async t => {
  const { status, idle } = await slowWriterDoesNotMoveActivityBack(t, client)
  t.equal(idle, 0)
  t.equal(status, 200)
})

t.test('TTL follows the idle timeout', t => ttlFollowsIdleTimeout(t, client))

t.test('an idle session leaves Redis, an active one stays', t => idleLeavesActiveStays(t, client))

t.test('three processes, one cluster', t => threeInstancesAgree(t, client, { CLUSTER_PORTS: cluster.ports.join(',') }))
