import type { Role } from './access-vocabulary';

/** Who is calling: a person (JWT) or a service (API key). */
export type Principal =
  | {
      type: 'user';
      id: string;
      email: string;
      role: Role;
      mustChangePassword: boolean;
      mfaEnabled: boolean;
    }
  | { type: 'service'; id: string; name: string };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}
