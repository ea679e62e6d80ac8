// SshHost: a RemoteHost over one ssh2 connection per host, opened on first use and reopened on the
// next call after it drops (the detached-run reader decides when to call again: remoteRuns.ts).
// Every exec argument is quoted with shQuote; at most `maxChannels` (default 8, below OpenSSH's
// MaxSessions 10) channels are open at once, the SFTP session counting as one; files are read by
// byte offset with SFTP and written atomically (temp file + posix-rename@openssh.com).
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { SFTPWrapper, Stats } from 'ssh2';
import { connectSsh, type HostKeyReport, type SshConnection, type SshConnectOptions } from '../ssh/connect';
import { SshError } from '../ssh/errors';
import { ChannelPool } from '../ssh/pool';
import { buildRemoteCommand } from '../ssh/quote';
import type { ExecOptions, ExecResult, RemoteHost } from './host';

export interface SshHostOptions extends SshConnectOptions {
  /** Concurrent channels per connection (exec + SFTP); default 8. */
  readonly maxChannels?: number;
}

/** Counters for tests and the benchmark. */
export interface SshHostStats {
  /** Completed connections (each counts once, however many hops). */
  connections: number;
  /** Commands run. */
  execs: number;
  bytesUploaded: number;
  bytesDownloaded: number;
  /** The most channels open at once on any one connection. */
  peakChannels: number;
}

/** A file operation that failed on the remote side; `code` is the POSIX-ish reason. */
export class RemoteFileError extends Error {
  constructor(
    readonly code: 'ENOENT' | 'EACCES' | 'EIO',
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteFileError';
  }
}

// SFTP status codes (draft-ietf-secsh-filexfer-02).
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

interface Live {
  conn: SshConnection;
  pool: ChannelPool;
  sftp: Promise<SFTPWrapper> | null;
  /** Rejects with SshError('lost') when the connection closes; raced against every operation. */
  lost: Promise<never>;
}

function sftpCode(e: unknown): number | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const c = (e as { code: unknown }).code;
    return typeof c === 'number' ? c : undefined;
  }
  return undefined;
}

export class SshHost implements RemoteHost {
  readonly stats: SshHostStats = { connections: 0, execs: 0, bytesUploaded: 0, bytesDownloaded: 0, peakChannels: 0 };
  private live: Live | null = null;
  private connecting: Promise<Live> | null = null;
  private homeDir: string | null = null;
  private closedByUs = false;
  private lastHostKeys: readonly HostKeyReport[] = [];

  constructor(
    readonly name: string,
    private readonly options: SshHostOptions = {},
  ) {}

  /** How each hop's host key was trusted on the latest connection. */
  get hostKeys(): readonly HostKeyReport[] {
    return this.lastHostKeys;
  }

  get connected(): boolean {
    return this.live !== null && !this.live.conn.isClosed();
  }

  /** Connects now (if not connected); throws SshError with the reason. */
  async connect(): Promise<void> {
    await this.ensure();
  }

  private async ensure(): Promise<Live> {
    if (this.live && !this.live.conn.isClosed()) return this.live;
    this.live = null;
    if (!this.connecting) {
      this.closedByUs = false;
      this.connecting = (async () => {
        try {
          const conn = await connectSsh(this.name, this.options);
          this.stats.connections += 1;
          this.lastHostKeys = conn.hostKeys;
          if (this.stats.connections > 1) this.options.log?.(`reconnected to ${this.name}`);
          const lost = conn.closed.then((why) => {
            throw new SshError('lost', this.name, why);
          });
          lost.catch(() => undefined);
          const live: Live = { conn, pool: new ChannelPool(this.options.maxChannels ?? 8), sftp: null, lost };
          void conn.closed.then(() => {
            if (this.live === live) this.live = null;
          });
          this.live = live;
          return live;
        } finally {
          this.connecting = null;
        }
      })();
    }
    return this.connecting;
  }

  /** Runs `fn` on a live connection; if the connection closes meanwhile, rejects with SshError('lost'). */
  private async onLive<T>(fn: (live: Live) => Promise<T>): Promise<T> {
    if (this.closedByUs) throw new SshError('lost', this.name, `the connection to ${this.name} was closed`);
    const live = await this.ensure();
    return Promise.race([fn(live), live.lost]);
  }

  private trackPeak(pool: ChannelPool): void {
    this.stats.peakChannels = Math.max(this.stats.peakChannels, pool.peak);
  }

  async exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.runCommand(buildRemoteCommand(argv), options);
  }

  async script(body: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.runCommand(buildRemoteCommand(['sh', '-c', body, 'sh', ...args]), options);
  }

  private runCommand(command: string, options: ExecOptions): Promise<ExecResult> {
    return this.onLive(async (live) => {
      const release = await live.pool.acquire();
      this.trackPeak(live.pool);
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            return await this.execOnce(live, command, options);
          } catch (e) {
            // sshd frees a closed session on its next pass, so right after a burst of channels closed
            // an open can be refused although we hold fewer than MaxSessions: wait a moment, try again.
            if (!(e instanceof SshError) || e.kind !== 'channel' || attempt >= 6) throw e;
            await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
          }
        }
      } finally {
        release();
      }
    });
  }

  private execOnce(live: Live, command: string, options: ExecOptions): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      live.conn.client.exec(command, (err, stream) => {
        if (err) {
          reject(
            live.conn.isClosed()
              ? new SshError('lost', this.name, `the connection to ${this.name} closed`)
              : new SshError('channel', this.name, `${this.name}: could not run a command (${err.message})`),
          );
          return;
        }
        this.stats.execs += 1;
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | null = null;
        let signal: string | null = null;
        let gotExit = false;
        let stopped = false;
        let timer: NodeJS.Timeout | undefined;
        const stop = (): void => {
          stopped = true;
          try {
            stream.signal('KILL');
          } catch {
            // not supported by every server
          }
          stream.close();
        };
        if (options.timeoutMs !== undefined) timer = setTimeout(stop, options.timeoutMs);
        const onAbort = (): void => stop();
        options.signal?.addEventListener('abort', onAbort, { once: true });
        stream.on('data', (d: Buffer) => out.push(d));
        stream.stderr.on('data', (d: Buffer) => errOut.push(d));
        stream.on('exit', (c: number | null, s?: string) => {
          gotExit = true;
          code = typeof c === 'number' ? c : null;
          signal = s ?? null;
        });
        stream.on('close', () => {
          if (timer) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          const stdout = Buffer.concat(out).toString('utf8');
          const stderr = Buffer.concat(errOut).toString('utf8');
          this.stats.bytesDownloaded += stdout.length + stderr.length;
          if (!gotExit && !stopped && live.conn.isClosed()) {
            reject(new SshError('lost', this.name, `the connection to ${this.name} closed while a command ran`));
            return;
          }
          resolve({ code: stopped ? null : code, signal, stdout, stderr });
        });
        if (options.stdin !== undefined) {
          const data = typeof options.stdin === 'string' ? Buffer.from(options.stdin) : options.stdin;
          this.stats.bytesUploaded += data.length;
          stream.end(data);
        } else {
          stream.end();
        }
      });
    });
  }

  /** The SFTP session of this connection (opened once; holds one channel slot while the connection lives). */
  private sftp(live: Live): Promise<SFTPWrapper> {
    if (!live.sftp) {
      live.sftp = (async () => {
        await live.pool.acquire(); // never released: the session lives as long as the connection
        this.trackPeak(live.pool);
        return new Promise<SFTPWrapper>((resolve, reject) => {
          live.conn.client.sftp((err, sftp) => {
            if (err)
              reject(
                new SshError(
                  live.conn.isClosed() ? 'lost' : 'channel',
                  this.name,
                  `${this.name}: SFTP is not available (${err.message}); the server needs "Subsystem sftp"`,
                ),
              );
            else resolve(sftp);
          });
        });
      })();
      live.sftp.catch(() => {
        live.sftp = null;
      });
    }
    return live.sftp;
  }

  private fileError(e: unknown, path: string, doing: string): Error {
    if (e instanceof SshError) return e;
    const code = sftpCode(e);
    const why =
      code === SFTP_NO_SUCH_FILE
        ? 'no such file or folder'
        : code === SFTP_PERMISSION_DENIED
          ? 'permission denied'
          : (e as Error).message;
    return new RemoteFileError(
      code === SFTP_NO_SUCH_FILE ? 'ENOENT' : code === SFTP_PERMISSION_DENIED ? 'EACCES' : 'EIO',
      path,
      `cannot ${doing} ${path} on ${this.name}: ${why}`,
    );
  }

  private call<T>(op: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        op((err, value) => (err ? reject(err) : resolve(value)));
      } catch (e) {
        reject(e);
      }
    });
  }

  private stat(sftp: SFTPWrapper, path: string): Promise<Stats | null> {
    return new Promise((resolve, reject) => {
      sftp.stat(path, (err, st) => {
        if (!err) resolve(st);
        else if (sftpCode(err) === SFTP_NO_SUCH_FILE) resolve(null);
        else reject(err);
      });
    });
  }

  async readFrom(path: string, offset: number): Promise<Buffer> {
    return this.onLive(async (live) => {
      const sftp = await this.sftp(live);
      try {
        const st = await this.stat(sftp, path);
        if (st === null || st.size <= offset) return Buffer.alloc(0);
        const handle = await this.call<Buffer>((cb) => sftp.open(path, 'r', cb));
        try {
          const chunks: Buffer[] = [];
          let position = offset;
          // Up to the size seen by stat: one round trip per 32 KiB, none wasted on reading EOF.
          while (position < st.size) {
            const buffer = Buffer.alloc(32 * 1024);
            const bytesRead = await new Promise<number>((resolve, reject) => {
              sftp.read(handle, buffer, 0, buffer.length, position, (err, n) => {
                // EOF comes back as an error with code 1 (SSH_FX_EOF) in some servers
                if (!err) resolve(n);
                else if (sftpCode(err) === 1) resolve(0);
                else reject(err);
              });
            });
            if (bytesRead === 0) break;
            chunks.push(buffer.subarray(0, bytesRead));
            position += bytesRead;
          }
          const data = Buffer.concat(chunks);
          this.stats.bytesDownloaded += data.length;
          return data;
        } finally {
          await this.call<void>((cb) => sftp.close(handle, (err) => cb(err, undefined))).catch(() => undefined);
        }
      } catch (e) {
        throw this.fileError(e, path, 'read');
      }
    });
  }

  private async mkdirp(sftp: SFTPWrapper, dir: string): Promise<void> {
    const st = await this.stat(sftp, dir);
    if (st !== null) {
      if (!st.isDirectory()) throw new RemoteFileError('EIO', dir, `${dir} on ${this.name} exists and is not a folder`);
      return;
    }
    const parent = posix.dirname(dir);
    if (parent !== dir) await this.mkdirp(sftp, parent);
    try {
      await this.call<void>((cb) => sftp.mkdir(dir, { mode: 0o755 }, (err) => cb(err, undefined)));
    } catch (e) {
      const again = await this.stat(sftp, dir).catch(() => null);
      if (again === null || !again.isDirectory()) throw this.fileError(e, dir, 'create the folder');
    }
  }

  async writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    return this.onLive(async (live) => {
      const sftp = await this.sftp(live);
      const dir = posix.dirname(path);
      const tmp = posix.join(dir, `.${posix.basename(path)}.tmp-${randomBytes(4).toString('hex')}`);
      await this.mkdirp(sftp, dir);
      try {
        await this.call<void>((cb) => sftp.writeFile(tmp, bytes, { mode }, (err) => cb(err, undefined)));
        this.stats.bytesUploaded += bytes.length;
      } catch (e) {
        throw this.fileError(e, path, 'write');
      }
      try {
        await this.rename(sftp, tmp, path);
      } catch (e) {
        await this.call<void>((cb) => sftp.unlink(tmp, (err) => cb(err, undefined))).catch(() => undefined);
        throw this.fileError(e, path, 'write (rename into place)');
      }
    });
  }

  /** Atomic replace: posix-rename@openssh.com when the server has it, else unlink + rename. */
  private async rename(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
    try {
      await this.call<void>((cb) => sftp.ext_openssh_rename(from, to, (err) => cb(err, undefined)));
      return;
    } catch (e) {
      if (!/not support/i.test((e as Error).message)) throw e;
    }
    await this.call<void>((cb) => sftp.unlink(to, (err) => cb(err, undefined))).catch(() => undefined);
    await this.call<void>((cb) => sftp.rename(from, to, (err) => cb(err, undefined)));
  }

  async home(): Promise<string> {
    if (this.homeDir !== null) return this.homeDir;
    const home = await this.onLive(async (live) => {
      const sftp = await this.sftp(live);
      return this.call<string>((cb) => sftp.realpath('.', cb));
    });
    if (!home.startsWith('/'))
      throw new SshError('channel', this.name, `${this.name}: the home folder "${home}" is not an absolute path`);
    this.homeDir = home;
    return home;
  }

  async close(): Promise<void> {
    this.closedByUs = true;
    const live = this.live;
    this.live = null;
    if (live) live.conn.close();
    else if (this.connecting) {
      const pending = this.connecting;
      await pending.then((l) => l.conn.close()).catch(() => undefined);
    }
  }
}
