import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ROTATION_STEPS,
  RotationRun,
  RotationStep,
  RUN_STATUSES,
  RUN_TRIGGERS,
  RunStatus,
  RunTrigger,
} from '../entities/rotation-run.entity';

/** A rotation run as clients see it: steps and outcome, never values. */
export class RotationRunDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  credentialId!: string;

  @ApiProperty({ example: 'generated' })
  rotator!: string;

  @ApiProperty({ enum: RUN_STATUSES, example: 'running' })
  status!: RunStatus;

  @ApiProperty({ enum: ROTATION_STEPS, description: 'The next step to run (`done` at the end)' })
  step!: RotationStep;

  @ApiProperty({ enum: RUN_TRIGGERS })
  trigger!: RunTrigger;

  @ApiProperty({ description: 'Grace 0: the old value is revoked with the switch' })
  emergency!: boolean;

  @ApiProperty({ example: 1 })
  attempt!: number;

  @ApiProperty({ example: 3 })
  maxAttempts!: number;

  @ApiProperty({ description: 'Seconds the old value stays revealable after the switch' })
  graceSeconds!: number;

  @ApiPropertyOptional({ nullable: true, type: Number, description: 'The new version' })
  pendingVersion!: number | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  reason!: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'Why the last attempt failed' })
  error!: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'What the rotator wants known, e.g. that the old password stopped working at once',
  })
  notes!: string | null;

  @ApiProperty({ format: 'date-time' })
  startedAt!: string;

  @ApiProperty({ format: 'date-time', description: 'When the next step may run' })
  nextAttemptAt!: string;

  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' })
  overdueAt!: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' })
  finishedAt!: string | null;

  static from(run: RotationRun): RotationRunDto {
    return {
      id: run.id,
      credentialId: run.credentialId,
      rotator: run.rotator,
      status: run.status,
      step: run.step,
      trigger: run.trigger,
      emergency: run.emergency,
      attempt: run.attempt,
      maxAttempts: run.maxAttempts,
      graceSeconds: run.graceSeconds,
      pendingVersion: run.pendingVersion,
      reason: run.reason,
      error: run.error,
      notes: run.notes ?? null,
      startedAt: run.startedAt.toISOString(),
      nextAttemptAt: run.nextAttemptAt.toISOString(),
      overdueAt: run.overdueAt?.toISOString() ?? null,
      finishedAt: run.finishedAt?.toISOString() ?? null,
    };
  }
}

export class RotationRunPageDto {
  @ApiProperty({ type: [RotationRunDto] })
  items!: RotationRunDto[];

  @ApiProperty({ nullable: true, type: String })
  nextCursor!: string | null;
}

export class RotateAcceptedDto {
  @ApiProperty({ format: 'uuid' })
  runId!: string;

  @ApiProperty({ enum: RUN_STATUSES, example: 'running' })
  status!: RunStatus;

  @ApiProperty({ description: 'False when an emergency joined the open run of the credential' })
  opened!: boolean;
}
