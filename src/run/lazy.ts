// What the extension loads only when it first runs or tests something: the target factory and the
// preflight probe, and with them the SSH client (ssh2, ~400 KB bundled). Built as its own bundle
// (dist/run.js) so activating the extension never compiles it; src/vscode/runtime.ts loads it.
export { closeTarget, createTarget, parseTargetText, targetSpecText } from './targets';
export { probeLocal, probeSsh } from './preflight';
export { TargetError } from './target';
export { reattach } from './sshTarget';
export { hooksSavingOnce } from './profile';
