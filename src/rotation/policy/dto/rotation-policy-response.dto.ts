import { ApiProperty, ApiPropertyOptional, ApiPropertyOptions } from '@nestjs/swagger';
import { ROTATION_STATUSES } from '../../../credentials/entities/credential.entity';
import type { RotationStatus } from '../../../credentials/entities/credential.entity';
import type { RotationPolicy, RotationWindow } from '../../entities/rotation-policy.entity';
import type { GeneratorSpec } from '../../generator/generator-spec';
import type { CredentialPolicyView } from '../credential-policy.service';
import type { RotatorSettings } from '../effective-policy';
import { GeneratorSpecDto } from './generator-spec.dto';
import { RotationWindowDto } from './rotation-window.dto';

const WARNINGS: ApiPropertyOptions = {
  type: [String],
  description:
    'PUT only: what the server changed on its own or wants known, e.g. a grace forced to PT0S by a single-user mariadb rotator',
  example: [],
};

const ADOPTION_HELP =
  "The old value's grace ends early once every known consumer has revealed the new one";

const ROTATOR_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  example: { kind: 'generated' },
} as const;

/** The policy that applies to a credential, type defaults filled in, and its schedule. */
export class CredentialRotationPolicyResponseDto {
  @ApiProperty({ format: 'uuid' }) credentialId!: string;
  @ApiProperty({ format: 'uuid', description: 'The policy applied (its own or the pattern one)' })
  policyId!: string;
  @ApiProperty({
    enum: ['credential', 'pattern'],
    description: "credential: its own policy; pattern: a path-pattern policy's",
  })
  source!: 'credential' | 'pattern';
  @ApiProperty({ nullable: true, type: String, example: null }) pathPattern!: string | null;
  @ApiProperty({ example: true }) enabled!: boolean;
  @ApiProperty({ nullable: true, type: String, example: 'P30D' }) interval!: string | null;
  @ApiProperty({ nullable: true, type: String, example: null }) schedule!: string | null;
  @ApiProperty({ nullable: true, type: RotationWindowDto }) window!: RotationWindow | null;
  @ApiProperty({ example: 'PT48H' }) gracePeriod!: string;
  @ApiProperty({ nullable: true, type: String, example: null }) offset!: string | null;
  @ApiProperty(ROTATOR_SCHEMA) rotator!: RotatorSettings;
  @ApiProperty({ nullable: true, type: GeneratorSpecDto }) generator!: GeneratorSpec | null;
  @ApiProperty({ example: false, description: ADOPTION_HELP }) endGraceOnFullAdoption!: boolean;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    example: '2026-12-30T12:00:00.000Z',
    description: 'When the scheduler rotates it next (null when nothing is scheduled)',
  })
  nextRotationAt!: string | null;
  @ApiProperty({ enum: ROTATION_STATUSES, example: 'scheduled' }) rotationStatus!: RotationStatus;
  @ApiPropertyOptional(WARNINGS) warnings?: string[];

  static from({
    credential,
    policy,
    warnings,
  }: CredentialPolicyView): CredentialRotationPolicyResponseDto {
    return {
      credentialId: credential.id,
      policyId: policy.policyId,
      source: policy.source,
      pathPattern: policy.pathPattern,
      enabled: policy.enabled,
      interval: policy.rotateEvery,
      schedule: policy.schedule,
      window: policy.window,
      gracePeriod: policy.gracePeriod,
      offset: policy.offset,
      rotator: policy.rotator,
      generator: policy.generator,
      endGraceOnFullAdoption: policy.endGraceOnFullAdoption,
      nextRotationAt: credential.nextRotationAt?.toISOString() ?? null,
      rotationStatus: credential.rotationStatus,
      ...(warnings ? { warnings } : {}),
    };
  }
}

/** A path-pattern policy as stored: null interval and grace take each credential type's default. */
export class PatternPolicyResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'acme/prod/**' }) pathPattern!: string;
  @ApiProperty({ example: true }) enabled!: boolean;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'P30D',
    description: "null (and no schedule): each credential type's default interval",
  })
  interval!: string | null;
  @ApiProperty({ nullable: true, type: String, example: null }) schedule!: string | null;
  @ApiProperty({ nullable: true, type: RotationWindowDto }) window!: RotationWindow | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'PT24H',
    description: "null: each credential type's default grace",
  })
  gracePeriod!: string | null;
  @ApiProperty({ nullable: true, type: String, example: null }) offset!: string | null;
  @ApiProperty(ROTATOR_SCHEMA) rotator!: RotatorSettings;
  @ApiProperty({ nullable: true, type: GeneratorSpecDto }) generator!: GeneratorSpec | null;
  @ApiProperty({ example: false, description: ADOPTION_HELP }) endGraceOnFullAdoption!: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) createdBy!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiPropertyOptional(WARNINGS) warnings?: string[];

  static from(policy: RotationPolicy, warnings?: string[]): PatternPolicyResponseDto {
    return {
      id: policy.id,
      pathPattern: policy.pathPattern!,
      enabled: policy.enabled,
      interval: policy.rotateEvery,
      schedule: policy.schedule,
      window: policy.window,
      gracePeriod: policy.gracePeriod,
      offset: policy.offset,
      rotator: policy.rotator,
      generator: policy.generator as GeneratorSpec | null,
      endGraceOnFullAdoption: policy.endGraceOnFullAdoption,
      createdBy: policy.createdBy,
      createdAt: policy.createdAt.toISOString(),
      updatedAt: policy.updatedAt.toISOString(),
      ...(warnings ? { warnings } : {}),
    };
  }
}

export class PatternPolicyPageDto {
  @ApiProperty({ type: [PatternPolicyResponseDto], description: 'Ordered by pathPattern' })
  items!: PatternPolicyResponseDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page' })
  nextCursor!: string | null;
}
