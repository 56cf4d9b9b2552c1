import { Entity, Index, PrimaryColumn } from 'typeorm';

/** One tag of one credential, a row each so that lists can filter on a tag with an index. */
@Entity({ name: 'credential_tags' })
@Index('idx_credential_tags_tag', ['tag', 'credentialId'])
export class CredentialTag {
  @PrimaryColumn({ name: 'credential_id', type: 'varchar', length: 36 })
  credentialId!: string;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  tag!: string;
}
