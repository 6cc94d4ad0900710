// Reading a CSCFG in tests: nodes as short words, where control goes after a node, the call order.
// Every front end's tests read graphs the same way, so they share these.
import assert from 'node:assert/strict';
import { callSites, successors, type CscfgNode, type FunctionCscfg } from '../../src/analyzer/cscfg.js';

/** A node as a short word: the callee, `entry`/`exit`, or the branch kind. */
export function word(n: CscfgNode): string {
  return n.kind === 'call' ? n.callee : n.kind === 'branch' ? n.branch : n.kind;
}

/** Where control goes after the node matching `from`: `label:target` (or `target`), sorted. */
export function after(g: FunctionCscfg, from: string, occurrence = 0): string[] {
  const node = g.nodes.filter((n) => word(n) === from)[occurrence];
  assert.ok(node, `node ${from} #${occurrence}`);
  return successors(g)[node.id]!.map((e) => `${e.label ? `${e.label}:` : ''}${word(g.nodes[e.to]!)}`).sort();
}

/** Callees in call-site order. */
export const calls = (g: FunctionCscfg): string[] => callSites(g).map((c) => c.callee);
