import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { createHash } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { Agent, buildConnector, errors, request } from 'undici';
import { outboundConfig } from '../config/outbound.config';
import { addressProblem } from './address-policy';
import { OutboundGuard } from './outbound-guard';
import { OutboundRefusedError, OutboundRequestError } from './outbound.errors';

export interface OutboundRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** The whole exchange, redirects included; CUSTOS_OUTBOUND_TIMEOUT_MS when not given. */
  timeoutMs?: number;
  /** PEM certificates trusted for this call, beside the system roots and CUSTOS_OUTBOUND_CA_FILE. */
  ca?: string;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** At most CUSTOS_OUTBOUND_MAX_RESPONSE_BYTES; a longer answer fails the call. */
  body: Buffer;
  /** Where the answer came from, after any redirects. */
  url: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * The only way Custos calls out over HTTP (webhook rotator, webhook subscriptions). Every
 * connection dials an address the guard checked, through the guard's lookup, and the connected
 * socket's peer is checked once more before a byte is sent (an IP literal skips the lookup).
 * Redirects are not followed unless CUSTOS_OUTBOUND_MAX_REDIRECTS allows, and then each hop is a
 * new URL checked like the first. No proxy from the environment is used.
 */
@Injectable()
export class OutboundHttp implements OnModuleDestroy {
  /** One connection pool per set of trusted CAs. */
  private readonly agents = new Map<string, Agent>();

  constructor(
    private readonly guard: OutboundGuard,
    @Inject(outboundConfig.KEY) private readonly config: ConfigType<typeof outboundConfig>,
  ) {}

  async send(call: OutboundRequest): Promise<OutboundResponse> {
    const timeoutMs = call.timeoutMs ?? this.config.timeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    const agent = this.agentFor(call.ca);
    let url = this.guard.checkUrl(call.url);
    let method = call.method;
    let body = call.body;
    for (let hop = 0; ; hop += 1) {
      const response = await this.exchange(
        agent,
        url,
        method,
        call.headers,
        body,
        signal,
        timeoutMs,
      );
      const location = response.headers.location;
      if (!REDIRECTS.has(response.status) || hop >= this.config.maxRedirects) return response;
      if (typeof location !== 'string') return response;
      url = this.guard.checkUrl(new URL(location, url));
      // As browsers do: a 303, and a 301 or 302 after a POST, continue as a GET without the body.
      if (response.status === 303 || (response.status <= 302 && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.agents.values()].map((agent) => agent.close()));
    this.agents.clear();
  }

  private async exchange(
    agent: Agent,
    url: URL,
    method: 'GET' | 'POST',
    headers: Record<string, string> | undefined,
    body: string | undefined,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<OutboundResponse> {
    try {
      const response = await request(url, {
        method,
        dispatcher: agent,
        signal,
        headers: {
          'user-agent': 'Custos',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.config.maxResponseBytes) {
          response.body.destroy();
          throw new OutboundRequestError(
            `the answer is larger than ${this.config.maxResponseBytes} bytes`,
          );
        }
        chunks.push(chunk);
      }
      return {
        status: response.statusCode,
        headers: response.headers,
        body: Buffer.concat(chunks),
        url: url.toString(),
      };
    } catch (error) {
      throw describeFailure(error, url, timeoutMs);
    }
  }

  private agentFor(ca: string | undefined): Agent {
    const key = ca ? createHash('sha256').update(ca).digest('hex') : '';
    let agent = this.agents.get(key);
    if (!agent) {
      const extra = [this.config.extraCa, ca].filter((pem): pem is string => !!pem);
      agent = new Agent({ connect: this.connector(extra) });
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** undici's connector with the guard's lookup, and a last check of the peer actually reached. */
  private connector(extraCa: string[]): buildConnector.connector {
    const connect = buildConnector({
      lookup: this.guard.lookup,
      timeout: CONNECT_TIMEOUT_MS,
      // `ca` replaces Node's roots: keep them and add ours.
      ...(extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa] } : {}),
    });
    return (options, callback) => {
      connect(options, (error, socket) => {
        if (error || !socket) return callback(error ?? new Error('no socket'), null);
        const problem = addressProblem(socket.remoteAddress ?? '', this.config);
        if (problem) {
          socket.destroy();
          return callback(new OutboundRefusedError(problem), null);
        }
        callback(null, socket);
      });
    };
  }
}

/** A failure as an OutboundRefusedError or an OutboundRequestError naming the host, never a body. */
function describeFailure(error: unknown, url: URL, timeoutMs: number): Error {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof OutboundRefusedError || cause instanceof OutboundRequestError) {
      return cause;
    }
  }
  const where = url.host;
  // The abort signal's reason is a DOMException, which is not an Error in every realm.
  const name = (error as { name?: unknown } | null)?.name;
  if (
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    error instanceof errors.RequestAbortedError ||
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError
  ) {
    return new OutboundRequestError(`${where} did not answer within ${timeoutMs} ms`);
  }
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return new OutboundRequestError(`${where}: ${code ? `${code} ` : ''}${message}`.slice(0, 500));
}
