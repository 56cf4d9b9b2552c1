import { Public } from '../common/auth/auth.decorators';
import { Controller, Get, HttpException, HttpStatus } from '@nestjs/common';
import { errorExample, ErrorResponseDto } from '../common/errors/error-response.dto';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorResult,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { AuditSinksHealthIndicator } from './audit-sinks.health';
import { KeyringHealthIndicator } from './keyring.health';
import { RotationHealthIndicator } from './rotation.health';

@ApiTags('health')
@Public()
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly keyring: KeyringHealthIndicator,
    private readonly auditSinks: AuditSinksHealthIndicator,
    private readonly rotation: RotationHealthIndicator,
  ) {}

  @Get('live')
  // Documented here: Terminus's 503 schema (its result) is not what the exception filter sends.
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({ summary: 'Liveness: the process answers (also while sealed)' })
  @ApiOkResponse({
    description: 'The process answers',
    schema: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['ok'] },
        info: { type: 'object' },
        error: { type: 'object' },
        details: { type: 'object' },
      },
    },
    example: { status: 'ok', info: {}, error: {}, details: {} },
  })
  @ApiServiceUnavailableResponse({
    description: 'Shutting down',
    type: ErrorResponseDto,
    example: errorExample(503, 'Service Unavailable'),
  })
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: the database answers and the keyring is unsealed',
    description:
      'Lagging audit sinks and overdue rotations (ROTATION_DEGRADED_OVERDUE_COUNT or more) ' +
      "answer 200 with status 'degraded': the instance still serves, operators should look.",
  })
  @ApiOkResponse({
    description: 'Ready to serve (status ok or degraded)',
    example: {
      status: 'degraded',
      info: {
        database: { status: 'up' },
        keyring: { status: 'up', sealed: false, keyId: 'k1' },
        auditSinks: { status: 'up', backlog: { file: 0 } },
        rotation: {
          status: 'degraded',
          overdue: 2,
          oldestOverdueSeconds: 5400,
          message: '2 credential(s) overdue for rotation, the oldest for 5400 s',
        },
      },
      error: {},
      details: {
        database: { status: 'up' },
        keyring: { status: 'up', sealed: false, keyId: 'k1' },
        auditSinks: { status: 'up', backlog: { file: 0 } },
        rotation: {
          status: 'degraded',
          overdue: 2,
          oldestOverdueSeconds: 5400,
          message: '2 credential(s) overdue for rotation, the oldest for 5400 s',
        },
      },
    },
  })
  @ApiServiceUnavailableResponse({
    description: 'Database down or Custos sealed; details say which',
    example: {
      ...errorExample(503, 'Not ready: database is down'),
      details: { database: { status: 'down' }, keyring: { status: 'up' } },
    },
  })
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.database.pingCheck('database').withTimeout(2000),
        () => this.keyring.check('keyring'),
        () => this.auditSinks.check('auditSinks'),
        () => this.rotation.check('rotation'),
      ]);
    } catch (error) {
      throw notReady(error);
    }
  }
}

/** Indicators whose messages are our own words; others (the database driver's) stay in the log. */
const OWN_MESSAGES = new Set(['keyring', 'auditSinks', 'rotation']);

/**
 * Terminus throws its whole result; answer in the common error shape, saying what is down but
 * never passing a driver's error text (host names, users) to an unauthenticated caller.
 */
function notReady(error: unknown): unknown {
  if (!(error instanceof HttpException) || error.getStatus() !== 503) {
    return error;
  }
  const result = error.getResponse() as Partial<HealthCheckResult>;
  const failing = Object.entries(result.error ?? {}) as [string, HealthIndicatorResult[string]][];
  const reasons = failing.map(([name, state]) =>
    OWN_MESSAGES.has(name) && typeof state.message === 'string' ? state.message : `${name} is down`,
  );
  const details = Object.fromEntries(
    Object.entries(result.details ?? {}).map(([name, state]) => [
      name,
      OWN_MESSAGES.has(name) || state.status === 'up' ? state : { status: state.status },
    ]),
  );
  return new HttpException(
    { message: `Not ready: ${reasons.join('; ') || 'a check failed'}`, details },
    HttpStatus.SERVICE_UNAVAILABLE,
  );
}
