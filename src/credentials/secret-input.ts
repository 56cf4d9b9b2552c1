import type { JsonObject } from './entities/credential.entity';
import type { ParsedSecret } from './secrets/parsed-secret';
import { parseSecret } from './secrets/parse-secret';
import type { CredentialType } from './secrets/credential-type';
import { SecretShapeError } from './secrets/secret-shape.error';

/** A ciphertext column holds at most 64 KiB; this leaves room for the GCM envelope. */
export const SECRET_MAX_BYTES = 60_000;

/** The secret checked against its type's shape and size; throws a 400 naming the field. */
export function checkedSecret(type: CredentialType, input: unknown): ParsedSecret {
  const parsed = parseSecret(type, input);
  if (Buffer.byteLength(JSON.stringify(parsed.value)) > SECRET_MAX_BYTES) {
    throw SecretShapeError.single(
      '',
      `the secret must be at most ${SECRET_MAX_BYTES} bytes as JSON`,
    );
  }
  return parsed;
}

/** The non-secret facts read from a secret, as stored JSON (dates become ISO strings). */
export function secretInfoOf(secret: ParsedSecret): JsonObject | null {
  return Object.keys(secret.derived).length > 0
    ? (JSON.parse(JSON.stringify(secret.derived)) as JsonObject)
    : null;
}
