import 'reflect-metadata';
import { benchAuditInsert } from './audit-insert.bench';
import { benchAuditVerify } from './audit-verify.bench';
import { benchAuditWriter } from './audit-writer.bench';
import { benchGalera } from './galera.bench';
import { benchReveal } from './reveal.bench';
import { benchRotation } from './rotation.bench';

/** `npm run bench`: performance goals live here, never in timed tests. Needs MariaDB. */
async function main(): Promise<void> {
  const only = process.argv[2];
  const results: Record<string, number> = {};
  if (!only || only === 'insert') Object.assign(results, await benchAuditInsert());
  if (!only || only === 'writer') Object.assign(results, await benchAuditWriter());
  if (!only || only === 'verify') Object.assign(results, await benchAuditVerify());
  if (!only || only === 'reveal') Object.assign(results, await benchReveal());
  if (!only || only === 'rotation') Object.assign(results, await benchRotation());
  // Only when asked for: it starts a three-node Galera cluster on this machine.
  if (only === 'galera') Object.assign(results, await benchGalera());
  for (const [name, value] of Object.entries(results))
    process.stdout.write(`${name.padEnd(44)} ${value}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  },
);
