/**
 * Vault's response envelopes and error bodies. Pure.
 */

export interface VaultEnvelope {
  request_id: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: unknown;
  wrap_info: null;
  warnings: string[] | null;
  auth: unknown;
  mount_type?: string;
}

/** A Vault response carrying `data` (and `auth` for logins). */
export function vaultEnvelope(
  requestId: string,
  data: unknown,
  options: { auth?: unknown; mountType?: string; warnings?: string[] } = {},
): VaultEnvelope {
  return {
    request_id: requestId,
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: options.warnings && options.warnings.length > 0 ? options.warnings : null,
    auth: options.auth ?? null,
    ...(options.mountType ? { mount_type: options.mountType } : {}),
  };
}

export const PERMISSION_DENIED = 'permission denied';
export const CAS_MISMATCH = 'check-and-set parameter did not match the current version';
export const SEALED = 'Vault is sealed';

/** The parts of a Custos error body (common/errors) that its Vault translation needs. */
export interface CustosErrorBody {
  statusCode: number;
  message?: string;
}

/**
 * A Custos error answer as Vault answers it: `{errors: [...]}` with Vault's status codes. No
 * Custos message quotes a secret, so passing one on leaks none.
 */
export function vaultError(body: CustosErrorBody): { status: number; errors: string[] } {
  const message = typeof body.message === 'string' ? body.message : '';
  switch (body.statusCode) {
    case 401:
    case 403:
      return { status: 403, errors: [PERMISSION_DENIED] };
    case 404:
      return { status: 404, errors: [] };
    case 412:
      return { status: 400, errors: [CAS_MISMATCH] };
    case 409:
      return { status: 400, errors: [message] };
    case 503:
      return { status: 503, errors: [message.startsWith('Custos is sealed') ? SEALED : message] };
    default:
      if (body.statusCode >= 500) return { status: body.statusCode, errors: ['internal error'] };
      return { status: body.statusCode, errors: message ? [message] : [] };
  }
}

/** An ISO time as Vault writes it ("" for none). */
export function vaultTime(date: Date | null | undefined): string {
  return date ? date.toISOString() : '';
}

/**
 * Custos' free-form credential metadata as Vault's custom_metadata (a map of strings): string
 * values only, null when there are none.
 */
export function customMetadataOf(
  metadata: Record<string, unknown> | null | undefined,
): Record<string, string> | null {
  if (!metadata) return null;
  const strings = Object.entries(metadata).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  return strings.length > 0 ? Object.fromEntries(strings) : null;
}
