import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import type { ErrorBody, FieldError } from './error-body';

class FieldErrorDto implements FieldError {
  @ApiProperty({ example: 'limit' }) field!: string;
  @ApiProperty({ type: [String], example: ['limit must not be greater than 500'] })
  errors!: string[];
}

/** The one error shape, for the OpenAPI document. */
export class ErrorResponseDto implements ErrorBody {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'Bad Request' }) error!: string;
  @ApiProperty({ example: 'Validation failed: limit (limit must not be greater than 500)' })
  message!: string;
  @ApiProperty({ example: '5b8f3c2e-0d7a-4c1e-9a57-3f1f6f0f2a11' }) requestId!: string;
  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'On validation errors' })
  fields?: FieldErrorDto[];
}

/** Documents the error statuses a route can answer, all in the common shape. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...[...new Set([...statuses, 429, 500, 503])].map((status) =>
      ApiResponse({ status, type: ErrorResponseDto, description: DESCRIPTIONS[status] ?? 'Error' }),
    ),
  );
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `fields` lists what was wrong',
  401: 'Not authenticated',
  403: 'Not allowed',
  404: 'Not found (also for objects the caller may not see)',
  409: 'Conflict',
  412: 'Precondition failed (If-Match)',
  413: 'Body too large',
  429: 'Too many requests; see Retry-After',
  500: 'Internal error; details only in the server log',
  503: 'Sealed or not ready',
};
