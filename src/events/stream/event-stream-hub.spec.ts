import { strictFn } from '../../../test/helpers/controller-app';
import type { OutboxReader, StreamEvent } from '../outbox-reader';
import { EventStreamHub, STREAM_PAGE } from './event-stream-hub';
import { EventStreamClosingError } from './event-stream.errors';

function event(seq: number): StreamEvent {
  return {
    streamSeq: String(seq),
    type: 'rotation.succeeded',
    resourceType: 'credential',
    resourceId: `cred-${seq}`,
    path: 'acme/prod/db',
    data: {},
    createdAt: new Date('2026-11-30T10:00:00.000Z'),
  };
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => event(from + i));

describe('EventStreamHub', () => {
  const POLL_MS = 250;
  const reader = { after: strictFn('OutboxReader.after'), latest: strictFn('OutboxReader.latest') };
  const listener = () => ({ close: jest.fn() });
  let sut: EventStreamHub;

  beforeEach(() => {
    jest.resetAllMocks();
    sut = new EventStreamHub(reader as unknown as OutboxReader, { streamPollMs: POLL_MS } as never);
  });

  /** The hub with one listener, started at `latest`, having polled `events`. */
  async function polled(latest: number, events: StreamEvent[]) {
    sut.join(listener());
    reader.latest.mockResolvedValueOnce(String(latest));
    reader.after.mockResolvedValueOnce(events);
    await sut.tick(Date.now() + POLL_MS);
  }

  it('should read nothing while no one listens', () => {
    expect(sut.tick(Date.now() + 10 * POLL_MS)).toBeNull();
    expect(reader.after).not.toHaveBeenCalled();
  });

  it('should start a listener without Last-Event-ID at the latest event, and poll from there', async () => {
    sut.join(listener());
    reader.latest.mockResolvedValueOnce('41');
    expect(await sut.position()).toBe(41n);

    reader.after.mockResolvedValueOnce(range(42, 43));
    expect(await sut.tick(Date.now() + POLL_MS)).toBe(2);

    expect(reader.after).toHaveBeenCalledWith('41', STREAM_PAGE);
    expect(await sut.position()).toBe(43n);
    expect(sut.tick(Date.now() + POLL_MS - 1)).toBeNull();
  });

  it('should serve listeners that are a little behind from what it read, with no query', async () => {
    await polled(41, range(42, 45));

    expect((await sut.next(41n)).map((e) => e.streamSeq)).toEqual(['42', '43', '44', '45']);
    expect((await sut.next(43n)).map((e) => e.streamSeq)).toEqual(['44', '45']);
    expect(await sut.next(45n)).toEqual([]);
    // Ahead of what this instance has read (an id from a faster instance): wait for it.
    expect(await sut.next(50n)).toEqual([]);
    expect(reader.after).toHaveBeenCalledTimes(1);
  });

  it('should read from the database for a listener resuming from further back', async () => {
    await polled(41, range(42, 45));
    reader.after.mockResolvedValueOnce(range(11, 15));

    expect((await sut.next(10n)).map((e) => e.streamSeq)).toEqual(['11', '12', '13', '14', '15']);
    expect(reader.after).toHaveBeenLastCalledWith('10', STREAM_PAGE);
  });

  it('should read on while pages are full', async () => {
    sut.join(listener());
    reader.latest.mockResolvedValueOnce('0');
    reader.after
      .mockResolvedValueOnce(range(1, STREAM_PAGE))
      .mockResolvedValueOnce(range(STREAM_PAGE + 1, STREAM_PAGE + 3));

    expect(await sut.tick(Date.now() + POLL_MS)).toBe(STREAM_PAGE + 3);
    expect(reader.after).toHaveBeenLastCalledWith(String(STREAM_PAGE), STREAM_PAGE);
    expect(await sut.position()).toBe(BigInt(STREAM_PAGE + 3));
  });

  it('should wake a waiting listener when a poll reads past its position, and not before', async () => {
    await polled(41, []);
    let woken = false;
    const wait = sut.waitForNews(41n, 60_000);
    void wait.promise.then(() => (woken = true));

    reader.after.mockResolvedValueOnce([]);
    await sut.tick(Date.now() + 2 * POLL_MS);
    await Promise.resolve();
    expect(woken).toBe(false);

    reader.after.mockResolvedValueOnce(range(42, 42));
    await sut.tick(Date.now() + 3 * POLL_MS);
    await wait.promise;
    expect(woken).toBe(true);
  });

  it('should not let a listener sleep through news read just before it waits', async () => {
    await polled(41, range(42, 42));

    await sut.waitForNews(41n, 60_000).promise;
  });

  it('should end a wait after its time or when woken up', async () => {
    await polled(41, []);

    await sut.waitForNews(41n, 5).promise;
    const wait = sut.waitForNews(41n, 60_000);
    wait.wakeUp();
    await wait.promise;
  });

  it('should start afresh from the latest event when someone listens after a quiet spell', async () => {
    const first = listener();
    sut.join(first);
    reader.latest.mockResolvedValueOnce('41');
    expect(await sut.position()).toBe(41n);
    sut.leave(first);
    expect(sut.tick(Date.now() + POLL_MS)).toBeNull();

    sut.join(listener());
    reader.latest.mockResolvedValueOnce('90');
    expect(await sut.position()).toBe(90n);
  });

  it('should close every listener and wake every wait when the app shuts down', async () => {
    const one = listener();
    await polled(41, []);
    sut.join(one);
    const wait = sut.waitForNews(41n, 60_000);

    await sut.onModuleDestroy();

    await wait.promise;
    expect(one.close).toHaveBeenCalledWith('the server is shutting down');
    expect(() => sut.join(listener())).toThrow(EventStreamClosingError);
  });
});
