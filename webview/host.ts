// Where a page gets its data and keeps its state: inside VS Code (acquireVsCodeApi: ready handshake,
// notifications, requests with ids, getState/setState) or in the static report (data inlined as
// JSON in the page, state kept in memory only).
import { isResponseMessage, readyMessage } from '../src/core/webviewProtocol/envelope';
import { INLINE_DATA_ELEMENT_ID, isNotificationMessage, isRequestResult } from '../src/core/webviewProtocol/panels';
import type {
  CommandMessage,
  NotificationMessage,
  PageToHost,
  PanelKind,
  RequestMessage,
  RequestMethod,
  RequestParams,
  RequestResult,
} from '../src/core/webviewProtocol/panels';

/** The API VS Code injects into a webview. */
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare global {
  interface Window {
    acquireVsCodeApi?: () => VsCodeApi;
  }
}

/** Page state that survives the panel being hidden or reloaded (getState/setState in VS Code). */
export interface StateStore<S> {
  get(): Partial<S>;
  update(patch: Partial<S>): void;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class VsCodeState<S> implements StateStore<S> {
  constructor(private readonly api: VsCodeApi) {}
  get(): Partial<S> {
    const s = this.api.getState();
    return isObject(s) ? (s as Partial<S>) : {};
  }
  update(patch: Partial<S>): void {
    this.api.setState({ ...this.get(), ...patch });
  }
}

/** Outside VS Code there is nowhere to persist to: state lives as long as the page. */
class MemoryState<S> implements StateStore<S> {
  private state: Partial<S> = {};
  get(): Partial<S> {
    return this.state;
  }
  update(patch: Partial<S>): void {
    this.state = { ...this.state, ...patch };
  }
}

/** Requests left unanswered this long are rejected (a save dialog can stay open a while). */
const REQUEST_TIMEOUT_MS = 10 * 60 * 1000;

/** The page's end of the protocol with the extension host. */
export class HostChannel<P extends PanelKind> {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void; timer: number }
  >();

  constructor(
    private readonly panel: P,
    private readonly api: VsCodeApi,
  ) {}

  /** Listens for the host's messages, then says `ready` (so nothing the host sends is missed). */
  start(onNotification: (m: NotificationMessage<P>) => void): void {
    window.addEventListener('message', (event: MessageEvent<unknown>) => {
      const m = event.data;
      if (isResponseMessage(m)) {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        window.clearTimeout(p.timer);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(m.error));
      } else if (isNotificationMessage(this.panel, m)) {
        onNotification(m);
      }
      // Anything else (other extensions' messages, malformed data) is ignored.
    });
    this.post(readyMessage(this.panel));
  }

  command(message: Omit<CommandMessage<P>, 'kind'>): void {
    this.post({ kind: 'command', ...message } as CommandMessage<P>);
  }

  request<M extends RequestMethod<P>>(method: M, params: RequestParams<P, M>): Promise<RequestResult<P, M>> {
    const id = this.nextId++;
    return new Promise<RequestResult<P, M>>((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer from the extension`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, {
        method,
        resolve: (v) => {
          if (isRequestResult(this.panel, method, v)) resolve(v);
          else reject(new Error(`${method}: the extension answered with something unexpected`));
        },
        reject,
        timer,
      });
      this.post({ kind: 'request', id, method, params } as RequestMessage<P>);
    });
  }

  private post(message: PageToHost<P>): void {
    this.api.postMessage(message);
  }
}

export type Environment<P extends PanelKind, S> =
  | { kind: 'webview'; channel: HostChannel<P>; state: StateStore<S> }
  | { kind: 'static'; data: unknown; state: StateStore<S> };

/** The inlined payload of a static report, or undefined when the page has none. */
function inlineData(): unknown {
  const node = document.getElementById(INLINE_DATA_ELEMENT_ID);
  if (!node || node.getAttribute('type') !== 'application/json') return undefined;
  try {
    return JSON.parse(node.textContent ?? '') as unknown;
  } catch {
    return undefined;
  }
}

/** Inside VS Code when acquireVsCodeApi exists (it may be called once per page); else static. */
export function environment<P extends PanelKind, S>(panel: P): Environment<P, S> {
  if (typeof window.acquireVsCodeApi === 'function') {
    const api = window.acquireVsCodeApi();
    return { kind: 'webview', channel: new HostChannel(panel, api), state: new VsCodeState<S>(api) };
  }
  return { kind: 'static', data: inlineData(), state: new MemoryState<S>() };
}
