import { SetMetadata } from '@nestjs/common';
import type { Role } from '../users/user.entity';

export const IS_PUBLIC = 'custos:public';
export const ROLES = 'custos:roles';
export const ALLOW_PENDING_PASSWORD_CHANGE = 'custos:allow-pending-password-change';

/** No authentication: health, metrics, docs, login and refresh only. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** Only these roles; everything else answers 403. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROLES, roles);

/** Reachable by a user who must change the bootstrap password first (me, password, logout). */
export const AllowPendingPasswordChange = (): MethodDecorator =>
  SetMetadata(ALLOW_PENDING_PASSWORD_CHANGE, true);

export const LOGIN_THROTTLED = 'custos:login-throttled';

/** Counted by the "login" throttler too: LOGIN_THROTTLE_LIMIT attempts per minute per client IP. */
export const LoginThrottled = (): MethodDecorator => SetMetadata(LOGIN_THROTTLED, true);
