import { Injectable } from '@nestjs/common';
import { IsIn, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { createHash } from 'node:crypto';
import { SYSTEM } from '../../audit/audit-context';
import { AuditWriter } from '../../audit/audit-writer';
import { RequestValidationError } from '../../common/validation/request-validation.error';
import { credentialById } from '../../credentials/credential-row';
import type { Credential } from '../../credentials/entities/credential.entity';
import { VersionStore } from '../../credentials/version-store';
import { TransactionRunner } from '../../database/transaction-runner';
import { IsOutboundUrl } from '../../outbound/is-outbound-url';
import { OutboundGuard } from '../../outbound/outbound-guard';
import { OutboundHttp, OutboundRequest } from '../../outbound/outbound-http';
import { OutboundRefusedError } from '../../outbound/outbound.errors';
import {
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  signatureHeader,
} from '../../outbound/webhook-signature';
import { GENERATED_FIELD } from '../generator/generator-defaults';
import { GENERATED_TYPES, generatedValue } from './generated.rotator';
import type {
  PolicyReview,
  RotationContext,
  Rotator,
  RotatorDescription,
  SecretValue,
} from './rotator';
import { PermanentRotationError } from './rotator';

/** The policy's `rotator` beside `kind: "webhook"`. No secret lives here: the key is a reference. */
export class WebhookSettings {
  /** Receives the new value (POST); https unless CUSTOS_OUTBOUND_ALLOW_HTTP. */
  @IsOutboundUrl()
  url!: string;

  /** Proves the target took the new value; without it a 2xx from `url` is the proof. */
  @IsOptional()
  @IsOutboundUrl()
  verifyUrl?: string;

  @IsOptional()
  @IsIn(['GET', 'POST'])
  verifyMethod?: 'GET' | 'POST';

  /** A stored `shared_secret` credential whose value is the HMAC key. */
  @IsUUID('4')
  secretCredentialId!: string;

  /** Per call; CUSTOS_OUTBOUND_TIMEOUT_MS when not given. */
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(60_000)
  timeoutMs?: number;
}

type Context = RotationContext<WebhookSettings>;

/**
 * Delivers the new value to an endpoint that installs it (a service's own secret store, a SaaS
 * adapter), signed with HMAC-SHA256 under a key kept as another stored credential, then asks a
 * verify URL whether the value works. Values are made by the policy's generator. Only the pending
 * value is ever sent, never the current one; every call goes through the SSRF-guarded client.
 */
@Injectable()
export class WebhookRotator implements Rotator<WebhookSettings> {
  readonly kind = 'webhook';
  readonly settingsClass = WebhookSettings;

  constructor(
    private readonly http: OutboundHttp,
    private readonly transactions: TransactionRunner,
    private readonly versions: VersionStore,
    private readonly audit: AuditWriter,
    private readonly guard: OutboundGuard,
  ) {}

  /**
   * What the outbound guard says of the URLs without asking DNS (DESIGN.md invariant 8), when the
   * policy is written: an address given literally, a loopback name, the allowlist. Names are
   * resolved and checked again at every call, where the connection is made.
   */
  reviewPolicy(settings: WebhookSettings): Promise<PolicyReview> {
    return Promise.resolve().then(() => {
      const urls = { 'rotator.url': settings.url, 'rotator.verifyUrl': settings.verifyUrl };
      for (const [field, url] of Object.entries(urls)) {
        if (url === undefined) continue;
        try {
          this.guard.checkUrl(url);
        } catch (error) {
          if (error instanceof OutboundRefusedError) {
            throw new RequestValidationError([{ field, errors: [error.message] }]);
          }
          throw error;
        }
      }
      return { warnings: [] };
    });
  }

  describe(): RotatorDescription {
    return {
      kind: this.kind,
      summary:
        "Delivers a fresh value from the policy's generator to an HTTPS endpoint, signed (X-Custos-Signature), then checks a verify URL",
      types: GENERATED_TYPES,
      usesGenerator: true,
      settings: {
        url: 'HTTPS URL that receives {deliveryId, credentialId, path, version, value} by POST',
        verifyUrl:
          'optional URL whose 2xx proves the new value works (body {credentialId, version})',
        verifyMethod: 'POST (default) or GET (credentialId and version in the query)',
        secretCredentialId: 'id of a shared_secret credential whose value is the HMAC-SHA256 key',
        timeoutMs: 'per call, 100-60000 (default CUSTOS_OUTBOUND_TIMEOUT_MS)',
      },
    };
  }

  create(context: Context): Promise<SecretValue> {
    return Promise.resolve(generatedValue(context));
  }

  async apply(context: Context): Promise<void> {
    const { credential } = context;
    const version = pendingVersion(context);
    const value = (await context.pendingValue())[GENERATED_FIELD[credential.type]];
    if (typeof value !== 'string') throw new Error('the pending version holds no generated value');
    const deliveryId = deliveryIdOf(context.run.id, version, 'apply');
    const body = JSON.stringify({
      deliveryId,
      credentialId: credential.id,
      path: credential.path,
      version,
      value,
    });
    await this.deliver(context, 'rotation.apply', deliveryId, {
      method: 'POST',
      url: context.settings.url,
      body,
    });
  }

  async test(context: Context): Promise<void> {
    const { verifyUrl, verifyMethod = 'POST' } = context.settings;
    if (!verifyUrl) return;
    const version = pendingVersion(context);
    const deliveryId = deliveryIdOf(context.run.id, version, 'verify');
    const facts = { credentialId: context.credential.id, version };
    if (verifyMethod === 'POST') {
      const body = JSON.stringify(facts);
      await this.deliver(context, 'rotation.verify', deliveryId, {
        method: 'POST',
        url: verifyUrl,
        body,
      });
      return;
    }
    const url = new URL(verifyUrl);
    url.searchParams.set('credentialId', facts.credentialId);
    url.searchParams.set('version', String(version));
    await this.deliver(context, 'rotation.verify', deliveryId, {
      method: 'GET',
      url: url.toString(),
    });
  }

  finish(): Promise<void> {
    return Promise.resolve();
  }

  /** One signed call; anything but a 2xx fails the step (the engine retries with a fresh value). */
  private async deliver(
    context: Context,
    event: string,
    deliveryId: string,
    call: Pick<OutboundRequest, 'method' | 'url' | 'body'>,
  ): Promise<void> {
    const key = await this.signingKey(context);
    const headers = {
      [SIGNATURE_HEADER]: signatureHeader(key, call.body ?? ''),
      [DELIVERY_HEADER]: deliveryId,
      [EVENT_HEADER]: event,
    };
    const what = event === 'rotation.apply' ? 'the webhook' : 'the verify URL';
    let status: number;
    try {
      status = (await this.http.send({ ...call, headers, timeoutMs: context.settings.timeoutMs }))
        .status;
    } catch (error) {
      // A refused URL stays refused: retrying cannot help, so the run fails at once.
      if (error instanceof OutboundRefusedError) throw new PermanentRotationError(error.message);
      throw error;
    }
    if (status < 200 || status > 299) throw new Error(`${what} answered HTTP ${status}`);
  }

  /**
   * The HMAC key: the current value of the referenced shared_secret credential, revealed to this
   * rotator and audited as such before it is used (fail closed: no audit event, no call).
   */
  private async signingKey(context: Context): Promise<string> {
    const id = context.settings.secretCredentialId;
    if (id === context.credential.id) {
      throw new PermanentRotationError(
        'secretCredentialId names the credential being rotated; give another shared_secret credential',
      );
    }
    const { holder, value } = await this.transactions.read(async (manager) => {
      let found: Credential;
      try {
        found = await credentialById(manager, id);
      } catch {
        throw new PermanentRotationError(`the signing secret credential ${id} does not exist`);
      }
      if (found.type !== 'shared_secret' || found.status !== 'active') {
        throw new PermanentRotationError(
          `the signing secret credential ${id} must be an active shared_secret (it is a ${found.status} ${found.type})`,
        );
      }
      return { holder: found, value: await this.versions.value(manager, id) };
    });
    await this.audit.record({
      action: 'credential.reveal',
      outcome: 'success',
      resourceType: 'credential',
      resourceId: holder.id,
      details: {
        path: holder.path,
        version: holder.currentVersion,
        state: 'current',
        via: 'rotator',
        rotator: this.kind,
        runId: context.run.id,
        forCredentialId: context.credential.id,
      },
      actor: SYSTEM,
    });
    const key = value.secret;
    if (typeof key !== 'string' || key.length === 0) {
      throw new PermanentRotationError(`the signing secret credential ${id} holds no secret`);
    }
    return key;
  }
}

function pendingVersion(context: Context): number {
  const version = context.run.pendingVersion;
  if (version === null) throw new Error('the run has no pending version yet');
  return version;
}

/**
 * The same id for the same call of the same run and version: a step repeated after a crash is
 * the same delivery to the receiver, which can drop it (a UUID of version 8, from SHA-256).
 */
function deliveryIdOf(runId: string, version: number, step: 'apply' | 'verify'): string {
  const bytes = createHash('sha256').update(`${runId}:${version}:${step}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
