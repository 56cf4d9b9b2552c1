import { Module } from '@nestjs/common';
import { AuthModule } from '../../auth/auth.module';
import { EventsController } from '../http/events.controller';
import { EventStreamHub } from './event-stream-hub';
import { EventStreamService } from './event-stream.service';

/**
 * `GET /api/v1/events`: the event stream for services. Apart from EventsModule, which every
 * domain module uses to publish, because the stream needs auth (grants, re-authentication) and
 * auth must not sit under the modules that publish.
 */
@Module({
  imports: [AuthModule],
  controllers: [EventsController],
  providers: [EventStreamHub, EventStreamService],
})
export class EventStreamModule {}
