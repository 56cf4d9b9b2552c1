import { Global, Module } from '@nestjs/common';
import { EventOutbox } from './event-outbox';

/** Global like audit: rotation, incidents and credentials all raise events in their transactions. */
@Global()
@Module({
  providers: [EventOutbox],
  exports: [EventOutbox],
})
export class EventsModule {}
