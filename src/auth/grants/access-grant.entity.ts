import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const GRANT_PRINCIPAL_TYPES = ['user', 'service_account'] as const;
export type GrantPrincipalType = (typeof GRANT_PRINCIPAL_TYPES)[number];

/** Capabilities on credential paths matching a pattern (`acme/prod/*`, `acme/**`) for one principal. */
@Entity({ name: 'access_grants' })
@Index('idx_access_grants_principal', ['principalType', 'principalId'])
export class AccessGrant {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'principal_type', type: 'varchar', length: 16 })
  principalType!: GrantPrincipalType;

  @Column({ name: 'principal_id', type: 'varchar', length: 36 })
  principalId!: string;

  @Column({ name: 'path_pattern', type: 'varchar', length: 255 })
  pathPattern!: string;

  /** Comma-separated capabilities, e.g. `read,reveal`. */
  @Column({ type: 'varchar', length: 64 })
  capabilities!: string;

  @Column({ name: 'created_by', type: 'varchar', length: 36, nullable: true })
  createdBy!: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;
}
