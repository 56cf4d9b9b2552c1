import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
} from 'class-validator';
import { WEEKDAYS, Weekday, WINDOW_START } from '../../schedule/rotation-window';
import { IsWindowDuration } from './policy-validators';

/** When rotations may start: from `start` (UTC) on each of `days`, for `duration`. */
export class RotationWindowDto {
  @ApiPropertyOptional({
    enum: WEEKDAYS,
    isArray: true,
    uniqueItems: true,
    example: ['sat', 'sun'],
    description: 'Days the window opens on (UTC); every day when left out',
  })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(WEEKDAYS.length)
  @ArrayUnique()
  @IsIn(WEEKDAYS, { each: true })
  days?: Weekday[];

  @ApiProperty({ example: '02:00', description: 'Opening time, HH:MM in UTC' })
  @IsString()
  @Matches(WINDOW_START, { message: 'start must be a UTC time HH:MM, 00:00 to 23:59' })
  start!: string;

  @ApiProperty({
    example: 'PT4H',
    description: 'How long it stays open: PT1H to P7D, in weeks, days, hours or minutes',
    // Enough for any of those written without leading zeros (e.g. P6DT23H59M).
    maxLength: 32,
  })
  @IsWindowDuration()
  duration!: string;
}
