import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
export const MAIN = join(ROOT, 'dist', 'src', 'main.js');
/** Written by every build that changed something; its time says which sources it saw. */
const BUILD_INFO = join(ROOT, 'dist', '.tsbuildinfo.build');
const SOURCES = ['src', 'migrations'].map((dir) => join(ROOT, dir));

/**
 * The built app, as `npm start` runs it; built here when a test runs before `npm run build`, or
 * after a source changed since the last build (a spawned app must not run yesterday's code).
 */
export function ensureBuilt(): void {
  const builtAt = existsSync(MAIN) && existsSync(BUILD_INFO) ? statSync(BUILD_INFO).mtimeMs : 0;
  if (builtAt > 0 && SOURCES.every((dir) => newestTs(dir) <= builtAt)) return;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  // An incremental build that emitted nothing leaves the file as it was: mark it as seen now.
  const now = new Date();
  utimesSync(BUILD_INFO, now, now);
}

/** The latest modification time of a .ts file under `dir`, in ms. */
function newestTs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestTs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface SpawnedApp {
  process: ChildProcess;
  baseUrl: string;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node dist/src/main.js` with exactly `env` (plus PATH), like a fresh shell would. */
export function spawnApp(env: Record<string, string>, port: number): SpawnedApp {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    process: child,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls until the URL answers (any status) or the process exits; returns the status. */
export async function waitForHttp(
  app: SpawnedApp,
  path: string,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app.process.exitCode !== null) throw new Error(`app exited early:\n${app.output()}`);
    try {
      return (await fetch(`${app.baseUrl}${path}`)).status;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`app did not answer ${path} within ${timeoutMs} ms:\n${app.output()}`);
}
