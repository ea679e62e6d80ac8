import type { ConfigNode } from '../run/ssh/sshConfig';

/**
 * The SSH config's plain Host aliases (no wildcards, no negations), Includes followed: what Add
 * target… offers. No `vscode` here, so it is unit-tested.
 */
export function sshAliases(nodes: readonly ConfigNode[]): string[] {
  const aliases = new Set<string>();
  const visit = (list: readonly ConfigNode[]): void => {
    for (const node of list) {
      if (node.kind === 'host') {
        for (const p of node.patterns) if (!/[*?!]/.test(p)) aliases.add(p);
      } else if (node.kind === 'include') {
        for (const f of node.files) visit(f.nodes);
      }
    }
  };
  visit(nodes);
  return [...aliases].sort();
}
