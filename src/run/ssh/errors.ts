/**
 * Errors of the SSH layer. `SshError.retryable` tells the detached-run reader whether waiting and
 * reconnecting can help (a dropped link, a refused TCP connection, a timeout) or not (a host key
 * that is unknown or changed, failed authentication, a bad config): those are never retried.
 */
export type SshErrorKind =
  | 'config' // ssh config could not be read or resolved, ProxyCommand, bad alias
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'host-key-revoked'
  | 'known-hosts-unreadable'
  | 'auth' // no identity the server accepted
  | 'network' // TCP refused/reset, name resolution, the link dropped
  | 'timeout' // no handshake in time, keepalive unanswered
  | 'channel' // the server refused a channel (MaxSessions) or an SFTP request failed
  | 'lost'; // the connection closed while an operation was in flight

export class SshError extends Error {
  readonly kind: SshErrorKind;
  /** The alias (or jump host) the error is about. */
  readonly host: string;
  constructor(kind: SshErrorKind, host: string, message: string) {
    super(message);
    this.name = 'SshError';
    this.kind = kind;
    this.host = host;
  }

  /** A later attempt may succeed (the link may come back); host-key, auth and config errors never do. */
  get retryable(): boolean {
    return this.kind === 'network' || this.kind === 'timeout' || this.kind === 'lost';
  }
}

/** True for an error that a reconnect may cure (see SshError.retryable). */
export function isRetryableLinkError(e: unknown): boolean {
  return e instanceof SshError && e.retryable;
}
