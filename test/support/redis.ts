// A real redis-server for the queue's tests: on a free loopback port, in a folder of its own, never on a
// network. It can be restarted on the same port (to test reconnection); without persistence a restart
// loses every job, as a Redis that is not configured for BullMQ would.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Why the queue's tests cannot run here, or undefined when they can. */
export function redisMissing(): string | undefined {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return found.error
    ? 'redis-server is not installed (Debian: apt-get install redis-server); the queue tests need a real Redis'
    : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A server certificate for 127.0.0.1 and its key, as files: a client trusts it through NODE_EXTRA_CA_CERTS=cert. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** Makes a self-signed certificate for 127.0.0.1 with openssl; a string says why it could not (no openssl). */
export function selfSignedCertificate(dir: string): TlsFiles | string {
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      files.key,
      '-out',
      files.cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ].concat(['-addext', 'subjectAltName=IP:127.0.0.1']),
    { encoding: 'utf8' },
  );
  if (made.error) return 'openssl is not installed: no certificate for the TLS test';
  if (made.status !== 0) return `openssl could not make a certificate: ${made.stderr}`;
  return files;
}

export class RedisServer {
  private process: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly password: string | undefined,
    private readonly tls: TlsFiles | undefined,
    private readonly bind: string[],
  ) {}

  /**
   * Starts one; `password` makes it require AUTH, `tls` makes it speak TLS only (rediss://), as a Redis on a shared network
   * should; `bind` adds addresses it listens on besides 127.0.0.1 (a veth pair's end).
   */
  static async start(dir: string, options: { password?: string; tls?: TlsFiles; bind?: string[] } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), dir, options.password, options.tls, options.bind ?? []);
    await server.launch();
    return server;
  }

  /** The URL a search or a worker is given. */
  get url(): string {
    return this.urlWith(this.password);
  }

  /** The URL with another password (or none). */
  urlWith(password: string | undefined): string {
    return `${this.tls ? 'rediss' : 'redis'}://${password ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${this.port}/0`;
  }

  private async launch(): Promise<void> {
    const port = this.tls
      ? [
          '--port',
          '0',
          '--tls-port',
          String(this.port),
          '--tls-cert-file',
          this.tls.cert,
          '--tls-key-file',
          this.tls.key,
          '--tls-auth-clients',
          'no',
        ]
      : ['--port', String(this.port)];
    const args = [...port, '--bind', '127.0.0.1', ...this.bind, '--dir', this.dir, '--save', '', '--appendonly', 'no'];
    if (this.password) args.push('--requirepass', this.password);
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
    });
  }

  /** Kills it (SIGKILL: nothing saved) and starts it again on the same port, empty. */
  async restart(downMs: number): Promise<void> {
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.launch();
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}
