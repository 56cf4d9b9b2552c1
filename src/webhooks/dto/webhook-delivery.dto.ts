import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsPageCursor, PageCursor } from '../../common/pagination/page-cursor';
import { QueryInteger } from '../../common/validation/query-transforms';
import {
  DELIVERY_STATUSES,
  DeliveryStatus,
  WebhookDelivery,
} from '../entities/webhook-delivery.entity';

const KEY = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|[0-9a-f-]{36}$/;

/**
 * Deliveries are listed newest first; a cursor holds the creation time and id of the last one on
 * its page (`<ISO time>|<id>`).
 */
export const DELIVERY_CURSOR = new PageCursor(
  'webhook-deliveries',
  (key) => KEY.test(key) && !Number.isNaN(Date.parse(key.split('|')[0])),
);
export const DELIVERY_PAGE_MAX = 500;
export const DELIVERY_PAGE_DEFAULT = 50;

export class DeliveryListQueryDto {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;

  @ApiPropertyOptional({ default: DELIVERY_PAGE_DEFAULT, maximum: DELIVERY_PAGE_MAX })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(DELIVERY_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsPageCursor(DELIVERY_CURSOR)
  cursor?: string;
}

export class DeliveryResponseDto {
  @ApiProperty({ description: 'Sent as X-Custos-Delivery' }) id!: string;
  @ApiProperty() subscriptionId!: string;
  @ApiProperty({ description: "The event's stream sequence (its id for receivers)" })
  eventId!: string;
  @ApiProperty({ example: 'rotation.succeeded' }) eventType!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status!: DeliveryStatus;
  @ApiProperty() attempts!: number;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'When it is tried (again); null once succeeded or dead',
  })
  nextAttemptAt!: string | null;
  @ApiProperty({ nullable: true, type: Number }) lastStatusCode!: number | null;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The delivery this one sends again' })
  redeliveryOf!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) deliveredAt!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;

  static from(delivery: WebhookDelivery): DeliveryResponseDto {
    const open = delivery.status === 'pending' || delivery.status === 'failed';
    return {
      id: delivery.id,
      subscriptionId: delivery.subscriptionId,
      eventId: String(delivery.streamSeq),
      eventType: delivery.eventType,
      status: delivery.status,
      attempts: delivery.attempts,
      nextAttemptAt: open ? delivery.nextAttemptAt.toISOString() : null,
      lastStatusCode: delivery.lastStatusCode,
      lastError: delivery.lastError,
      redeliveryOf: delivery.redeliveryOf,
      deliveredAt: delivery.deliveredAt?.toISOString() ?? null,
      createdAt: delivery.createdAt.toISOString(),
      updatedAt: delivery.updatedAt.toISOString(),
    };
  }
}

export class DeliveryPageDto {
  @ApiProperty({ type: [DeliveryResponseDto] }) items!: DeliveryResponseDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
