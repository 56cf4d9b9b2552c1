import { randomBytes } from 'node:crypto';

/** The prefix makes a leaked signing secret easy to recognise (and to scan for). */
const PREFIX = 'whsec_';

/** 256 random bits, shown once; receivers use the whole string as the HMAC key. */
export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/** What a sealed secret is bound to: a sealed value copied to another subscription does not open. */
export function webhookSecretAad(subscriptionId: string): string {
  return `webhook-subscription:${subscriptionId}`;
}
