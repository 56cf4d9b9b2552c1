/** The blast radius as GET /incidents/:id/blast-radius answers it in JSON (times as strings). */
export interface Revealer {
  principal: { type: string; id: string };
  reveals: number;
  versions: number[];
  ips: string[];
  firstAt: string;
  lastAt: string;
}

export interface Radius {
  since: string;
  credentials: {
    credentialId: string;
    path: string;
    revealedBy: Revealer[];
    canRevealNow: { principal: { type: string; id: string }; via: Record<string, unknown> }[];
  }[];
  principals: {
    principal: { type: string; id: string };
    revealed: { credentialId: string; reveals: number; ips: string[] }[];
  }[];
}
