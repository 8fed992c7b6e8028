// A tombstone is the whole marker that `end` writes, `{"_session_security_ended":"<reason>"}`,
// and nothing else. The store took any JSON that began like one for a tombstone: a session whose
// first field was `_session_security_ended` (written by code that calls the store with a plain
// object) read as ended, and every save of it was silently dropped. Real tombstones still block
// every save and activity write.
import { test } from 'tap'
import { SessionSecurityStore } from '../../lib/store.js'
import { startRedis } from '../helpers/redis.js'

test('only the exact marker is a tombstone', async t => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const store = new SessionSecurityStore({ client: redis, prefix: 'sess:' })

  await store.set('forged', { _session_security_ended: 'idle', user: 'bob' })
  t.same(await store.get('forged'), { _session_security_ended: 'idle', user: 'bob' }, 'a session that starts like a marker is a session')
  await store.set('forged', { _session_security_ended: 'idle', user: 'bob', cart: 'book' })
  t.match(await store.get('forged'), { cart: 'book' }, 'and it is saved again')
  t.equal((await store.recordActivity('forged', Date.now(), 60)).status, 'foreign', 'its activity is written with the whole session')

  await store.set('real', { user: 'ann' })
  t.same(await store.end('real', 'idle'), { status: 'ended' })
  await store.set('real', { user: 'ann', cart: 'book' })
  t.equal(await store.get('real'), null, 'a real tombstone still reads as no session')
  t.equal((await store.recordActivity('real', Date.now(), 60)).status, 'ended')
  t.equal(await redis.get('sess:real'), '{"_session_security_ended":"idle"}', 'and is never replaced')
})
