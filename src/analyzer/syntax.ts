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

/**
 * Calls `onFunction` for every function node of the tree (`isFunction`), outer before inner, except
 * the ones `isInline` names inside another function (callbacks passed as arguments, literals called
 * on the spot): those are part of the enclosing function's graph, not functions of their own.
 */
export function forEachFunctionNode(root: Node, isFunction: (n: Node) => boolean, isInline: (n: Node) => boolean, onFunction: (fn: Node) => void): void {
  const visit = (n: Node, insideFunction: boolean): void => {
    for (const c of n.namedChildren) {
      if (isFunction(c)) {
        if (!(insideFunction && isInline(c))) onFunction(c);
        visit(c, true);
      } else visit(c, insideFunction);
    }
  };
  visit(root, false);
}
