import { cpus, loadavg, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import * as mysql from 'mysql2/promise';
import { DEFAULT_MARIADB_SERVER_URL } from '../src/database/cli/scratch-database';

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  mariadb: string;
  loadAtStart: string;
  loadAtEnd?: string;
}

/** What the figures of a run depend on, taken when it starts; `loadAtEnd` when it ends. */
export async function describeMachine(): Promise<Machine> {
  return {
    cores: cpus().length,
    cpuModel: cpuModel(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    mariadb: await mariadbVersion(),
    loadAtStart: load(),
  };
}

export function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // Not Linux: what Node says.
  }
  return cpus()[0]?.model ?? 'unknown';
}

async function mariadbVersion(): Promise<string> {
  const connection = await mysql.createConnection(
    process.env.MARIADB_TEST_URL ?? DEFAULT_MARIADB_SERVER_URL,
  );
  try {
    const [[row]] = await connection.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
    return String(row.v);
  } finally {
    await connection.end();
  }
}
