/**
 * A counting semaphore for SSH channels. OpenSSH's sshd allows MaxSessions (default 10) open
 * channels per connection; we never hold more than `max` (default 8) at once, so a burst of
 * exec/SFTP requests queues here instead of failing with "open failed" at the server.
 */
export class ChannelPool {
  private inUse = 0;
  private peakInUse = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`channel pool size must be a positive integer, got ${max}`);
  }

  get active(): number {
    return this.inUse;
  }

  /** The most channels ever held at once (tests and the benchmark read it). */
  get peak(): number {
    return this.peakInUse;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves with a release function once a channel slot is free; call it exactly once. */
  async acquire(): Promise<() => void> {
    if (this.inUse >= this.max) await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.inUse += 1;
    this.peakInUse = Math.max(this.peakInUse, this.inUse);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next)
        next(); // hand the slot over without decrementing
      else this.inUse -= 1;
    };
  }

  /** Runs `fn` holding one slot. */
  async with<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** Reconnect delays in ms: 1, 2, 4, 8, 16, 30, 30 … seconds. */
export function backoffDelayMs(attempt: number, baseMs = 1000, capMs = 30_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
}
