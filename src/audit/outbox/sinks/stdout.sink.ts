import { AuditSink } from './audit-sink';

/** JSON lines on standard output, for container log collectors. */
export class StdoutSink implements AuditSink {
  readonly name = 'stdout';

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {}

  deliver(lines: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.write(`${lines.join('\n')}\n`, (error) => (error ? reject(error) : resolve()));
    });
  }
}
