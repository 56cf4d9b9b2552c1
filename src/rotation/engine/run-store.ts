import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { randomUUID } from 'node:crypto';
import { EntityManager, In } from 'typeorm';
import { rotationConfig } from '../../config/rotation.config';
import {
  databaseNow,
  dialectOf,
  forUpdate,
  forUpdateSkipLocked,
  isUniqueViolation,
  rowLock,
  timestampParam,
  utcNowPlusSql,
  utcNowSql,
  placeholders,
} from '../../database/dialect';
import { LeaseService } from '../../database/lease.service';
import { RotationRun, RotationStep, RunTrigger } from '../entities/rotation-run.entity';
import { credentialsByIds } from '../../credentials/credential-row';
import { updateGrouped } from '../../database/grouped-update';
import { Credential } from '../../credentials/entities/credential.entity';
import { ClaimLostError, RotationInProgressError } from './rotation.errors';
import { runFromRow, runSelect } from './run-row';

export interface RunOpening {
  credentialId: string;
  rotator: string;
  trigger: RunTrigger;
  emergency: boolean;
  graceSeconds: number;
  reason: string | null;
  requestedBy: string | null;
  /** Claimed by this instance from the start, so it can run at once without another claim. */
  claim: boolean;
}

/** A run as this instance holds it: every write checks the claim and the step it expects. */
export interface HeldRun {
  id: string;
  credentialId: string;
  step: RotationStep;
  attempt: number;
}

/**
 * Rotation runs in the database. Every change of a running run is a compare-and-set on (id,
 * step, attempt, claimed_by), so an instance whose claim expired and was taken over can never
 * move a run another instance now owns; it gets ClaimLostError and stops.
 */
@Injectable()
export class RunStore {
  readonly instance: string;

  constructor(
    leases: LeaseService,
    @Inject(rotationConfig.KEY) private readonly config: ConfigType<typeof rotationConfig>,
  ) {
    this.instance = leases.holder;
  }

  /** Opens a run; the database refuses a second open run of the credential (409). */
  async open(manager: EntityManager, opening: RunOpening): Promise<RotationRun> {
    const run = this.newRun(opening, await databaseNow(manager));
    try {
      await manager.insert(RotationRun, run);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const open = await this.openRunOf(manager, opening.credentialId);
      throw new RotationInProgressError(open?.id ?? 'unknown');
    }
    return run;
  }

  /**
   * Opens runs for several credentials in one statement; null, with nothing opened, when one of
   * them has an open run already (then open() them one by one to learn which).
   */
  async openAll(manager: EntityManager, openings: RunOpening[]): Promise<RotationRun[] | null> {
    if (openings.length === 0) return [];
    const now = await databaseNow(manager);
    const runs = openings.map((opening) => this.newRun(opening, now));
    try {
      await manager.insert(RotationRun, runs);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return null;
    }
    return runs;
  }

  private newRun(opening: RunOpening, now: Date): RotationRun {
    return Object.assign(new RotationRun(), {
      id: randomUUID(),
      credentialId: opening.credentialId,
      rotator: opening.rotator,
      pendingVersion: null,
      step: 'create',
      status: 'running',
      openSlot: 'open',
      attempt: 1,
      maxAttempts: this.config.maxAttempts,
      trigger: opening.trigger,
      emergency: opening.emergency,
      graceSeconds: opening.emergency ? 0 : opening.graceSeconds,
      reason: opening.reason,
      error: null,
      claimedBy: opening.claim ? this.instance : null,
      claimExpiresAt: opening.claim ? this.claimUntil(now) : null,
      nextAttemptAt: now,
      overdueAt: null,
      requestedBy: opening.requestedBy,
      startedAt: now,
      updatedAt: now,
      finishedAt: null,
    });
  }

  /**
   * The credential's open run, if any; with `lock`, its row locked for the rest of the
   * transaction. The caller holds the credential's row lock, as everyone who opens a run does,
   * so no run can open meanwhile: the lock is taken on the run found, by its id, and never on
   * the (credential, open) key when there is none. Such a lock covers the index gap, and two
   * transactions holding one each deadlocked on each other's insert of a new run.
   */
  async openRunOf(
    manager: EntityManager,
    credentialId: string,
    lock = false,
  ): Promise<RotationRun | null> {
    const open = await manager.findOne(RotationRun, { where: { credentialId, openSlot: 'open' } });
    if (!open || !lock || dialectOf(manager) !== 'mariadb') return open;
    // Read again under the lock: the run may have finished since the read above.
    const locked = await manager.findOne(RotationRun, {
      where: { id: open.id },
      lock: rowLock(manager),
    });
    return locked?.openSlot === 'open' ? locked : null;
  }

  /**
   * Takes up to `limit` runs that are due and not held by a live claim (new, backing off, or
   * left by a crashed instance). SKIP LOCKED lets instances claim side by side on MariaDB.
   */
  async claim(manager: EntityManager, limit: number): Promise<string[]> {
    const now = await databaseNow(manager);
    const dialect = dialectOf(manager);
    const mariadb = dialect === 'mariadb';
    const at = timestampParam(dialect, now);
    // In index order, as the due starter does: a full scan and a sort would lock every claimable
    // run (see DueStarter.lockDue).
    const rows = await manager.query<{ id: string }[]>(
      `SELECT id FROM rotation_runs${mariadb ? ' FORCE INDEX (idx_rotation_runs_status_next)' : ''} ` +
        'WHERE status = ? AND next_attempt_at <= ? AND (claimed_by IS NULL OR claim_expires_at < ?) ' +
        `ORDER BY next_attempt_at LIMIT ${Number(limit)}${forUpdateSkipLocked(dialect)}`,
      ['running', at, at],
    );
    const ids = rows.map((row) => row.id);
    if (ids.length > 0) {
      await manager.update(
        RotationRun,
        { id: In(ids) },
        { claimedBy: this.instance, claimExpiresAt: this.claimUntil(now), updatedAt: now },
      );
    }
    return ids;
  }

  /** A run by id, in plain SQL; locked for the transaction with `lock`. */
  async get(manager: EntityManager, id: string, lock = false): Promise<RotationRun | null> {
    const [run] = await this.getAll(manager, [id], lock);
    return run ?? null;
  }

  /** Runs by id, in id order (the order they are locked in with `lock`). */
  async getAll(
    manager: EntityManager,
    ids: readonly string[],
    lock = false,
  ): Promise<RotationRun[]> {
    if (ids.length === 0) return [];
    const rows = await manager.query<Parameters<typeof runFromRow>[0][]>(
      `SELECT ${runSelect('r')} FROM rotation_runs r ` +
        `WHERE r.id IN (${placeholders(ids)}) ORDER BY r.id` +
        (lock ? forUpdate(dialectOf(manager)) : ''),
      [...ids],
    );
    return rows.map(runFromRow);
  }

  /** The run, locked, if this instance still holds it at the step it expects. */
  async hold(manager: EntityManager, held: HeldRun): Promise<RotationRun> {
    return this.checkHeld(held, await this.get(manager, held.id, true));
  }

  /**
   * hold() and the run's credential, both locked: the credential first, then the run, the order
   * every transaction that locks both takes (opening a run, escalating it, a person's write
   * finishing it); steps that took the other order deadlocked with them.
   */
  async holdWithCredential(
    manager: EntityManager,
    held: HeldRun,
  ): Promise<{ run: RotationRun; credential: Credential }> {
    const [locked] = await this.holdAllWithCredentials(manager, [held]);
    return locked;
  }

  /**
   * holdWithCredential() of a batch, in input order: every credential, in id order, then every
   * run, in id order, so batches and single writers never lock in a cycle. Throws
   * ClaimLostError if any run is no longer held as expected (the caller retries the others).
   */
  async holdAllWithCredentials(
    manager: EntityManager,
    helds: readonly HeldRun[],
  ): Promise<{ run: RotationRun; credential: Credential }[]> {
    const credentials = await credentialsByIds(
      manager,
      helds.map((held) => held.credentialId),
      true,
    );
    const runs = await this.getAll(
      manager,
      helds.map((held) => held.id),
      true,
    );
    return helds.map((held) => {
      const run = this.checkHeld(held, runs.find((r) => r.id === held.id) ?? null);
      const credential = credentials.find((c) => c.id === held.credentialId);
      if (!credential) throw new Error(`credential ${held.credentialId} not found`);
      return { run, credential };
    });
  }

  private checkHeld(held: HeldRun, run: RotationRun | null): RotationRun {
    if (
      !run ||
      run.status !== 'running' ||
      run.step !== held.step ||
      run.attempt !== held.attempt ||
      run.claimedBy !== this.instance
    ) {
      throw new ClaimLostError(held.id);
    }
    return run;
  }

  /**
   * Moves a held run on and renews the claim, or ends it when `changes` release it (claimedBy
   * null): a compare-and-set on (id, step, attempt, claim) of a running run, so on its own it is
   * safe against a claim taken over meanwhile. Call it after hold() when the transaction reads
   * the run or writes other rows on the strength of the claim.
   */
  async advance(
    manager: EntityManager,
    held: HeldRun,
    changes: Partial<RotationRun>,
  ): Promise<void> {
    const lost = await this.advanceAll(manager, [held], () => changes);
    if (lost.length > 0) throw new ClaimLostError(held.id);
  }

  /**
   * advance() of a batch of runs, each with its own changes: one statement per step, attempt
   * number and distinct set of changes. Returns the runs that were not held as expected and so
   * were left alone.
   */
  async advanceAll(
    manager: EntityManager,
    helds: readonly HeldRun[],
    changesOf: (held: HeldRun) => Partial<RotationRun>,
  ): Promise<HeldRun[]> {
    const dialect = dialectOf(manager);
    const byAttempt = new Map<string, HeldRun[]>();
    for (const held of helds) {
      const key = `${held.step}/${held.attempt}`;
      byAttempt.set(key, [...(byAttempt.get(key) ?? []), held]);
    }
    let affected = 0;
    for (const group of byAttempt.values()) {
      const { step, attempt } = group[0];
      affected += await updateGrouped<RotationRun, HeldRun>(
        manager,
        RotationRun,
        group.map((held) => {
          const changes = changesOf(held);
          return {
            key: held,
            changes: {
              ...changes,
              // Released (claimedBy null): no claim left to expire. Else renewed, with the
              // database clock in the statement itself, no round trip to read it first.
              claimExpiresAt:
                changes.claimedBy === null
                  ? null
                  : () => utcNowPlusSql(dialect, this.config.claimTtlMs),
              updatedAt: () => utcNowSql(dialect),
            },
          };
        }),
        (keys) => ({
          id: In(keys.map((held) => held.id)),
          status: 'running',
          step,
          attempt,
          claimedBy: this.instance,
        }),
      );
    }
    if (affected === helds.length) return [];
    // Some were taken over meanwhile: the ones not moved on as asked are lost.
    const runs = await this.getAll(
      manager,
      helds.map((held) => held.id),
    );
    return helds.filter((held) => {
      const run = runs.find((r) => r.id === held.id);
      const wanted = { step: held.step, attempt: held.attempt, ...changesOf(held) };
      return (
        !run ||
        run.step !== wanted.step ||
        run.attempt !== wanted.attempt ||
        run.claimedBy !== (wanted.claimedBy === null ? null : this.instance)
      );
    });
  }

  /**
   * advance() to `step` and nothing else: one statement, so the step that only records that a
   * hook ran needs no transaction of its own. Returns the runs lost meanwhile.
   */
  moveOnAll(
    manager: EntityManager,
    helds: readonly HeldRun[],
    step: RotationStep,
  ): Promise<HeldRun[]> {
    return this.advanceAll(manager, helds, () => ({ step }));
  }

  private claimUntil(now: Date): Date {
    return new Date(now.getTime() + this.config.claimTtlMs);
  }
}
