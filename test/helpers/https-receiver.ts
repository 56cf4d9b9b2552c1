import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  at: number;
}

export interface ReceiverAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering (a slow endpoint). */
  delayMs?: number;
}

export type Responder = (request: ReceivedRequest) => ReceiverAnswer;

/**
 * A local HTTPS endpoint with a self-signed certificate made for the test (SANs: localhost,
 * hooks.test, 127.0.0.1, ::1), recording every request. Trust it through `caFile`
 * (CUSTOS_OUTBOUND_CA_FILE) or `certificate` (a per-call `ca`).
 */
export class HttpsReceiver {
  readonly requests: ReceivedRequest[] = [];
  responder: Responder = () => ({ status: 204 });
  private server?: Server;
  private dir?: string;
  certificate = '';
  caFile = '';
  port = 0;

  static async start(): Promise<HttpsReceiver> {
    const receiver = new HttpsReceiver();
    await receiver.listen();
    return receiver;
  }

  /** `https://127.0.0.1:<port><path>` */
  url(path = '/', host = '127.0.0.1'): string {
    return `https://${host}:${this.port}${path}`;
  }

  /** The requests to a path, oldest first. */
  to(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private async listen(): Promise<void> {
    const pems = await generate([{ name: 'commonName', value: 'custos-test-receiver' }], {
      keyType: 'ec',
      curve: 'P-256',
      notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
      extensions: [
        { name: 'basicConstraints', cA: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 2, value: 'hooks.test' },
            { type: 7, ip: '127.0.0.1' },
            { type: 7, ip: '::1' },
          ],
        },
      ],
    });
    this.certificate = pems.cert;
    this.dir = mkdtempSync(join(tmpdir(), 'custos-receiver-'));
    this.caFile = join(this.dir, 'ca.pem');
    writeFileSync(this.caFile, pems.cert);
    this.server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const received: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        this.requests.push(received);
        const answer = this.responder(received);
        const send = () => {
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body ?? '');
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
        else send();
      });
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }
}
