/**
 * Summarises a V8 CPU profile (.cpuprofile, as written by `node --cpu-prof` or by
 * `bench/core.bench.ts --cpu-profile`): the functions with the most self time and the most total
 * (inclusive) time, as shares of all samples.
 *
 *   npx tsx bench/profile-summary.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { repositoryRoot } from './support.ts';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface FunctionShare {
  readonly name: string;
  readonly selfShare: number;
  readonly totalShare: number;
}

export function summariseProfile(profile: Profile): { readonly durationMs: number; readonly functions: FunctionShare[] } {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const label = (node: ProfileNode): string => {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName === '' ? '(anonymous)' : functionName;
    if (url === '') return name;
    const path = url.startsWith('file://') ? relative(repositoryRoot, new URL(url).pathname) : url;
    // Lines of transpiled TypeScript (tsx) do not match the sources, so give only the file there.
    return url.startsWith('file://') ? `${name} ${path}` : `${name} ${path}:${lineNumber + 1}`;
  };
  // Weight each sample by the time until the next one (the last sample gets the mean).
  const samples = profile.samples;
  const deltas = profile.timeDeltas;
  const weights = new Float64Array(samples.length);
  let weightTotal = 0;
  for (let i = 0; i < samples.length; i++) {
    const weight = i + 1 < deltas.length ? Math.max(0, deltas[i + 1]!) : (profile.endTime - profile.startTime) / Math.max(1, samples.length);
    weights[i] = weight;
    weightTotal += weight;
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (let i = 0; i < samples.length; i++) {
    const weight = weights[i]!;
    let node = byId.get(samples[i]!);
    if (node === undefined) continue;
    const leaf = label(node);
    self.set(leaf, (self.get(leaf) ?? 0) + weight);
    const seen = new Set<string>();
    while (node !== undefined) {
      const name = label(node);
      if (!seen.has(name)) {
        seen.add(name);
        total.set(name, (total.get(name) ?? 0) + weight);
      }
      const up = parent.get(node.id);
      node = up === undefined ? undefined : byId.get(up);
    }
  }
  const functions = [...total.keys()].map((name) => ({
    name,
    selfShare: (self.get(name) ?? 0) / weightTotal,
    totalShare: (total.get(name) ?? 0) / weightTotal,
  }));
  return { durationMs: (profile.endTime - profile.startTime) / 1000, functions };
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  const top = Number(values.top);
  for (const file of positionals) {
    const { durationMs, functions } = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    const percent = (share: number): string => `${(share * 100).toFixed(1).padStart(5)}%`;
    console.log(`${file}: ${(durationMs / 1000).toFixed(2)} s profiled`);
    console.log('\n  self   total  function (by self time)');
    for (const f of [...functions].sort((a, b) => b.selfShare - a.selfShare).slice(0, top)) {
      console.log(`${percent(f.selfShare)} ${percent(f.totalShare)}  ${f.name}`);
    }
    console.log('\n  self   total  function (by total time)');
    for (const f of [...functions].sort((a, b) => b.totalShare - a.totalShare).slice(0, top)) {
      console.log(`${percent(f.selfShare)} ${percent(f.totalShare)}  ${f.name}`);
    }
    console.log('');
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) main();
