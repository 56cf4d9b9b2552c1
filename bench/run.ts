import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { benchAuditInsert } from './audit-insert.bench';
import { benchAuditVerify } from './audit-verify.bench';
import { benchAuditWriter } from './audit-writer.bench';
import { benchGalera } from './galera.bench';
import { benchLogin } from './login.bench';
import { describeMachine, load } from './machine';
import { markdown, Results } from './results-table';
import { benchReveal } from './reveal.bench';
import { benchRewrap } from './rewrap.bench';
import { benchRotation } from './rotation.bench';
import { runCliMain } from '../src/config/cli-entry';

/** Each bench by the name `npm run bench -- <name>` runs alone; all of them, in this order, by default. */
const BENCHES: Record<string, () => Promise<Results>> = {
  insert: benchAuditInsert,
  writer: benchAuditWriter,
  verify: benchAuditVerify,
  reveal: benchReveal,
  login: benchLogin,
  rotation: benchRotation,
  rewrap: benchRewrap,
  // Starts a three-node cluster on this machine; skipped (with a message) without galera-4.
  galera: benchGalera,
  // A bench added here joins the full run and, given a row in results-table.ts, the table.
};

const RESULTS_FILE = process.env.BENCH_RESULTS_FILE ?? 'bench-results.md';

/**
 * `npm run bench`: performance goals live here, never in timed tests. Needs MariaDB. With a name,
 * that bench alone; without, every bench in one run, then one markdown table with the machine it
 * ran on, printed and written to bench-results.md (BENCH_RESULTS_FILE) for docs/performance.md.
 */
async function main(): Promise<void> {
  const only = process.argv[2];
  if (only !== undefined && !(only in BENCHES)) {
    process.stderr.write(`unknown bench "${only}"; one of: ${Object.keys(BENCHES).join(', ')}\n`);
    process.exit(2);
  }
  const machine = await describeMachine();
  const started = Date.now();
  const results: Results = {};
  for (const [name, bench] of Object.entries(BENCHES)) {
    if (only && only !== name) continue;
    process.stderr.write(`\n== ${name} (load average ${load()})\n`);
    Object.assign(results, await bench());
  }
  for (const [name, value] of Object.entries(results))
    process.stdout.write(`${name.padEnd(44)} ${value}\n`);
  if (only) return;
  machine.loadAtEnd = load();
  const table = markdown(machine, results, sizes(), (Date.now() - started) / 60_000);
  writeFileSync(RESULTS_FILE, table);
  process.stdout.write(`\n${table}\nwritten to ${RESULTS_FILE}\n`);
}

function sizes(): string {
  const env = (name: string, fallback: string) => process.env[name] ?? fallback;
  return [
    `BENCH_DURATION=${env('BENCH_DURATION', '10')} s per load`,
    `BENCH_CONNECTIONS=${env('BENCH_CONNECTIONS', '50')} (reveal, list)`,
    `BENCH_LOGIN_CONNECTIONS=${env('BENCH_LOGIN_CONNECTIONS', '8')}`,
    `BENCH_ROTATION_COUNT=${env('BENCH_ROTATION_COUNT', '10000')}`,
    `BENCH_REWRAP_VERSIONS=${env('BENCH_REWRAP_VERSIONS', '100000')}`,
    `BENCH_VERIFY_EVENTS=${env('BENCH_VERIFY_EVENTS', '1000000')}`,
  ].join(', ');
}

runCliMain(() => main().then(() => 0));
