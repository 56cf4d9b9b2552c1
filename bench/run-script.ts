import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Runs a compiled script beside this file to its end, with Node flags if any; its stdout. */
export async function runScript(
  script: string,
  env: Record<string, string | undefined>,
  nodeFlags: string[] = [],
): Promise<string> {
  const child = spawn(process.execPath, [...nodeFlags, join(__dirname, script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`${script} exited with ${code}: ${out}`);
  return out;
}
