// `--topology`: the CLI chooses the embedded topology of generated traffic, for `generate` (traffic,
// ground truth, polyglot source with its answer key) and for the commands that read generated input.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertOneLineError, slimtrace } from './helpers.js';

describe('slimtrace --topology', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'slimtrace-topology-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('generate --topology grpc writes polyglot source, .proto files, the answer key, traffic and labels', () => {
    const src = join(dir, 'src');
    const traffic = join(dir, 'grpc.otlp');
    const gt = join(dir, 'gt.csv');
    const r = slimtrace('generate', '--topology', 'grpc', '--traces', '150', '-o', traffic, '--ground-truth', gt, '--source-dir', src);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /8 services, 17 operations/);
    for (const f of [
      'proto/cart.proto',
      'services/identity-service/server.go',
      'services/catalog-service/service.py',
      'services/checkout-service/src/main/java/shop/checkout/CheckoutServiceImpl.java',
      'services/payment-service/Services/PaymentServiceImpl.cs',
      'services/storefront/src/handlers.ts',
    ])
      assert.ok(existsSync(join(src, f)), f);
    const model = JSON.parse(readFileSync(join(src, 'slimtrace-model.json'), 'utf8'));
    assert.equal(model.topology, 'polyglot-shop');
    assert.deepEqual([...new Set(model.services.map((s: { language?: string }) => s.language ?? 'typescript'))].sort(), ['csharp', 'go', 'java', 'python', 'typescript']);
    assert.ok(readFileSync(gt, 'utf8').trim().split('\n').length > 10);
    // The default topology is still the default, and differs.
    const def = join(dir, 'default.otlp');
    assert.equal(slimtrace('generate', '--traces', '150', '-o', def).status, 0);
    assert.notDeepEqual(readFileSync(def), readFileSync(traffic));
  });

  it('stats and evaluate read the generated gRPC topology', () => {
    const stats = slimtrace('stats', '--topology', 'grpc', '--traces', '150');
    assert.equal(stats.status, 0, stats.stderr);
    assert.match(stats.stdout, /grpc topology and fault scenario/);
    assert.match(stats.stdout, /services\s+8 /);
    const evaluation = slimtrace('evaluate', '--topology', 'grpc', '--traces', '150', '--strategies', 'head,autoscope', '--json');
    assert.equal(evaluation.status, 0, evaluation.stderr);
    const results = JSON.parse(evaluation.stdout) as { results: unknown[] };
    assert.equal(results.results.length, 2);
  });

  it('an unknown topology is a one-line usage error', () => {
    assertOneLineError(slimtrace('generate', '--topology', 'mesh', '--traces', '5', '-o', join(dir, 'x.otlp')), /--topology must be default or grpc, got 'mesh'/);
    assertOneLineError(slimtrace('stats', '--topology', 'mesh'), /--topology must be default or grpc, got 'mesh'/);
  });
});
