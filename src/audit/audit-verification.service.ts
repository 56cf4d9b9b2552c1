import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TransactionRunner } from '../database/transaction-runner';
import { AuditSigningKeys } from './audit-signing-keys';
import { AuditVerifier, VerifyResult } from './audit-verifier';
import type { CheckpointStatement } from './chain/checkpoint-signature';
import type { AuditPublicKeysResponseDto } from './dto/audit-checkpoint.dto';

@Injectable()
export class AuditVerificationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionRunner,
    private readonly keys: AuditSigningKeys,
  ) {}

  /** Checks the chain, and also `checkpoint` when one kept outside the database is given. */
  verify(checkpoint?: CheckpointStatement): Promise<VerifyResult> {
    return new AuditVerifier(this.dataSource, this.keys, this.transactions).verify({ checkpoint });
  }

  /** The public keys that check checkpoints, the one signing new checkpoints first. */
  publicKeys(): AuditPublicKeysResponseDto {
    const keys = this.keys.publicKeys();
    const [active] = keys;
    return { keyId: active.keyId, algorithm: 'Ed25519', publicKey: active.publicKey, keys };
  }
}
