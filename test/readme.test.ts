// Proves the README works as written, against a real `tengri start`:
// - the two-tier walkthrough (every block fenced as "```bash two-tier") runs in order as one bash
//   script with `set -euo pipefail`, with the real curl and the real CLI through npx. Every curl in
//   it must answer 2xx, and every line the README shows after `# =>` must be what the command
//   above it printed (`…` stands for anything, within one line);
// - then every curl command of the other "```sh" blocks runs, in order, and answers the 2xx it
//   promises (the one example of a rejection answers its 422 problem);
// - and the journal all of this left behind passes `tengri verify`.
import { spawnSync } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repositoryRoot, runCli, spawnServer, temporaryDirectory, testToken, type ServerProcess } from './support/servers.ts';

let server: ServerProcess;
let directory: string;
let workDirectory: string;
const readme = readFileSync(join(repositoryRoot, 'README.md'), 'utf8');

beforeAll(async () => {
  directory = temporaryDirectory('tengri-readme-');
  workDirectory = temporaryDirectory('tengri-readme-walkthrough-');
  server = await spawnServer(directory);
});

afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
  rmSync(directory, { recursive: true, force: true });
  rmSync(workDirectory, { recursive: true, force: true });
});

function environment(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TENGRI: server.url,
    TOKEN: testToken,
    AUTH: `Authorization: Bearer ${testToken}`,
    JSON: 'Content-Type: application/json',
  };
}

function readmeCommands(): string[] {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
  const commands: string[] = [];
  for (const block of blocks) {
    const lines = block.replace(/\\\n\s*/g, ' ').split('\n');
    let pending = '';
    for (const line of lines) {
      if (pending === '' && !line.trimStart().startsWith('curl ')) continue;
      // Multi-line JSON bodies inside single quotes continue until the quote closes.
      pending = pending === '' ? line : `${pending}\n${line}`;
      if ((pending.match(/'/g) ?? []).length % 2 === 1) continue;
      if (pending.trimStart().startsWith('curl ')) commands.push(pending.trim());
      pending = '';
    }
  }
  return commands;
}

const walkthroughFence = /```bash two-tier\n([\s\S]*?)```/g;
const expectationMark = '@@tengri-readme-expectation@@';

interface Walkthrough {
  /** The script to run: the blocks in order, each `# =>` group replaced by a printed mark. */
  readonly script: string;
  /** Per mark, the lines the README says the output before it ends with. */
  readonly expectations: readonly (readonly string[])[];
}

function walkthrough(): Walkthrough {
  const blocks = [...readme.matchAll(walkthroughFence)].map((match) => match[1]!);
  const lines: string[] = [];
  const expectations: string[][] = [];
  let group: string[] | null = null;
  for (const line of blocks.join('\n').split('\n')) {
    const expected = /^# => (.*)$/.exec(line);
    if (expected === null) {
      group = null;
      lines.push(line);
      continue;
    }
    if (group === null) {
      group = [];
      expectations.push(group);
      lines.push(`printf '\\n%s\\n' '${expectationMark}'`);
    }
    group.push(expected[1]!);
  }
  return { script: lines.join('\n'), expectations };
}

/** A line of expected output as a regular expression: literal, except that `…` matches anything. */
function expectedLine(text: string): RegExp {
  const pattern = text
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*?');
  return new RegExp(`^${pattern}$`);
}

it('runs the two-tier walkthrough as a shell script, and every step prints what the README shows', () => {
  const { script, expectations } = walkthrough();
  // The walkthrough the issue asks for, step by step; deleting a step fails here.
  for (const step of [
    '/v1/banks ',
    '/v1/banks/halyk/reserves',
    '/v1/issuance',
    'npx tengri keygen --out alice.json',
    'npx tengri keygen --out bob.json',
    '/v1/wallets -d @-',
    '/bank-account/credit',
    '/fund',
    'npx tengri sign --key alice.json',
    '/v1/payments',
    'npx tengri sign --key bob.json',
    '"refundOf":"pay-0001"',
    '/defund',
    '/v1/redemption',
    '/v1/events',
    '/v1/banks/halyk/statement',
  ]) {
    expect(script, `the walkthrough has lost its step ${step}`).toContain(step);
  }
  expect(expectations.length).toBeGreaterThanOrEqual(10);

  // Every curl must answer 2xx (--fail-with-body makes anything else fail the script under
  // set -e) and prints a newline after its answer, so that each answer is a line of its own; the
  // status of every call goes to standard error. npx runs this checkout's bin, never the registry.
  const preamble = [
    'set -euo pipefail',
    `curl() { command curl --fail-with-body -w '\\n%{stderr}curl %{http_code} %{method} %{url}\\n' "$@"; }`,
    'npx() { command npx --offline --prefix "$TENGRI_REPOSITORY" "$@"; }',
  ].join('\n');
  const run = spawnSync('bash', ['-c', `${preamble}\n${script}\nprintf '\\n%s\\n' '@@end@@'\n`], {
    cwd: workDirectory,
    env: { ...environment(), TENGRI_REPOSITORY: repositoryRoot },
    encoding: 'utf8',
    timeout: 240_000,
  });
  const report = `exit ${run.status} ${run.signal ?? ''}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}\n--- server\n${server.stderr()}`;
  expect(run.status, report).toBe(0);
  expect(run.stdout.trimEnd().endsWith('@@end@@'), report).toBe(true);

  const calls = run.stderr.split('\n').filter((line) => line.startsWith('curl '));
  expect(calls.length, report).toBeGreaterThanOrEqual(15);
  for (const call of calls) expect(call, report).toMatch(/^curl 2\d\d /);

  const segments = run.stdout.split(`\n${expectationMark}\n`);
  expect(segments.length, report).toBe(expectations.length + 1);
  expectations.forEach((expected, index) => {
    const printed = segments[index]!.split('\n').filter((line) => line.trim() !== '');
    const tail = printed.slice(-expected.length);
    expect(tail.length, `nothing printed before expectation ${index + 1}: ${expected.join('\n')}`).toBe(expected.length);
    expected.forEach((line, at) => expect(tail[at], `README expects:\n${line}\n\nbut the command printed:\n${printed.join('\n')}`).toMatch(expectedLine(line)));
  });
}, 300_000);

it('runs every curl example of the other blocks', () => {
  const commands = readmeCommands();
  expect(commands.length).toBeGreaterThan(20);
  for (const command of commands) {
    const withStatus = command.replace(/^curl -s /, `curl -s -w '\\n%{http_code}' `);
    const output = execFileSync('bash', ['-c', withStatus], { env: environment(), encoding: 'utf8' });
    const status = Number(output.slice(output.lastIndexOf('\n') + 1));
    const expected = command.includes('"too-much"') ? 422 : undefined;
    if (expected !== undefined) expect(status, command).toBe(expected);
    else expect(status >= 200 && status < 300, `${command}\n-> ${status} ${output}`).toBe(true);
  }
  // The two parts leave a consistent ledger: the 1,000,000.00 KZT the engine-level examples
  // created on a raw account, plus what the walkthrough's bank bought and did not sell back.
  const read = (path: string): unknown => JSON.parse(execFileSync('curl', ['-s', '-H', `Authorization: Bearer ${testToken}`, `${server.url}${path}`], { encoding: 'utf8' }));
  const supply = read('/v1/supply') as { invariantsHold: boolean; assets: { asset: string; inCirculation: string }[] };
  const banks = read('/v1/banks') as { banks: { issued: string }[] };
  const issuedToBanks = banks.banks.reduce((sum, bank) => sum + BigInt(bank.issued), 0n);
  expect(supply.invariantsHold).toBe(true);
  expect(supply.assets.find((asset) => asset.asset === 'KZT')?.inCirculation).toBe(String(100000000n + issuedToBanks));
});

it('leaves a journal that tengri verify accepts', async () => {
  const report = await runCli(['verify', '--data', directory, '--json']);
  expect(report.code, report.stdout + report.stderr).toBe(0);
  expect(JSON.parse(report.stdout)).toMatchObject({ ok: true });
});
