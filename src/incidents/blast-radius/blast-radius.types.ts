import type { FindingPrincipal } from '../detectors/detector-finding';

/** What the blast radius is computed for: an incident's scope, read from the incidents core. */
export interface BlastRadiusScope {
  incidentId: string;
  detectedAt: Date;
  credentialIds: string[];
  principals: FindingPrincipal[];
}

/** A principal as the audit log names it, with the display it had when last seen. */
export interface AuditedPrincipal {
  type: 'user' | 'service_account' | 'system' | 'anonymous';
  id: string;
  display: string | null;
}

/** Someone's reveals of one credential in the window. */
export interface RevealSummary {
  reveals: number;
  firstAt: string;
  lastAt: string;
  versions: number[];
  ips: string[];
}

export interface CredentialRevealer extends RevealSummary {
  principal: AuditedPrincipal;
}

/** Who may reveal a credential now, and why: the role, or the grants whose patterns cover it. */
export interface CredentialRevealAccess {
  principal: AuditedPrincipal;
  via: { role?: string; grants?: string[] };
}

export interface LinkedCredentialRadius {
  credentialId: string;
  /** Null when the credential is gone (deleted for good). */
  path: string | null;
  revealedBy: CredentialRevealer[];
  canRevealNow: CredentialRevealAccess[];
}

export interface PrincipalRevealed extends RevealSummary {
  credentialId: string;
  path: string | null;
}

export interface LinkedPrincipalRadius {
  principal: FindingPrincipal;
  revealed: PrincipalRevealed[];
}

export interface BlastRadius {
  incidentId: string;
  since: string;
  until: string;
  credentials: LinkedCredentialRadius[];
  principals: LinkedPrincipalRadius[];
}
