// The panels that speak the webview protocol, and the per-panel view of their messages that both ends
// use generically: the host's PanelDispatcher (src/vscode/panels/dispatch.ts) and the page's
// HostChannel (webview/host.ts). Each panel's messages are declared once, in its own file here.
import { COMPARE_MESSAGES } from './compare';
import { DASHBOARD_MESSAGES } from './dashboard';
import { checkMessage, findDecl, isReadyMessage } from './envelope';
import type { MessageDecl, MessageOf, ReadyMessage, ResponseMessage, ResultOf } from './envelope';
import { isObject } from './guard';
import { LAUNCHER_MESSAGES } from './launcher';
import { SIDEBAR_MESSAGES } from './sidebar';

export const PANEL_KINDS = ['dashboard', 'compare', 'sidebar', 'launcher'] as const;
export type PanelKind = (typeof PANEL_KINDS)[number];

const PANEL_MESSAGES = {
  dashboard: DASHBOARD_MESSAGES,
  compare: COMPARE_MESSAGES,
  sidebar: SIDEBAR_MESSAGES,
  launcher: LAUNCHER_MESSAGES,
} as const satisfies Record<PanelKind, readonly MessageDecl[]>;

type Decls<P extends PanelKind> = (typeof PANEL_MESSAGES)[P][number];
type DeclOf<P extends PanelKind, K extends string, M extends string = string> = Extract<
  Decls<P>,
  { kind: K; method: M }
>;

export type CommandMessage<P extends PanelKind> = MessageOf<DeclOf<P, 'command'>>;
export type RequestMessage<P extends PanelKind> = MessageOf<DeclOf<P, 'request'>>;
export type NotificationMessage<P extends PanelKind> = MessageOf<DeclOf<P, 'notification'>>;

export type CommandMethod<P extends PanelKind> = DeclOf<P, 'command'>['method'];
export type CommandParams<P extends PanelKind, M extends CommandMethod<P>> = MessageOf<
  DeclOf<P, 'command', M>
>['params'];
export type RequestMethod<P extends PanelKind> = DeclOf<P, 'request'>['method'];
export type RequestParams<P extends PanelKind, M extends RequestMethod<P>> = MessageOf<
  DeclOf<P, 'request', M>
>['params'];
export type RequestResult<P extends PanelKind, M extends RequestMethod<P>> = ResultOf<DeclOf<P, 'request', M>>;
export type NotificationMethod<P extends PanelKind> = DeclOf<P, 'notification'>['method'];
export type NotificationParams<P extends PanelKind, M extends NotificationMethod<P>> = MessageOf<
  DeclOf<P, 'notification', M>
>['params'];

/** Everything a page of panel P sends to the host. */
export type PageToHost<P extends PanelKind> = ReadyMessage<P> | CommandMessage<P> | RequestMessage<P>;
/** Everything the host sends to a page of panel P. */
export type HostToPage<P extends PanelKind> = NotificationMessage<P> | ResponseMessage;

export function isPanelKind(v: unknown): v is PanelKind {
  return typeof v === 'string' && (PANEL_KINDS as readonly string[]).includes(v);
}

function isDeclared(panel: PanelKind, kind: 'command' | 'request' | 'notification', m: unknown): boolean {
  if (!isObject(m)) return false;
  const decl = findDecl(PANEL_MESSAGES[panel], kind, m.method);
  return decl !== null && checkMessage(decl, m);
}

export function isCommandMessage<P extends PanelKind>(panel: P, m: unknown): m is CommandMessage<P> {
  return isDeclared(panel, 'command', m);
}

export function isRequestMessage<P extends PanelKind>(panel: P, m: unknown): m is RequestMessage<P> {
  return isDeclared(panel, 'request', m);
}

export function isNotificationMessage<P extends PanelKind>(panel: P, m: unknown): m is NotificationMessage<P> {
  return isDeclared(panel, 'notification', m);
}

/** Host side: each message a page of `panel` may send, checked down to each method's params. */
export function isPageToHost<P extends PanelKind>(panel: P, m: unknown): m is PageToHost<P> {
  return isReadyMessage(panel, m) || isCommandMessage(panel, m) || isRequestMessage(panel, m);
}

/** Page side: whether `result` is what `method` of `panel` answers. */
export function isRequestResult<P extends PanelKind, M extends RequestMethod<P>>(
  panel: P,
  method: M,
  result: unknown,
): result is RequestResult<P, M> {
  const decl = findDecl(PANEL_MESSAGES[panel], 'request', method);
  return decl !== null && decl.kind === 'request' && decl.result(result);
}

// ---- constructors (so neither side spells an envelope by hand) ----

export function notification<P extends PanelKind, M extends NotificationMethod<P>>(
  _panel: P,
  method: M,
  params: NotificationParams<P, M>,
): NotificationMessage<P> {
  return { kind: 'notification', method, params } as NotificationMessage<P>;
}

/** The host's answer to request `req`. */
export function responseOk<P extends PanelKind, M extends RequestMethod<P>>(
  req: { id: number; method: M },
  result: RequestResult<P, M>,
): ResponseMessage {
  return { kind: 'response', id: req.id, ok: true, result };
}

/** The id of the data element in a static report page: `<script type="application/json" id=…>`. */
export const INLINE_DATA_ELEMENT_ID = 'efficientllm-data';
