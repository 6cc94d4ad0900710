// What every source printer shares (the TypeScript one in emit.ts and those of languages/): the
// line-numbered text builder, the emitted file type, SQL parameter names, and the code model's step
// ids and branch arms. Kept apart so the printers depend on it and not on each other.
import type { CodeModelArm } from './code-model.js';
import { stepSpan } from './naming.js';
import { walkSteps, type OperationDef, type ServiceDef, type Step, type Topology } from './topology.js';

export interface SourceFile {
  /** Relative to the output directory, with forward slashes. */
  path: string;
  content: string;
}

/** Line-numbered text builder: the model needs the line of every span site and branch statement. */
export class Printer {
  private readonly lines: string[] = [];
  private depth = 0;

  /** `unit` is one level of indentation: two spaces in TypeScript, a tab in Go, four spaces elsewhere. */
  constructor(private readonly unit = '  ') {}

  /** Appends a line at the current indentation and returns its 1-based number. */
  line(text = ''): number {
    this.lines.push(text === '' ? '' : this.unit.repeat(this.depth) + text);
    return this.lines.length;
  }
  indent(): void {
    this.depth++;
  }
  dedent(): void {
    this.depth--;
  }
  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** Parameters of a parameterized SQL statement, named after the column each $n is compared to. */
export function sqlParams(statement: string): string[] {
  const names = new Map<number, string>();
  const insert = /\(([^)]*)\)\s*VALUES\s*\(([^)]*)\)/i.exec(statement);
  if (insert) {
    const cols = insert[1]!.split(',').map((c) => c.trim());
    insert[2]!.split(',').forEach((v, i) => {
      const m = /\$(\d+)/.exec(v);
      if (m && cols[i]) names.set(Number(m[1]), cols[i]!);
    });
  }
  for (const m of statement.matchAll(/([a-z_]+)\s*(?:=|>=|<=|<|>|-|\+)\s*\$(\d+)/gi)) if (!names.has(Number(m[2]))) names.set(Number(m[2]), m[1]!);
  const max = Math.max(0, ...[...statement.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
  const out: string[] = [];
  for (let i = 1; i <= max; i++) out.push(`input.${camel(names.get(i) ?? `p${i}`)}`);
  return out;
}

export const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** What recording the model needs of a function being printed, in any language. */
export interface ModelCtx {
  topology: Topology;
  svc: ServiceDef;
  op: OperationDef;
}

export const qualified = (ctx: ModelCtx, stepId: string): string => `${ctx.svc.name}.${ctx.op.id}.${stepId}`;

/** Spans this service emits inside a body (helpers' bodies included), and its step ids. */
function armContents(ctx: ModelCtx, body: readonly Step[]): { spanNames: string[]; stepIds: string[] } {
  const spanNames: string[] = [];
  const stepIds: string[] = [];
  walkSteps(body, (s) => {
    stepIds.push(qualified(ctx, s.id));
    const span = stepSpan(ctx.topology, ctx.svc, s);
    if (span) spanNames.push(span.name);
  });
  return { spanNames, stepIds };
}

export function arm(ctx: ModelCtx, label: string, body: readonly Step[], probability?: number): CodeModelArm {
  const last = body[body.length - 1];
  return { label, ...(probability !== undefined ? { probability } : {}), ...armContents(ctx, body), returns: last?.kind === 'return' };
}
