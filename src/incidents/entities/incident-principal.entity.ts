import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { IncidentPrincipalType } from '../incident-vocabulary';

/** A user or service account an incident suspects of compromise: containment suspends it. */
@Entity({ name: 'incident_principals' })
@Index('idx_incident_principals_principal', ['principalType', 'principalId'])
export class IncidentPrincipal {
  @PrimaryColumn({ name: 'incident_id', type: 'varchar', length: 36 })
  incidentId!: string;

  @PrimaryColumn({ name: 'principal_type', type: 'varchar', length: 16 })
  principalType!: IncidentPrincipalType;

  @PrimaryColumn({ name: 'principal_id', type: 'varchar', length: 36 })
  principalId!: string;

  @Column({ name: 'linked_at', type: 'datetime', precision: 3 })
  linkedAt!: Date;

  @Column({ name: 'linked_by', type: 'varchar', length: 64, nullable: true })
  linkedBy!: string | null;
}
