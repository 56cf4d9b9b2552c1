/** What happened (issue 12): the kinds an IT or MSP team tracks, and those detectors raise. */
export const INCIDENT_TYPES = [
  'bec',
  'backdoor',
  'malware',
  'unauthorized_access',
  'data_breach',
  'phishing',
  'ransomware',
  'brute_force',
  'credential_leak',
  'rotation_failure',
  'audit_tamper',
  'decoy_access',
  'other',
] as const;
export type IncidentType = (typeof INCIDENT_TYPES)[number];

export const INCIDENT_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

/** The workflow's states; which moves are legal is incident-workflow.ts's business. */
export const INCIDENT_STATUSES = ['investigating', 'contained', 'monitoring', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** While an incident is in one of these, a freeze of its credentials' reveals holds. */
export const FREEZING_STATUSES: readonly IncidentStatus[] = ['investigating', 'contained'];

export const TIMELINE_KINDS = ['transition', 'comment', 'action', 'detection', 'link'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export const INCIDENT_PRINCIPAL_TYPES = ['user', 'service_account'] as const;
export type IncidentPrincipalType = (typeof INCIDENT_PRINCIPAL_TYPES)[number];
