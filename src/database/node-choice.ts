import type { WriteMode } from '../config/database.config';

/**
 * The nodes to try for a new connection, best first: the healthy ones in the mode's order, then
 * the others in list order as a last resort (a health check is a second old at most, and a real
 * error from a node says more than "none healthy"). `turn` counts connections, for any-node.
 */
export function nodeOrder(healthy: readonly boolean[], mode: WriteMode, turn: number): number[] {
  const up = healthy.flatMap((ok, index) => (ok ? [index] : []));
  const down = healthy.flatMap((ok, index) => (ok ? [] : [index]));
  if (mode === 'any-node' && up.length > 1) {
    const start = turn % up.length;
    return [...up.slice(start), ...up.slice(0, start), ...down];
  }
  return [...up, ...down];
}
