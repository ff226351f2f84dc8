// Proves the README walkthrough works as written: every curl command in it is run, in order,
// against a real `tengri start`, and each answers the 2xx it promises (the one example of a
// rejection answers its 422 problem).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repositoryRoot, spawnServer, temporaryDirectory, testToken, type ServerProcess } from './support/servers.ts';

let server: ServerProcess;
let directory: string;

beforeAll(async () => {
  directory = temporaryDirectory('tengri-readme-');
  server = await spawnServer(directory);
});

afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
  rmSync(directory, { recursive: true, force: true });
});

function readmeCommands(): string[] {
  const readme = readFileSync(join(repositoryRoot, 'README.md'), 'utf8');
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

it('runs every curl example of the README', () => {
  const commands = readmeCommands();
  expect(commands.length).toBeGreaterThan(20);
  const environment = {
    ...process.env,
    TENGRI: server.url,
    TOKEN: testToken,
    AUTH: `Authorization: Bearer ${testToken}`,
    JSON: 'Content-Type: application/json',
  };
  for (const command of commands) {
    const withStatus = command.replace(/^curl -s /, `curl -s -w '\\n%{http_code}' `);
    const output = execFileSync('bash', ['-c', withStatus], { env: environment, encoding: 'utf8' });
    const status = Number(output.slice(output.lastIndexOf('\n') + 1));
    const expected = command.includes('"too-much"') ? 422 : undefined;
    if (expected !== undefined) expect(status, command).toBe(expected);
    else expect(status >= 200 && status < 300, `${command}\n-> ${status} ${output}`).toBe(true);
  }
  // The walkthrough leaves a consistent ledger: 1,000,000.00 KZT issued, all of it accounted for.
  const supply = JSON.parse(execFileSync('curl', ['-s', '-H', `Authorization: Bearer ${testToken}`, `${server.url}/v1/supply`], { encoding: 'utf8' })) as {
    invariantsHold: boolean;
    assets: { asset: string; inCirculation: string }[];
  };
  expect(supply.invariantsHold).toBe(true);
  expect(supply.assets.find((asset) => asset.asset === 'KZT')?.inCirculation).toBe('100000000');
});
