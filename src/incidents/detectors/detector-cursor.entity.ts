import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * How far one detector has read the audit log (`last_seq`) and when it last ran. Advanced with a
 * compare-and-set, so that a pass whose lease ran out meanwhile cannot move it back or twice.
 */
@Entity({ name: 'incident_detector_cursors' })
export class DetectorCursor {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  detector!: string;

  @Column({ name: 'last_seq', type: 'bigint', default: 0 })
  lastSeq!: string;

  @Column({ name: 'ran_at', type: 'datetime', precision: 3, nullable: true })
  ranAt!: Date | null;
}
