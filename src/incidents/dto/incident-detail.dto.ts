import { ApiProperty } from '@nestjs/swagger';
import type { IncidentOpenAction } from '../containment/open-actions';
import type { Incident } from '../entities/incident.entity';
import { IncidentResponseDto } from './incident.dto';

export class IncidentOpenActionDto {
  @ApiProperty() credentialId!: string;
  @ApiProperty({ example: 'acme/prod/smtp' }) path!: string;

  @ApiProperty({
    enum: ['rotate_manually'],
    description: 'What a person must do: rotate_manually, there being no automatic rotator',
  })
  action!: 'rotate_manually';

  @ApiProperty() description!: string;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The waiting manual emergency run that writing the new value finishes',
  })
  runId!: string | null;

  @ApiProperty({ format: 'date-time', description: 'The containment that marked it must-rotate' })
  since!: string;

  static from(action: IncidentOpenAction): IncidentOpenActionDto {
    return { ...action, since: action.since.toISOString() };
  }
}

/** One incident as GET /incidents/:id and the export answer it: with what is left to do. */
export class IncidentDetailDto extends IncidentResponseDto {
  @ApiProperty({
    type: [IncidentOpenActionDto],
    description:
      'Linked credentials containment marked must-rotate that have had no new value since; an ' +
      'entry goes once the credential is rotated (PUT …/secret finishes the waiting run)',
  })
  openActions!: IncidentOpenActionDto[];

  static fromDetail(incident: Incident, openActions: IncidentOpenAction[]): IncidentDetailDto {
    return {
      ...IncidentResponseDto.from(incident),
      openActions: openActions.map((action) => IncidentOpenActionDto.from(action)),
    };
  }
}
