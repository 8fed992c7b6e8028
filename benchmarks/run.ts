// `npm run bench`: what fastify-session-security costs per request, against the same application
// without it. config.ts says what is compared and what must hold, driver.ts runs it, report.ts
// writes the section of RESULTS.md (BENCH_SECTION, default "latest"; none in BENCH_QUICK=1 mode)
// and prints the summary.
//
// Settings (environment): BENCH_QUICK=1 (a smoke check of about 30 s), BENCH_DUELS (8 of each
// kind), BENCH_WARMUP (3 s), BENCH_SECONDS (10 s measured), BENCH_CONNECTIONS (10 per server),
// BENCH_SEED (1), BENCH_PROFILE (1 in a full run: one more duel with --cpu-prof), BENCH_SECTION,
// BENCH_TITLE (the section's heading), BENCH_PAIR (two servers of config.ts: an ablation, unless
// they are baseline,plugin).
import { join } from 'node:path'
import { settingsFrom } from './config.js'
import { cleanUp, repoRoot, runBenchmark } from './driver.js'
import { command, markdown, summary, writeSection } from './report.js'

const MAX_MINUTES = 30
const log = (line: string): void => { process.stderr.write(line + '\n') }

const watchdog = setTimeout(() => {
  log(`benchmark still running after ${MAX_MINUTES} minutes: stopping`)
  cleanUp().finally(() => process.exit(2))
}, MAX_MINUTES * 60_000)
watchdog.unref()

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping servers and redis`)
    cleanUp().finally(() => process.exit(130))
  })
}

try {
  const settings = settingsFrom(process.env)
  const run = await runBenchmark(settings, log)
  const title = process.env.BENCH_TITLE ?? `Run of ${run.machine.date}${settings.quick ? ' (quick)' : ''}`
  const text = markdown(run, title, command(process.env))
  if (settings.section !== '') {
    writeSection(join(repoRoot, 'benchmarks', 'RESULTS.md'), settings.section, text)
    log(`written to benchmarks/RESULTS.md, section "${settings.section}"`)
  } else {
    process.stdout.write(text + '\n\n')
  }
  process.stdout.write(summary(run) + '\n')
} catch (err) {
  process.exitCode = 1
  log(String((err as Error).stack ?? err))
} finally {
  await cleanUp()
}
