import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { appConfig } from '../config/app.config';
import { dialectOf, rowLock, shareLock } from '../database/dialect';
import { cryptoConfig } from '../config/crypto.config';
import type { Kek } from './envelope';
import { KeyringEntry } from './keyring-entry.entity';
import { loadMasterKeys } from './master-key-loader';
import { checkValueMatches, computeCheckValue, derivePurposeKey, KeyPurpose } from './purpose-keys';
import { open, seal } from './sealed-box';
import { KeyUnavailableError, SealedError } from './sealed.error';

export const ACTIVE_KEY_REFRESH_MS = 5_000;

export type SealStatus = { sealed: false; keyId: string } | { sealed: true; reason: string };

/** A key id with the purpose key derived from it, taken together so they always match. */
export interface PurposeKey {
  keyId: string;
  key: Buffer;
}

/**
 * Holds the master keys (KEKs) in memory and decides, once at start-up, whether this instance is
 * sealed. The database knows each key's id, status and check value, never the key. One key is
 * active: it wraps new data keys and derives the purpose keys for new data; the others are kept
 * while data still references them (a master-key rotation in progress). Other modules ask this
 * service for keys by id and never see the configuration.
 */
@Injectable()
export class KeyringService implements OnApplicationBootstrap {
  private readonly logger = new Logger(KeyringService.name);
  private readonly keks = new Map<string, Buffer>();
  private status: SealStatus = { sealed: true, reason: 'the keyring has not been opened yet' };
  private readonly purposeKeys = new Map<string, Buffer>();
  private opening?: Promise<SealStatus>;
  /** An active key this instance lacks, said once rather than every refresh. */
  private missingActive?: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(appConfig.KEY) private readonly app: ConfigType<typeof appConfig>,
    @Inject(cryptoConfig.KEY) private readonly crypto: ConfigType<typeof cryptoConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureOpen();
  }

  /**
   * Only other instances rotate behind this one's back, and SQLite has no other instances: on
   * MariaDB an unsealed keyring re-reads which key is active.
   */
  @Interval('keyring-active-refresh', ACTIVE_KEY_REFRESH_MS)
  async refreshActiveOnSchedule(): Promise<void> {
    if (this.status.sealed || dialectOf(this.dataSource) !== 'mariadb') return;
    await this.refreshActive().catch((error: unknown) =>
      this.logger.warn(`Could not re-read the active master key: ${(error as Error).message}`),
    );
  }

  /** Opens the keyring once; other start-up work that needs keys awaits this too. */
  ensureOpen(): Promise<SealStatus> {
    this.opening ??= this.open();
    return this.opening;
  }

  private async open(): Promise<SealStatus> {
    const loaded = loadMasterKeys({
      masterKey: this.crypto.masterKey,
      masterKeyFile: this.crypto.masterKeyFile,
      masterKeys: this.crypto.masterKeys,
      masterKeysDir: this.crypto.masterKeysDir,
      masterKeyId: this.crypto.masterKeyId,
      isProduction: this.app.isProduction,
      dataDir: this.app.dataDir,
    });
    if (!loaded) {
      return this.seal(
        'no master key is configured (set CUSTOS_MASTER_KEY, CUSTOS_MASTER_KEY_FILE, CUSTOS_MASTER_KEYS or CUSTOS_MASTER_KEYS_DIR)',
      );
    }
    if (loaded.source === 'generated-dev-file') {
      this.logger.warn(
        `Generated a development master key at ${loaded.origin}. Back it up: without it no secret ` +
          'can be decrypted. In production set CUSTOS_MASTER_KEY or CUSTOS_MASTER_KEY_FILE instead.',
      );
    }
    let entries = await this.dataSource.getRepository(KeyringEntry).find();
    if (entries.length === 0) entries = await this.enrolFirstKey(loaded.keys);
    const problem = keyringProblem(entries, loaded.keys);
    if (problem) return this.seal(problem);
    const active = entries.find((entry) => entry.status === 'active')!;
    loaded.keys.forEach((key, id) => this.keks.set(id, key));
    this.status = { sealed: false, keyId: active.id };
    const unknown = [...loaded.keys.keys()].filter((id) => !entries.some((e) => e.id === id));
    this.logger.log(
      `Unsealed with master key "${active.id}" active, holding ${[...loaded.keys.keys()].join(', ')} ` +
        `from ${loaded.source} (${loaded.origin})` +
        (unknown.length ? `; not yet in the keyring: ${unknown.join(', ')}` : ''),
    );
    return this.status;
  }

  sealStatus(): SealStatus {
    return this.status;
  }

  isSealed(): boolean {
    return this.status.sealed;
  }

  /** The id of the active master key as this instance last saw it; throws while sealed. */
  activeKeyId(): string {
    if (this.status.sealed) throw new SealedError(this.status.reason);
    return this.status.keyId;
  }

  /** The ids of the keys this instance holds (configured and checked). */
  heldKeyIds(): string[] {
    return this.status.sealed ? [] : [...this.keks.keys()];
  }

  /** The KEK with this id, for unwrapping data written under it; throws when not held. */
  kek(keyId: string): Kek {
    if (this.status.sealed) throw new SealedError(this.status.reason);
    const key = this.keks.get(keyId);
    if (!key) throw new KeyUnavailableError(keyId);
    return { id: keyId, key };
  }

  /**
   * The active KEK as the database says now, for wrapping a new data key: another instance may
   * have rotated the master key since this one started. Pass the caller's transaction.
   */
  async activeKek(manager: EntityManager): Promise<Kek> {
    if (this.status.sealed) throw new SealedError(this.status.reason);
    // A shared lock: a rotation's switch waits for this transaction, so no data key wrapped by
    // the old key can commit after the re-wrap has looked for them.
    const [active] = await manager.query<{ id: string }[]>(
      `SELECT id FROM keyring WHERE status = 'active'${shareLock(dialectOf(manager))}`,
    );
    this.follow(active?.id);
    return this.kek(active?.id ?? this.status.keyId);
  }

  /**
   * Picks up a rotation done by another instance, so audit events, TOTP secrets and tokens
   * made here use the new key within ACTIVE_KEY_REFRESH_MS.
   */
  async refreshActive(): Promise<void> {
    if (this.status.sealed) return;
    const active = await this.dataSource
      .getRepository(KeyringEntry)
      .findOne({ where: { status: 'active' }, select: { id: true } });
    this.follow(active?.id);
  }

  private follow(activeId: string | undefined): void {
    if (this.status.sealed || !activeId || activeId === this.status.keyId) return;
    if (!this.keks.has(activeId)) {
      if (this.missingActive === activeId) return;
      this.missingActive = activeId;
      this.logger.error(
        `Master key "${activeId}" was made active elsewhere but is not configured here: new data keys cannot be wrapped on this instance`,
      );
      return;
    }
    this.logger.log(`Master key "${activeId}" is now active (was "${this.status.keyId}")`);
    this.status = { sealed: false, keyId: activeId };
  }

  /** A key for one purpose, derived from the active master key. Throws while sealed. */
  purposeKey(purpose: KeyPurpose): Buffer {
    return this.currentPurposeKey(purpose).key;
  }

  /** The active key's id and its purpose key, for data that records which key made it. */
  currentPurposeKey(purpose: KeyPurpose): PurposeKey {
    const keyId = this.activeKeyId();
    return { keyId, key: this.derived(keyId, purpose) };
  }

  /**
   * A purpose key of the master key with the given id, for checking data written under it;
   * undefined for a key this instance does not hold.
   */
  purposeKeyFor(keyId: string, purpose: KeyPurpose): Buffer | undefined {
    return !this.status.sealed && this.keks.has(keyId) ? this.derived(keyId, purpose) : undefined;
  }

  /**
   * Seals a small value (e.g. a TOTP secret) under the active key's purpose key, bound to `aad`.
   * The result names the key (`<key id>:<sealed>`), so a master-key rotation can find and
   * re-seal it.
   */
  sealValue(
    purpose: KeyPurpose,
    plaintext: string,
    aad: string,
    keyId = this.activeKeyId(),
  ): string {
    return `${keyId}:${seal(this.derived(keyId, purpose), plaintext, aad)}`;
  }

  /** Opens what sealValue made. Values from before key ids were recorded belong to `legacyKeyId`. */
  openValue(purpose: KeyPurpose, sealed: string, aad: string): string {
    const { keyId, body } = splitSealed(sealed, this.crypto.masterKeyId);
    const key = this.purposeKeyFor(keyId, purpose);
    if (!key) throw new KeyUnavailableError(keyId);
    return open(key, body, aad);
  }

  /** The id of the key a sealValue result was made with. */
  sealedKeyId(sealed: string): string {
    return splitSealed(sealed, this.crypto.masterKeyId).keyId;
  }

  /**
   * Makes `keyId` the active master key, inside the caller's transaction: it is enrolled (its
   * check value stored) if new, and the previous active key becomes retired. Data keys already
   * wrapped stay under their key until re-wrapped.
   */
  async activate(keyId: string, manager: EntityManager): Promise<{ previous: string }> {
    const kek = this.kek(keyId);
    const repository = manager.getRepository(KeyringEntry);
    // Locked: two rotations at once must not leave two active keys.
    const previous = await repository.findOne({
      where: { status: 'active' },
      lock: rowLock(manager),
    });
    const existing = await repository.findOneBy({ id: keyId });
    if (existing && !checkValueMatches(kek.key, existing.checkValue)) {
      throw new Error(`key "${keyId}" does not match its stored check value`);
    }
    if (previous && previous.id !== keyId) {
      await repository.update({ id: previous.id }, { status: 'retired' });
    }
    if (existing) await repository.update({ id: keyId }, { status: 'active' });
    else
      await repository.insert({
        id: keyId,
        status: 'active',
        checkValue: computeCheckValue(kek.key),
      });
    return { previous: previous?.id ?? keyId };
  }

  /** Called once the activating transaction committed, so this instance uses the new key at once. */
  useActive(keyId: string): void {
    this.kek(keyId);
    this.status = { sealed: false, keyId };
  }

  private derived(keyId: string, purpose: KeyPurpose): Buffer {
    const cacheKey = `${keyId}/${purpose}`;
    let key = this.purposeKeys.get(cacheKey);
    if (!key) {
      const kek = this.keks.get(keyId);
      if (!kek) throw new KeyUnavailableError(keyId);
      key = derivePurposeKey(kek, purpose);
      this.purposeKeys.set(cacheKey, key);
    }
    return key;
  }

  /**
   * On the very first start, remembers which key this deployment was set up with (its check
   * value, never the key): CUSTOS_MASTER_KEY_ID when several keys are given.
   */
  private async enrolFirstKey(keys: Map<string, Buffer>): Promise<KeyringEntry[]> {
    const repository = this.dataSource.getRepository(KeyringEntry);
    const keyId = keys.has(this.crypto.masterKeyId) ? this.crypto.masterKeyId : [...keys.keys()][0];
    try {
      await repository.insert({
        id: keyId,
        status: 'active',
        checkValue: computeCheckValue(keys.get(keyId)!),
      });
      this.logger.log(`Stored the check value of master key "${keyId}" in the keyring`);
    } catch (error) {
      // Another instance starting at the same moment may have enrolled first; its row decides.
      this.logger.warn(
        `Keyring enrolment raced with another instance: ${(error as Error).message}`,
      );
    }
    return repository.find();
  }

  private seal(reason: string): SealStatus {
    this.keks.clear();
    this.purposeKeys.clear();
    this.status = { sealed: true, reason };
    this.logger.error(
      `Custos is sealed: ${reason}. Every API route answers 503 until it restarts with the right key.`,
    );
    return this.status;
  }
}

/**
 * Why these keys cannot open this keyring, or undefined when they can: the active key must be
 * held, and every held key the keyring knows must match its own check value.
 */
export function keyringProblem(
  entries: readonly KeyringEntry[],
  keys: ReadonlyMap<string, Buffer>,
): string | undefined {
  for (const entry of entries) {
    const key = keys.get(entry.id);
    if (key && !checkValueMatches(key, entry.checkValue)) {
      return `the master key does not match the stored check value of key "${entry.id}"`;
    }
  }
  const active = entries.find((entry) => entry.status === 'active');
  if (!active) return 'the keyring has no active master key';
  if (!keys.has(active.id)) {
    return `the active master key "${active.id}" is not configured (configured: ${[...keys.keys()].join(', ')})`;
  }
  return undefined;
}

function splitSealed(sealed: string, legacyKeyId: string): { keyId: string; body: string } {
  const separator = sealed.indexOf(':');
  return separator > 0
    ? { keyId: sealed.slice(0, separator), body: sealed.slice(separator + 1) }
    : { keyId: legacyKeyId, body: sealed };
}
