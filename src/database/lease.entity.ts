import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A named, expiring claim, so that one instance at a time does a piece of shared work. */
@Entity({ name: 'leases' })
export class Lease {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  name!: string;

  @Column({ type: 'varchar', length: 128 })
  holder!: string;

  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt!: Date;
}
