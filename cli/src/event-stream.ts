import { Api } from './api';
import { ApiError, CliError } from './errors';
import { note } from './io';
import { SseMessage, SseParser } from './sse';

/**
 * Follows `GET /events` for these event types, reconnecting with Last-Event-ID and
 * exponential backoff (1 s doubling to 30 s, with jitter) whenever the stream ends. Resolves
 * once the first connection is ready; a first connection that fails rejects.
 */
export function followEvents(
  api: Api,
  types: string[],
  onMessage: (message: SseMessage) => void,
  abort: AbortSignal,
  options: { verbose: boolean; fail: (error: unknown) => void; firstDelayMs?: number },
): Promise<void> {
  const { verbose, fail } = options;
  const firstDelay = options.firstDelayMs ?? 1000;
  return new Promise<void>((resolveReady, rejectReady) => {
    let lastId: string | undefined;
    let connected = false;
    const loop = async () => {
      let delay = firstDelay;
      while (!abort.aborted) {
        try {
          const response = await api.open(
            '/events',
            {
              query: { types: types.join(',') },
              headers: lastId ? { 'last-event-id': lastId } : {},
            },
            abort,
          );
          if (!response.body) throw new CliError('the event stream has no body');
          const parser = new SseParser();
          const decoder = new TextDecoder();
          for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
            for (const message of parser.feed(decoder.decode(chunk, { stream: true }))) {
              if (message.id !== undefined) lastId = message.id;
              if (message.event === 'ready') {
                delay = firstDelay;
                if (!connected) {
                  connected = true;
                  resolveReady();
                }
                continue;
              }
              onMessage(message);
            }
          }
          if (verbose && !abort.aborted) note('the event stream ended');
        } catch (error) {
          if (abort.aborted) return;
          if (!connected) {
            rejectReady(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
            fail(error);
            return;
          }
          if (verbose) note(`the event stream failed: ${(error as Error).message}`);
        }
        if (abort.aborted) return;
        const wait = delay / 2 + Math.random() * (delay / 2);
        if (verbose) note(`reconnecting to the event stream in ${Math.round(wait / 100) / 10} s`);
        await sleep(wait, abort);
        delay = Math.min(delay * 2, 30_000);
      }
    };
    void loop();
  });
}

function sleep(ms: number, abort: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    abort.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
