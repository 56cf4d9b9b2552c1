import { Injectable } from '@nestjs/common';
import { KeyringService } from '../../crypto/keyring.service';
import { KeyUnavailableError, SealedError } from '../../crypto/sealed.error';
import { OutboundHttp } from '../../outbound/outbound-http';
import { OutboundRefusedError } from '../../outbound/outbound.errors';
import {
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  signatureHeader,
} from '../../outbound/webhook-signature';
import { webhookSecretAad } from '../webhook-secret';
import type { AttemptResult, ClaimedDelivery } from './delivery-claims';
import { deliveryBody } from './delivery-body';

/**
 * One attempt at one delivery: the body signed with the subscription's secret (the scheme of the
 * webhook rotator), POSTed through the SSRF-guarded client. Never throws: every outcome is an
 * AttemptResult whose error names a status, a timeout or a refusal, never a body or the secret.
 */
@Injectable()
export class DeliverySender {
  constructor(
    private readonly http: OutboundHttp,
    private readonly keyring: KeyringService,
  ) {}

  async send({ delivery, url, secretSealed }: ClaimedDelivery): Promise<AttemptResult> {
    let secret: string;
    try {
      secret = this.keyring.openValue(
        'webhook',
        secretSealed,
        webhookSecretAad(delivery.subscriptionId),
      );
    } catch (error) {
      if (error instanceof SealedError || error instanceof KeyUnavailableError) {
        return { ok: false, unsent: true, error: error.message };
      }
      throw error;
    }
    try {
      const body = deliveryBody(delivery);
      const response = await this.http.send({
        method: 'POST',
        url,
        body,
        headers: {
          [SIGNATURE_HEADER]: signatureHeader(secret, body),
          [DELIVERY_HEADER]: delivery.id,
          [EVENT_HEADER]: delivery.eventType,
        },
      });
      if (response.status >= 200 && response.status <= 299) {
        return { ok: true, statusCode: response.status };
      }
      return {
        ok: false,
        statusCode: response.status,
        error: `HTTP ${response.status}`,
        permanent: false,
      };
    } catch (error) {
      const message = error instanceof Error ? error.message : 'delivery failed';
      // A refused address stays refused until someone changes the URL or the DNS: dead at once.
      return {
        ok: false,
        statusCode: null,
        error: message,
        permanent: error instanceof OutboundRefusedError,
      };
    }
  }
}
