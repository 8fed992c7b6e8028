// Stops a child process: the Redis servers, the cluster nodes, the application instances of the
// tests, and the benchmark's servers all stop through here.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'

export interface StopOptions {
  /** The signal asked first (default SIGTERM); SIGKILL needs no fallback. */
  signal?: NodeJS.Signals
  /** A child that has not exited this long after the signal is killed (default 5000 ms). */
  killAfterMs?: number
  /** Close the IPC channel instead of signalling, when the child has one (it then exits on its own). */
  disconnect?: boolean
}

/** Resolves once the child has exited; at once when it already has. */
export async function stopProcess (child: ChildProcess, { signal = 'SIGTERM', killAfterMs = 5000, disconnect = false }: StopOptions = {}): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  if (disconnect && child.connected) child.disconnect()
  else child.kill(signal)
  const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs)
  try {
    await exited
  } finally {
    clearTimeout(timer)
  }
}
