import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { strictFn } from '../../../test/helpers/controller-app';
import type { HttpAuditRecorder } from '../../audit/http/http-audit-recorder';
import type { AccessPolicy } from '../../auth/grants/access-policy';
import type { AuthGuard } from '../../auth/guards/auth.guard';
import type { Principal } from '../../common/auth/principal';
import type { EventStreamHub } from './event-stream-hub';
import { EventStreamService } from './event-stream.service';
import { EventStreamClosingError } from './event-stream.errors';

const SERVICE: Principal = { type: 'service', id: 'svc-1', name: 'billing' };

/** The parts of a Node response the stream uses, recording what was done in order. */
class FakeResponse extends EventEmitter {
  readonly steps: string[] = [];
  writableEnded = false;
  destroyed = false;
  writeHead = jest.fn((status: number) => this.steps.push(`head ${status}`));
  write = jest.fn((frame: string) => {
    this.steps.push(`write ${frame.split('\n')[0]}`);
    return true;
  });
  end = jest.fn(() => (this.writableEnded = true));
}

describe('EventStreamService', () => {
  const hub = {
    join: jest.fn(),
    leave: jest.fn(),
    position: strictFn('EventStreamHub.position'),
    next: strictFn('EventStreamHub.next'),
    waitForNews: strictFn('EventStreamHub.waitForNews'),
  };
  const audit = { record: strictFn('HttpAuditRecorder.record') };
  let raw: FakeResponse;
  let reply: { hijack: jest.Mock; raw: FakeResponse };
  const request = { id: 'req-1' } as unknown as FastifyRequest;

  const sut = new EventStreamService(
    hub as unknown as EventStreamHub,
    {} as AccessPolicy,
    {} as AuthGuard,
    audit as unknown as HttpAuditRecorder,
    { streamHeartbeatMs: 15_000 } as never,
  );

  beforeEach(() => {
    jest.resetAllMocks();
    raw = new FakeResponse();
    reply = { hijack: jest.fn(() => raw.steps.push('hijack')), raw };
    hub.next.mockResolvedValue([]);
    hub.waitForNews.mockReturnValue({ promise: new Promise(() => undefined), wakeUp: jest.fn() });
  });

  it('should record the connection before sending anything, then stream from now on', async () => {
    hub.position.mockResolvedValueOnce(41n);
    audit.record.mockImplementationOnce(() => {
      raw.steps.push('audit');
      return Promise.resolve();
    });

    await sut.open(request, reply as unknown as FastifyReply, SERVICE, {});
    await new Promise((resolve) => setImmediate(resolve));

    expect(audit.record).toHaveBeenCalledWith(request, 200);
    expect(raw.steps).toEqual(['audit', 'hijack', 'head 200', 'write retry: 3000']);
    expect(raw.write.mock.calls[0][0]).toContain('id: 41\n');
    expect(hub.join).toHaveBeenCalledTimes(1);
    raw.emit('close');
    expect(hub.leave).toHaveBeenCalledWith(hub.join.mock.calls[0][0]);
  });

  it('should resume after the Last-Event-ID given, without asking where now is', async () => {
    audit.record.mockResolvedValueOnce(undefined);

    await sut.open(request, reply as unknown as FastifyReply, SERVICE, { after: '7' });
    await new Promise((resolve) => setImmediate(resolve));

    expect(hub.position).not.toHaveBeenCalled();
    expect(raw.write.mock.calls[0][0]).toContain('id: 7\n');
    raw.emit('close');
  });

  it('should answer 503 and send nothing when the server starts shutting down while it opens', async () => {
    hub.position.mockResolvedValueOnce(41n);
    audit.record.mockImplementationOnce(() => {
      // The hub closes its listeners, this one included, while the event is being written.
      (hub.join.mock.calls[0][0] as { close(reason: string): void }).close('shutting down');
      return Promise.resolve();
    });

    await expect(
      sut.open(request, reply as unknown as FastifyReply, SERVICE, {}),
    ).rejects.toBeInstanceOf(EventStreamClosingError);

    expect(reply.hijack).not.toHaveBeenCalled();
    expect(raw.end).not.toHaveBeenCalled();
    expect(raw.write).not.toHaveBeenCalled();
  });

  it('should send nothing and open no stream when the audit event cannot be written (fail closed)', async () => {
    hub.position.mockResolvedValueOnce(41n);
    audit.record.mockRejectedValueOnce(new Error('audit write failed'));

    await expect(sut.open(request, reply as unknown as FastifyReply, SERVICE, {})).rejects.toThrow(
      'audit write failed',
    );

    expect(reply.hijack).not.toHaveBeenCalled();
    expect(raw.writeHead).not.toHaveBeenCalled();
    expect(raw.write).not.toHaveBeenCalled();
    expect(hub.leave).toHaveBeenCalledWith(hub.join.mock.calls[0][0]);
  });
});
