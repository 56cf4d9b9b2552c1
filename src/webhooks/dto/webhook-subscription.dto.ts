import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { IsPageCursor, PageCursor } from '../../common/pagination/page-cursor';
import { IsOptionalNotNull } from '../../common/validation/is-optional-not-null';
import { QueryInteger } from '../../common/validation/query-transforms';
import { IsOutboundUrl } from '../../outbound/is-outbound-url';
import type { WebhookSubscription } from '../entities/webhook-subscription.entity';
import { IsWebhookEventPattern } from '../webhook-event-patterns';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Subscriptions are listed by id; a cursor holds the last id of its page. */
export const WEBHOOK_CURSOR = new PageCursor('webhooks', (id) => UUID.test(id));
export const WEBHOOK_PAGE_MAX = 500;
export const WEBHOOK_PAGE_DEFAULT = 100;

const URL_DESCRIPTION =
  'HTTPS endpoint (http only with CUSTOS_OUTBOUND_ALLOW_HTTP); loopback, private, link-local and other internal addresses are refused (DESIGN.md §4.8)';
const EVENTS_DESCRIPTION =
  'Event types (rotation.succeeded), family patterns (rotation.*, credential.*, incident.*) or "*"';

export class WebhookCreateDto {
  @ApiProperty({ example: 'https://hooks.example.com/custos', description: URL_DESCRIPTION })
  @IsOutboundUrl()
  url!: string;

  @ApiProperty({
    type: [String],
    example: ['rotation.*', 'credential.expiring'],
    description: EVENTS_DESCRIPTION,
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(50)
  @IsWebhookEventPattern({ each: true })
  events!: string[];

  @ApiPropertyOptional({ example: 'Reload billing-api secrets' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({ default: true, description: 'false: events are not delivered' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class WebhookUpdateDto {
  @ApiPropertyOptional({ description: URL_DESCRIPTION })
  @IsOptionalNotNull()
  @IsOutboundUrl()
  url?: string;

  @ApiPropertyOptional({ type: [String], description: EVENTS_DESCRIPTION })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(50)
  @IsWebhookEventPattern({ each: true })
  events?: string[];

  @ApiPropertyOptional({ nullable: true, type: String, description: 'null clears it' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiPropertyOptional({ description: 'false: events from now on are not delivered' })
  @IsOptionalNotNull()
  @IsBoolean()
  active?: boolean;
}

export class WebhookListQueryDto {
  @ApiPropertyOptional({ default: WEBHOOK_PAGE_DEFAULT, maximum: WEBHOOK_PAGE_MAX })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(WEBHOOK_PAGE_MAX)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsPageCursor(WEBHOOK_CURSOR)
  cursor?: string;
}

export class WebhookResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ type: [String] }) events!: string[];
  @ApiProperty() active!: boolean;
  @ApiProperty({ nullable: true, type: String }) createdBy!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;

  static from(subscription: WebhookSubscription): WebhookResponseDto {
    return {
      id: subscription.id,
      url: subscription.url,
      description: subscription.description,
      events: [...subscription.events],
      active: subscription.active,
      createdBy: subscription.createdBy,
      createdAt: subscription.createdAt.toISOString(),
      updatedAt: subscription.updatedAt.toISOString(),
    };
  }
}

/** The create and rotate-secret answers: the only times the signing secret is shown. */
export class WebhookWithSecretDto extends WebhookResponseDto {
  @ApiProperty({
    example: 'whsec_5Jm0R2cA9vQ1…',
    description:
      'The HMAC-SHA256 key of X-Custos-Signature, shown only this once; store it with the receiver',
  })
  secret!: string;
}

export class WebhookPageDto {
  @ApiProperty({ type: [WebhookResponseDto] }) items!: WebhookResponseDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
