import 'reflect-metadata';
import { Logger } from 'nestjs-pino';
import { loadAppConfig } from './config/app.config';
import { ConfigError } from './config/config-error';
import { createApp } from './http/create-app';

async function main(): Promise<void> {
  const config = loadAppConfig(process.env);
  const app = await createApp();
  const logger = app.get(Logger);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received: finishing in-flight requests, then closing`);
    // A stuck request must not keep a stopping instance alive forever.
    setTimeout(() => {
      logger.error(`Shutdown took longer than ${config.shutdownTimeoutMs} ms; exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(error, 'Error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  logger.log(`Custos listening on http://${config.host}:${config.port} (API docs at /api/docs)`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `Custos failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
