import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { KeyringService } from '../crypto/keyring.service';
import { AuditVerifier, VerifyResult } from './audit-verifier';

@Injectable()
export class AuditVerificationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keyring: KeyringService,
  ) {}

  verify(): Promise<VerifyResult> {
    return new AuditVerifier(this.dataSource, (keyId) =>
      this.keyring.purposeKeyFor(keyId, 'audit-chain'),
    ).verify();
  }
}
