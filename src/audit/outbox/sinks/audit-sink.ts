/** Somewhere audit events are copied to, outside the database. Delivery is at least once. */
export interface AuditSink {
  readonly name: string;
  /** Writes the lines in order; resolves when they are durable as far as the sink can tell. */
  deliver(lines: string[]): Promise<void>;
  close?(): Promise<void>;
}
