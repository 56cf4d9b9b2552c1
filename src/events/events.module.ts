import { Global, Module } from '@nestjs/common';
import { EventOutbox } from './event-outbox';
import { OutboxReader } from './outbox-reader';
import { StreamSequencer } from './stream-sequencer';

/**
 * Global like audit: rotation, incidents and credentials all raise events in their
 * transactions. Listeners (webhooks, the event stream) read them with OutboxReader, by the
 * stream sequence StreamSequencer gives committed events.
 */
@Global()
@Module({
  providers: [EventOutbox, OutboxReader, StreamSequencer],
  exports: [EventOutbox, OutboxReader],
})
export class EventsModule {}
