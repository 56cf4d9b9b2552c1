import { registerAs } from '@nestjs/config';
import { IsInt, Max, Min } from 'class-validator';
import { EnvInteger } from './env-transforms';
import { Env, validateEnv } from './validate-env';

class EventsEnv {
  /**
   * How often each instance gives committed events their stream sequence. It bounds how late a
   * listener hears of an event; an idle pass costs one indexed lookup.
   */
  @EnvInteger()
  @Min(50)
  @Max(10_000)
  @IsInt()
  EVENTS_SEQUENCE_INTERVAL_MS = 200;
}

export interface EventsConfig {
  sequenceIntervalMs: number;
}

export function loadEventsConfig(env: Env): EventsConfig {
  const v = validateEnv(EventsEnv, env);
  return { sequenceIntervalMs: v.EVENTS_SEQUENCE_INTERVAL_MS };
}

export const eventsConfig = registerAs('events', () => loadEventsConfig(process.env));
