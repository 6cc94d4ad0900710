// The analyzer's groundwork (src/analyzer): every grammar loads from its package's wasm and parses
// a small function with the branch structure the CSCFG needs (if/else, a loop, try/catch or Go's
// error check and defer/recover, a call) without ERROR nodes; broken source gives a tree with an
// ERROR node instead of a crash; and the source walk classifies files and skips dependency folders.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Node, Parser } from 'web-tree-sitter';
import { InputError } from '../../src/model/index.js';
import {
  ANALYZER_LANGUAGES,
  ROOT_NODE_TYPE,
  createParser,
  inventorySourceFiles,
  languageForPath,
  readSourceFile,
  walkSourceFiles,
  type AnalyzerLanguage,
  type SourceEntry,
} from '../../src/analyzer/index.js';

interface Sample {
  code: string;
  /** Node types the snippet must contain, proof that it parsed as the intended constructs. */
  expect: string[];
  /** Source with a syntax error. */
  broken: string;
}

const TS_LIKE = `
function handle(order, items) {
  let total = 0;
  for (const item of items) {
    total += item.price;
  }
  try {
    if (total > 100) {
      charge(order, total);
    } else {
      log("small order");
    }
  } catch (err) {
    report(err);
    throw err;
  }
  return total;
}
`;

const SAMPLES: Record<AnalyzerLanguage, Sample> = {
  java: {
    code: `
package demo;

public class OrderService {
  public int handle(Order order, java.util.List<Item> items) {
    int total = 0;
    for (Item item : items) {
      total += item.getPrice();
    }
    try {
      if (total > 100) {
        payment.charge(order, total);
      } else {
        log.info("small order");
      }
    } catch (PaymentException e) {
      log.error("failed", e);
      throw e;
    }
    return total;
  }
}
`,
    expect: ['method_declaration', 'if_statement', 'enhanced_for_statement', 'try_statement', 'catch_clause', 'method_invocation'],
    broken: 'public class A { void f() { int x = ; if (x > ) { } } }',
  },
  typescript: {
    code: TS_LIKE.replace('handle(order, items)', 'handle(order: Order, items: Item[]): number').replace('let total = 0', 'let total: number = 0'),
    expect: ['function_declaration', 'type_annotation', 'if_statement', 'for_in_statement', 'try_statement', 'catch_clause', 'call_expression'],
    broken: 'function f(x: number) { if (x > ) ) ) { return; } }',
  },
  tsx: {
    code: `${TS_LIKE.replace('handle(order, items)', 'handle(order: Order, items: Item[]): number')}
export const View = (props: { total: number }) => <div className="total">{props.total}</div>;
`,
    expect: ['function_declaration', 'if_statement', 'for_in_statement', 'try_statement', 'catch_clause', 'call_expression', 'jsx_element'],
    broken: 'const v = <div>{x}</div>;\nfunction f(x: number) { if (x > ) ) ) { return; } }',
  },
  javascript: {
    code: TS_LIKE,
    expect: ['function_declaration', 'if_statement', 'for_in_statement', 'try_statement', 'catch_clause', 'call_expression'],
    broken: 'function f(x) { if (x > ) ) ) { return; } }',
  },
  go: {
    // Go has no try/catch: errors are values checked with if, and panics are caught by a deferred
    // recover. Both shapes appear here.
    code: `
package orders

func Handle(order Order, items []Item) (total int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	for _, item := range items {
		total += item.Price
	}
	if total > 100 {
		if err := payment.Charge(order, total); err != nil {
			return 0, err
		}
	} else {
		log.Println("small order")
	}
	return total, nil
}
`,
    expect: ['function_declaration', 'if_statement', 'for_statement', 'range_clause', 'defer_statement', 'call_expression'],
    broken: 'package p\nfunc f() { if x > ) ) { return } }',
  },
  python: {
    code: `
def handle(order, items):
    total = 0
    for item in items:
        total += item.price
    try:
        if total > 100:
            charge(order, total)
        else:
            log("small order")
    except PaymentError as err:
        report(err)
        raise
    return total
`,
    expect: ['function_definition', 'if_statement', 'else_clause', 'for_statement', 'try_statement', 'except_clause', 'call'],
    broken: 'def f(x):\n    if x > ) ):\n        return\n',
  },
  csharp: {
    code: `
namespace Shop.Orders;

public class OrderService
{
    public int Handle(Order order, List<Item> items)
    {
        var total = 0;
        foreach (var item in items)
        {
            total += item.Price;
        }
        try
        {
            if (total > 100) { _payment.Charge(order, total); }
            else { _log.LogInformation("small order"); }
        }
        catch (PaymentException e)
        {
            _log.LogError(e, "failed");
            throw;
        }
        return total;
    }
}
`,
    expect: ['method_declaration', 'if_statement', 'foreach_statement', 'try_statement', 'catch_clause', 'invocation_expression'],
    broken: 'public class A { void F() { int x = ; if (x > ) { } } }',
  },
};

/** Every node of the tree, depth first (includes anonymous nodes such as MISSING tokens). */
function* allNodes(root: Node): Generator<Node> {
  const cursor = root.walk();
  try {
    let more = true;
    while (more) {
      yield cursor.currentNode;
      if (cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) {
          more = false;
          break;
        }
      }
    }
  } finally {
    cursor.delete();
  }
}

describe('tree-sitter grammars', () => {
  const parsers = new Map<AnalyzerLanguage, Parser>();
  before(async () => {
    for (const language of ANALYZER_LANGUAGES) parsers.set(language, await createParser(language));
  });
  after(() => {
    for (const parser of parsers.values()) parser.delete();
  });

  for (const language of ANALYZER_LANGUAGES) {
    const sample = SAMPLES[language];

    test(`${language}: a function with if/else, a loop, error handling and calls parses cleanly`, () => {
      const tree = parsers.get(language)!.parse(sample.code);
      assert.ok(tree, 'parse returned a tree');
      try {
        const root = tree.rootNode;
        assert.equal(root.type, ROOT_NODE_TYPE[language]);
        const bad = [...allNodes(root)].filter((n) => n.type === 'ERROR' || n.isMissing);
        assert.deepEqual(
          bad.map((n) => `${n.type} at ${n.startPosition.row + 1}:${n.startPosition.column + 1}`),
          [],
          'no ERROR or MISSING nodes',
        );
        assert.equal(root.hasError, false);
        const types = new Set([...allNodes(root)].map((n) => n.type));
        for (const type of sample.expect) assert.ok(types.has(type), `${language} tree has a ${type} node`);
      } finally {
        tree.delete();
      }
    });

    test(`${language}: a syntax error gives a tree with an ERROR node, not an exception`, () => {
      const tree = parsers.get(language)!.parse(sample.broken);
      assert.ok(tree, 'parse returned a tree');
      try {
        assert.equal(tree.rootNode.hasError, true);
        assert.ok(
          [...allNodes(tree.rootNode)].some((n) => n.type === 'ERROR'),
          `an ERROR node in ${tree.rootNode.toString()}`,
        );
        // Error recovery keeps the rest of the file: the function around the error is still there.
        const fn = sample.expect[0]!;
        assert.ok([...allNodes(tree.rootNode)].some((n) => n.type === fn), `a ${fn} node in ${tree.rootNode.toString()}`);
      } finally {
        tree.delete();
      }
    });
  }

  test('one parser parses many files in turn', () => {
    const parser = parsers.get('java')!;
    for (let i = 0; i < 50; i++) {
      const tree = parser.parse(`class C${i} { void m() { f(${i}); } }`);
      assert.equal(tree?.rootNode.hasError, false);
      tree?.delete();
    }
  });
});

describe('languageForPath', () => {
  test('maps extensions to languages', () => {
    assert.equal(languageForPath('src/A.java'), 'java');
    assert.equal(languageForPath('src/a.ts'), 'typescript');
    assert.equal(languageForPath('src/a.mts'), 'typescript');
    assert.equal(languageForPath('src/A.tsx'), 'tsx');
    assert.equal(languageForPath('src/a.js'), 'javascript');
    assert.equal(languageForPath('src/a.cjs'), 'javascript');
    assert.equal(languageForPath('src/A.jsx'), 'javascript');
    assert.equal(languageForPath('main.go'), 'go');
    assert.equal(languageForPath('app.py'), 'python');
    assert.equal(languageForPath('Services/CartService.cs'), 'csharp');
    assert.equal(languageForPath('A.JAVA'), 'java');
  });
  test('declaration files and other files have no language', () => {
    assert.equal(languageForPath('types.d.ts'), undefined);
    assert.equal(languageForPath('pom.xml'), undefined);
    assert.equal(languageForPath('README.md'), undefined);
    assert.equal(languageForPath('Makefile'), undefined);
  });
});

describe('source walk', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'slimtrace-analyzer-'));
    const files: Record<string, string> = {
      'svc-java/pom.xml': '<project/>',
      'svc-java/src/main/java/demo/App.java': 'class App {}',
      'svc-java/target/classes/Gen.java': 'class Gen {}',
      'svc-go/main.go': 'package main',
      'svc-go/vendor/lib/lib.go': 'package lib',
      'svc-py/app.py': 'x = 1',
      'svc-py/.venv/lib/site.py': 'y = 2',
      'svc-ts/src/index.ts': 'export {}',
      'svc-ts/src/view.tsx': 'export {}',
      'svc-ts/src/types.d.ts': 'export {}',
      'svc-ts/node_modules/dep/index.js': 'module.exports = 1',
      'svc-ts/dist/index.js': 'export {}',
      'svc-kt/Main.kt': 'fun main() {}',
      'svc-cs/Program.cs': 'var app = 1;',
      'svc-cs/obj/Debug/Cart.g.cs': 'class Gen {}',
      '.git/hooks/pre-commit.py': '',
      'README.md': '# hi',
    };
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), text);
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('finds source files by language in a stable order and skips dependency and build folders', async () => {
    const seen: SourceEntry[] = [];
    for await (const entry of walkSourceFiles(dir)) seen.push(entry);
    const rel = seen.map((e) => `${e.kind}:${e.language}:${path.relative(dir, e.path).split(path.sep).join('/')}`);
    assert.deepEqual(rel, [
      'source:csharp:svc-cs/Program.cs',
      'source:go:svc-go/main.go',
      'source:java:svc-java/src/main/java/demo/App.java',
      'unsupported:kotlin:svc-kt/Main.kt',
      'source:python:svc-py/app.py',
      'source:typescript:svc-ts/src/index.ts',
      'source:tsx:svc-ts/src/view.tsx',
    ]);
  });

  test('the inventory counts languages and lists unsupported files', async () => {
    const inv = await inventorySourceFiles([path.join(dir, 'svc-ts'), path.join(dir, 'svc-kt')]);
    assert.deepEqual(inv.counts, { typescript: 1, tsx: 1 });
    assert.deepEqual(inv.unsupported, [{ path: path.join(dir, 'svc-kt', 'Main.kt'), language: 'kotlin' }]);
  });

  test('a custom skip set walks node_modules when asked', async () => {
    const paths: string[] = [];
    for await (const entry of walkSourceFiles(path.join(dir, 'svc-ts'), { skipDirs: new Set() })) paths.push(entry.path);
    assert.ok(paths.includes(path.join(dir, 'svc-ts', 'node_modules', 'dep', 'index.js')));
  });

  test('a missing or non-directory root is an InputError naming the path', async () => {
    const missing = path.join(dir, 'no-such-dir');
    await assert.rejects(
      async () => {
        for await (const _ of walkSourceFiles(missing)) void _;
      },
      (err: unknown) => err instanceof InputError && err.source === missing && err.message.includes(missing),
    );
    const file = path.join(dir, 'README.md');
    await assert.rejects(
      async () => {
        for await (const _ of walkSourceFiles(file)) void _;
      },
      (err: unknown) => err instanceof InputError && err.source === file,
    );
  });

  test('an unreadable source file is an InputError naming the path', async () => {
    assert.equal(await readSourceFile(path.join(dir, 'svc-py', 'app.py')), 'x = 1');
    const notAFile = path.join(dir, 'svc-py');
    await assert.rejects(readSourceFile(notAFile), (err: unknown) => err instanceof InputError && err.source === notAFile);
  });
});
