import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AuditRequestContext } from '../../audit/audit-context';
import { Audit } from '../../audit/http/audit.decorator';
import { AuditCtx } from '../../audit/http/audit-context.decorator';
import { Roles } from '../../common/auth/auth.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { ApiErrors } from '../../common/errors/error-response.dto';
import { JWT_SCHEME } from '../../common/http/openapi-schemes';
import { UUID_V4 } from '../../common/http/uuid-param';
import {
  DeliveryListQueryDto,
  DeliveryPageDto,
  DeliveryResponseDto,
} from '../dto/webhook-delivery.dto';
import {
  WebhookCreateDto,
  WebhookListQueryDto,
  WebhookPageDto,
  WebhookResponseDto,
  WebhookUpdateDto,
  WebhookWithSecretDto,
} from '../dto/webhook-subscription.dto';
import { WebhookDeliveriesService } from '../webhook-deliveries.service';
import {
  SubscriptionWithSecret,
  WebhookSubscriptionsService,
} from '../webhook-subscriptions.service';

const RESOURCE = { resourceType: 'webhook', resourceIdParam: 'id' };
const SIGNING =
  'Each delivery is a POST of {deliveryId, subscriptionId, event} with X-Custos-Signature: ' +
  't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>, X-Custos-Delivery and ' +
  'X-Custos-Event; a 2xx within CUSTOS_OUTBOUND_TIMEOUT_MS counts as delivered.';

@ApiTags('webhooks')
@ApiBearerAuth(JWT_SCHEME)
@ApiErrors(400, 401, 404)
@Roles('admin')
@Controller('webhooks')
export class WebhooksController {
  constructor(
    private readonly subscriptions: WebhookSubscriptionsService,
    private readonly deliveries: WebhookDeliveriesService,
  ) {}

  @Post()
  @Audit('webhook.create', { resourceType: 'webhook' })
  @ApiOperation({
    summary: 'Subscribe an HTTPS endpoint to events; the signing secret is shown only here',
    description: SIGNING,
  })
  @ApiCreatedResponse({ type: WebhookWithSecretDto })
  async create(
    @Body() body: WebhookCreateDto,
    @CurrentPrincipal() principal: Principal,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<WebhookWithSecretDto> {
    return withSecret(await this.subscriptions.create(body, principal, context));
  }

  @Get()
  @Audit('webhook.list', { resourceType: 'webhook' })
  @ApiOperation({ summary: 'Webhook subscriptions, by id' })
  @ApiOkResponse({ type: WebhookPageDto })
  async list(@Query() query: WebhookListQueryDto): Promise<WebhookPageDto> {
    const page = await this.subscriptions.list(query.limit, query.cursor);
    return {
      items: page.items.map((s) => WebhookResponseDto.from(s)),
      nextCursor: page.nextCursor,
    };
  }

  @Get(':id')
  @Audit('webhook.read', RESOURCE)
  @ApiOkResponse({ type: WebhookResponseDto })
  async get(@Param('id', UUID_V4) id: string): Promise<WebhookResponseDto> {
    return WebhookResponseDto.from(await this.subscriptions.get(id));
  }

  @Patch(':id')
  @Audit('webhook.update', RESOURCE)
  @ApiOperation({ summary: 'Change the URL, events, description or active flag' })
  @ApiOkResponse({ type: WebhookResponseDto })
  async update(
    @Param('id', UUID_V4) id: string,
    @Body() body: WebhookUpdateDto,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<WebhookResponseDto> {
    return WebhookResponseDto.from(await this.subscriptions.update(id, body, context));
  }

  @Delete(':id')
  @HttpCode(204)
  @Audit('webhook.delete', RESOURCE)
  @ApiOperation({ summary: 'Remove a subscription and its deliveries' })
  @ApiNoContentResponse()
  async remove(
    @Param('id', UUID_V4) id: string,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<void> {
    await this.subscriptions.remove(id, context);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @Audit('webhook.secret.rotate', RESOURCE)
  @ApiOperation({
    summary: 'A new signing secret, shown only here; the old one stops signing at once',
  })
  @ApiOkResponse({ type: WebhookWithSecretDto })
  async rotateSecret(
    @Param('id', UUID_V4) id: string,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<WebhookWithSecretDto> {
    return withSecret(await this.subscriptions.rotateSecret(id, context));
  }

  @Get(':id/deliveries')
  @Audit('webhook.delivery.list', RESOURCE)
  @ApiOperation({ summary: "A subscription's deliveries, newest first" })
  @ApiOkResponse({ type: DeliveryPageDto })
  async listDeliveries(
    @Param('id', UUID_V4) id: string,
    @Query() query: DeliveryListQueryDto,
  ): Promise<DeliveryPageDto> {
    const page = await this.deliveries.list(id, query);
    return {
      items: page.items.map((d) => DeliveryResponseDto.from(d)),
      nextCursor: page.nextCursor,
    };
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @Audit('webhook.delivery.redeliver', RESOURCE)
  @ApiOperation({
    summary: 'Send a succeeded or dead delivery again, as a new delivery sent at once',
  })
  @ApiAcceptedResponse({ type: DeliveryResponseDto })
  @ApiErrors(409)
  async redeliver(
    @Param('id', UUID_V4) id: string,
    @Param('deliveryId', UUID_V4) deliveryId: string,
    @AuditCtx() context: AuditRequestContext,
  ): Promise<DeliveryResponseDto> {
    return DeliveryResponseDto.from(await this.deliveries.redeliver(id, deliveryId, context));
  }
}

function withSecret({ subscription, secret }: SubscriptionWithSecret): WebhookWithSecretDto {
  return { ...WebhookResponseDto.from(subscription), secret };
}
