/** A secret checked against the shape of its credential type. */
export interface ParsedSecret {
  /** The normalized secret object to be JSON-serialized and encrypted (same keys as the input, nothing derived). */
  value: Record<string, unknown>;
  /** Non-secret facts derived from the secret, safe to store in plaintext metadata (never any secret part). */
  derived: Record<string, unknown>;
  /** An expiry derived from the secret itself (certificate notAfter, jwt exp), if any. */
  expiresAt?: Date;
}
