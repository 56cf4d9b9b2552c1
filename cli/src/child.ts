import { ChildProcess, spawn } from 'node:child_process';
import { CliError } from './errors';
import { exitCodeFor } from './exit-codes';

/** The signals `custos run` and `watch` pass on to their child instead of dying of them. */
export const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

export interface Child {
  process: ChildProcess;
  /** The exit code as `custos` passes it through (see exitCodeFor). */
  exited: Promise<number>;
}

/** custos's own credentials, which the child does not inherit (it gets its secrets, not the key). */
export const WITHHELD = ['CUSTOS_TOKEN', 'CUSTOS_API_KEY'];

/**
 * Starts `command` with the parent's environment (less WITHHELD) plus `variables`, on the
 * parent's terminal (stdio inherited). Nothing is written to disk: the values live in this
 * process and the child's environment only.
 */
export function startChild(
  command: string,
  args: string[],
  variables: Record<string, string>,
): Child {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of WITHHELD) delete env[name];
  const child = spawn(command, args, { stdio: 'inherit', env: { ...env, ...variables } });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new CliError(
          `cannot run ${command}: ${error.code === 'ENOENT' ? 'command not found' : error.code}`,
          error.code === 'ENOENT' ? 127 : 126,
        ),
      );
    });
    child.once('exit', (code, signal) => resolve(exitCodeFor(code, signal)));
  });
  return { process: child, exited };
}

/** While `work` runs, SIGINT/SIGTERM/… sent to custos go to the current child instead. */
export async function forwardingSignals<T>(
  current: () => ChildProcess | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const handlers = FORWARDED.map((signal) => {
    const handler = () => {
      current()?.kill(signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  try {
    return await work();
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

/** Sends `signal`, then SIGKILL after `graceMs` if the child is still there; resolves on exit. */
export async function stopChild(
  child: Child,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
  child.process.kill(signal);
  try {
    await child.exited;
  } finally {
    clearTimeout(timer);
  }
}
