// Small readers of tree-sitter nodes that the language front ends share: the grammars of Java,
// TypeScript/JavaScript and Go name parentheses and `+` chains the same way.
import type { Node } from 'web-tree-sitter';

/** The expression inside any number of parentheses. */
export function unwrapParens(n: Node): Node {
  let cur = n;
  while (cur.type === 'parenthesized_expression' && cur.namedChildren.length === 1 && cur.namedChildren[0]) cur = cur.namedChildren[0];
  return cur;
}

/** Operands of a `+` chain, left to right. */
export function concatOperands(n: Node): Node[] {
  const u = unwrapParens(n);
  if (u.type === 'binary_expression' && u.childForFieldName('operator')?.text === '+') {
    const l = u.childForFieldName('left');
    const r = u.childForFieldName('right');
    if (l && r) return [...concatOperands(l), ...concatOperands(r)];
  }
  return [u];
}
