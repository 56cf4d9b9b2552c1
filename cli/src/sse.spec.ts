import { SseParser } from './sse';

describe('SseParser', () => {
  it('should assemble messages across chunks, keep ids and skip comments and retry', () => {
    const parser = new SseParser();
    const text =
      'retry: 3000\nid: 41\nevent: ready\ndata: {"streamSeq":"41"}\n\n: heartbeat\n\n' +
      'id: 42\r\nevent: rotation.succeeded\r\ndata: {"a":\r\ndata: 1}\r\n\r\n';
    const messages = [];
    for (let i = 0; i < text.length; i += 7) messages.push(...parser.feed(text.slice(i, i + 7)));
    expect(messages).toEqual([
      { id: '41', event: 'ready', data: '{"streamSeq":"41"}' },
      { id: '42', event: 'rotation.succeeded', data: '{"a":\n1}' },
    ]);
  });

  it('should call a message without event "message" and keep the last id', () => {
    const parser = new SseParser();
    expect(parser.feed('id: 5\n\ndata: x\n\n')).toEqual([{ id: '5', event: 'message', data: 'x' }]);
  });
});
