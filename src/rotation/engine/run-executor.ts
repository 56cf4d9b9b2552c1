import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { randomInt } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { withTimeout } from '../../common/with-timeout';
import { loggableError } from '../../common/errors/loggable-error';
import { rotationConfig } from '../../config/rotation.config';
import { credentialsByIds } from '../../credentials/credential-row';
import { Credential } from '../../credentials/entities/credential.entity';
import { checkedSecret } from '../../credentials/secret-input';
import type { ParsedSecret } from '../../credentials/secrets/parsed-secret';
import { LiveValues, VersionStore } from '../../credentials/version-store';
import { databaseNow } from '../../database/dialect';
import { TransactionRunner } from '../../database/transaction-runner';
import { RotationRun, RotationStep } from '../entities/rotation-run.entity';
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
const STEPS: readonly RotationStep[] = ['create', 'apply', 'test', 'finish'];
/**
 * A batch's step locks its rows by primary key and reads nothing it relies on without a lock,
 * so it needs no gap locks; under REPEATABLE READ its locking read of the runs took the gap
 * after the last run id, and another instance's starter, inserting runs there while holding the
 * due index, deadlocked with it.
 */
const STEP_ISOLATION = 'READ COMMITTED';

/**
 * Drives claimed runs through create → apply → test → finish, a batch at a time. Each step's
 * result is persisted before the next starts, so a crash resumes at the step it interrupted, and
 * every hook is safe to repeat. The hooks of a batch run side by side, each with its own outcome;
 * the batch's runs that passed a step are then moved on together, in one transaction with
 * statements for the whole batch (its step commits are grouped, as the audit writer groups
 * reveals). If that transaction fails, the step is done again run by run, so one run's problem
 * (a credential deleted meanwhile, a lost claim) stays that run's. A failing step discards the
 * pending value and retries with a fresh one after a backoff, up to the run's attempt limit;
 * then the run fails and the current value keeps serving.
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

  /** executeAll() of one run. */
  async execute(runId: string, opened?: OpenedRun): Promise<RunOutcome> {
    const [outcome] = await this.executeAll([opened ?? runId]);
    return outcome;
  }

  /**
   * Works on runs this instance has claimed until each succeeds, fails, waits or backs off; the
   * outcomes in the order given. A run is read once (or taken as the starter wrote it when it
   * opened the run in this instance) and each step moves it on with a compare-and-set, so a
   * claim lost meanwhile stops the run at its next write; a run resumed later reads everything
   * afresh.
   */
  async executeAll(entries: readonly (string | OpenedRun)[]): Promise<RunOutcome[]> {
    const outcomes = new Map<string, RunOutcome>();
    const triggers = new Map<string, RotationRun['trigger']>();
    let live = await this.begin(entries, outcomes, triggers);
    while (live.length > 0) {
      for (const step of STEPS) {
        const group = live.filter((e) => e.run.step === step && !outcomes.has(e.run.id));
        if (group.length > 0) await this.stepGroup(step, group, outcomes);
      }
      live = live.filter((e) => !outcomes.has(e.run.id));
    }
    for (const [id, outcome] of outcomes) {
      const trigger = triggers.get(id);
      if (trigger && (outcome === 'succeeded' || outcome === 'failed')) {
        this.metrics.runFinished(trigger, outcome);
      }
    }
    return entries.map((e) => outcomes.get(typeof e === 'string' ? e : e.run.id) ?? 'lost');
  }

  /** The runs to execute, prepared; the others already have their outcome. */
  private async begin(
    entries: readonly (string | OpenedRun)[],
    outcomes: Map<string, RunOutcome>,
    triggers: Map<string, RotationRun['trigger']>,
  ): Promise<Execution[]> {
    const opened = entries.filter((e): e is OpenedRun => typeof e !== 'string');
    const read = await this.readRuns(entries.filter((e): e is string => typeof e === 'string'));
    const executions: Execution[] = [];
    for (const id of read.missing) outcomes.set(id, 'lost');
    for (const { run, credential, policy } of [...opened, ...read.found]) {
      triggers.set(run.id, run.trigger);
      try {
        executions.push(this.prepare(run, credential, policy));
      } catch (error) {
        outcomes.set(run.id, await this.fail(heldOf(run), error));
      }
    }
    return executions;
  }

  /** Runs by id with their credentials and policies, if this instance holds them. */
  private async readRuns(ids: string[]): Promise<{ found: OpenedRun[]; missing: string[] }> {
    if (ids.length === 0) return { found: [], missing: [] };
    return this.transactions.read(async (manager) => {
      const runs = (await this.runs.getAll(manager, ids)).filter(
        (run) => run.status === 'running' && run.claimedBy === this.runs.instance,
      );
      const credentials = await credentialsByIds(
        manager,
        runs.map((run) => run.credentialId),
      );
      const policies = await this.policies.effectiveOfEach(manager, credentials);
      const found = runs.flatMap((run) => {
        const credential = credentials.find((c) => c.id === run.credentialId);
        return credential ? [{ run, credential, policy: policies.get(credential.id) ?? null }] : [];
      });
      return { found, missing: ids.filter((id) => !found.some((f) => f.run.id === id)) };
    });
  }

  /**
   * One step for a group of runs at that step. When the group's shared transaction fails, each
   * run does the step on its own, so the failure lands on the run that caused it.
   */
  private async stepGroup(
    step: RotationStep,
    group: Execution[],
    outcomes: Map<string, RunOutcome>,
  ): Promise<void> {
    try {
      await this.stepAll(step, group, outcomes);
    } catch (error) {
      if (group.length > 1) {
        // Runs whose own hook already failed keep that outcome; the rest try the step alone.
        for (const execution of group.filter((e) => !outcomes.has(e.run.id))) {
          await this.stepGroup(step, [execution], outcomes);
        }
        return;
      }
      const [execution] = group;
      outcomes.set(
        execution.run.id,
        error instanceof ClaimLostError ? 'lost' : await this.fail(heldOf(execution.run), error),
      );
    }
  }

  private async stepAll(
    step: RotationStep,
    group: Execution[],
    outcomes: Map<string, RunOutcome>,
  ): Promise<void> {
    switch (step) {
      case 'create':
        return this.createAll(group, outcomes);
      case 'apply':
        return this.hookAndMoveOn(group, outcomes, (e) => e.rotator.apply(e.context), 'test');
      case 'test':
        this.shareValueReads(group);
        return this.hookAndMoveOn(group, outcomes, (e) => e.rotator.test(e.context), 'finish');
      case 'finish':
        return this.finishAll(group, outcomes);
      case 'done':
        for (const e of group) outcomes.set(e.run.id, 'lost');
    }
  }

  /** create: fresh values from the hooks, stored as pending versions in one transaction. */
  private async createAll(group: Execution[], outcomes: Map<string, RunOutcome>): Promise<void> {
    const made: { execution: Execution; secret: ParsedSecret }[] = [];
    await this.hooks(group, outcomes, async (e) => {
      const value = await e.rotator.create(e.context);
      if (value === null) outcomes.set(e.run.id, await this.awaitValue(heldOf(e.run)));
      else made.push({ execution: e, secret: checkedSecret(e.credential.type, value) });
    });
    if (made.length === 0) return;
    const versions = await this.transactions.run(async (manager) => {
      const locked = await this.holdActive(
        manager,
        made.map(({ execution }) => heldOf(execution.run)),
      );
      const stale = await this.versions.pendingVersions(
        manager,
        locked.map(({ credential }) => credential.id),
      );
      for (const [credentialId, version] of stale) {
        await this.versions.discardPending(manager, credentialId, version);
      }
      const added = await this.versions.addPendingAll(
        manager,
        made.map(({ secret }, i) => ({ credential: locked[i].credential, secret })),
        SYSTEM_CREATOR,
      );
      const lost = await this.runs.advanceAll(
        manager,
        made.map(({ execution }) => heldOf(execution.run)),
        (held) => ({
          step: 'apply',
          pendingVersion: added[made.findIndex(({ execution }) => execution.run.id === held.id)],
        }),
      );
      if (lost.length > 0) throw new ClaimLostError(lost[0].id);
      return added;
    }, STEP_ISOLATION);
    made.forEach(({ execution, secret }, i) => {
      execution.run.step = 'apply';
      execution.run.pendingVersion = versions[i];
      execution.secret = secret;
    });
    failpoint('rotation.after-create');
  }

  /**
   * apply and test: a step whose result is only that its hook ran. The runs whose hooks passed
   * move on in one compare-and-set statement, a transaction of its own.
   */
  private async hookAndMoveOn(
    group: Execution[],
    outcomes: Map<string, RunOutcome>,
    hook: (e: Execution) => Promise<void>,
    next: 'test' | 'finish',
  ): Promise<void> {
    const passed: Execution[] = [];
    await this.hooks(group, outcomes, async (e) => {
      await hook(e);
      passed.push(e);
    });
    if (passed.length === 0) return;
    const step = passed[0].run.step;
    const lost = await this.transactions.alone((manager) =>
      this.runs.moveOnAll(
        manager,
        passed.map((e) => heldOf(e.run)),
        next,
      ),
    );
    for (const e of passed) {
      if (lost.some((held) => held.id === e.run.id)) outcomes.set(e.run.id, 'lost');
      else e.run.step = next;
    }
    if (lost.length > 0) {
      // Rare and costly: the runs wait out their claim. Another instance took them over, or the
      // statement met a database that had not seen this instance's last step (docs/galera.md).
      this.logger.warn(
        `${lost.length} rotation run(s) were no longer held at step ${step} when moving on to ` +
          `${next}; left to whoever holds them, or to their claim's expiry`,
      );
    }
    failpoint(`rotation.after-${step}`);
  }

  /** finish: the switches, the runs' ends, rescheduling and events, in one transaction. */
  private async finishAll(group: Execution[], outcomes: Map<string, RunOutcome>): Promise<void> {
    await this.transactions.run(async (manager) => {
      // Read under the locks: an emergency escalation may have set the grace to 0 meanwhile.
      const locked = await this.holdActive(
        manager,
        group.map((e) => heldOf(e.run)),
      );
      for (const [i, { run, credential }] of locked.entries()) {
        if (run.pendingVersion === null) throw new Error('the run has no pending version');
        await group[i].rotator.finish({ ...group[i].context, credential }, manager);
      }
      const promotions = await this.versions.promoteAll(
        manager,
        locked.map(({ run, credential }, i) => ({
          credential,
          version: run.pendingVersion!,
          graceSeconds: run.graceSeconds,
          // The value this execution made, if it made the pending version; else read back.
          secret: group[i].run.pendingVersion === run.pendingVersion ? group[i].secret : undefined,
        })),
      );
      const now = await databaseNow(manager);
      const lost = await this.runs.advanceAll(
        manager,
        locked.map(({ run }) => heldOf(run)),
        () => ({
          step: 'done',
          status: 'succeeded',
          openSlot: null,
          error: null,
          finishedAt: now,
          claimedBy: null,
        }),
      );
      if (lost.length > 0) throw new ClaimLostError(lost[0].id);
      const credentials = locked.map(({ credential }) => credential);
      const next = await this.policies.rescheduleAll(manager, credentials, now);
      await this.events.succeededAll(
        manager,
        locked.map(({ run, credential }, i) => ({
          run,
          credential,
          promotion: promotions[i],
          nextRotationAt: next.get(credential.id) ?? null,
        })),
      );
    }, STEP_ISOLATION);
    for (const e of group) outcomes.set(e.run.id, 'succeeded');
  }

  /**
   * Runs `work` for each run of the group side by side, each within the step timeout; a run
   * whose work throws fails (or is lost) on its own.
   */
  private async hooks(
    group: Execution[],
    outcomes: Map<string, RunOutcome>,
    work: (e: Execution) => Promise<void>,
  ): Promise<void> {
    await Promise.all(
      group.map(async (e) => {
        try {
          await withTimeout(
            work(e),
            this.config.stepTimeoutMs,
            'the rotator did not answer in time',
          );
        } catch (error) {
          outcomes.set(
            e.run.id,
            error instanceof ClaimLostError ? 'lost' : await this.fail(heldOf(e.run), error),
          );
        }
      }),
    );
  }

  /** The test hooks of a group read the current and pending values with one statement. */
  private shareValueReads(group: Execution[]): void {
    let shared: Promise<LiveValues> | undefined;
    const load = () =>
      (shared ??= this.transactions.read((m) =>
        this.versions.liveValues(
          m,
          group.map((e) => e.credential.id),
        ),
      ));
    for (const e of group) e.values = load;
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

  /** The run's rotator and the context its hooks get; throws if it can no longer rotate. */
  private prepare(
    run: RotationRun,
    credential: Credential,
    policy: EffectivePolicy | null,
  ): Execution {
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
    const execution: Execution = {
      run,
      credential,
      rotator: this.rotators.get(run.rotator),
      context: {
        credential,
        run,
        settings,
        generator,
        currentValue: () => this.valueOf(execution),
        pendingValue: () => {
          const version = run.pendingVersion;
          if (version === null) throw new Error('the run has no pending version yet');
          return this.valueOf(execution, version);
        },
      },
    };
    return execution;
  }

  /** A value for a hook: from the group's shared read in the test step, else read alone. */
  private async valueOf(execution: Execution, version?: number): Promise<Record<string, unknown>> {
    const id = execution.credential.id;
    if (execution.values) return (await execution.values()).value(id, version);
    return this.transactions.read((m) => this.versions.value(m, id, version));
  }

  /**
   * The held runs and their credentials, all locked; a run never writes a version of a
   * credential deleted meanwhile.
   */
  private async holdActive(
    manager: EntityManager,
    helds: HeldRun[],
  ): Promise<{ run: RotationRun; credential: Credential }[]> {
    const locked = await this.runs.holdAllWithCredentials(manager, helds);
    for (const { credential } of locked) {
      if (credential.status !== 'active') {
        throw new PermanentRotationError(`the credential is ${credential.status}`);
      }
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

/** A run being executed, and what its steps share: read once, when it starts. */
interface Execution {
  /** Moved on as the database has it. */
  run: RotationRun;
  credential: Credential;
  rotator: Rotator;
  context: RotationContext;
  /** The pending value, when this execution made it. */
  secret?: ParsedSecret;
  /** The group's shared read of values, during the test step. */
  values?: () => Promise<LiveValues>;
}

function heldOf(run: RotationRun): HeldRun {
  return { id: run.id, credentialId: run.credentialId, step: run.step, attempt: run.attempt };
}

/** The message stored on the run; rotators keep values out of their errors (see Rotator). */
function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : 'rotation step failed';
  return text.length > ERROR_MAX ? `${text.slice(0, ERROR_MAX - 1)}…` : text;
}
