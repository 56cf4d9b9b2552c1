import { Machine } from './machine';

export type Results = Record<string, number>;

interface Row {
  bench: string;
  custos: string;
  floor: string;
  ratio: string;
  notes: string;
}

const n = (value: number | undefined): string =>
  value === undefined ? '?' : value.toLocaleString('en-US', { maximumFractionDigits: 2 });
const fixed = (value: number | undefined): string => (value === undefined ? '' : value.toFixed(2));
const us = (ms: number | undefined): string =>
  ms === undefined ? '?' : String(Math.round(ms * 1000));
const ratio = (value: number | undefined, floor: number | undefined): string =>
  value === undefined || floor === undefined || floor === 0 ? '' : (value / floor).toFixed(2);

/**
 * One row per measurement of a run, from the name/value pairs the benches return: what Custos
 * did, what its floor (a bare loop doing the same work) or its target is, and the ratio.
 */
export function rowsOf(r: Results): Row[] {
  const rows: Row[] = [];
  // Named by reveal.bench.ts's routes, e.g. `GET /secrets/{path} (reveal)`, and round when several.
  for (const label of Object.keys(r).flatMap((k) => /^req\/s custos, (.*)$/.exec(k)?.[1] ?? [])) {
    rows.push({
      bench: `${label.replace(/^(GET \S+)/, '`$1`')}, API key`,
      custos: `${n(r[`req/s custos, ${label}`])} req/s`,
      floor: `${n(r[`req/s floor, ${label}`])} req/s (bare node:http + mysql2)`,
      ratio: fixed(r[`throughput ratio, ${label}`]),
      notes: `p99 ratio ${n(r[`p99 ratio, ${label}`])}; non-2xx ${n(r[`non-2xx custos, ${label}`])}`,
    });
  }
  if (r['login req/s custos'] !== undefined) {
    rows.push({
      bench: 'login `POST /auth/login` (argon2id, 19 MiB, t=2)',
      custos: `${n(r['login req/s custos'])} req/s, p50/p99 ${n(r['login p50 ms custos'])}/${n(r['login p99 ms custos'])} ms, ${n(r['login CPU µs/req custos'])} µs CPU/req`,
      floor: `${n(r['login verifies/s floor'])} verifies/s, p50/p99 ${n(r['login p50 ms floor'])}/${n(r['login p99 ms floor'])} ms, ${n(r['login CPU µs/verify floor'])} µs CPU/verify (bare argon2 verify loop)`,
      ratio: ratio(r['login req/s custos'], r['login verifies/s floor']),
      notes: `CPU per login ${ratio(r['login CPU µs/req custos'], r['login CPU µs/verify floor'])}× one verify; argon2-bound by design`,
    });
  }
  const count = r['rotation credentials'];
  for (const [label, name] of [
    ['one', 'one instance'],
    ['two', 'two instances'],
  ]) {
    const rate = r[`rotations/s ${label}`];
    if (rate === undefined) continue;
    const floor = r['rotations/s floor'];
    const once = r[`rotated exactly once ${label}`];
    rows.push({
      bench: `rotation of ${n(count)} credentials, ${name}`,
      custos: `${n(rate)} credentials/s (${n(r[`rotation seconds ${label}`])} s)`,
      floor:
        floor === undefined
          ? '-'
          : `${n(floor)} credentials/s (${n(r['rotation seconds floor'])} s, bare mysql2, 4 workers)`,
      ratio: ratio(rate, floor),
      notes:
        `rotated exactly once: ${n(once)} of ${n(count)}` +
        (label === 'two' ? `; two/one ${ratio(rate, r['rotations/s one'])}` : ''),
    });
  }
  if (r['rewrap versions/s custos'] !== undefined) {
    const value = r['rewrap ratio'];
    rows.push({
      bench: `master-key re-wrap of ${n(r['rewrap versions'])} versions`,
      custos: `${n(r['rewrap versions/s custos'])} versions/s (${n(r['rewrap seconds custos'])} s)`,
      floor: `${n(r['rewrap versions/s floor'])} versions/s (${n(r['rewrap seconds floor'])} s, bare mysql2 batches of 200)`,
      ratio: fixed(value),
      notes: `target ≥ 0.5: ${value >= 0.5 ? 'met' : 'NOT met'}; CPU µs/version Node ${us(r['rewrap Node CPU ms/version custos'])} vs ${us(r['rewrap Node CPU ms/version floor'])}, MariaDB ${us(r['rewrap DB CPU ms/version custos'])} vs ${us(r['rewrap DB CPU ms/version floor'])}`,
    });
  }
  if (r['verify ms'] !== undefined) {
    const events = r['verify events'];
    const target = (10 * events) / 1_000_000;
    const seconds = r['verify ms'] / 1000;
    rows.push({
      bench: `audit verify of ${n(events)} events (8 lanes)`,
      custos: `${n(seconds)} s, ${n(r['verify events/s'])} events/s`,
      floor: `target < ${n(target)} s (10 s per 1,000,000)`,
      ratio: ratio(target, seconds),
      notes: `target ${seconds < target ? 'met' : 'NOT met'}; ${n(r['verify ms per 1M events (extrapolated)'] / 1000)} s per 1M events at this rate`,
    });
  }
  const audited = r['audited tx/s (insert + event), 8 lane(s)'];
  if (audited !== undefined) {
    rows.push({
      bench: 'audited write (insert + audit event, 8 lanes), in-process',
      custos: `${n(audited)} tx/s`,
      floor: `${n(r['plain tx/s (insert, no audit)'])} tx/s (the insert alone)`,
      ratio: ratio(audited, r['plain tx/s (insert, no audit)']),
      notes: `1 lane: ${n(r['audited tx/s (insert + event), 1 lane(s)'])} tx/s`,
    });
  }
  const ping = r['req/s, audited, 8 lane(s), sinks: none'];
  if (ping !== undefined) {
    rows.push({
      bench: 'cheapest audited route `GET /bench/ping`',
      custos: `${n(ping)} req/s (p99 ${n(r['p99 latency ms, audited, 8 lane(s), sinks: none'])} ms)`,
      floor: '-',
      ratio: '',
      notes: `1 lane: ${n(r['req/s, audited, 1 lane(s), sinks: none'])} req/s; file sink on: ${n(r['req/s, audited, 8 lane(s), sinks: file'])} req/s`,
    });
  }
  return rows;
}

/** The run as markdown: the machine and the sizes, then one table. */
export function markdown(
  machine: Machine,
  results: Results,
  sizes: string,
  minutes: number,
): string {
  const header = ['bench', 'Custos', 'floor or target', 'ratio', 'notes'];
  const rows = rowsOf(results).map((row) => [
    row.bench,
    row.custos,
    row.floor,
    row.ratio,
    row.notes,
  ]);
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [
    `Machine: ${machine.cores} × ${machine.cpuModel}, ${machine.memoryGiB} GiB; Node ${machine.node}; ` +
      `MariaDB ${machine.mariadb} on the same machine. Load average (1/5/15 min) ${machine.loadAtStart} ` +
      `at the start, ${machine.loadAtEnd ?? '?'} at the end; ${minutes.toFixed(1)} min in all.`,
    '',
    `Sizes: ${sizes}.`,
    '',
    line(header),
    line(['---', '---', '---', '--:', '---']),
    ...rows.map(line),
    '',
  ].join('\n');
}
