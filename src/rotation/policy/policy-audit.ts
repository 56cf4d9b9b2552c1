import type { PolicyFields } from './policy-input';

/**
 * What an audit event says of a policy: its timing and the rotator's kind. Rotator settings stay
 * out: a rotator may one day take a signing key or an admin credential's id in them.
 */
export function policyAuditDetails(fields: PolicyFields): Record<string, unknown> {
  return {
    enabled: fields.enabled,
    interval: fields.rotateEvery,
    schedule: fields.schedule,
    window: fields.window,
    gracePeriod: fields.gracePeriod,
    offset: fields.offset,
    rotator: fields.rotator.kind,
    generator: fields.generator
      ? { format: fields.generator.format, length: fields.generator.length }
      : null,
    endGraceOnFullAdoption: fields.endGraceOnFullAdoption,
  };
}
