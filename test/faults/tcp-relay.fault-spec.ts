import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';
import { TcpRelay } from './helpers/tcp-relay';

/** The relay itself, against a tiny echo server (no database). */
describe('TcpRelay', () => {
  let echo: Server;
  let relay: TcpRelay;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
    relay = await TcpRelay.start((echo.address() as AddressInfo).port);
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await relay.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  /** A client connection through the relay that collects what it receives. */
  async function client(): Promise<{
    socket: Socket;
    received: () => string;
    closed: Promise<void>;
  }> {
    const socket = createConnection({ host: '127.0.0.1', port: relay.port });
    sockets.push(socket);
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, received: () => received, closed };
  }

  async function eventually(probe: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error(`${what} not within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

  it('should forward bytes both ways while open', async () => {
    const { socket, received } = await client();
    socket.write('hello');
    await eventually(() => received() === 'hello', 'the echo');
    expect(relay.openConnections).toBe(1);
  });

  it('should rewrite a database URL to point at itself', () => {
    expect(relay.rewrite('mysql://root@127.0.0.1:3306/custos_x')).toBe(
      `mysql://root@127.0.0.1:${relay.port}/custos_x`,
    );
  });

  it('should reset open connections and refuse new ones when cut, and accept again after restore', async () => {
    const first = await client();
    first.socket.write('a');
    await eventually(() => first.received() === 'a', 'the echo');
    relay.cut();
    await first.closed;
    expect(relay.openConnections).toBe(0);

    const refused = createConnection({ host: '127.0.0.1', port: relay.port });
    sockets.push(refused);
    refused.on('error', () => undefined);
    await new Promise<void>((resolve) => refused.once('close', () => resolve()));

    relay.restore();
    const after = await client();
    after.socket.write('b');
    await eventually(() => after.received() === 'b', 'the echo after restore');
  });

  it('should hold bytes while paused, keeping the socket, and deliver them on restore', async () => {
    const { socket, received } = await client();
    relay.pause();
    socket.write('held');
    await settle();
    expect(received()).toBe('');
    expect(socket.destroyed).toBe(false);
    relay.restore();
    await eventually(() => received() === 'held', 'the held bytes');
  });

  it('should hold a new connection while paused and connect it on restore', async () => {
    relay.pause();
    const { socket, received } = await client();
    socket.write('late');
    await settle();
    expect(received()).toBe('');
    expect(relay.openConnections).toBe(0);
    relay.restore();
    await eventually(() => received() === 'late', 'the late connection');
    expect(relay.openConnections).toBe(1);
  });

  it('should reset held connections when cut while paused', async () => {
    relay.pause();
    const { closed } = await client();
    relay.cut();
    await closed;
  });
});
