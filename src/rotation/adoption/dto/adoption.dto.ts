import { ApiProperty } from '@nestjs/swagger';
import type { AdoptionConsumer, AdoptionReport } from '../adoption-report';

export class AdoptionConsumerDto {
  @ApiProperty({ enum: ['user', 'service_account'] }) principalType!: 'user' | 'service_account';
  @ApiProperty({ example: '0c7e9d1a-2b3c-4d5e-8f90-1a2b3c4d5e6f' }) principalId!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'billing-api',
    description: "A service's name or a person's e-mail, as the audit log recorded it",
  })
  name!: string | null;
  @ApiProperty({ nullable: true, type: Number, example: 7 }) lastRevealedVersion!: number | null;
  @ApiProperty({ format: 'date-time' }) lastRevealedAt!: string;
  @ApiProperty({ description: 'Has revealed the new version (or a later one) since the rotation' })
  adopted!: boolean;

  static from(consumer: AdoptionConsumer): AdoptionConsumerDto {
    return { ...consumer, lastRevealedAt: consumer.lastRevealedAt.toISOString() };
  }
}

export class AdoptionReportDto {
  @ApiProperty({ format: 'uuid' }) runId!: string;
  @ApiProperty({ format: 'uuid' }) credentialId!: string;
  @ApiProperty({ example: 8, description: 'The version the rotation made current' })
  version!: number;
  @ApiProperty({ format: 'date-time' }) finishedAt!: string;
  @ApiProperty({
    format: 'date-time',
    description:
      'Consumers are the principals that revealed the credential from this time until the rotation finished (ROTATION_ADOPTION_WINDOW)',
  })
  consumersSince!: string;
  @ApiProperty({ type: [AdoptionConsumerDto] }) consumers!: AdoptionConsumerDto[];
  @ApiProperty({ example: 1 }) adopted!: number;
  @ApiProperty({ example: 1 }) pending!: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    example: 50,
    description: 'Adopted consumers in percent (one decimal); null when no consumer is known',
  })
  percent!: number | null;

  static from(report: AdoptionReport): AdoptionReportDto {
    return {
      runId: report.runId,
      credentialId: report.credentialId,
      version: report.version,
      finishedAt: report.finishedAt.toISOString(),
      consumersSince: report.consumersSince.toISOString(),
      consumers: report.consumers.map((consumer) => AdoptionConsumerDto.from(consumer)),
      adopted: report.adopted,
      pending: report.pending,
      percent: report.percent,
    };
  }
}
