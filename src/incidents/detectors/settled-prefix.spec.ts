import { settledPrefix } from './settled-prefix';

const at = (ms: number) => ({ at: new Date(ms) });

describe('settledPrefix', () => {
  it('should keep every event when all are settled', () => {
    const events = [at(1), at(3), at(2)];
    expect(settledPrefix(events, 3)).toEqual(events);
  });

  it('should stop before the first young event, even when older ones follow it', () => {
    // Seq order with an event stamped later than the next one: its transaction began later.
    expect(settledPrefix([at(1), at(5), at(2)], 3)).toEqual([at(1)]);
  });

  it('should answer nothing when the first event is young', () => {
    expect(settledPrefix([at(9), at(1)], 3)).toEqual([]);
  });
});
