import type { DetectorFinding } from './detector-finding';
import { groupBy } from '../../common/group-by';
import { distinctValues, latestBurst, Timed } from './sliding-window';

/** One `auth.login.failed` event, or an attempt on a locked account (`auth.login.locked`). */
export interface LoginFailure extends Timed {
  ip: string | null;
  /** The account tried, when it exists. */
  userId: string | null;
  /** The e-mail tried, recorded only when no account has it. */
  email: string | null;
}

export interface BruteForceRule {
  perAccountThreshold: number;
  perIpThreshold: number;
  windowSeconds: number;
}

/** The account a failure was aimed at: its id, or the unknown e-mail that was tried. */
function accountOf(failure: LoginFailure): string | null {
  if (failure.userId) return `user:${failure.userId}`;
  return failure.email ? `email:${failure.email}` : null;
}

/**
 * Repeated failed logins for one account (a password being guessed) or from one IP (one client
 * trying many accounts: spraying). Each subject has its own dedupe key, so a spray across many
 * accounts from one IP is one incident, not one per account.
 */
export function bruteForceFindings(
  failures: readonly LoginFailure[],
  rule: BruteForceRule,
  afterSeq: string,
): DetectorFinding[] {
  const windowMs = rule.windowSeconds * 1000;
  const findings: DetectorFinding[] = [];
  for (const [account, events] of groupBy(failures, accountOf)) {
    const burst = latestBurst(events, { threshold: rule.perAccountThreshold, windowMs, afterSeq });
    if (!burst) continue;
    const userId = events[0].userId;
    findings.push({
      detector: 'brute_force',
      type: 'brute_force',
      severity: 'high',
      title: `Repeated failed logins for ${userId ? `user ${userId}` : 'an unknown account'}`,
      dedupeKey: `brute_force:account:${account}`,
      credentialIds: [],
      principals: userId ? [{ type: 'user', id: userId }] : [],
      facts: {
        subject: 'account',
        ...(userId ? { userId } : { email: events[0].email }),
        failures: burst.count,
        ips: distinctValues(burst.events, (e) => e.ip),
        ...span(burst.events),
        windowSeconds: rule.windowSeconds,
      },
    });
  }
  for (const [ip, events] of groupBy(failures, (f) => f.ip)) {
    const burst = latestBurst(events, { threshold: rule.perIpThreshold, windowMs, afterSeq });
    if (!burst) continue;
    findings.push({
      detector: 'brute_force',
      type: 'brute_force',
      severity: 'high',
      title: `Repeated failed logins from ${ip}`,
      dedupeKey: `brute_force:ip:${ip}`,
      credentialIds: [],
      principals: [],
      facts: {
        subject: 'ip',
        ip,
        failures: burst.count,
        accounts: distinctValues(burst.events, accountOf),
        ...span(burst.events),
        windowSeconds: rule.windowSeconds,
      },
    });
  }
  return findings;
}

/** First and last event of a burst, by seq and time. */
export function span(events: readonly Timed[]): Record<string, string> {
  const first = events[0];
  const last = events[events.length - 1];
  return {
    firstSeq: first.seq,
    lastSeq: last.seq,
    firstAt: first.at.toISOString(),
    lastAt: last.at.toISOString(),
  };
}
