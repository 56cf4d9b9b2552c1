import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type KeyringStatus = 'active' | 'retired';

/** A master-key (KEK) version known to this instance. The key itself never touches the database. */
@Entity({ name: 'keyring' })
export class KeyringEntry {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: KeyringStatus;

  /** HMAC of a fixed label under a key derived from the KEK: proves a key is the right one. */
  @Column({ name: 'check_value', type: 'varchar', length: 64 })
  checkValue!: string;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;
}
