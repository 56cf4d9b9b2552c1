import { registerAs } from '@nestjs/config';
import { IsInt, Max, Min } from 'class-validator';
import { durationSeconds } from '../common/duration';
import { IsDurationBetween } from './env-duration';
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

  /** How often an instance with listeners reads new events for all of them (one query). */
  @EnvInteger()
  @Min(50)
  @Max(10_000)
  @IsInt()
  EVENTS_STREAM_POLL_MS = 250;

  /**
   * A comment line this often keeps proxies from closing a quiet stream; the listener's key or
   * token is checked again at each, so a revoked one stops the stream within this time.
   */
  @IsDurationBetween(1, 300, 'PT15S')
  EVENTS_STREAM_HEARTBEAT = 'PT15S';
}

export interface EventsConfig {
  sequenceIntervalMs: number;
  streamPollMs: number;
  streamHeartbeatMs: number;
}

export function loadEventsConfig(env: Env): EventsConfig {
  const v = validateEnv(EventsEnv, env);
  return {
    sequenceIntervalMs: v.EVENTS_SEQUENCE_INTERVAL_MS,
    streamPollMs: v.EVENTS_STREAM_POLL_MS,
    streamHeartbeatMs: durationSeconds(v.EVENTS_STREAM_HEARTBEAT) * 1000,
  };
}

export const eventsConfig = registerAs('events', () => loadEventsConfig(process.env));
