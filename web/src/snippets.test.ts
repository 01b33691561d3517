import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import {
  curlLoad,
  doubleQuote,
  javascriptLoad,
  mask,
  maskConnectionString,
  psqlCommand,
  pyLiteral,
  pythonLoad,
  sampleQuery,
  shellQuote,
} from './snippets';
import type { Meta } from './api';

const base = 'http://127.0.0.1:4000/d/shop/main/v1';
const token = 'cbt_abc123_s3cr3t';
const query = { measures: ['orders.count'], dimensions: ['orders.status'] };

// sh runs a command with a POSIX shell and returns what it prints; it checks the quoting
// independently of the code that did it.
function sh(script: string): string {
  return execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
}

describe('shell quoting', () => {
  test.each(["plain", "it's", 'a "b" $HOME `x` \\n', "", "'", "a'b'c", 'with space', '!bang', 'новый'])('shellQuote(%j) round-trips through sh', (s) => {
    expect(sh(`printf %s ${shellQuote(s)}`)).toBe(s);
  });
  test.each(['p@ss', 'a"b', '$HOME', '`id`', 'back\\slash', "it's"])('doubleQuote(%j) round-trips through sh', (s) => {
    expect(sh(`printf %s ${doubleQuote(s)}`)).toBe(s);
  });
});

describe('psqlCommand', () => {
  test('is psql "<connection string>" with the real values', () => {
    const cs = 'postgresql://shop_main:CP3qchCuvqr0@127.0.0.1:15432/shop?sslmode=disable';
    expect(psqlCommand(cs)).toBe(`psql "${cs}"`);
  });
  test('escapes what a shell expands inside double quotes', () => {
    const cs = 'postgresql://u:pa$s"w`d\\@h:1/db';
    expect(psqlCommand(cs)).toBe('psql "postgresql://u:pa\\$s\\"w\\`d\\\\@h:1/db"');
    expect(sh(`printf %s ${psqlCommand(cs).slice('psql '.length)}`)).toBe(cs);
  });
});

describe('curlLoad', () => {
  test('POSTs the query to base_url/load with the token', () => {
    expect(curlLoad(base, token, query)).toBe(
      [
        `curl -sS -X POST http://127.0.0.1:4000/d/shop/main/v1/load \\`,
        `  -H 'Authorization: Bearer cbt_abc123_s3cr3t' \\`,
        `  -H 'Content-Type: application/json' \\`,
        `  --data-raw '{"query":{"measures":["orders.count"],"dimensions":["orders.status"]}}'`,
      ].join('\n'),
    );
  });
  test("quotes a value with ' so that the shell passes the JSON unchanged", () => {
    const q = { measures: ['orders.count'], filters: [{ member: 'users.name', operator: 'equals' as const, values: ["O'Brien \"$HOME\""] }] };
    const cmd = curlLoad(base, token, q).replace(/^curl /, 'printf "%s\\n" ');
    const printed = sh(cmd).trim().split('\n');
    expect(JSON.parse(printed.at(-1)!)).toEqual({ query: q });
    expect(printed).toContain(`Authorization: Bearer ${token}`);
  });
  test('a trailing slash on the base URL is not doubled', () => {
    expect(curlLoad(base + '/', token, query)).toContain('/v1/load ');
  });
});

describe('pythonLoad', () => {
  test('uses requests with the real values', () => {
    const py = pythonLoad(base, token, query);
    expect(py).toContain('import requests');
    expect(py).toContain(`"${base}/load"`);
    expect(py).toContain(`headers={"Authorization": "Bearer ${token}"}`);
    expect(py).toContain('"measures": ["orders.count"]');
    expect(py).toContain('print(response.json()["data"])');
  });
  test('pyLiteral writes Python literals and escapes strings', () => {
    expect(pyLiteral({ a: true, b: false, c: null, d: [1, 'x'] })).toBe('{\n    "a": True,\n    "b": False,\n    "c": None,\n    "d": [1, "x"],\n}');
    expect(pyLiteral('say "hi"\n\\')).toBe('"say \\"hi\\"\\n\\\\"');
  });
  test('is valid Python when python3 is here', () => {
    let ok = true;
    try {
      execFileSync('python3', ['-c', 'pass']);
    } catch {
      ok = false;
    }
    if (!ok) return;
    const q = { measures: ['orders.count'], filters: [{ member: 'users.name', operator: 'equals' as const, values: ["O'Brien \"x\" \\ é"] }], limit: 5 };
    const src = pythonLoad(base, token, q).replace('import requests', 'import json\nclass requests:\n    @staticmethod\n    def post(url, headers, json):\n        global captured\n        captured = (url, headers, json)\n        raise SystemExit(0)');
    const out = execFileSync('python3', ['-c', src.replace('raise SystemExit(0)', 'print(__import__("json").dumps(captured)); raise SystemExit(0)')], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([`${base}/load`, { Authorization: `Bearer ${token}` }, { query: q }]);
  });
});

describe('javascriptLoad', () => {
  test('fetches with the real values and runs as written', async () => {
    const q = { measures: ['orders.count'], filters: [{ member: 'users.name', operator: 'equals' as const, values: ['`${x}` "y" \\'] }] };
    const js = javascriptLoad(base, token, q);
    expect(js).toContain(`await fetch("${base}/load"`);
    expect(js).toContain(`Authorization: "Bearer ${token}"`);
    const calls: [string, RequestInit][] = [];
    const fakeFetch = async (url: string, init: RequestInit) => {
      calls.push([url, init]);
      return { ok: true, json: async () => ({ data: [{ n: 1 }] }), text: async () => '' };
    };
    const logged: unknown[] = [];
    const run = new Function('fetch', 'console', `return (async () => {\n${js}\n})();`);
    await run(fakeFetch, { log: (x: unknown) => logged.push(x) });
    expect(calls).toHaveLength(1);
    expect(calls[0][0]).toBe(`${base}/load`);
    expect(JSON.parse(calls[0][1].body as string)).toEqual({ query: q });
    expect(logged).toEqual([[{ n: 1 }]]);
  });
});

describe('sampleQuery', () => {
  const meta = (cubes: Meta['cubes']): Meta => ({ cubes });
  test('orders.count by the first string dimension that is not a key', () => {
    const m = meta([
      { name: 'a', type: 'cube', measures: [{ name: 'a.x', type: 'number' }], dimensions: [], segments: [] },
      {
        name: 'orders',
        type: 'cube',
        measures: [{ name: 'orders.total', type: 'number' }, { name: 'orders.count', type: 'number' }],
        dimensions: [
          { name: 'orders.id', type: 'string', primaryKey: true },
          { name: 'orders.amount', type: 'number' },
          { name: 'orders.status', type: 'string' },
        ],
        segments: [],
      },
    ]);
    expect(sampleQuery(m)).toEqual({ measures: ['orders.count'], dimensions: ['orders.status'] });
  });
  test('the first visible measure otherwise', () => {
    const m = meta([
      { name: 'a', type: 'cube', measures: [{ name: 'a.hidden', type: 'number', isVisible: false }], dimensions: [], segments: [] },
      { name: 'b', type: 'cube', measures: [{ name: 'b.n', type: 'number' }], dimensions: [{ name: 'b.t', type: 'time' }], segments: [] },
    ]);
    expect(sampleQuery(m)).toEqual({ measures: ['b.n'] });
  });
  test('no meta gives an empty query', () => {
    expect(sampleQuery(null)).toEqual({ measures: [], limit: 100 });
  });
});

describe('masking', () => {
  test('mask keeps only the cbt_ prefix', () => {
    expect(mask('cbt_abc_def')).toBe('cbt_' + '•'.repeat(8));
    expect(mask('secret')).not.toContain('secret');
  });
  test('maskConnectionString hides the password', () => {
    const cs = 'postgresql://u:pw123456@h:1/db';
    expect(maskConnectionString(cs, 'pw123456')).toBe('postgresql://u:••••••••@h:1/db');
  });
});
