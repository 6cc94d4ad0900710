// Call resolution (issue 5, item 2): which function of the analyzed code each call site reaches,
// where that is statically known, so the per-function CSCFGs join into one inter-procedural graph.
// Per language, inside one service:
//  - Java: `m()`/`this.m()` to the class (then its superclasses and enclosing classes), `super.m()`,
//    calls on parameters, locals and fields by their declared type (Spring beans injected by field or
//    constructor are fields), an interface or abstract class to its implementations in the service,
//    static `Class.m()`, `new X()` to X's constructors; overloads are told apart by argument count;
//  - TypeScript/JavaScript: same-file functions, named/default/namespace imports and `require` of
//    relative modules, `this.m()` in a class, `new X()` and `X.m()` on a local or imported class;
//  - Go: functions of the same package (directory), `r.M()` on a method's receiver variable;
//  - Python: functions of the same module, `self.m()`/`cls.m()` in a class, `Cls()` to `Cls.__init__`;
//  - C#: `M()`/`this.M()` to the class (then its base classes), calls on parameters, locals and
//    fields/properties by their declared type (`var x = new T()` is a T), an interface to the
//    service's classes that implement it, static `Type.M()`, `new T()` to T's constructors.
// A call that is not resolved is `unresolved` when its called name is the name of some function of
// the service (it looks like the service's own code), else `library` (framework and library calls,
// Lombok accessors, default constructors: there is no function of the service to reach).
import path from 'node:path';
import { callSites } from './cscfg.js';
import type { CSharpClass, CSharpFileCscfg, CSharpFunction } from './csharp.js';
import type { GoFunction } from './golang.js';
import type { JavaClass, JavaFileCscfg, JavaFunction } from './java.js';
import type { AnalyzedFunction, FileCscfg, ScriptFileCscfg } from './typescript.js';

/** One analyzed file of a service and the document ids of its functions (parallel to `fc.functions`). */
export interface ServiceFile {
  fc: FileCscfg;
  ids: string[];
}

/** An inter-procedural edge: call node `node` of function `from` reaches function `to`. */
export interface CallEdge {
  from: string;
  node: number;
  to: string;
}

export type CallClass = 'resolved' | 'unresolved' | 'library';

export interface ServiceCalls {
  edges: CallEdge[];
  /** Targets per function id, then per call node id. */
  targets: Map<string, Map<number, string[]>>;
  counts: Record<CallClass, number>;
  /** The class of every call node, per function id then node id. */
  classes: Map<string, Map<number, CallClass>>;
}

interface Fn {
  fn: AnalyzedFunction;
  id: string;
  file: FileCscfg;
}

/** The name a function is called by: `Class.method` is `method`; pseudo-functions have none. */
export function shortName(name: string): string | undefined {
  if (name.startsWith('<')) return undefined;
  const own = name.slice(name.lastIndexOf('.') + 1);
  return own.startsWith('<') ? undefined : own;
}

const simple = (type: string): string => {
  const noArgs = type.replace(/<.*$/s, '').replace(/\[\]$/, '').trim();
  return noArgs.slice(noArgs.lastIndexOf('.') + 1);
};

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** Java: resolution by classes, fields, variables and implementations. */
class JavaResolver {
  private readonly classes = new Map<string, JavaClass[]>(); // simple name -> classes
  private readonly classFile = new Map<JavaClass, JavaFileCscfg>();
  private readonly methods = new Map<string, Fn[]>(); // `${class dotted}\0${method}` -> functions
  private readonly subtypes = new Map<string, JavaClass[]>(); // simple name -> direct subtypes

  /**
   * Set by `resolve` when the receiver's type is known and no code of the service implements it (a
   * library type, or a Spring Data repository interface): the call is a library call whatever its name.
   */
  foreign = false;

  constructor(files: readonly ServiceFile[]) {
    for (const { fc, ids } of files) {
      if (fc.language !== 'java') continue;
      const jf = fc as JavaFileCscfg;
      for (const c of jf.classes) {
        const s = c.name.slice(c.name.lastIndexOf('.') + 1);
        this.classes.set(s, [...(this.classes.get(s) ?? []), c]);
        this.classFile.set(c, jf);
        for (const base of [...c.interfaces, ...(c.superclass ? [c.superclass] : [])]) {
          const b = simple(base);
          this.subtypes.set(b, [...(this.subtypes.get(b) ?? []), c]);
        }
      }
      jf.functions.forEach((f, i) => {
        if (!f.className || f.javaKind === 'lambda') return;
        const key = `${f.className}\0${f.name.slice(f.className.length + 1)}`;
        this.methods.set(key, [...(this.methods.get(key) ?? []), { fn: f, id: ids[i]!, file: fc }]);
      });
    }
  }

  private classNamed(type: string): JavaClass | undefined {
    const found = this.classes.get(simple(type));
    return found?.length === 1 ? found[0] : found?.find((c) => !c.name.includes('.')) ?? found?.[0];
  }

  /** Functions `method` of `cls` (or inherited from analyzed superclasses) that fit `argc` arguments. */
  private declared(cls: JavaClass, method: string, argc: number | undefined, depth = 0): Fn[] {
    const all = this.methods.get(`${cls.name}\0${method}`) ?? [];
    const fit = argc === undefined ? all : all.filter((f) => arity(f.fn as JavaFunction, argc));
    if (fit.length > 0) return fit;
    if (cls.methods.includes(method) && method !== '<init>') return []; // declared here without a body
    if (depth < 8 && cls.superclass) {
      const sup = this.classNamed(cls.superclass);
      if (sup && sup !== cls) return this.declared(sup, method, argc, depth + 1);
    }
    return [];
  }

  /** Concrete classes at or below `cls` in the service. */
  private implementations(cls: JavaClass, seen = new Set<JavaClass>()): JavaClass[] {
    if (seen.has(cls)) return [];
    seen.add(cls);
    const out: JavaClass[] = [];
    if (cls.kind === 'class' || cls.kind === 'enum' || cls.kind === 'record' || cls.kind === 'anonymous') out.push(cls);
    for (const sub of this.subtypes.get(simple(cls.name)) ?? []) out.push(...this.implementations(sub, seen));
    return out;
  }

  /** A call of `method` on a value of type `type`: the class's own method, else its implementations'. */
  onType(type: string, method: string, argc: number | undefined): Fn[] {
    const cls = this.classNamed(type);
    if (!cls) {
      this.foreign = true;
      return [];
    }
    const own = this.declared(cls, method, argc);
    if (own.length > 0 && cls.kind !== 'interface') return own;
    const out = new Set<Fn>(own);
    const impls = this.implementations(cls).filter((c) => c !== cls);
    for (const impl of impls) for (const f of this.declared(impl, method, argc)) out.add(f);
    if (out.size === 0 && impls.length === 0 && cls.kind === 'interface') this.foreign = true;
    return [...out];
  }

  /** The declared type of `name` seen from class `cls`: its fields, its superclasses', its enclosing classes'. */
  private fieldType(cls: JavaClass | undefined, name: string, file: JavaFileCscfg): string | undefined {
    for (let cur = cls, depth = 0; cur && depth < 8; depth++) {
      const f = cur.fields.find((x) => x.name === name);
      if (f) return f.type;
      let sup = cur.superclass ? this.classNamed(cur.superclass) : undefined;
      if (sup === cur) sup = undefined;
      const outerName = cur.name.includes('.') ? cur.name.slice(0, cur.name.lastIndexOf('.')) : undefined;
      const outer = outerName ? file.classes.find((c) => c.name === outerName) : undefined;
      const viaSuper = sup?.fields.find((x) => x.name === name);
      if (viaSuper) return viaSuper.type;
      cur = outer ?? sup;
    }
    return undefined;
  }

  resolve(fn: JavaFunction, file: JavaFileCscfg, callee: string, construct: boolean, argc: number | undefined): Fn[] {
    this.foreign = false;
    const cls = fn.className ? file.classes.find((c) => c.name === fn.className) : undefined;
    if (construct) {
      const target = this.classNamed(callee);
      return target ? this.declared(target, '<init>', argc) : [];
    }
    if (callee === 'this' || callee === 'super') {
      // Explicit constructor invocations.
      const target = callee === 'this' ? cls : cls?.superclass ? this.classNamed(cls.superclass) : undefined;
      return target ? this.declared(target, '<init>', argc) : [];
    }
    const dot = callee.lastIndexOf('.');
    const method = callee.slice(dot + 1);
    if (dot < 0 || callee.startsWith('this.') && !callee.slice(5).includes('.')) {
      // `m()` / `this.m()`: the class, its superclasses, then the enclosing classes.
      for (let name = fn.className; name; name = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : undefined) {
        const c = file.classes.find((x) => x.name === name);
        if (!c) continue;
        const found = this.declared(c, method, argc);
        if (found.length > 0) return found;
      }
      return [];
    }
    let receiver = callee.slice(0, dot);
    if (receiver === 'super') {
      const sup = cls?.superclass ? this.classNamed(cls.superclass) : undefined;
      return sup ? this.declared(sup, method, argc) : [];
    }
    const viaThis = receiver.startsWith('this.');
    if (viaThis) receiver = receiver.slice(5);
    if (!IDENT.test(receiver)) return [];
    const type = (!viaThis ? fn.variables?.[receiver] : undefined) ?? this.fieldType(cls, receiver, file);
    if (type) return this.onType(type, method, argc);
    // A static call on a class of the service.
    if (!viaThis && /^[A-Z]/.test(receiver)) {
      const c = this.classNamed(receiver);
      if (c) return this.declared(c, method, argc);
      this.foreign = true; // `SpringApplication.run`: a class the service does not have
    }
    return [];
  }
}

/** Whether a Java function takes `argc` arguments (varargs take any number from their fixed ones). */
function arity(fn: JavaFunction, argc: number): boolean {
  const p = fn.parameters;
  if (p.length > 0 && p[p.length - 1]!.endsWith('...')) return argc >= p.length - 1;
  return p.length === argc;
}

const SCRIPT_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];

/** TypeScript/JavaScript: same-file functions, imports of relative modules, classes. */
class ScriptResolver {
  private readonly byFile = new Map<string, { file: ScriptFileCscfg; fns: Fn[] }>();

  constructor(files: readonly ServiceFile[]) {
    for (const { fc, ids } of files) {
      if (fc.language !== 'typescript' && fc.language !== 'tsx' && fc.language !== 'javascript') continue;
      this.byFile.set(fc.file, { file: fc as ScriptFileCscfg, fns: fc.functions.map((fn, i) => ({ fn, id: ids[i]!, file: fc })) });
    }
  }

  /** The analyzed file a relative module specifier names (`./x`, `./x.js` for `x.ts`, `./dir` for `dir/index.ts`). */
  private moduleFile(from: string, spec: string): string | undefined {
    if (!spec.startsWith('.')) return undefined;
    const base = path.posix.join(path.posix.dirname(from), spec);
    const stem = base.replace(/\.(m|c)?js$|\.jsx$/, '');
    const candidates = [base, ...SCRIPT_EXTENSIONS.map((e) => stem + e), ...SCRIPT_EXTENSIONS.map((e) => `${base}/index${e}`)];
    return candidates.find((c) => this.byFile.has(c));
  }

  /** Top-level functions (and classes' methods as `Class.m`) named `name` in `file`. */
  private named(file: string, name: string): Fn[] {
    return (this.byFile.get(file)?.fns ?? []).filter((f) => f.fn.name === name && (!f.fn.className || name.includes('.')));
  }

  /** What a local binding names: `{ file, name }` of the exported thing, or the file itself for a namespace. */
  private binding(file: ScriptFileCscfg, local: string): { file: string; name?: string } | undefined {
    const imp = file.imports.find((i) => i.local === local);
    if (!imp) return { file: file.file, name: local };
    const target = this.moduleFile(file.file, imp.from);
    if (!target) return undefined;
    if (imp.imported === '*') return { file: target };
    if (imp.imported === 'default') {
      const name = this.byFile.get(target)!.file.defaultExport;
      return name ? { file: target, name } : undefined;
    }
    return { file: target, name: imp.imported };
  }

  resolve(fn: AnalyzedFunction, file: ScriptFileCscfg, callee: string, construct: boolean): Fn[] {
    if (construct) {
      const b = IDENT.test(callee) ? this.binding(file, callee) : undefined;
      return b?.name ? this.named(b.file, `${b.name}.constructor`) : [];
    }
    if (IDENT.test(callee)) {
      const b = this.binding(file, callee);
      return b?.name ? this.named(b.file, b.name) : [];
    }
    const parts = callee.split('.');
    if (parts.length !== 2 || !IDENT.test(parts[0]!) || !IDENT.test(parts[1]!)) return [];
    const [obj, member] = parts as [string, string];
    if (obj === 'this') return fn.className ? this.named(file.file, `${fn.className}.${member}`) : [];
    const b = this.binding(file, obj);
    if (!b) return [];
    // `ns.f()` on a namespace import, or `X.m()` on a (local or imported) class.
    return b.name === undefined ? this.named(b.file, member) : this.named(b.file, `${b.name}.${member}`);
  }
}

/** Go: the functions of a package (a directory) and methods through a receiver variable. */
class GoResolver {
  private readonly byDir = new Map<string, Fn[]>();

  constructor(files: readonly ServiceFile[]) {
    for (const { fc, ids } of files) {
      if (fc.language !== 'go') continue;
      const dir = path.posix.dirname(fc.file);
      this.byDir.set(dir, [...(this.byDir.get(dir) ?? []), ...fc.functions.map((fn, i) => ({ fn, id: ids[i]!, file: fc }))]);
    }
  }

  resolve(fn: GoFunction, file: FileCscfg, callee: string): Fn[] {
    const pkg = this.byDir.get(path.posix.dirname(file.file)) ?? [];
    if (IDENT.test(callee)) return pkg.filter((f) => f.fn.name === callee && !f.fn.className);
    const parts = callee.split('.');
    if (parts.length === 2 && fn.receiverName && parts[0] === fn.receiverName && fn.receiver) {
      return pkg.filter((f) => f.fn.name === `${fn.receiver}.${parts[1]}`);
    }
    return [];
  }
}

/** Python: module functions, `self.m()`/`cls.m()`, `Cls()` to its `__init__`. */
function resolvePython(fns: readonly Fn[], fn: AnalyzedFunction, callee: string): Fn[] {
  if (IDENT.test(callee)) {
    const top = fns.filter((f) => f.fn.name === callee && !f.fn.className);
    return top.length > 0 ? top : fns.filter((f) => f.fn.name === `${callee}.__init__`);
  }
  const parts = callee.split('.');
  if (parts.length === 2 && (parts[0] === 'self' || parts[0] === 'cls') && fn.className) return fns.filter((f) => f.fn.name === `${fn.className}.${parts[1]}`);
  return [];
}

/** C#: classes of the service by simple name, their methods, and what implements each base. */
class CSharpResolver {
  private readonly classes = new Map<string, { cls: CSharpClass; file: CSharpFileCscfg }[]>();
  private readonly methods = new Map<string, Fn[]>(); // `${class dotted}\0${method}` -> functions
  private readonly subtypes = new Map<string, CSharpClass[]>();

  constructor(files: readonly ServiceFile[]) {
    for (const { fc, ids } of files) {
      if (fc.language !== 'csharp') continue;
      const cf = fc as CSharpFileCscfg;
      for (const c of cf.classes) {
        const s = simple(c.name);
        this.classes.set(s, [...(this.classes.get(s) ?? []), { cls: c, file: cf }]);
        for (const b of c.bases) this.subtypes.set(simple(b), [...(this.subtypes.get(simple(b)) ?? []), c]);
      }
      cf.functions.forEach((f, i) => {
        if (!f.className || f.form === 'arrow') return;
        const key = `${f.className}\0${f.name.slice(f.className.length + 1)}`;
        this.methods.set(key, [...(this.methods.get(key) ?? []), { fn: f, id: ids[i]!, file: fc }]);
      });
    }
  }

  private classNamed(type: string): CSharpClass | undefined {
    return this.classes.get(simple(type))?.[0]?.cls;
  }

  /** `method` of `cls` or of its analyzed base classes. */
  private declared(cls: CSharpClass, method: string, depth = 0): Fn[] {
    const own = this.methods.get(`${cls.name}\0${method}`);
    if (own?.length) return own;
    if (depth > 8) return [];
    for (const b of cls.bases) {
      const base = this.classNamed(b);
      if (base && base !== cls && base.kind !== 'interface') return this.declared(base, method, depth + 1);
    }
    return [];
  }

  /** A call on a value of type `type`: its own method, else (interfaces, abstract bases) its implementations'. */
  private onType(type: string, method: string): Fn[] {
    const cls = this.classNamed(type);
    const own = cls ? this.declared(cls, method) : [];
    if (cls && own.length > 0 && cls.kind !== 'interface') return own;
    // An interface (declared here or not: it may live in a contracts assembly) reaches the service's classes implementing it.
    const out = new Set<Fn>(own);
    for (const sub of this.subtypes.get(simple(cls?.name ?? type)) ?? []) for (const f of this.declared(sub, method)) out.add(f);
    return [...out];
  }

  resolve(fn: CSharpFunction, file: CSharpFileCscfg, callee: string, construct: boolean): Fn[] {
    const name = callee.replace(/<[^<>]*>/g, '');
    if (construct) {
      const cls = this.classNamed(name);
      return cls ? this.declared(cls, '<init>') : [];
    }
    const cls = fn.className ? file.classes.find((c) => c.name === fn.className) : undefined;
    const parts = name.split('.');
    if (parts.length === 1 || (parts.length === 2 && parts[0] === 'this')) return cls ? this.declared(cls, parts.at(-1)!) : [];
    if (parts.length === 2 && parts[0] === 'base') {
      const base = cls?.bases.map((b) => this.classNamed(b)).find((b) => b && b.kind !== 'interface');
      return base ? this.declared(base, parts[1]!) : [];
    }
    const viaThis = parts[0] === 'this';
    const rest = viaThis ? parts.slice(1) : parts;
    if (rest.length !== 2 || !IDENT.test(rest[0]!)) return [];
    const [receiver, method] = rest as [string, string];
    let type = viaThis ? undefined : fn.variables?.[receiver];
    for (let c = cls, depth = 0; !type && c && depth < 8; depth++) {
      type = c.fields[receiver];
      c = c.bases.map((b) => this.classNamed(b)).find((b) => b && b !== c);
    }
    if (type) return this.onType(type, method);
    // A static call on a class of the service.
    const target = /^[A-Z]/.test(receiver) ? this.classNamed(receiver) : undefined;
    return target ? this.declared(target, method) : [];
  }
}

/**
 * Resolves every call site of one service's files. Returns the inter-procedural edges, the targets
 * per call node (several when overloads or implementations leave a choice), and the counts.
 */
export function resolveServiceCalls(files: readonly ServiceFile[]): ServiceCalls {
  const java = new JavaResolver(files);
  const script = new ScriptResolver(files);
  const go = new GoResolver(files);
  const csharp = new CSharpResolver(files);
  const ownNames = new Set<string>();
  for (const { fc } of files) for (const f of fc.functions) {
    const s = shortName(f.name);
    if (s) ownNames.add(s === 'constructor' || s === '__init__' ? f.className ?? s : s);
    if (f.name.endsWith('.<init>') && f.className) ownNames.add(f.className.slice(f.className.lastIndexOf('.') + 1));
  }
  const out: ServiceCalls = { edges: [], targets: new Map(), counts: { resolved: 0, unresolved: 0, library: 0 }, classes: new Map() };
  for (const sf of files) {
    const pyFns = sf.fc.language === 'python' ? sf.fc.functions.map((fn, i) => ({ fn, id: sf.ids[i]!, file: sf.fc })) : [];
    sf.fc.functions.forEach((fn, i) => {
      const id = sf.ids[i]!;
      const perNode = new Map<number, string[]>();
      const classes = new Map<number, CallClass>();
      for (const site of callSites(fn)) {
        let found: Fn[];
        switch (sf.fc.language) {
          case 'java':
            found = java.resolve(fn as JavaFunction, sf.fc as JavaFileCscfg, site.callee, !!site.construct, site.args);
            break;
          case 'go':
            found = go.resolve(fn as GoFunction, sf.fc, site.callee);
            break;
          case 'python':
            found = resolvePython(pyFns, fn, site.callee);
            break;
          case 'csharp':
            found = csharp.resolve(fn as CSharpFunction, sf.fc as CSharpFileCscfg, site.callee, !!site.construct);
            break;
          default:
            found = script.resolve(fn, sf.fc as ScriptFileCscfg, site.callee, !!site.construct);
        }
        const ids = [...new Set(found.map((f) => f.id))];
        const foreign = sf.fc.language === 'java' && java.foreign;
        if (ids.length > 0) {
          perNode.set(site.id, ids);
          for (const to of ids) out.edges.push({ from: id, node: site.id, to });
          classes.set(site.id, 'resolved');
        } else {
          const name = site.callee.slice(site.callee.lastIndexOf('.') + 1);
          classes.set(site.id, !foreign && ownNames.has(name) ? 'unresolved' : 'library');
        }
        out.counts[classes.get(site.id)!]++;
      }
      out.targets.set(id, perNode);
      out.classes.set(id, classes);
    });
  }
  return out;
}
