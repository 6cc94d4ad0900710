// HTTP routes and clients of Go and Python services (analyzeSources' span rules): net/http
// `HandleFunc` (with and without a Go 1.22 method pattern), gin-style `r.GET`, `http.Get` and
// `http.NewRequest` clients; Flask `@app.route(..., methods=[...])` and FastAPI `@app.get` routes,
// `requests`/`httpx` clients with f-string URLs; and the cross-service edges between them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeSources, type Analysis } from '../../src/analyzer/analyze.js';

const FILES: Record<string, string> = {
  'stock/go.mod': 'module example.com/stock\n',
  'stock/main.go': `package main

import "net/http"

func main() {
	http.HandleFunc("/health", health)
	http.HandleFunc("GET /items/{id}", getItem)
	r := gin.Default()
	r.POST("/items", createItem)
	http.ListenAndServe(":8080", nil)
}

func health(w http.ResponseWriter, r *http.Request) {}

func getItem(w http.ResponseWriter, r *http.Request) {
	for i := 0; i < 3; i++ {
		resp, err := http.Get("http://prices:8000/prices/" + r.PathValue("id"))
		if err != nil {
			return
		}
		_ = resp
	}
}

func createItem(c *gin.Context) {
	req, _ := http.NewRequest("DELETE", "http://prices:8000/cache", nil)
	_ = req
}
`,
  'prices/requirements.txt': 'fastapi\nflask\nrequests\n',
  'prices/app.py': `from fastapi import FastAPI
import requests

app = FastAPI()

@app.get("/prices/{item_id}")
async def get_price(item_id: str):
    r = requests.get(f"http://stock:8080/items/{item_id}")
    return r.json()

@app.route("/cache", methods=["DELETE", "POST"])
def clear_cache():
    try:
        httpx.post("http://stock:8080/items", json={})
    except Exception:
        logging.exception("failed")
`,
};

describe('Go and Python HTTP routes and clients', () => {
  let dir: string;
  let doc: Analysis;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimtrace-http-'));
    for (const [rel, text] of Object.entries(FILES)) {
      await mkdir(join(dir, rel, '..'), { recursive: true });
      await writeFile(join(dir, rel), text);
    }
    doc = await analyzeSources({ sourceDirs: [dir] });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const records = (service: string, via: string): string[] =>
    doc.spans
      .filter((s) => s.service === service && s.via === via)
      .map((s) => `${s.spanName}${s.url !== undefined ? ` ${s.url}` : ''}${s.handler ? ` <- ${s.handler}` : ''}`)
      .sort();

  it('maps Go routes with their handlers and Go clients', () => {
    assert.deepEqual(records('stock', 'route'), ['/health <- health', 'GET /items/{id} <- getItem', 'POST /items <- createItem']);
    assert.deepEqual(records('stock', 'http-client'), ['DELETE http://prices:8000/cache', 'GET http://prices:8000/prices/${r.PathValue("id")}']);
    const get = doc.spans.find((s) => s.spanName === 'GET /items/{id}')!;
    assert.equal(doc.functions.find((f) => f.id === get.handlerFunction)?.name, 'getItem');
  });

  it('maps Flask and FastAPI routes to the decorated function and Python clients', () => {
    assert.deepEqual(records('prices', 'route'), ['DELETE /cache <- clear_cache', 'GET /prices/{item_id} <- get_price', 'POST /cache <- clear_cache']);
    assert.deepEqual(records('prices', 'http-client'), ['GET http://stock:8080/items/${item_id}', 'POST http://stock:8080/items']);
    const route = doc.spans.find((s) => s.spanName === 'GET /prices/{item_id}')!;
    assert.equal(doc.functions.find((f) => f.id === route.function)?.name, 'get_price');
  });

  it('joins them with cross-service edges', () => {
    const edges = doc.crossServiceEdges.map((e) => `${e.fromService} ${e.httpMethod} -> ${e.toService} ${e.route} ${doc.functions.find((f) => f.id === e.toFunction)?.name}`).sort();
    assert.deepEqual(edges, [
      'prices GET -> stock /items/{id} getItem',
      'prices POST -> stock /items createItem',
      'stock DELETE -> prices /cache clear_cache',
      'stock GET -> prices /prices/{item_id} get_price',
    ]);
    assert.equal(doc.summary.httpClientCalls, 4);
    assert.equal(doc.summary.httpClientCallsMatched, 4);
  });

  it('scores the Go client in a loop and the Python handler with error logging', () => {
    const goClient = doc.spans.find((s) => s.service === 'stock' && s.via === 'http-client' && s.httpMethod === 'GET')!;
    assert.equal(goClient.features?.highFrequency, true);
    assert.equal(goClient.features?.externalApi, true);
    const post = doc.spans.find((s) => s.service === 'prices' && s.spanName === 'POST /cache')!;
    assert.equal(post.features?.errorHandling, true);
    assert.equal(post.features?.externalApi, true);
  });
});
