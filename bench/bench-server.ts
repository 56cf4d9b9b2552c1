import 'reflect-metadata';
import { createApp } from '../src/http/create-app';
import { BenchAppModule } from './bench-app.module';

/** The app with the bench route, in a process of its own so the load generator does not share its CPU. */
async function main(): Promise<void> {
  const app = await createApp(BenchAppModule);
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
