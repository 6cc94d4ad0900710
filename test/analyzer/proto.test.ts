// The .proto reader: services, methods and streaming flags; comments, options and strings that look
// like declarations must not add any; empty and cut-short files give what could be read.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProtoFiles, parseProto, readProtoServices } from '../../src/analyzer/proto.js';
import { GRPC_FIXTURE } from './grpc-fixture.js';

describe('parseProto', () => {
  it('reads the package, services and rpcs, ignoring comments, options and strings', () => {
    const [cart, ...rest] = parseProto('proto/cart.proto', GRPC_FIXTURE['proto/cart.proto']!);
    assert.equal(rest.length, 0, 'the service in a comment is not one');
    assert.equal(cart!.fullName, 'shop.cart.CartService');
    assert.equal(cart!.package, 'shop.cart');
    assert.deepEqual(cart!.methods.map((m) => m.name), ['AddItem', 'GetCart', 'WatchCart']);
    assert.equal(cart!.methods[0]!.line, 11);
  });

  it('records which side of an rpc streams', () => {
    const text = 'package p;\nservice S {\n  rpc Unary (A) returns (B);\n  rpc Down (A) returns (stream B);\n  rpc Up (stream A) returns (B) {}\n  rpc Both (stream A) returns (stream B) { option deprecated = true; }\n  rpc Odd (stream) returns (B);\n}\n';
    const flags = parseProto('s.proto', text)[0]!.methods.map((m) => `${m.name}:${m.clientStreaming ? 'c' : '-'}${m.serverStreaming ? 's' : '-'}`);
    assert.deepEqual(flags, ['Unary:--', 'Down:-s', 'Up:c-', 'Both:cs', 'Odd:--']);
  });

  it('gives no services for an empty file, a file of messages only, or text that is not proto', () => {
    assert.deepEqual(parseProto('e.proto', ''), []);
    assert.deepEqual(parseProto('m.proto', 'syntax = "proto3";\nmessage A { string x = 1; }\n'), []);
    assert.deepEqual(parseProto('x.proto', '\u0000\u0001 garbage { } } ) ('), []);
  });

  it('keeps what it read of a file cut short, and names a service without a package by its own name', () => {
    const [s] = parseProto('cut.proto', 'service Cut {\n  rpc A (X) returns (Y);\n  rpc B (');
    assert.equal(s!.fullName, 'Cut');
    assert.deepEqual(s!.methods.map((m) => m.name), ['A']);
  });

  it('names a service by a package declared after it', () => {
    assert.equal(parseProto('late.proto', 'service S { rpc M (A) returns (B); }\npackage late.pkg;\n')[0]!.fullName, 'late.pkg.S');
  });

  it('is not fooled by braces and quotes inside strings and block comments', () => {
    const text = 'package q;\noption x = "}{ service No { rpc N (A) returns (B); }";\n/* } service Nope { */\nservice Yes { rpc M (A) returns (B); }\n';
    assert.deepEqual(parseProto('q.proto', text).map((s) => s.fullName), ['q.Yes']);
  });
});

describe('readProtoServices', () => {
  it('finds the .proto files under the roots (dependency folders skipped) and counts a service once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slimtrace-proto-'));
    try {
      await mkdir(join(dir, 'proto'), { recursive: true });
      await mkdir(join(dir, 'svc', 'proto'), { recursive: true });
      await mkdir(join(dir, 'node_modules', 'dep'), { recursive: true });
      await writeFile(join(dir, 'proto', 'a.proto'), 'package a;\nservice A { rpc M (X) returns (Y); }\n');
      await writeFile(join(dir, 'svc', 'proto', 'a.proto'), 'package a;\nservice A { rpc M (X) returns (Y); }\n');
      await writeFile(join(dir, 'node_modules', 'dep', 'b.proto'), 'package b;\nservice B { rpc M (X) returns (Y); }\n');
      assert.equal((await findProtoFiles([dir])).length, 2);
      assert.deepEqual((await readProtoServices([dir])).map((s) => s.fullName), ['a.A']);
      assert.deepEqual(await readProtoServices([join(dir, 'missing')]), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
