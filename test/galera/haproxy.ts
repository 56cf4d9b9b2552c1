import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodePorts } from './cluster';

const HAPROXY = '/usr/sbin/haproxy';
const DEPLOY = join(__dirname, '..', '..', 'deploy', 'haproxy');

/** Port the test's HAProxy listens on for MariaDB clients. */
export const HAPROXY_PORT = 3410;

export function haproxyMissing(): string | undefined {
  return existsSync(HAPROXY) ? undefined : `${HAPROXY} is not installed (Debian package haproxy)`;
}

/**
 * HAProxy in the foreground with the reference configuration (deploy/haproxy/haproxy.cfg) as
 * shipped, but for the addresses: it listens on 127.0.0.1:3410, the servers are the test
 * cluster's nodes 1 to 3 (node 1 active, 2 and 3 backups), the check is the reference script
 * from the repository, and logs go nowhere.
 */
export class TestHaproxy {
  private constructor(
    private readonly dir: string,
    private readonly child: ChildProcess,
    private readonly output: () => string,
  ) {}

  static async start(): Promise<TestHaproxy> {
    const dir = mkdtempSync(join(tmpdir(), 'custos-haproxy-'));
    const servers = [1, 2, 3].map((n) => `127.0.0.1:${nodePorts(n).sql}`);
    const config = readFileSync(join(DEPLOY, 'haproxy.cfg'), 'utf8')
      .replace(/^\s*log .*$/gm, '')
      .replace(/^\s*option tcplog$/m, '')
      .replace('bind 0.0.0.0:3306', `bind 127.0.0.1:${HAPROXY_PORT}`)
      .replace('/etc/haproxy/galera-check.sh', join(DEPLOY, 'galera-check.sh'))
      .replace('10.0.0.11:3306', servers[0])
      .replace('10.0.0.12:3306', servers[1])
      .replace('10.0.0.13:3306', servers[2]);
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, config);
    const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (child.exitCode !== null) throw new Error(`haproxy exited:\n${output}`);
    return new TestHaproxy(dir, child, () => output);
  }

  log(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
