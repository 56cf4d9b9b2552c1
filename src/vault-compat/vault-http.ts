import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { vaultCompatConfig } from '../config/vault-compat.config';
import { KeyringService } from '../crypto/keyring.service';
import { CustosErrorBody, SEALED, vaultError } from './vault-envelope';

export const VAULT_PATH = '/v1/';
const HEALTH_PATH = '/v1/sys/health';
const JSON_TYPE = 'application/json';

export function isVaultUrl(url: string): boolean {
  return url.startsWith(VAULT_PATH) || url === '/v1' || url.startsWith('/v1?');
}

/**
 * What Vault clients need from the HTTP layer, on the /v1 routes only: off when disabled (404),
 * sealed answers in Vault's words, every write body read as JSON whatever its content type,
 * `Content-Type: application/json` exactly, Custos error bodies turned into Vault's
 * `{"errors": [...]}`, and the LIST method (see rescueListRequests).
 */
@Injectable()
export class VaultHttp implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly keyring: KeyringService,
    @Inject(vaultCompatConfig.KEY) private readonly config: ConfigType<typeof vaultCompatConfig>,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    fastify.addHook('onRequest', (request, reply, done) => this.onRequest(request, reply, done));
    fastify.addHook('onSend', (request, reply, payload, done) =>
      done(null, this.onSend(request, reply, payload)),
    );
    if (this.config.enabled) rescueListRequests(fastify);
  }

  private onRequest(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    if (!isVaultUrl(request.url)) return done();
    if (!this.config.enabled) {
      void reply.code(404).header('content-type', JSON_TYPE).send('{"errors":[]}');
      return;
    }
    if (this.keyring.isSealed() && !request.url.startsWith(HEALTH_PATH)) {
      void reply
        .code(503)
        .header('content-type', JSON_TYPE)
        .send(JSON.stringify({ errors: [SEALED] }));
      return;
    }
    // hvac and node-vault may send JSON as text/plain or with no type at all.
    const headers = request.headers;
    const hasBody =
      headers['transfer-encoding'] !== undefined ||
      (headers['content-length'] !== undefined && headers['content-length'] !== '0');
    if (hasBody) headers['content-type'] = JSON_TYPE;
    done();
  }

  private onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
    if (!isVaultUrl(request.url)) return payload;
    if (reply.statusCode === 204) {
      reply.removeHeader('content-type');
      return payload;
    }
    void reply.header('content-type', JSON_TYPE);
    if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
    const body = custosErrorBody(payload);
    if (!body) return payload;
    const translated = vaultError(body);
    void reply.code(translated.status);
    return JSON.stringify({ errors: translated.errors });
  }
}

/** A Custos error body (`{statusCode, error, message, requestId}`), or undefined. */
function custosErrorBody(payload: string): CustosErrorBody | undefined {
  if (!payload.startsWith('{"statusCode"')) return undefined;
  try {
    const parsed = JSON.parse(payload) as CustosErrorBody;
    return typeof parsed.statusCode === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const LIST_LINE = /^LIST (\/v1\/[^ \r\n]*) (HTTP\/1\.[01])\r\n/;

/**
 * `LIST /v1/…` as `GET /v1/…?list=true`, which Vault treats the same. Node's HTTP parser knows
 * no LIST method and refuses the request before Fastify sees it (HPE_INVALID_METHOD), so the
 * request line is rewritten at the socket: the refused bytes go again, rewritten, through a
 * stream the server reads as a new connection, and so does the rest of the connection (a later
 * LIST on it is rewritten too). Any other parse error goes to Fastify's own handler.
 */
export function rescueListRequests(fastify: FastifyInstance): void {
  const server = fastify.server;
  const others = server.listeners('clientError') as ((error: Error, socket: Socket) => void)[];
  server.removeAllListeners('clientError');
  server.on(
    'clientError',
    (error: Error & { code?: string; rawPacket?: Buffer }, socket: Socket) => {
      const raw = error.rawPacket;
      if (
        error.code === 'HPE_INVALID_METHOD' &&
        raw &&
        LIST_LINE.test(raw.toString('latin1', 0, 2048))
      ) {
        relay(server, socket, raw);
        return;
      }
      for (const listener of others) listener.call(server, error, socket);
    },
  );
}

/** `LIST /v1/x HTTP/1.1` → `GET /v1/x?list=true HTTP/1.1` at the start of a chunk. */
export function rewriteListLine(chunk: Buffer): Buffer {
  const text = chunk.toString('latin1');
  const match = LIST_LINE.exec(text);
  if (!match) return chunk;
  const url = match[1] + (match[1].includes('?') ? '&' : '?') + 'list=true';
  return Buffer.from(`GET ${url} ${match[2]}\r\n${text.slice(match[0].length)}`, 'latin1');
}

function relay(server: FastifyInstance['server'], socket: Socket, first: Buffer): void {
  const stream = new Duplex({
    read: () => socket.resume(),
    write: (chunk: Buffer, _encoding, callback) => {
      socket.write(chunk, callback);
    },
    final: (callback) => {
      socket.end();
      callback();
    },
    destroy: (error, callback) => {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  socket.removeAllListeners('data');
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(rewriteListLine(chunk))) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  socket.on('error', (error) => stream.destroy(error));
  Object.assign(stream, {
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    remoteFamily: socket.remoteFamily,
    encrypted: (socket as Socket & { encrypted?: boolean }).encrypted,
    setTimeout: (ms: number, callback?: () => void) => {
      socket.setTimeout(ms, callback);
      return stream;
    },
    setNoDelay: (noDelay?: boolean) => socket.setNoDelay(noDelay),
    setKeepAlive: (enable?: boolean, delay?: number) => socket.setKeepAlive(enable, delay),
  });
  server.emit('connection', stream);
  stream.push(rewriteListLine(first));
  socket.resume();
}
