import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { randomInt } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { withTimeout } from '../../common/with-timeout';
import { loggableError } from '../../common/errors/loggable-error';
import { rotationConfig } from '../../config/rotation.config';
import { credentialById } from '../../credentials/credential-row';
import { Credential } from '../../credentials/entities/credential.entity';
import { checkedSecret } from '../../credentials/secret-input';
import { VersionStore } from '../../credentials/version-store';
import { databaseNow } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import { RotationRun } from '../entities/rotation-run.entity';
import type { EffectivePolicy } from '../policy/effective-policy';
import { PolicySource } from '../policy/policy-source';
import { PermanentRotationError, RotationContext, Rotator } from '../rotators/rotator';
import { RotationMetrics } from '../rotation-metrics';
import { RotatorRegistry } from '../rotators/rotator-registry';
import { failpoint } from './failpoints';
import { ClaimLostError } from './rotation.errors';
import { RunEvents } from './run-events';
import { HeldRun, RunStore } from './run-store';

/** How a run left the executor. */
export type RunOutcome = 'succeeded' | 'failed' | 'waiting' | 'retrying' | 'lost';

const SYSTEM_CREATOR = 'system';
const ERROR_MAX = 1000;

/**
 * Drives one claimed run through create → apply → test → finish. Each step's result is
 * persisted before the next starts, so a crash resumes at the step it interrupted, and every
 * hook is safe to repeat. A failing step discards the pending value and retries with a fresh
 * one after a backoff, up to the run's attempt limit; then the run fails and the current value
 * keeps serving.
 */
@Injectable()
export class RunExecutor {
  private readonly logger = new Logger(RunExecutor.name);

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly metrics: RotationMetrics,
    private readonly runs: RunStore,
    private readonly versions: VersionStore,
    private readonly rotators: RotatorRegistry,
    private readonly policies: PolicySource,
    private readonly events: RunEvents,
    @Inject(rotationConfig.KEY) private readonly config: ConfigType<typeof rotationConfig>,
  ) {}

  /**
   * Works on a run this instance has claimed until it succeeds, fails, waits or backs off. The
   * run, its credential and its policy are read once (or taken as the starter read them when it
   * opened the run in this instance, `opened`); each step then moves the run on with a
   * compare-and-set, so a claim lost meanwhile stops the run at its next write (hooks are safe to
   * repeat), and a run resumed later reads everything afresh.
   */
  async execute(runId: string, opened?: OpenedRun): Promise<RunOutcome> {
    // A run this instance has just opened and claimed is as it was written; others are read.
    const run = opened?.run ?? (await this.transactions.read((m) => this.runs.get(m, runId)));
    if (!run || run.status !== 'running' || run.claimedBy !== this.runs.instance) return 'lost';
    const outcome = await this.drive(run, opened);
    if (outcome === 'succeeded' || outcome === 'failed')
      this.metrics.runFinished(run.trigger, outcome);
    return outcome;
  }

  private async drive(run: RotationRun, opened?: OpenedRun): Promise<RunOutcome> {
    let prepared: Prepared | undefined;
    for (;;) {
      const held: HeldRun = {
        id: run.id,
        credentialId: run.credentialId,
        step: run.step,
        attempt: run.attempt,
      };
      try {
        prepared ??= await this.prepare(run, opened);
        const outcome = await this.step(run, held, prepared);
        if (outcome) return outcome;
      } catch (error) {
        if (error instanceof ClaimLostError) return 'lost';
        return this.fail(held, error);
      }
    }
  }

  /**
   * Runs the run's current step and moves `run` on as the database now has it; an outcome when
   * the run left `running`, else undefined.
   */
  private async step(
    run: RotationRun,
    held: HeldRun,
    { credential, rotator, context }: Prepared,
  ): Promise<RunOutcome | undefined> {
    const step = run.step;
    switch (step) {
      case 'create': {
        const value = await this.hook(rotator.create(context));
        if (value === null) return this.awaitValue(held);
        const secret = checkedSecret(credential.type, value);
        const version = await this.transactions.run(async (manager) => {
          const { credential: locked } = await this.holdActive(manager, held);
          const stale = await this.versions.pendingVersion(manager, locked.id);
          if (stale !== null) await this.versions.discardPending(manager, locked.id, stale);
          const added = await this.versions.addPending(manager, locked, secret, SYSTEM_CREATOR);
          await this.runs.advance(manager, held, { step: 'apply', pendingVersion: added });
          return added;
        });
        run.step = 'apply';
        run.pendingVersion = version;
        break;
      }
      case 'apply':
        await this.hook(rotator.apply(context));
        await this.moveOn(held, 'test');
        run.step = 'test';
        break;
      case 'test':
        await this.hook(rotator.test(context));
        await this.moveOn(held, 'finish');
        run.step = 'finish';
        break;
      case 'finish':
        return this.finish(held, rotator, context);
      case 'done':
        return 'lost';
    }
    failpoint(`rotation.after-${step}`);
    return undefined;
  }

  private async finish(
    held: HeldRun,
    rotator: Rotator,
    context: RotationContext,
  ): Promise<RunOutcome> {
    await this.transactions.run(async (manager) => {
      // Read under the lock: an emergency escalation may have set the grace to 0 meanwhile.
      const { run, credential } = await this.holdActive(manager, held);
      if (run.pendingVersion === null) throw new Error('the run has no pending version');
      await rotator.finish({ ...context, credential }, manager);
      const promotion = await this.versions.promote(
        manager,
        credential,
        run.pendingVersion,
        run.graceSeconds,
      );
      const now = await databaseNow(manager);
      await this.runs.advance(manager, held, {
        step: 'done',
        status: 'succeeded',
        openSlot: null,
        error: null,
        finishedAt: now,
        claimedBy: null,
      });
      const nextRotationAt = await this.policies.reschedule(manager, credential, now);
      await this.events.succeeded(manager, run, credential, promotion, nextRotationAt);
    });
    return 'succeeded';
  }

  /** A manual rotator: the run waits for a person's `PUT …/secret`, which finishes it. */
  private async awaitValue(held: HeldRun): Promise<RunOutcome> {
    await this.transactions.run(async (manager) => {
      const { run, credential } = await this.runs.holdWithCredential(manager, held);
      const now = await databaseNow(manager);
      const overdueAt = new Date(now.getTime() + this.config.manualOverdueAfterSeconds * 1000);
      await this.runs.advance(manager, held, {
        status: 'waiting',
        step: 'finish',
        overdueAt,
        claimedBy: null,
      });
      await manager.update(
        Credential,
        { id: credential.id },
        { rotationStatus: 'awaiting_value', rowVersion: credential.rowVersion + 1 },
      );
      await this.events.record(manager, 'rotation.due', run, credential, {
        overdueAt: overdueAt.toISOString(),
      });
    });
    return 'waiting';
  }

  /**
   * A step whose result is only that its hook ran: one compare-and-set statement moves the run
   * on, a transaction of its own.
   */
  private async moveOn(held: HeldRun, step: 'test' | 'finish'): Promise<void> {
    await this.transactions.alone((manager) => this.runs.moveOn(manager, held, step));
  }

  /**
   * The attempt failed: its pending value is discarded (it never served). Another attempt with a
   * fresh value follows after a backoff, or the run fails and the credential's next attempt is
   * scheduled a while later, never at once.
   */
  private async fail(held: HeldRun, error: unknown): Promise<RunOutcome> {
    const message = errorText(error);
    this.logger.warn(
      { runId: held.id, step: held.step, err: loggableError(error) },
      'Rotation step failed',
    );
    try {
      return await this.transactions.run(async (manager) => {
        const { run, credential } = await this.runs.holdWithCredential(manager, held);
        if (run.pendingVersion !== null) {
          await this.versions.discardPending(manager, credential.id, run.pendingVersion);
        }
        const now = await databaseNow(manager);
        const last = error instanceof PermanentRotationError || run.attempt >= run.maxAttempts;
        if (!last) {
          const nextAttemptAt = new Date(now.getTime() + this.backoffMs(run.attempt));
          await this.runs.advance(manager, held, {
            step: 'create',
            attempt: run.attempt + 1,
            pendingVersion: null,
            error: message,
            nextAttemptAt,
            claimedBy: null,
          });
          await this.events.attemptFailed(manager, run, credential, message, nextAttemptAt);
          return 'retrying';
        }
        await this.runs.advance(manager, held, {
          step: 'done',
          status: 'failed',
          openSlot: null,
          error: message,
          finishedAt: now,
          claimedBy: null,
        });
        const retryAt = new Date(now.getTime() + this.config.failedRetryAfterSeconds * 1000);
        const next = await this.policies.reschedule(manager, credential, now, 'failed', retryAt);
        await this.events.record(manager, 'rotation.failed', run, credential, {
          step: run.step,
          attempts: run.attempt,
          error: message,
          currentVersion: credential.currentVersion,
          nextRotationAt: next?.toISOString() ?? null,
        });
        return 'failed';
      });
    } catch (failure) {
      if (failure instanceof ClaimLostError) return 'lost';
      // The run keeps its claim until it expires; then any instance resumes the step.
      this.logger.error(
        { runId: held.id, err: loggableError(failure) },
        'Could not record a failed rotation step',
      );
      return 'lost';
    }
  }

  /** Exponential, with ±20 % jitter so runs that failed together do not retry together. */
  private backoffMs(attempt: number): number {
    const base = this.config.retryBackoffMs * 2 ** (attempt - 1);
    return Math.round(base * (0.8 + randomInt(0, 401) / 1000));
  }

  /**
   * The credential, its policy and the rotator's context: as the starter read them when it opened
   * the run (`opened`), else read now.
   */
  private async prepare(run: RotationRun, opened?: OpenedRun): Promise<Prepared> {
    if (opened) return this.contextOf(run, opened.credential, opened.policy);
    return this.transactions.read(async (manager) => {
      const credential = await credentialById(manager, run.credentialId);
      return this.contextOf(run, credential, await this.policies.effective(manager, credential));
    });
  }

  private contextOf(
    run: RotationRun,
    credential: Credential,
    policy: EffectivePolicy | null,
  ): Prepared {
    if (credential.status !== 'active') {
      throw new PermanentRotationError(`the credential is ${credential.status}`);
    }
    let settings: object = {};
    let generator = null;
    if (policy && policy.rotator.kind === run.rotator) {
      settings = this.rotators.resolve(policy.rotator, credential.type).settings;
      generator = policy.generator;
    } else if (run.rotator !== 'manual') {
      throw new PermanentRotationError(`the policy no longer names the ${run.rotator} rotator`);
    }
    const rotator = this.rotators.get(run.rotator);
    const context: RotationContext = {
      credential,
      run,
      settings,
      generator,
      currentValue: () => this.transactions.read((m) => this.versions.value(m, credential.id)),
      pendingValue: () => {
        const version = run.pendingVersion;
        if (version === null) throw new Error('the run has no pending version yet');
        return this.transactions.read((m) => this.versions.value(m, credential.id, version));
      },
    };
    return { credential, rotator, context };
  }

  private hook<T>(work: Promise<T>): Promise<T> {
    return withTimeout(work, this.config.stepTimeoutMs, 'the rotator did not answer in time');
  }

  /**
   * The held run and its credential, both locked; a run never writes a version of a credential
   * deleted meanwhile.
   */
  private async holdActive(
    manager: EntityManager,
    held: HeldRun,
  ): Promise<{ run: RotationRun; credential: Credential }> {
    const locked = await this.runs.holdWithCredential(manager, held);
    if (locked.credential.status !== 'active') {
      throw new PermanentRotationError(`the credential is ${locked.credential.status}`);
    }
    return locked;
  }
}

/** A run the starter opened and claimed, with the credential and policy it opened it under. */
export interface OpenedRun {
  run: RotationRun;
  credential: Credential;
  policy: EffectivePolicy | null;
}

/** What the steps of one execution share: read once, when it starts. */
interface Prepared {
  credential: Credential;
  rotator: Rotator;
  context: RotationContext;
}

/** The message stored on the run; rotators keep values out of their errors (see Rotator). */
function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : 'rotation step failed';
  return text.length > ERROR_MAX ? `${text.slice(0, ERROR_MAX - 1)}…` : text;
}
