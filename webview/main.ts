// Browser side of the EfficientLLM panels. Placeholder: it announces itself with a typed "ready"
// message so the host can wait for it before posting data (the panels arrive in a later task).
// It never builds HTML from data; everything the host sends arrives through postMessage.

/** Messages this webview sends to the extension host. */
export type WebviewToHost = { readonly type: "ready"; readonly version: 1 };

/** The API VS Code injects into a webview; typed for the message set above. */
interface VsCodeApi<Message, State> {
  postMessage(message: Message): void;
  getState(): State | undefined;
  setState(state: State): void;
}

interface PanelState {
  readonly readyCount: number;
}

declare function acquireVsCodeApi(): VsCodeApi<WebviewToHost, PanelState>;

const vscode = acquireVsCodeApi();
const previous = vscode.getState();
// State survives the panel being hidden, without retainContextWhenHidden.
vscode.setState({ readyCount: (previous?.readyCount ?? 0) + 1 });
vscode.postMessage({ type: "ready", version: 1 });
