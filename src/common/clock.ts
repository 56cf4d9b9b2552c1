/**
 * The process's wall clock, for the times this instance stamps or compares on its own (token
 * and API-key expiry, lockout, revocation stamps, webhook signatures). What decides grace,
 * leases, claims, rotation due-times and audit order is the database clock instead (DESIGN.md
 * §5), so instances whose clocks disagree still agree on those.
 *
 * CUSTOS_CLOCK_SKEW_MS moves this clock, read once at start: the fault suite runs an instance
 * minutes off to prove that. Refused in production (app.config.ts).
 */
export const clock = {
  skewMs: skewFrom(process.env.CUSTOS_CLOCK_SKEW_MS),

  /** Milliseconds since the epoch, like Date.now(). */
  now(): number {
    return Date.now() + this.skewMs;
  },

  /** The current time as a Date, like new Date(). */
  date(): Date {
    return new Date(this.now());
  },
};

function skewFrom(value: string | undefined): number {
  const skew = Number(value ?? 0);
  return Number.isSafeInteger(skew) ? skew : 0;
}
