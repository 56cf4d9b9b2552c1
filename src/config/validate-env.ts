import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { ConfigError } from './config-error';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Validates the environment variables one settings class declares. Properties of the class are
 * named after the variables, so every problem names the variable to fix. One problem per
 * variable: class-validator checks the decorator nearest the property first, so the classes put
 * the type check there and the range checks above it.
 */
export function validateEnv<T extends object>(schema: new () => T, env: Env): T {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const instance = plainToInstance(schema, present, { exposeDefaultValues: true });
  const errors = validateSync(instance, {
    whitelist: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
  });
  if (errors.length > 0) {
    throw new ConfigError(errors.map((error) => describe(error, present)));
  }
  return instance;
}

function describe(error: ValidationError, env: Record<string, unknown>): string {
  const raw = env[error.property];
  const got =
    raw === undefined ? 'not set' : `got ${JSON.stringify(maskIfSecret(error.property, raw))}`;
  const reasons = Object.values(error.constraints ?? {}).join('; ');
  return `${error.property}: ${reasons} (${got})`;
}

function maskIfSecret(name: string, value: unknown): unknown {
  return /^(DATABASE_URL|CUSTOS_MASTER_KEYS?)$|SECRET|PASSWORD|TOKEN/i.test(name) ? '***' : value;
}
