/**
 * Vault's `sys/health`: which status code a state answers, with the query's overrides, and the
 * body. Pure. Custos has no standby or replication: an instance is active unless sealed.
 */

export interface HealthState {
  initialized: boolean;
  sealed: boolean;
  standby: boolean;
  performanceStandby: boolean;
  drSecondary: boolean;
}

/** Vault's defaults (api-docs/system/health). */
export const HEALTH_DEFAULT_CODES = {
  activecode: 200,
  standbycode: 429,
  drsecondarycode: 472,
  performancestandbycode: 473,
  sealedcode: 503,
  uninitcode: 501,
} as const;

/** The Vault version reported: a release that clients accept, marked as Custos. */
export const VAULT_VERSION = '1.15.0+custos';

export type HealthQuery = Record<string, string | string[] | undefined>;

export class HealthQueryError extends Error {}

/** The status code for `state`; throws HealthQueryError for a malformed override (Vault: 400). */
export function healthStatusCode(state: HealthState, query: HealthQuery): number {
  const code = (name: keyof typeof HEALTH_DEFAULT_CODES): number => {
    const raw = first(query[name]);
    if (raw === undefined) return HEALTH_DEFAULT_CODES[name];
    if (!/^\d{3}$/.test(raw) || Number(raw) < 100 || Number(raw) > 599) {
      throw new HealthQueryError(`bad code: ${name} must be an HTTP status code`);
    }
    return Number(raw);
  };
  const active = code('activecode');
  const standby = flag(query, 'standbyok') ? active : code('standbycode');
  const perfStandby = flag(query, 'perfstandbyok') ? active : code('performancestandbycode');
  if (!state.initialized) return code('uninitcode');
  if (state.sealed) return code('sealedcode');
  if (state.drSecondary) return code('drsecondarycode');
  if (state.performanceStandby) return perfStandby;
  if (state.standby) return standby;
  return active;
}

/** Vault's body; a sealed node names no cluster, as in Vault. */
export function healthBody(
  state: HealthState,
  now: Date,
  cluster: { name: string; id: string },
): Record<string, unknown> {
  return {
    initialized: state.initialized,
    sealed: state.sealed,
    standby: state.standby,
    performance_standby: state.performanceStandby,
    replication_performance_mode: 'disabled',
    replication_dr_mode: 'disabled',
    server_time_utc: Math.floor(now.getTime() / 1000),
    version: VAULT_VERSION,
    enterprise: false,
    ...(state.sealed ? {} : { cluster_name: cluster.name, cluster_id: cluster.id }),
    echo_duration_ms: 0,
    clock_skew_ms: 0,
  };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Vault's booleans: present and empty, or true/1/t… (strconv.ParseBool); anything else false. */
function flag(query: HealthQuery, name: string): boolean {
  const raw = first(query[name]);
  if (raw === undefined) return false;
  return ['', '1', 't', 'T', 'true', 'TRUE', 'True'].includes(raw);
}

/** Vault's `sys/seal-status` body: one key share, no unseal in progress. */
export function sealStatusBody(
  sealed: boolean,
  cluster: { name: string; id: string },
): Record<string, unknown> {
  return {
    type: 'shamir',
    initialized: true,
    sealed,
    t: 1,
    n: 1,
    progress: 0,
    nonce: '',
    version: VAULT_VERSION,
    build_date: '',
    migration: false,
    recovery_seal: false,
    storage_type: 'custos',
    ...(sealed ? {} : { cluster_name: cluster.name, cluster_id: cluster.id }),
  };
}
