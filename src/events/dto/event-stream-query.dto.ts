import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, Matches, ValidateBy } from 'class-validator';
import { isTypePattern, TYPE_PATTERN_MAX_LENGTH } from '../event-type-filter';

/** A stream sequence as a client sends it back: whole number, no sign, no exponent. */
export const STREAM_SEQ = /^\d{1,19}$/;

export class EventStreamQueryDto {
  @ApiPropertyOptional({
    description:
      'Only these event types, comma-separated; `prefix.*` takes every type under the prefix ' +
      '(e.g. `rotation.*,credential.expiring`). All types when absent.',
    type: String,
    // Up to 20 patterns of up to 64 characters, with the commas between them.
    maxLength: 20 * (TYPE_PATTERN_MAX_LENGTH + 1) - 1,
  })
  @IsOptional()
  // `types=a,b` and `types=a&types=b` alike.
  @Transform(({ value }: { value: unknown }) => splitList(value))
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateBy(
    { name: 'isTypePattern', validator: { validate: isTypePattern } },
    {
      each: true,
      message: 'each of types must be an event type such as rotation.succeeded, or prefix.*',
    },
  )
  types?: string[];

  @ApiPropertyOptional({
    description:
      'Resume after this stream sequence, for clients that cannot send the `Last-Event-ID` ' +
      'header (which wins when both are sent)',
    pattern: STREAM_SEQ.source,
  })
  @IsOptional()
  @Matches(STREAM_SEQ, { message: 'lastEventId must be a stream sequence (a whole number)' })
  lastEventId?: string;
}

/** `a,b` or [`a`, `b,c`] → [`a`, `b`, `c`]; anything else is left for the validators to refuse. */
function splitList(value: unknown): unknown {
  if (typeof value !== 'string' && !Array.isArray(value)) return value;
  const parts: unknown[] = typeof value === 'string' ? [value] : value;
  return parts
    .flatMap((part) => (typeof part === 'string' ? part.split(',') : [part]))
    .map((part) => (typeof part === 'string' ? part.trim() : part))
    .filter((part) => part !== '');
}
