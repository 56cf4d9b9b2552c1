import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A credential an incident counts as exposed. Indexed by credential for the reveal freeze. */
@Entity({ name: 'incident_credentials' })
@Index('idx_incident_credentials_credential', ['credentialId'])
export class IncidentCredential {
  @PrimaryColumn({ name: 'incident_id', type: 'varchar', length: 36 })
  incidentId!: string;

  @PrimaryColumn({ name: 'credential_id', type: 'varchar', length: 36 })
  credentialId!: string;

  @Column({ name: 'linked_at', type: 'datetime', precision: 3 })
  linkedAt!: Date;

  /** Who linked it (a user or service id); null for a detector. */
  @Column({ name: 'linked_by', type: 'varchar', length: 64, nullable: true })
  linkedBy!: string | null;
}
