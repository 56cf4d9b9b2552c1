import { get, IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** One Server-Sent Events message as an EventSource would dispatch it. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * A minimal EventSource over node:http, for tests: it keeps every message and comment, and can
 * wait for one. No reconnecting: a test reconnects itself, with the Last-Event-ID it chooses.
 * (Node's fetch opens a spare idle connection beside the stream, which holds up a test app's
 * shutdown until the client drops it.)
 */
export class SseClient {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  /** Everything received, as text. */
  text = '';
  /** Resolves when the server ends the stream (or the client closes it). */
  readonly ended: Promise<void>;
  private readonly waiters = new Set<() => void>();
  private buffer = '';

  private constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    private readonly response: IncomingMessage,
  ) {
    this.ended = this.read();
  }

  static connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const request = get(url, { headers: { accept: 'text/event-stream', ...headers } });
      request.once('response', (response) =>
        resolve(new SseClient(response.statusCode ?? 0, response.headers, response)),
      );
      request.once('error', reject);
    });
  }

  /** Messages other than the opening `ready` one. */
  get events(): SseMessage[] {
    return this.messages.filter((message) => message.event !== 'ready');
  }

  /** The JSON payloads of the events. */
  get payloads(): {
    streamSeq: string;
    type: string;
    resourceId: string;
    [key: string]: unknown;
  }[] {
    return this.events.map((message) => JSON.parse(message.data) as never);
  }

  /** The first message (already received or still to come) that satisfies `predicate`. */
  async waitFor(
    predicate: (message: SseMessage) => boolean,
    ms = 15_000,
    what = 'a message',
  ): Promise<SseMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what} did not arrive within ${ms} ms; got:\n${this.text}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
        void this.ended.then(done);
      });
    }
  }

  /** An event of `type` about `resourceId`. */
  waitForEvent(type: string, resourceId: string, ms?: number): Promise<SseMessage> {
    return this.waitFor(
      (m) =>
        m.event === type &&
        (JSON.parse(m.data) as { resourceId: string }).resourceId === resourceId,
      ms,
      `${type} of ${resourceId}`,
    );
  }

  close(): void {
    this.response.destroy();
  }

  private async read(): Promise<void> {
    this.response.setEncoding('utf8');
    try {
      for await (const text of this.response as AsyncIterable<string>) {
        this.text += text;
        this.buffer += text;
        this.parse();
      }
    } catch {
      // Destroyed by close(): the stream simply ends.
    } finally {
      for (const wake of [...this.waiters]) wake();
    }
  }

  private parse(): void {
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const message: SseMessage = { id: undefined, event: 'message', data: '' };
      let hasData = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          this.comments.push(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') message.id = value;
        else if (field === 'event') message.event = value;
        else if (field === 'data') {
          message.data += hasData ? `\n${value}` : value;
          hasData = true;
        }
      }
      if (hasData) this.messages.push(message);
    }
    for (const wake of [...this.waiters]) wake();
    this.waiters.clear();
  }
}
