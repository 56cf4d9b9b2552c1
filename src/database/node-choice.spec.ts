import { nodeOrder } from './node-choice';

describe('nodeOrder', () => {
  it('should prefer the first healthy node in single-node mode, whatever the turn', () => {
    expect(nodeOrder([true, true, true], 'single-node', 0)).toEqual([0, 1, 2]);
    expect(nodeOrder([true, true, true], 'single-node', 7)).toEqual([0, 1, 2]);
  });

  it('should fail over to the next healthy node and keep the unhealthy ones as a last resort', () => {
    expect(nodeOrder([false, true, true], 'single-node', 0)).toEqual([1, 2, 0]);
    expect(nodeOrder([false, false, true], 'single-node', 0)).toEqual([2, 0, 1]);
  });

  it('should go back to the preferred node once it is healthy again', () => {
    expect(nodeOrder([false, true, true], 'single-node', 0)[0]).toBe(1);
    expect(nodeOrder([true, true, true], 'single-node', 0)[0]).toBe(0);
  });

  it('should still try every node in list order when none is healthy', () => {
    expect(nodeOrder([false, false, false], 'single-node', 0)).toEqual([0, 1, 2]);
    expect(nodeOrder([false, false, false], 'any-node', 5)).toEqual([0, 1, 2]);
  });

  it('should spread connections over the healthy nodes in turn in any-node mode', () => {
    const firsts = [0, 1, 2, 3, 4, 5].map(
      (turn) => nodeOrder([true, true, true], 'any-node', turn)[0],
    );
    expect(firsts).toEqual([0, 1, 2, 0, 1, 2]);
    expect(nodeOrder([true, true, true], 'any-node', 1)).toEqual([1, 2, 0]);
  });

  it('should spread only over the healthy nodes in any-node mode', () => {
    const firsts = [0, 1, 2, 3].map((turn) => nodeOrder([true, false, true], 'any-node', turn)[0]);
    expect(firsts).toEqual([0, 2, 0, 2]);
    expect(nodeOrder([true, false, true], 'any-node', 1)).toEqual([2, 0, 1]);
  });
});
