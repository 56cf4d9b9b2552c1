import { ApiProperty } from '@nestjs/swagger';
import type { IncidentOpenAction } from '../containment/open-actions';
import type { Incident } from '../entities/incident.entity';
import { IncidentResponseDto } from './incident.dto';

export class IncidentOpenActionDto {
  @ApiProperty() credentialId!: string;
  @ApiProperty({ example: 'acme/prod/smtp' }) path!: string;

  @ApiProperty({
    enum: ['rotate_manually', 'contain_again'],
    description:
      'What a person must do: rotate_manually, there being no automatic rotator; contain_again, ' +
      'the emergency rotation having failed',
  })
  action!: 'rotate_manually' | 'contain_again';

  @ApiProperty() description!: string;

  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'The waiting manual emergency run that writing the new value finishes, or the emergency ' +
      'run that failed',
  })
  runId!: string | null;

  @ApiProperty({ format: 'date-time', description: 'The containment that left it to a person' })
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
      'Linked credentials containment marked must-rotate, or whose emergency rotation failed, ' +
      'that have had no new value since; an entry goes once the credential is rotated (PUT …/secret ' +
      'finishes the waiting run; containing again starts a new emergency run)',
  })
  openActions!: IncidentOpenActionDto[];

  static fromDetail(incident: Incident, openActions: IncidentOpenAction[]): IncidentDetailDto {
    return {
      ...IncidentResponseDto.from(incident),
      openActions: openActions.map((action) => IncidentOpenActionDto.from(action)),
    };
  }
}
