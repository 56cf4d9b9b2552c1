import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A run whose lagging adoption was announced (`rotation.adoption_lagging`). The primary key
 * makes the announcement once per run however many instances watch: the one whose insert
 * succeeds raises the event, in the same transaction.
 */
@Entity({ name: 'rotation_adoption_warnings' })
export class RotationAdoptionWarning {
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 36 })
  runId!: string;

  @Column({ name: 'credential_id', type: 'varchar', length: 36 })
  credentialId!: string;

  @Column({ name: 'warned_at', type: 'datetime', precision: 3 })
  warnedAt!: Date;
}
