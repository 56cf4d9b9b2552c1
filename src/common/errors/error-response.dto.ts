import { applyDecorators } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
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
      ApiResponse({
        status,
        type: ErrorResponseDto,
        description: DESCRIPTIONS[status]?.description ?? 'Error',
        example: errorExample(status, DESCRIPTIONS[status]?.example ?? 'Error'),
      }),
    ),
  );
}

/** What a client sees for `status`, so each documented error shows its own example. */
export function errorExample(status: number, message: string): ErrorBody {
  return {
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Error',
    message,
    requestId: '5b8f3c2e-0d7a-4c1e-9a57-3f1f6f0f2a11',
    ...(status === 400
      ? { fields: [{ field: 'limit', errors: ['limit must not be greater than 500'] }] }
      : {}),
  };
}

const DESCRIPTIONS: Record<number, { description: string; example: string }> = {
  400: {
    description: 'Invalid input; `fields` lists what was wrong',
    example: 'Validation failed: limit (limit must not be greater than 500)',
  },
  401: { description: 'Not authenticated', example: 'Authentication required' },
  403: { description: 'Not allowed', example: 'Not allowed' },
  404: {
    description: 'Not found (also for objects the caller may not see)',
    example: 'Credential not found',
  },
  409: {
    description: 'Conflict',
    example: 'A credential with this path exists (it may be deleted: restore or destroy it first)',
  },
  412: {
    description: 'Precondition failed (If-Match)',
    example: 'If-Match is 3 but the current version is 4',
  },
  413: { description: 'Body too large', example: 'Request body is too large' },
  429: {
    description: 'Too many requests; see Retry-After',
    example: 'Too many requests, retry later',
  },
  500: {
    description: 'Internal error; details only in the server log',
    example: 'Internal server error',
  },
  503: {
    description: 'Sealed or not ready',
    example: 'Custos is sealed: no master key configured',
  },
};
