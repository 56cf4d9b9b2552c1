import type { VersionResponseDto } from '../dto/version.dto';
import type { CredentialVersion } from '../entities/credential-version.entity';

/** A version whose state is already the effective one (see effectiveState). */
export function toVersionDto(v: CredentialVersion): VersionResponseDto {
  return {
    version: v.version,
    state: v.state,
    revealable: v.state === 'current' || v.state === 'previous',
    keyId: v.destroyedAt ? null : v.kekId,
    createdBy: v.createdBy,
    createdAt: v.createdAt.toISOString(),
    graceUntil: v.graceUntil?.toISOString() ?? null,
    revokedAt: v.revokedAt?.toISOString() ?? null,
    destroyedAt: v.destroyedAt?.toISOString() ?? null,
  };
}
