/**
 * `npm run bench`: runs every benchmark, each in its own Node process so that one cannot change
 * another's heap, JIT state or resident memory, and writes one JSON report to
 * bench/results/bench-<date>.json and bench/results/latest.json, with the machine it ran on.
 *
 *   1. core, batch size 1     (bench/core.bench.ts --sizes 1)
 *   2. core, batch size 100   (bench/core.bench.ts --sizes 100)
 *   3. core, batch size 8190  (bench/core.bench.ts --sizes 8190)
 *   4. memory, core only      (bench/memory.bench.ts --mode core)
 *   5. memory, engine         (bench/memory.bench.ts --mode engine)
 *
 * Every child runs as `node --expose-gc --import tsx ...`: the memory benchmark needs gc() to
 * measure held memory, and the core benchmark uses it to start the timed window and recovery
 * from a collected heap.
 *
 * It prints a Markdown summary for docs/PERFORMANCE.md. The targets are reported, not enforced:
 * the exit code is non-zero only when a benchmark fails (an error, a rejected transfer, or a
 * recovered state that differs from the live one).
 *
 *   npm run bench [-- --sizes 1,100,8190] [-- --no-memory]
 *
 * A run with other sizes or without the memory benchmark writes bench-<date>-partial.json and
 * leaves latest.json alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CoreReport, ScenarioResult } from './core.bench.ts';
import type { MemoryReport } from './memory.bench.ts';
import { fileStamp, machineInfo, mebibyte, repositoryRoot, resultsDirectory, writeJson } from './support.ts';

/** The issue's targets. A benchmark, not a test: missing one is reported, not failed. */
export const targets = {
  durableTransfersPerSecondAt8190: 300_000,
  rssBytesFor1MAccounts: 1024 * mebibyte,
} as const;

interface Target {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

const defaultSizes = '1,100,8190';

function runChild(script: string, args: string[], nodeFlags: string[] = []): void {
  const started = performance.now();
  const child = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', script, ...args], { cwd: repositoryRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (child.status !== 0) throw new Error(`${script} ${args.join(' ')} failed (status ${child.status}, signal ${child.signal}) after ${seconds} s`);
  process.stderr.write(`  (${seconds} s)\n`);
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: defaultSizes },
      'no-memory': { type: 'boolean', default: false },
    },
  });
  const sizes = values.sizes.split(',').map((size) => Number(size.trim()));
  const date = new Date();
  const loadAverageAtStart = os.loadavg();
  const scratch = mkdtempSync(join(os.tmpdir(), 'tengri-bench-run-'));
  const started = performance.now();
  try {
    const scenarios: ScenarioResult[] = [];
    for (const size of sizes) {
      process.stderr.write(`\n== core, batch size ${size}\n`);
      const out = join(scratch, `core-${size}.json`);
      runChild('bench/core.bench.ts', ['--sizes', String(size), '--out', out], ['--expose-gc']);
      scenarios.push(...readJson<CoreReport>(out).scenarios);
    }
    const memory: MemoryReport[] = [];
    if (!values['no-memory']) {
      for (const mode of ['core', 'engine'] as const) {
        process.stderr.write(`\n== memory, ${mode}\n`);
        const out = join(scratch, `memory-${mode}.json`);
        runChild('bench/memory.bench.ts', ['--mode', mode, '--out', out], ['--expose-gc']);
        memory.push(readJson<MemoryReport>(out));
      }
    }

    const targetRows: Target[] = [];
    const large = scenarios.find((s) => s.options.batchSize === 8190);
    if (large !== undefined) {
      targetRows.push({
        name: 'durable transfers per second at batch size 8190',
        target: `≥ ${targets.durableTransfersPerSecondAt8190.toLocaleString('en-US')}`,
        measured: large.measured.transfersPerSecond.toLocaleString('en-US'),
        met: large.measured.transfersPerSecond >= targets.durableTransfersPerSecondAt8190,
      });
    }
    for (const report of memory) {
      targetRows.push({
        name: `RSS with 1,000,000 accounts (${report.mode})`,
        target: `≤ ${(targets.rssBytesFor1MAccounts / mebibyte).toFixed(0)} MiB`,
        measured: `${(report.withAccounts.rssBytes / mebibyte).toFixed(0)} MiB`,
        met: report.withAccounts.rssBytes <= targets.rssBytesFor1MAccounts,
      });
    }
    const report = {
      benchmark: 'tengri',
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      date: date.toISOString(),
      durationSeconds: Math.round((performance.now() - started) / 1000),
      machine: machineInfo(),
      loadAverageAtStart,
      targets: targetRows,
      core: scenarios,
      memory,
    };
    // Only a complete run replaces latest.json; a partial one is kept under its own name.
    const complete = values.sizes === defaultSizes && !values['no-memory'];
    const file = join(resultsDirectory, `bench-${fileStamp(date)}${complete ? '' : '-partial'}.json`);
    writeJson(file, report);
    if (complete) writeJson(join(resultsDirectory, 'latest.json'), report);
    process.stderr.write(`\nwrote ${file}${complete ? ' and bench/results/latest.json' : ''} (${report.durationSeconds} s in all)\n\n`);
    process.stdout.write(markdown(report.machine, scenarios, memory, targetRows) + '\n');
    const failed = scenarios.some((s) => !s.verification.allOk || !s.verification.recoveredDigestMatches);
    process.exitCode = failed ? 1 : 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function markdown(machine: ReturnType<typeof machineInfo>, scenarios: ScenarioResult[], memory: MemoryReport[], targetRows: Target[]): string {
  const n = (value: number): string => value.toLocaleString('en-US');
  const lines = [
    `Machine: ${machine.cpuModel}, ${machine.cpuCount} CPUs, ${(machine.totalMemoryBytes / 1024 ** 3).toFixed(1)} GiB RAM, ${machine.platform} ${machine.osRelease}, Node ${machine.node}, SQLite ${machine.sqlite} (better-sqlite3 ${machine.betterSqlite3})`,
    '',
    '| batch size | in flight | transfers/s | commit p50 (ms) | commit p99 (ms) | commit max (ms) | apply p50 (ms/batch) | store append p50 (ms/batch) | time in apply / append / other | recovery (commands/s) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
  ];
  for (const s of scenarios) {
    const share = (value: number): string => `${Math.round(value * 100)}%`;
    lines.push(
      `| ${n(s.options.batchSize)} | ${s.options.inFlight} | ${n(s.measured.transfersPerSecond)} | ${s.commitLatencyMs.p50} | ${s.commitLatencyMs.p99} | ${s.commitLatencyMs.max} | ${s.sequencer.applyMs.p50} | ${s.sequencer.commitMs.p50} | ${share(s.sequencer.applyShare)} / ${share(s.sequencer.commitShare)} / ${share(s.sequencer.otherShare)} | ${n(s.verification.recoveryCommandsPerSecond)} |`,
    );
  }
  if (memory.length > 0) {
    lines.push('', '| memory mode | accounts | RSS (MiB) | heap used (MiB) | heap bytes/account | peak RSS (MiB) |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const m of memory) {
      const mib = (bytes: number): string => (bytes / mebibyte).toFixed(0);
      lines.push(`| ${m.mode} | ${n(m.accounts)} | ${mib(m.withAccounts.rssBytes)} | ${mib(m.withAccounts.heapUsedBytes)} | ${m.heapBytesPerAccount} | ${mib(m.peakRssBytes)} |`);
    }
  }
  if (targetRows.length > 0) {
    lines.push('', '| target | required | measured | met |', '| --- | ---: | ---: | --- |');
    for (const t of targetRows) lines.push(`| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? 'yes' : 'no'} |`);
  }
  return lines.join('\n');
}

main();
