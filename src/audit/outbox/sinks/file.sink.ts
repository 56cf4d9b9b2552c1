import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AuditSink } from './audit-sink';

/** An append-only NDJSON file (mode 0600), synced after each batch. */
export class FileSink implements AuditSink {
  readonly name = 'file';

  constructor(private readonly path: string) {}

  async deliver(lines: string[]): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const file = await open(this.path, 'a', 0o600);
    try {
      await file.appendFile(`${lines.join('\n')}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
  }
}
