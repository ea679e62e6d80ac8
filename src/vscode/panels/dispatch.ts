// The host's end of one page's protocol (src/core/webviewProtocol/), free of `vscode` so that
// node:test drives it directly (STYLE.md: vscode-python-environments' thin I/O seams):
//  - every message from the page is checked with isPageToHost down to each method's params; anything
//    else is logged and ignored;
//  - nothing is posted before the page's `ready` (a page that is not listening yet loses messages),
//    and every `ready` (first load, or a reload after the panel was hidden) gets fresh data;
//  - a request is answered exactly once, with its id: responseOk with the handler's result, or
//    responseError with the handler's error text.
import { responseError } from '../../core/webviewProtocol/envelope';
import { isPageToHost, notification } from '../../core/webviewProtocol/panels';
import type { ResponseMessage } from '../../core/webviewProtocol/envelope';
import type {
  CommandMethod,
  CommandParams,
  HostToPage,
  NotificationMethod,
  NotificationParams,
  PanelKind,
  RequestMethod,
  RequestParams,
  RequestResult,
} from '../../core/webviewProtocol/panels';

/** What the dispatcher logs to (vscode.LogOutputChannel fits). */
export interface DispatchLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type CommandHandlers<P extends PanelKind> = {
  [M in CommandMethod<P>]: (params: CommandParams<P, M>) => void | Promise<void>;
};

export type RequestHandlers<P extends PanelKind> = {
  [M in RequestMethod<P>]: (params: RequestParams<P, M>) => Promise<RequestResult<P, M>>;
};

export interface PanelHandlers<P extends PanelKind> {
  /** The page (re)loaded and listens: post its data. Called on every `ready`. */
  ready(): void | Promise<void>;
  commands: CommandHandlers<P>;
  requests: RequestHandlers<P>;
}

/** Posts to the page (webview.postMessage); false or a throw means the page is gone. */
export type PostToPage<P extends PanelKind> = (message: HostToPage<P>) => PromiseLike<boolean> | boolean;

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A short, single-line rendering of an unknown message for the log. */
export function describeMessage(m: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(m) ?? String(m);
  } catch {
    text = Object.prototype.toString.call(m);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

export class PanelDispatcher<P extends PanelKind> {
  private pageReady = false;

  constructor(
    readonly panel: P,
    private readonly post: PostToPage<P>,
    private readonly handlers: PanelHandlers<P>,
    private readonly log: DispatchLog,
  ) {}

  /** True between the page's `ready` and the page going away. */
  get ready(): boolean {
    return this.pageReady;
  }

  /** The page went away (hidden without retained context, or disposed): wait for its next `ready`. */
  pageGone(): void {
    this.pageReady = false;
  }

  /** Handles one message from the page; resolves when it is handled (and answered, for a request). */
  async receive(message: unknown): Promise<void> {
    if (!isPageToHost(this.panel, message)) {
      this.log.warn(
        `${this.panel} panel: ignored a message that is not part of its protocol: ${describeMessage(message)}`,
      );
      return;
    }
    if (message.kind === 'ready') {
      this.pageReady = true;
      try {
        await this.handlers.ready();
      } catch (e) {
        this.log.error(`${this.panel} panel: preparing its data failed: ${errorText(e)}`);
      }
      return;
    }
    if (message.kind === 'command') {
      const handler = this.handlers.commands[message.method as CommandMethod<P>] as (
        params: unknown,
      ) => void | Promise<void>;
      try {
        await handler(message.params);
      } catch (e) {
        this.log.error(`${this.panel} panel: ${message.method} failed: ${errorText(e)}`);
      }
      return;
    }
    const request = message as { id: number; method: RequestMethod<P>; params: unknown };
    const handler = this.handlers.requests[request.method] as (params: unknown) => Promise<unknown>;
    let response: ResponseMessage;
    try {
      response = { kind: 'response', id: request.id, ok: true, result: await handler(request.params) };
    } catch (e) {
      this.log.warn(`${this.panel} panel: ${request.method} (request ${request.id}) failed: ${errorText(e)}`);
      response = responseError(request, errorText(e));
    }
    // A response is owed even if the page reloaded since: a stale page simply has no pending id.
    await this.send(response);
  }

  /** Posts a notification when the page is listening; returns false when it was not (it gets fresh data on its next `ready`). */
  async notify<M extends NotificationMethod<P>>(method: M, params: NotificationParams<P, M>): Promise<boolean> {
    if (!this.pageReady) return false;
    return this.send(notification(this.panel, method, params));
  }

  private async send(message: HostToPage<P>): Promise<boolean> {
    try {
      const delivered = await this.post(message);
      if (delivered === false) this.pageReady = false;
      return delivered !== false;
    } catch (e) {
      this.pageReady = false;
      this.log.warn(
        `${this.panel} panel: could not post ${message.kind === 'response' ? `response ${message.id}` : message.method}: ${errorText(e)}`,
      );
      return false;
    }
  }
}
