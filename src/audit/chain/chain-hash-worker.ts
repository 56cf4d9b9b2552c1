import { Worker } from 'node:worker_threads';
import { ChainedEvent, chainHashInput } from './audit-chain';

/** One batch of chain hashes to compute: `texts[i]` under `keys[keyIndexes[i]]` (-1: no key). */
export interface ChainHashBatch {
  keys: Buffer[];
  keyIndexes: number[];
  texts: string[];
}

type StoredEventLike = ChainedEvent & { prevHash: string | null };

/** What the worker needs to hash `events`, each with the prev_hash it states. */
export function chainHashBatch(
  events: readonly StoredEventLike[],
  keyFor: (keyId: string) => Buffer | undefined,
): ChainHashBatch {
  const keys: Buffer[] = [];
  const indexOf = new Map<string, number>();
  const keyIndexes: number[] = [];
  const texts: string[] = [];
  for (const event of events) {
    let index = indexOf.get(event.keyId);
    if (index === undefined) {
      const key = keyFor(event.keyId);
      index = key ? keys.push(key) - 1 : -1;
      indexOf.set(event.keyId, index);
    }
    keyIndexes.push(index);
    texts.push(index < 0 ? '' : chainHashInput(event.prevHash, event));
  }
  return { keys, keyIndexes, texts };
}

/**
 * The worker's code: hmacHex of audit-chain.ts for each text, '' where there is no key. Plain
 * JavaScript, so it runs alike from the build and from the TypeScript sources under test; the
 * spec holds it to hmacHex.
 */
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHmac, createSecretKey } = require('node:crypto');
parentPort.on('message', ({ id, keys, keyIndexes, texts }) => {
  const keyObjects = keys.map((raw) => createSecretKey(raw));
  const digests = texts.map((text, i) =>
    keyIndexes[i] < 0 ? '' : createHmac('sha256', keyObjects[keyIndexes[i]]).update(text).digest('hex'),
  );
  parentPort.postMessage({ id, digests });
});
`;

/**
 * HMACs of audit events on a thread of their own. Verify spends about a third of its CPU on
 * them; here they run beside the reading, parsing and checking of the next rows, so a verify
 * uses two cores. The hashes are only computed here: every comparison stays with the verifier.
 */
export class ChainHashWorker {
  private readonly worker = new Worker(SOURCE, { eval: true });
  private readonly pending = new Map<
    number,
    { resolve: (digests: string[]) => void; reject: (error: Error) => void }
  >();
  private nextId = 0;
  private failure: Error | null = null;

  constructor() {
    this.worker.on('message', ({ id, digests }: { id: number; digests: string[] }) => {
      this.pending.get(id)?.resolve(digests);
      this.pending.delete(id);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) =>
      this.fail(new Error(`the chain hash worker exited (${code})`)),
    );
  }

  /** The hex digests of the batch, in its order. */
  digests(batch: ChainHashBatch): Promise<string[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...batch });
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the chain hash worker was closed');
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}

/**
 * Hands batches of at least `minEvents` to a ChainHashWorker started on first need. Undefined
 * means "hash them yourself": for small batches, and for all of them once the worker failed,
 * since a verify that can still check every event must not fail for want of a thread.
 */
export class ChainHashOffload {
  private worker: ChainHashWorker | undefined;
  private failed = false;
  private closed = false;

  constructor(
    private readonly minEvents: number,
    private readonly keyFor: (keyId: string) => Buffer | undefined,
    private readonly onFailure: (error: Error) => void,
  ) {}

  async digests(events: StoredEventLike[]): Promise<string[] | undefined> {
    if (events.length < this.minEvents || this.failed || this.closed) return undefined;
    try {
      this.worker ??= new ChainHashWorker();
      return await this.worker.digests(chainHashBatch(events, this.keyFor));
    } catch (error) {
      if (!this.failed && !this.closed) this.onFailure(error as Error);
      this.failed = true;
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.close();
  }
}
