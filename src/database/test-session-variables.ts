/** Session variables a test may set on every pooled connection (NODE_ENV=test only). */
const ALLOWED = new Set([
  'auto_increment_increment',
  'auto_increment_offset',
  'innodb_lock_wait_timeout',
  'lock_wait_timeout',
]);

/**
 * `TEST_DB_SESSION_VARIABLES=auto_increment_increment=3,auto_increment_offset=2` as one SET
 * statement, so a test can make a single server behave like a Galera node (ids that step by the
 * node count) or give up on row locks quickly, on its own connections only, without SET GLOBAL on
 * a server other tests share. Ignored outside NODE_ENV=test; names off the list and values that
 * are not whole numbers are refused.
 */
export function testSessionStatement(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const spec = env.TEST_DB_SESSION_VARIABLES?.trim();
  if (env.NODE_ENV !== 'test' || !spec) return undefined;
  const assignments = spec.split(',').map((pair) => {
    const [name, value] = pair.split('=').map((part) => part.trim());
    if (!ALLOWED.has(name) || !/^\d+$/.test(value ?? '')) {
      throw new Error(`TEST_DB_SESSION_VARIABLES: "${pair}" is not an allowed name=number`);
    }
    return `${name} = ${value}`;
  });
  return `SET SESSION ${assignments.join(', ')}`;
}
