import { Api } from '../api';
import { Child, forwardingSignals, startChild, stopChild } from '../child';
import { EnvAssignment, EnvOverride, mapToEnv, parseEnvOverride } from '../env-names';
import { CliError } from '../errors';
import { note } from '../io';
import { followEvents } from '../event-stream';
import { SseMessage } from '../sse';
import { credentialsUnder, isRefusal, revealByPath, Revealed } from '../vault';

export interface RunOptions {
  path: string[];
  env: string[];
  prefix: string;
  verbose?: boolean;
}

export interface Environment {
  variables: Record<string, string>;
  assignments: EnvAssignment[];
  /** The revealed credentials: id → version given to the child. */
  versions: Map<string, number>;
}

const REVEAL_WIDTH = 8;

/**
 * Reveals every credential under the prefixes that the caller may reveal (those it may not are
 * skipped, and counted with --verbose) plus those named by --env, and maps them to variables.
 */
export async function collectEnvironment(api: Api, options: RunOptions): Promise<Environment> {
  const overrides: EnvOverride[] = options.env.map(parseEnvOverride);
  if (options.path.length === 0 && overrides.length === 0) {
    throw new CliError('nothing to reveal: give --path PREFIX (or --env NAME=path)', 2);
  }
  const paths = new Set<string>();
  for (const prefix of options.path) {
    for (const credential of await credentialsUnder(api, prefix)) paths.add(credential.path);
  }
  const listed = [...paths];
  const revealed: Revealed[] = [];
  let skipped = 0;
  await inParallel(listed, REVEAL_WIDTH, async (path) => {
    try {
      revealed.push(await revealByPath(api, path));
    } catch (error) {
      if (!isRefusal(error)) throw error;
      skipped++;
    }
  });
  // Named explicitly: a refusal is an error, not a skip.
  for (const override of overrides) {
    if (revealed.some((secret) => secret.path === override.path)) continue;
    if (paths.has(override.path)) {
      throw new CliError(`--env ${override.name}: you may not reveal ${override.path}`);
    }
    paths.add(override.path);
    revealed.push(await revealByPath(api, override.path));
  }
  revealed.sort((a, b) => a.path.localeCompare(b.path));
  const assignments = mapToEnv(revealed, overrides, options.prefix);
  if (options.verbose) {
    note(
      `${assignments.length} variable(s) from ${revealed.length} credential(s)` +
        (skipped ? `; ${skipped} credential(s) skipped (you may not reveal them)` : '') +
        (assignments.length ? `: ${assignments.map((a) => a.name).join(' ')}` : ''),
    );
  }
  return {
    assignments,
    variables: Object.fromEntries(assignments.map((a) => [a.name, a.value])),
    versions: new Map(revealed.map((secret) => [secret.id, secret.version])),
  };
}

/** `custos run --path P -- CMD ARGS`: the child gets the secrets as variables; its exit code is ours. */
export async function run(
  api: Api,
  command: string,
  args: string[],
  options: RunOptions,
): Promise<number> {
  const environment = await collectEnvironment(api, options);
  const child = startChild(command, args, environment.variables);
  return forwardingSignals(
    () => child.process,
    () => child.exited,
  );
}

export interface WatchOptions extends RunOptions {
  signal?: string;
  killTimeout: number;
}

/** The event types that mean a credential has a new current version. */
export const NEW_VERSION_EVENTS = ['rotation.succeeded'];

interface EventPayload {
  type: string;
  resourceId?: string;
  path?: string;
  data?: { version?: number };
}

/**
 * `custos watch --path P -- CMD ARGS`: as run, and when the event stream reports a new current
 * version of one of the credentials given to the child (rotation.succeeded), reveals again and
 * restarts the child with the new values (SIGTERM, then SIGKILL after --kill-timeout), or with
 * --signal only sends it that signal. Ends with the child's exit code when the child ends by
 * itself.
 */
export async function watch(
  api: Api,
  command: string,
  args: string[],
  options: WatchOptions,
): Promise<number> {
  const signal = options.signal ? toSignal(options.signal) : undefined;
  const abort = new AbortController();
  let environment: Environment | undefined;
  let child: Child | undefined;
  let stopping: Child | undefined;
  let pending = false;
  let busy = false;
  let finish!: (code: number) => void;
  let fail!: (error: unknown) => void;
  const done = new Promise<number>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });

  const launch = (env: Environment) => {
    const started = startChild(command, args, env.variables);
    child = started;
    started.exited.then(
      (code) => {
        if (stopping !== started) finish(code);
      },
      (error: unknown) => fail(error),
    );
  };

  const refresh = async () => {
    if (busy) {
      pending = true;
      return;
    }
    busy = true;
    try {
      do {
        pending = false;
        if (signal) {
          if (options.verbose) note(`a secret changed: sending ${signal} to the child`);
          child?.process.kill(signal);
          continue;
        }
        const next = await collectEnvironment(api, options);
        if (options.verbose) note('a secret changed: restarting the child');
        const old = child;
        if (old) {
          stopping = old;
          await stopChild(old, 'SIGTERM', options.killTimeout * 1000);
        }
        environment = next;
        launch(next);
      } while (pending);
    } catch (error) {
      fail(error);
    } finally {
      busy = false;
    }
  };

  // Heard while the first reveal is under way: looked at once it is done.
  const early: SseMessage[] = [];
  const onMessage = (message: SseMessage) => {
    if (!NEW_VERSION_EVENTS.includes(message.event)) return;
    if (!environment) {
      early.push(message);
      return;
    }
    let payload: EventPayload;
    try {
      payload = JSON.parse(message.data) as EventPayload;
    } catch {
      return; // not an event of ours
    }
    const id = payload.resourceId;
    if (!id || !environment.versions.has(id)) return;
    const version = payload.data?.version;
    if (version !== undefined && version <= (environment.versions.get(id) ?? 0)) return;
    if (signal && version !== undefined) environment.versions.set(id, version);
    void refresh();
  };

  try {
    // Listen first, then reveal: a rotation between the two is heard, not lost.
    await followEvents(api, NEW_VERSION_EVENTS, onMessage, abort.signal, {
      verbose: options.verbose === true,
      fail,
    });
    environment = await collectEnvironment(api, options);
    launch(environment);
    for (const message of early.splice(0)) onMessage(message);
    return await forwardingSignals(
      () => child?.process,
      () => done,
    );
  } finally {
    abort.abort();
    if (child) await stopChild(child, 'SIGTERM', options.killTimeout * 1000).catch(() => undefined);
  }
}

function toSignal(name: string): NodeJS.Signals {
  const upper = name.toUpperCase();
  const full = (upper.startsWith('SIG') ? upper : `SIG${upper}`) as NodeJS.Signals;
  if (!['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGINT', 'SIGTERM', 'SIGQUIT'].includes(full)) {
    throw new CliError(`--signal: ${name} is not one of HUP, USR1, USR2, INT, TERM, QUIT`, 2);
  }
  return full;
}

async function inParallel<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
}
