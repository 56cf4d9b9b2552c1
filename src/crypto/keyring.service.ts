import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { appConfig } from '../config/app.config';
import { cryptoConfig } from '../config/crypto.config';
import { KeyringEntry } from './keyring-entry.entity';
import { loadMasterKey } from './master-key-loader';
import { checkValueMatches, computeCheckValue, derivePurposeKey, KeyPurpose } from './purpose-keys';
import { SealedError } from './sealed.error';

export type SealStatus = { sealed: false; keyId: string } | { sealed: true; reason: string };

/**
 * Holds the master key in memory and decides, once at start-up, whether this instance is sealed.
 * Every other module asks it for purpose keys and never sees the master key.
 */
@Injectable()
export class KeyringService implements OnApplicationBootstrap {
  private readonly logger = new Logger(KeyringService.name);
  private masterKey: Buffer | null = null;
  private status: SealStatus = { sealed: true, reason: 'the keyring has not been opened yet' };
  private readonly purposeKeys = new Map<KeyPurpose, Buffer>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(appConfig.KEY) private readonly app: ConfigType<typeof appConfig>,
    @Inject(cryptoConfig.KEY) private readonly crypto: ConfigType<typeof cryptoConfig>,
  ) {}

  private opening?: Promise<SealStatus>;

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureOpen();
  }

  /** Opens the keyring once; other start-up work that needs keys awaits this too. */
  ensureOpen(): Promise<SealStatus> {
    this.opening ??= this.open();
    return this.opening;
  }

  private async open(): Promise<SealStatus> {
    const loaded = loadMasterKey({
      masterKey: this.crypto.masterKey,
      masterKeyFile: this.crypto.masterKeyFile,
      isProduction: this.app.isProduction,
      dataDir: this.app.dataDir,
    });
    if (!loaded) {
      return this.seal(
        'no master key is configured (set CUSTOS_MASTER_KEY or CUSTOS_MASTER_KEY_FILE)',
      );
    }
    if (loaded.source === 'generated-dev-file') {
      this.logger.warn(
        `Generated a development master key at ${loaded.origin}. Back it up: without it no secret ` +
          'can be decrypted. In production set CUSTOS_MASTER_KEY or CUSTOS_MASTER_KEY_FILE instead.',
      );
    }
    const keyId = this.crypto.masterKeyId;
    const repository = this.dataSource.getRepository(KeyringEntry);
    const entry =
      (await repository.findOneBy({ id: keyId })) ?? (await this.enrolFirstKey(keyId, loaded.key));
    if (!entry) {
      return this.seal(`master key id "${keyId}" is not in the keyring (CUSTOS_MASTER_KEY_ID)`);
    }
    if (!checkValueMatches(loaded.key, entry.checkValue)) {
      return this.seal(`the master key does not match the stored check value of key "${keyId}"`);
    }
    this.masterKey = loaded.key;
    this.purposeKeys.clear();
    this.status = { sealed: false, keyId };
    this.logger.log(`Unsealed with master key "${keyId}" from ${loaded.source} (${loaded.origin})`);
    return this.status;
  }

  sealStatus(): SealStatus {
    return this.status;
  }

  /** The id of the master key in use; throws while sealed. */
  activeKeyId(): string {
    if (this.status.sealed) throw new SealedError(this.status.reason);
    return this.status.keyId;
  }

  /**
   * A purpose key of the master key with the given id, for checking data written under it;
   * undefined for a key this instance does not hold.
   */
  purposeKeyFor(keyId: string, purpose: KeyPurpose): Buffer | undefined {
    return !this.status.sealed && this.status.keyId === keyId
      ? this.purposeKey(purpose)
      : undefined;
  }

  isSealed(): boolean {
    return this.status.sealed;
  }

  /** A key for one purpose, derived once from the master key. Throws while sealed. */
  purposeKey(purpose: KeyPurpose): Buffer {
    if (this.status.sealed || !this.masterKey) {
      throw new SealedError(this.status.sealed ? this.status.reason : 'no master key');
    }
    let key = this.purposeKeys.get(purpose);
    if (!key) {
      key = derivePurposeKey(this.masterKey, purpose);
      this.purposeKeys.set(purpose, key);
    }
    return key;
  }

  /**
   * On the very first start, remembers which key this deployment was set up with (its check
   * value, never the key). Returns null when other keys are already known: an unknown key id
   * then means a wrong key, not a new deployment.
   */
  private async enrolFirstKey(keyId: string, key: Buffer): Promise<KeyringEntry | null> {
    const repository = this.dataSource.getRepository(KeyringEntry);
    if ((await repository.count()) > 0) return null;
    try {
      await repository.insert({ id: keyId, status: 'active', checkValue: computeCheckValue(key) });
      this.logger.log(`Stored the check value of master key "${keyId}" in the keyring`);
    } catch (error) {
      // Another instance starting at the same moment may have enrolled first; its row decides.
      this.logger.warn(
        `Keyring enrolment raced with another instance: ${(error as Error).message}`,
      );
    }
    return repository.findOneBy({ id: keyId });
  }

  private seal(reason: string): SealStatus {
    this.masterKey = null;
    this.purposeKeys.clear();
    this.status = { sealed: true, reason };
    this.logger.error(
      `Custos is sealed: ${reason}. Every API route answers 503 until it restarts with the right key.`,
    );
    return this.status;
  }
}
