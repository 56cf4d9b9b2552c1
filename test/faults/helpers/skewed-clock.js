// Test-only, like faketime: loaded into a spawned instance with `node --require`, it moves that
// process's wall clock by FAULT_CLOCK_SKEW_MS (Date.now() and `new Date()`); the database's clock,
// timers and every other process are left alone. Plain JavaScript, since it is preloaded as is.
'use strict';

const skew = Number(process.env.FAULT_CLOCK_SKEW_MS || 0);
const RealDate = Date;

class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + skew);
    else super(...args);
  }

  static now() {
    return RealDate.now() + skew;
  }
}

globalThis.Date = SkewedDate;
