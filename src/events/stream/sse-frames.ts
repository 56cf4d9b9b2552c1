import type { StreamEvent } from '../outbox-reader';

/** How long an EventSource waits before reconnecting (it then sends Last-Event-ID). */
export const RECONNECT_MS = 3000;

/** A comment line: clients ignore it, proxies see traffic on a quiet stream. */
export const HEARTBEAT_FRAME = ': heartbeat\n\n';

/**
 * One event as a Server-Sent Events message: `id` is its stream sequence (what the client
 * resumes after), `event` its type, `data` one line of JSON (JSON.stringify escapes newlines).
 */
export function eventFrame(event: StreamEvent): string {
  const data = {
    streamSeq: event.streamSeq,
    type: event.type,
    resourceType: event.resourceType,
    resourceId: event.resourceId,
    path: event.path,
    data: event.data,
    createdAt: event.createdAt.toISOString(),
  };
  return `id: ${event.streamSeq}\nevent: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The first message: the position the stream starts after, as an id, so a client that hears
 * nothing else before it disconnects still resumes from here.
 */
export function readyFrame(after: string): string {
  return `retry: ${RECONNECT_MS}\nid: ${after}\nevent: ready\ndata: ${JSON.stringify({ streamSeq: after })}\n\n`;
}

/** The last message before the server ends a stream, saying why (a comment, then EOF). */
export function closingFrame(reason: string): string {
  return `: closing: ${reason.replace(/[\r\n]+/g, ' ')}\n\n`;
}
