/**
 * Compares two V8 heap snapshots of a gateway (bench:queue --snapshots: half-way and all connected) and
 * prints what grew, by kind of object, in bytes per socket added:
 *
 *   npx tsx bench/queue-heap.ts <half.heapsnapshot> <all.heapsnapshot> <sockets added>
 *
 * Objects are grouped by V8's node type and constructor name (strings, numbers and code by type alone).
 * The total is the live JS heap's growth as the snapshot counts it (self sizes of every reachable object).
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

export function summarise(file: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const [ti, ni, si] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + ti]];
    const byName = type === 'object' || type === 'closure' || type === 'native' || type === 'hidden' || type === 'array';
    const key = byName ? `${type} ${s.strings[s.nodes[i + ni]].slice(0, 60)}` : type;
    const e = out.get(key) ?? { count: 0, bytes: 0 };
    e.count += 1;
    e.bytes += s.nodes[i + si];
    out.set(key, e);
  }
  return out;
}

if (process.argv[1]?.endsWith('queue-heap.ts')) {
  const [a, b, n] = process.argv.slice(2);
  const sockets = Number(n);
  const before = summarise(a);
  const after = summarise(b);
  const rows = [...new Set([...before.keys(), ...after.keys()])].map((k) => {
    const x = before.get(k) ?? { count: 0, bytes: 0 };
    const y = after.get(k) ?? { count: 0, bytes: 0 };
    return { kind: k, count: y.count - x.count, bytes: y.bytes - x.bytes };
  });
  rows.sort((p, q) => Math.abs(q.bytes) - Math.abs(p.bytes));
  const total = (m: Map<string, { bytes: number }>) => [...m.values()].reduce((s, e) => s + e.bytes, 0);
  console.log(`live heap (snapshot): ${(total(before) / 2 ** 20).toFixed(1)} MB -> ${(total(after) / 2 ** 20).toFixed(1)} MB: ${((total(after) - total(before)) / sockets).toFixed(0)} B per socket over ${sockets} sockets`);
  console.log('kind | objects added per socket | bytes per socket');
  for (const r of rows.slice(0, 25)) console.log(`${r.kind} | ${(r.count / sockets).toFixed(2)} | ${(r.bytes / sockets).toFixed(1)}`);
}
