import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { HashedEvent, insertAuditEvents } from '../src/audit/audit-event.sql';
import { AuditVerifier } from '../src/audit/audit-verifier';
import { ChainedEvent, chainHash } from '../src/audit/chain/audit-chain';
import { createScratchMariadb } from '../src/database/cli/scratch-database';
import { buildDataSourceOptions } from '../src/database/data-source-options';

const EVENTS = Number(process.env.BENCH_VERIFY_EVENTS ?? 1_000_000);
const LANES = 8;
const INSERT_BATCH = 2000;

/** How long verify takes over N chained events on MariaDB (rows written directly, in bulk). */
export async function benchAuditVerify(): Promise<Record<string, number>> {
  const database = await createScratchMariadb();
  const dataSource = new DataSource({
    ...buildDataSourceOptions(database.config),
    migrationsRun: true,
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
    const key = randomBytes(32);
    const heads = Array.from({ length: LANES }, () => ({
      laneSeq: 0n,
      hash: null as string | null,
    }));
    const started = Date.now();
    for (let offset = 0; offset < EVENTS; offset += INSERT_BATCH) {
      const events: HashedEvent[] = [];
      for (let i = offset; i < Math.min(EVENTS, offset + INSERT_BATCH); i++) {
        const lane = i % LANES;
        const head = heads[lane];
        const event: ChainedEvent = {
          lane,
          laneSeq: String(head.laneSeq + 1n),
          occurredAt: new Date(1_790_000_000_000 + i),
          actorType: 'service',
          actorId: `svc-${i % 97}`,
          actorDisplay: null,
          ip: '10.0.0.1',
          userAgent: 'bench',
          requestId: `req-${i}`,
          action: 'credential.reveal',
          resourceType: 'credential',
          resourceId: `cred-${i % 1000}`,
          outcome: 'success',
          httpStatus: 200,
          details: '{"method":"POST"}',
          keyId: 'k1',
        };
        const hash = chainHash(key, head.hash, event);
        events.push({ ...event, prevHash: head.hash, hash });
        head.laneSeq += 1n;
        head.hash = hash;
      }
      const { sql, parameters } = insertAuditEvents('mariadb', events);
      await dataSource.query(sql, parameters);
    }
    // Verify holds every lane to its head, as the writer would have left it.
    await dataSource.query(
      'INSERT INTO audit_chain_heads (lane, last_lane_seq, last_seq, last_hash) ' +
        'SELECT e.lane, e.lane_seq, e.seq, e.hash FROM audit_events e JOIN ' +
        '(SELECT lane, MAX(lane_seq) AS lane_seq FROM audit_events GROUP BY lane) t ' +
        'ON t.lane = e.lane AND t.lane_seq = e.lane_seq',
    );
    const loadMs = Date.now() - started;
    const verifyStarted = Date.now();
    const result = await new AuditVerifier(dataSource, {
      chainKey: () => key,
      publicKey: () => undefined,
    }).verify();
    const verifyMs = Date.now() - verifyStarted;
    if (!result.ok || result.verified !== EVENTS)
      throw new Error(`verify failed: ${JSON.stringify(result)}`);
    return {
      'verify events': EVENTS,
      'verify ms': verifyMs,
      'verify events/s': Math.round((EVENTS / verifyMs) * 1000),
      'verify ms per 1M events (extrapolated)': Math.round((verifyMs / EVENTS) * 1_000_000),
      'bulk load ms': loadMs,
    };
  } finally {
    await dataSource.destroy();
    await database.drop();
  }
}
