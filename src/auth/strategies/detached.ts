import passport from 'passport';

/**
 * For @nestjs/passport's PassportStrategy mixin, which registers every strategy it creates with
 * passport's process-wide default instance, by name. A second app in the same process (the e2e
 * tests start several on one database) would then replace the first one's strategies, and the
 * first app would authenticate with a closed app's database pool. Custos registers its strategies
 * with its own instance (see AuthGuard), so the mixin gets a throwaway one.
 */
export function detachedPassport(): passport.Authenticator {
  return new passport.Passport();
}
