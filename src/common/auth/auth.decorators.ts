import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiResponse } from '@nestjs/swagger';
import { errorExample, ErrorResponseDto } from '../errors/error-response.dto';
import type { Capability, Role } from './access-vocabulary';

export const IS_PUBLIC = 'custos:public';
export const ROLES = 'custos:roles';
export const ALLOW_PENDING_PASSWORD_CHANGE = 'custos:allow-pending-password-change';

/** No authentication: health, metrics, docs, login and refresh only. */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(IS_PUBLIC, true), ApiExtension('x-custos-public', true));

/**
 * Only these roles (people; never service accounts); everything else answers 403, and the
 * OpenAPI document says which roles on every route it covers.
 */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(ROLES, roles),
    ApiResponse({
      status: 403,
      type: ErrorResponseDto,
      description: `Requires the role ${roles.join(' or ')}; service accounts are refused`,
      example: errorExample(403, 'Not allowed'),
    }),
  );

/** Reachable by a user who must change the bootstrap password first (me, password, logout). */
export const AllowPendingPasswordChange = (): MethodDecorator =>
  SetMetadata(ALLOW_PENDING_PASSWORD_CHANGE, true);

export const LOGIN_THROTTLED = 'custos:login-throttled';

/** Counted by the "login" throttler too: LOGIN_THROTTLE_LIMIT attempts per minute per client IP. */
export const LoginThrottled = (): MethodDecorator => SetMetadata(LOGIN_THROTTLED, true);

/**
 * Open to every authenticated principal, people and services; the service checks `capability`
 * on the object's path (role or grant) and answers 404 where the caller may not even read it.
 * Documentation only: the check needs the object, so it lives in the service.
 */
export const ByGrant = (capability: Capability): MethodDecorator =>
  applyDecorators(
    ApiExtension('x-custos-capability', capability),
    ApiResponse({
      status: 403,
      type: ErrorResponseDto,
      description: `Requires the capability '${capability}' on the credential's path, from the role or a grant; without 'read' the answer is 404`,
      example: errorExample(
        403,
        `This needs the '${capability}' capability on the credential's path`,
      ),
    }),
  );
