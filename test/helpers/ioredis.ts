// The ioredis major that the Redis tests run on: 5 (the `ioredis` package) unless the environment
// says IOREDIS_MAJOR=6 (the `ioredis-6` alias of ioredis 6, whose default protocol is RESP3). Test
// helpers and the instance processes they spawn (which inherit the environment) take
// their Redis and Cluster constructors from here, so one test file runs on one major throughout.
// The types are those of ioredis 5: the store is written against the API the two majors share.
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis'
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis-6'

export const IOREDIS_MAJOR: 5 | 6 = process.env.IOREDIS_MAJOR === '6' ? 6 : 5

/** The ioredis Redis class of the major under test. */
export const Redis: typeof Redis5 = IOREDIS_MAJOR === 6 ? Redis6 as unknown as typeof Redis5 : Redis5
// eslint-disable-next-line @typescript-eslint/no-redeclare -- the instance type under the class's name, as a class declaration has it (TypeScript checks the pair)
export type Redis = Redis5

/** The ioredis Cluster class of the major under test. */
export const Cluster: typeof Cluster5 = IOREDIS_MAJOR === 6 ? Cluster6 as unknown as typeof Cluster5 : Cluster5
// eslint-disable-next-line @typescript-eslint/no-redeclare -- the instance type under the class's name, as a class declaration has it (TypeScript checks the pair)
export type Cluster = Cluster5
