/**
 * Glue between known_hosts verification and ssh2's `hostVerifier` option (a synchronous
 * `(key: Buffer) => boolean`, called with the raw host-key blob when no `hostHash` is set).
 * Fails closed: only a `match` verdict lets the connection continue; any exception refuses.
 */
import { HostKeyFormatError, type HostKeyVerdict, type KnownHostsSource, verifyHostKey } from './knownHosts';

export interface HostVerifierOptions {
  /** The host actually connected to (resolved HostName) and its port. */
  readonly host: string;
  readonly port: number;
  /** ssh_config HostKeyAlias, if any. */
  readonly hostKeyAlias?: string;
  /** known_hosts texts (user file + the project's own trust file), already read. */
  readonly sources: readonly KnownHostsSource[];
  /** Receives the verdict (or the error) so the caller can explain a refusal. */
  readonly onVerdict?: (verdict: HostKeyVerdict | { readonly kind: 'error'; readonly error: Error }) => void;
}

export function createHostVerifier(options: HostVerifierOptions): (key: Buffer) => boolean {
  return (key: Buffer): boolean => {
    let verdict: HostKeyVerdict;
    try {
      verdict = verifyHostKey(
        {
          host: options.host,
          port: options.port,
          blob: key,
          ...(options.hostKeyAlias !== undefined ? { hostKeyAlias: options.hostKeyAlias } : {}),
        },
        options.sources,
      );
    } catch (e) {
      options.onVerdict?.({ kind: 'error', error: e instanceof Error ? e : new HostKeyFormatError(String(e)) });
      return false;
    }
    options.onVerdict?.(verdict);
    return verdict.kind === 'match';
  };
}
