import type { StreamEvent } from '../outbox-reader';
import { closingFrame, eventFrame, HEARTBEAT_FRAME, readyFrame } from './sse-frames';

const EVENT: StreamEvent = {
  streamSeq: '42',
  type: 'rotation.succeeded',
  resourceType: 'credential',
  resourceId: '5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d',
  path: 'acme/prod/db',
  data: { version: 3, note: 'two\nlines' },
  createdAt: new Date('2026-11-30T10:00:00.000Z'),
};

/** What an EventSource makes of a frame: its fields, in order. */
function fieldsOf(frame: string): [string, string][] {
  expect(frame.endsWith('\n\n')).toBe(true);
  return frame
    .slice(0, -2)
    .split('\n')
    .map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon), line.slice(colon + 1).trimStart()];
    });
}

describe('Server-Sent Events frames', () => {
  it('should send an event with its stream sequence as id, its type as event and one line of JSON', () => {
    const fields = fieldsOf(eventFrame(EVENT));

    expect(fields.map(([name]) => name)).toEqual(['id', 'event', 'data']);
    expect(fields[0][1]).toBe('42');
    expect(fields[1][1]).toBe('rotation.succeeded');
    expect(JSON.parse(fields[2][1])).toEqual({
      streamSeq: '42',
      type: 'rotation.succeeded',
      resourceType: 'credential',
      resourceId: EVENT.resourceId,
      path: 'acme/prod/db',
      data: { version: 3, note: 'two\nlines' },
      createdAt: '2026-11-30T10:00:00.000Z',
    });
  });

  it('should start with the reconnect delay and the position the stream starts after', () => {
    expect(fieldsOf(readyFrame('17'))).toEqual([
      ['retry', '3000'],
      ['id', '17'],
      ['event', 'ready'],
      ['data', '{"streamSeq":"17"}'],
    ]);
  });

  it('should send heartbeats and the closing reason as comments, on one line', () => {
    expect(HEARTBEAT_FRAME).toBe(': heartbeat\n\n');
    expect(closingFrame('shutting\r\ndown')).toBe(': closing: shutting down\n\n');
  });
});
