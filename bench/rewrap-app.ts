import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../src/app.module';
import { AdminBootstrap } from '../src/auth/bootstrap/admin-bootstrap';
import { KeyringService } from '../src/crypto/keyring.service';
import { KeyRotationService } from '../src/keys/key-rotation.service';
import { runCliMain } from '../src/config/cli-entry';

/**
 * The app's master-key rotation, as `npm run cli -- keys:rotate --to <id>` runs it: the app
 * without HTTP, key BENCH_REWRAP_TO made active, then KeyRotationService.rewrapAll, which is what
 * is timed. Prints one JSON line: { moved, seconds, cpuSeconds }.
 */
async function main(): Promise<void> {
  Logger.overrideLogger(['error', 'warn']);
  AdminBootstrap.skip = true;
  KeyRotationService.resumeOnStart = false;
  const app = await NestFactory.createApplicationContext(AppModule, { bufferLogs: false });
  try {
    const status = await app.get(KeyringService).ensureOpen();
    if (status.sealed) throw new Error(`sealed: ${status.reason}`);
    const rotation = app.get(KeyRotationService);
    await rotation.activate(process.env.BENCH_REWRAP_TO);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const moved = await rotation.rewrapAll();
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    if ((await rotation.status()).remaining !== 0) throw new Error('items left under old keys');
    process.stdout.write(
      `${JSON.stringify({ moved: moved.secretVersions ?? 0, seconds, cpuSeconds: (used.user + used.system) / 1e6 })}\n`,
    );
  } finally {
    await app.close();
  }
}

runCliMain(() => main().then(() => 0));
