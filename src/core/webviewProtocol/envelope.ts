// The envelope every panel's messages travel in, and the three ways to declare one message (STYLE.md:
// GitLens `ipc`, vscode-pull-request-github's ready handshake and request ids):
//   page → host   {kind: 'ready', panel, protocol}                 first message, once per page load
//                 {kind: 'command', method, params}                fire and forget
//                 {kind: 'request', id, method, params}            the host answers with one response
//   host → page   {kind: 'notification', method, params}           data pushed by the host
//                 {kind: 'response', id, ok: true, result} | {kind: 'response', id, ok: false, error}
// A panel's protocol file lists its messages, each declared once with `ipcCommand`, `ipcRequest` or
// `ipcNotification`; its TS type (`MessageOf`) and its runtime check (`checkMessage`) both come from that.
// Method names carry the panel ("dashboard/export") so one log reads clearly.
import { int, isObject, str } from './guard';
import type { Guard } from './guard';

export const WEBVIEW_PROTOCOL_VERSION = 1;

export interface CommandDecl<M extends string = string, P = unknown> {
  readonly kind: 'command';
  readonly method: M;
  readonly params: Guard<P>;
}

export interface RequestDecl<M extends string = string, P = unknown, R = unknown> {
  readonly kind: 'request';
  readonly method: M;
  readonly params: Guard<P>;
  readonly result: Guard<R>;
}

export interface NotificationDecl<M extends string = string, P = unknown> {
  readonly kind: 'notification';
  readonly method: M;
  readonly params: Guard<P>;
}

export type MessageDecl = CommandDecl | RequestDecl | NotificationDecl;

/** A fire-and-forget message from the page. */
export const ipcCommand = <M extends string, P>(method: M, params: Guard<P>): CommandDecl<M, P> => ({
  kind: 'command',
  method,
  params,
});

/** A message from the page that the host answers once, with a result of `result`'s type. */
export const ipcRequest = <M extends string, P, R>(
  method: M,
  params: Guard<P>,
  result: Guard<R>,
): RequestDecl<M, P, R> => ({
  kind: 'request',
  method,
  params,
  result,
});

/** Data the host pushes to the page. */
export const ipcNotification = <M extends string, P>(method: M, params: Guard<P>): NotificationDecl<M, P> => ({
  kind: 'notification',
  method,
  params,
});

/** The message a declaration describes, as it travels. */
export type MessageOf<D> =
  D extends CommandDecl<infer M, infer P>
    ? { kind: 'command'; method: M; params: P }
    : D extends RequestDecl<infer M, infer P>
      ? { kind: 'request'; id: number; method: M; params: P }
      : D extends NotificationDecl<infer M, infer P>
        ? { kind: 'notification'; method: M; params: P }
        : never;

/** What a request declaration answers with. */
export type ResultOf<D> = D extends RequestDecl<string, unknown, infer R> ? R : never;

export interface ReadyMessage<P extends string = string> {
  kind: 'ready';
  panel: P;
  protocol: typeof WEBVIEW_PROTOCOL_VERSION;
}

export type ResponseMessage =
  | { kind: 'response'; id: number; ok: true; result: unknown }
  | { kind: 'response'; id: number; ok: false; error: string };

const isRequestId = (v: unknown): v is number => int(v) && v >= 0;

/** Whether `m` is the message `decl` declares: its kind, method, params (and, for a request, an id). */
export function checkMessage(decl: MessageDecl, m: Record<string, unknown>): boolean {
  return (
    m.kind === decl.kind &&
    m.method === decl.method &&
    (decl.kind !== 'request' || isRequestId(m.id)) &&
    decl.params(m.params)
  );
}

/** The declaration of `kind` named `method` among `decls`, if any (a plain scan: no prototype keys). */
export function findDecl(
  decls: readonly MessageDecl[],
  kind: MessageDecl['kind'],
  method: unknown,
): MessageDecl | null {
  return decls.find((d) => d.kind === kind && d.method === method) ?? null;
}

export function isReadyMessage<P extends string>(panel: P, m: unknown): m is ReadyMessage<P> {
  return isObject(m) && m.kind === 'ready' && m.panel === panel && m.protocol === WEBVIEW_PROTOCOL_VERSION;
}

export function isResponseMessage(m: unknown): m is ResponseMessage {
  if (!isObject(m) || m.kind !== 'response' || !isRequestId(m.id)) return false;
  return m.ok === true ? 'result' in m : m.ok === false && str(m.error);
}

export function readyMessage<P extends string>(panel: P): ReadyMessage<P> {
  return { kind: 'ready', panel, protocol: WEBVIEW_PROTOCOL_VERSION };
}

export function responseError(req: { id: number }, error: string): ResponseMessage {
  return { kind: 'response', id: req.id, ok: false, error };
}
