import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The last stream sequence given out, in one row (id 1). The sequencer locks it for each batch,
 * so batches are numbered one after the other, however many instances run one.
 */
@Entity({ name: 'event_stream_head' })
export class EventStreamHead {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  @Column({ name: 'last_stream_seq', type: 'bigint' })
  lastStreamSeq!: string;
}
