import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { PrincipalAccess } from '../../auth/grants/access-policy';
import { typeFilterOf } from '../event-type-filter';
import type { StreamEvent } from '../outbox-reader';
import type { EventStreamHub } from './event-stream-hub';
import { EventStreamSession, SessionOptions } from './event-stream-session';

function event(seq: number, type: string, path: string | null): StreamEvent {
  return {
    streamSeq: String(seq),
    type,
    resourceType: 'credential',
    resourceId: `cred-${seq}`,
    path,
    data: {},
    createdAt: new Date('2026-11-30T10:00:00.000Z'),
  };
}

class FakeResponse extends EventEmitter {
  readonly frames: string[] = [];
  writableEnded = false;
  destroyed = false;
  write(frame: string): boolean {
    this.frames.push(frame);
    return true;
  }
  end(frame: string): void {
    this.frames.push(frame);
    this.writableEnded = true;
  }
  /** The ids of the events written (not the ready message). */
  get eventIds(): string[] {
    return this.frames
      .filter((frame) => frame.startsWith('id: '))
      .map((frame) => frame.slice(4, frame.indexOf('\n')));
  }
}

const grants = (pathPattern: string) =>
  new PrincipalAccess(new Set(), [{ pathPattern, capabilities: 'read' }]);

describe('EventStreamSession', () => {
  let response: FakeResponse;
  let batches: StreamEvent[][];
  const hub = {
    leave: jest.fn(),
    next: jest.fn((_after: bigint): Promise<StreamEvent[]> =>
      Promise.resolve(batches.shift() ?? []),
    ),
    waitForNews: jest.fn(() => ({ promise: Promise.resolve(), wakeUp: jest.fn() })),
  };

  beforeEach(() => {
    jest.clearAllMocks();
    response = new FakeResponse();
  });

  /** Runs a session over the batches until they are used up, then closes it. */
  async function runOver(given: StreamEvent[][], options: Partial<SessionOptions> = {}) {
    batches = given;
    const session = new EventStreamSession(
      response as unknown as ServerResponse,
      hub as unknown as EventStreamHub,
      {
        types: null,
        heartbeatMs: 60_000,
        role: null,
        accessOf: () => Promise.resolve(grants('acme/**')),
        stillAuthenticated: () => Promise.resolve(true),
        ...options,
      },
    );
    hub.next.mockImplementation(() => {
      if (batches.length === 0) session.close('test over');
      return Promise.resolve(batches.shift() ?? []);
    });
    await session.run(41n);
    return session;
  }

  it('should start with the ready message at its position, then write the events it may read', async () => {
    await runOver([
      [event(42, 'rotation.started', 'acme/db'), event(43, 'rotation.started', 'beta/db')],
      [event(44, 'rotation.succeeded', 'acme/x/db'), event(45, 'credential.expiring', null)],
    ]);

    expect(response.frames[0]).toContain('id: 41\nevent: ready');
    expect(response.eventIds).toEqual(['42', '44']);
    expect(hub.next.mock.calls.map(([after]) => after)).toEqual([41n, 43n, 45n]);
    expect(response.frames[response.frames.length - 1]).toBe(': closing: test over\n\n');
    expect(hub.leave).toHaveBeenCalled();
  });

  it('should write only the types asked for', async () => {
    await runOver(
      [[event(42, 'rotation.started', 'acme/db'), event(43, 'rotation.succeeded', 'acme/db')]],
      { types: typeFilterOf(['rotation.succeeded']) },
    );

    expect(response.eventIds).toEqual(['43']);
  });

  it('should write incident events only to the roles that may read incidents', async () => {
    const opened = { ...event(42, 'incident.opened', null), resourceType: 'incident' };
    await runOver([[opened, event(43, 'rotation.started', 'acme/db')]], { role: 'viewer' });
    expect(response.eventIds).toEqual(['43']);

    response = new FakeResponse();
    await runOver([[opened]], { role: 'auditor' });
    expect(response.eventIds).toEqual(['42']);
  });

  it('should read the grants again for every batch, so a revoked one takes effect at once', async () => {
    const accessOf = jest
      .fn()
      .mockResolvedValueOnce(grants('acme/**'))
      .mockResolvedValueOnce(grants('beta/**'));

    await runOver(
      [[event(42, 'rotation.started', 'acme/db')], [event(43, 'rotation.started', 'acme/db')]],
      { accessOf },
    );

    expect(accessOf).toHaveBeenCalledTimes(2);
    expect(response.eventIds).toEqual(['42']);
  });

  it('should beat when quiet and end the stream once its credentials no longer authenticate', async () => {
    const stillAuthenticated = jest.fn().mockResolvedValueOnce(true).mockResolvedValueOnce(false);
    batches = [];
    const session = new EventStreamSession(
      response as unknown as ServerResponse,
      hub as unknown as EventStreamHub,
      { types: null, heartbeatMs: 1, role: null, accessOf: jest.fn(), stillAuthenticated },
    );
    hub.next.mockResolvedValue([]);
    hub.waitForNews.mockImplementation(() => ({
      promise: new Promise((resolve) => setTimeout(resolve, 2)),
      wakeUp: jest.fn(),
    }));

    await session.run(41n);

    expect(response.frames).toContain(': heartbeat\n\n');
    expect(response.frames[response.frames.length - 1]).toBe(
      ': closing: the key or token is no longer valid\n\n',
    );
    expect(hub.leave).toHaveBeenCalled();
  });

  it('should end the stream on an error, for the client to resume with Last-Event-ID', async () => {
    await runOver([[event(42, 'rotation.started', 'acme/db')]], {
      accessOf: () => Promise.reject(new Error('database down')),
    });

    expect(response.frames[response.frames.length - 1]).toBe(
      ': closing: an error occurred; reconnect with Last-Event-ID\n\n',
    );
  });

  it('should stop when the client goes away', async () => {
    batches = [];
    const session = new EventStreamSession(
      response as unknown as ServerResponse,
      hub as unknown as EventStreamHub,
      {
        types: null,
        heartbeatMs: 60_000,
        role: null,
        accessOf: jest.fn(),
        stillAuthenticated: jest.fn(),
      },
    );
    hub.next.mockResolvedValue([]);
    const wakeUp = jest.fn();
    let release!: () => void;
    hub.waitForNews.mockImplementation(() => ({
      promise: new Promise<void>((resolve) => (release = resolve)),
      wakeUp: wakeUp.mockImplementation(() => release()),
    }));
    const running = session.run(41n);
    await new Promise((resolve) => setImmediate(resolve));

    response.emit('close');
    await running;

    expect(wakeUp).toHaveBeenCalled();
    expect(hub.leave).toHaveBeenCalled();
  });
});
