import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

export type RelayState = 'open' | 'cut' | 'paused';

/**
 * A TCP relay between the app and its database that a test can break on purpose:
 *
 * - `cut()` destroys every connection through it and refuses new ones (a dead server or a
 *   network partition that resets connections);
 * - `pause()` keeps every socket but stops forwarding bytes both ways, and holds new connections
 *   unanswered (a hung server or a partition that drops packets);
 * - `restore()` forwards again: held connections are connected, paused bytes flow.
 */
interface Pair {
  client: Socket;
  upstream: Socket;
  /** Bytes read while paused, per direction, forwarded on restore. */
  toUpstream: Buffer[];
  toClient: Buffer[];
}

export class TcpRelay {
  private state: RelayState = 'open';
  private readonly pairs = new Set<Pair>();
  /** Connections that arrived while paused, waiting to be connected upstream. */
  private readonly held: Socket[] = [];
  private accepted = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  /** A relay listening on a free loopback port, forwarding to `host:port`. */
  static async start(targetPort = 3306, targetHost = '127.0.0.1'): Promise<TcpRelay> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return new TcpRelay(server, port, { host: targetHost, port: targetPort });
  }

  /** The same URL with its host and port replaced by the relay's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  get current(): RelayState {
    return this.state;
  }

  /** Connections accepted since the relay started (refused ones included). */
  get connectionsAccepted(): number {
    return this.accepted;
  }

  /** Connections currently relayed (held ones not counted). */
  get openConnections(): number {
    return this.pairs.size;
  }

  /** Resets every relayed and held connection; refuses new ones until restore(). */
  cut(): void {
    this.state = 'cut';
    for (const client of this.held.splice(0)) client.destroy();
    for (const pair of [...this.pairs]) this.drop(pair);
  }

  /** Stops forwarding bytes (sockets stay open); new connections wait unanswered. */
  pause(): void {
    if (this.state === 'cut') return;
    this.state = 'paused';
  }

  /** Forwards again: what was read while paused goes through, held connections connect. */
  restore(): void {
    this.state = 'open';
    for (const pair of this.pairs) {
      for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk);
      for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
    }
    for (const client of this.held.splice(0)) this.connect(client);
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepted++;
    client.on('error', () => undefined);
    if (this.state === 'cut') {
      client.destroy();
      return;
    }
    if (this.state === 'paused') {
      // Whatever the client sends before it is connected waits in the socket's own buffer.
      client.pause();
      this.held.push(client);
      client.once('close', () => {
        const index = this.held.indexOf(client);
        if (index >= 0) this.held.splice(index, 1);
      });
      return;
    }
    this.connect(client);
  }

  private connect(client: Socket): void {
    if (client.destroyed) return;
    client.pause();
    const upstream = createConnection(this.target);
    const pair: Pair = { client, upstream, toUpstream: [], toClient: [] };
    this.pairs.add(pair);
    upstream.on('error', () => this.drop(pair));
    client.on('close', () => this.drop(pair));
    upstream.on('close', () => this.drop(pair));
    client.on('data', (chunk: Buffer) => {
      if (this.state === 'open') upstream.write(chunk);
      else pair.toUpstream.push(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.state === 'open') client.write(chunk);
      else pair.toClient.push(chunk);
    });
    upstream.once('connect', () => {
      for (const chunk of pair.toUpstream.splice(0)) upstream.write(chunk);
      client.resume();
    });
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
