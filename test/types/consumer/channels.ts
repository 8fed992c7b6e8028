// The diagnostics channels, for observability without a dependency.
import type { Channel } from 'node:diagnostics_channel'
import { expireChannel, refusedChannel } from 'fastify-session-security'

const expire: Channel = expireChannel
const refused: Channel = refusedChannel
expire.subscribe((message) => { console.log('session ended', message) })

export { expire, refused }
