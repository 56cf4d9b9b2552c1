/**
 * The events before the first one younger than `settledAt`, in the order given (seq order). Not a
 * filter: the caller moves its cursor to the last event it gets, so a younger event skipped over
 * would be passed for good, and an older one numbered after it is read with it on a later pass.
 */
export function settledPrefix<T extends { at: Date }>(events: T[], settledAt: number): T[] {
  const young = events.findIndex((event) => event.at.getTime() > settledAt);
  return young < 0 ? events : events.slice(0, young);
}
