/**
 * Calls `work(from, to)` over [0, count) in chunks of `chunk`, `parallel` calls at a time: how the
 * seeds fill a database with many rows in a few concurrent transactions.
 */
export async function inChunks(
  count: number,
  chunk: number,
  parallel: number,
  work: (from: number, to: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const from = next;
      const to = Math.min(count, next + chunk);
      next = to;
      await work(from, to);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}
