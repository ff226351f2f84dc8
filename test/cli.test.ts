// Proves the command line works as the README says: `tengri start` generates a private operator
// token without logging it, refuses a second writer on the same data directory and shuts down
// cleanly; `tengri verify` passes on an intact journal and fails on a tampered one.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { repositoryRoot, runCli, spawnServer, temporaryDirectory, testToken } from './support/servers.ts';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function fresh(): string {
  const directory = temporaryDirectory('tengri-cli-');
  directories.push(directory);
  return directory;
}

async function post(url: string, path: string, body: unknown, token = testToken): Promise<Response> {
  return fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('tengri start', () => {
  it('generates a 0600 operator token on first start and never prints it', async () => {
    const directory = fresh();
    const environment = { ...process.env };
    delete environment.TENGRI_ADMIN_TOKEN;
    const child = spawn(process.execPath, [join(repositoryRoot, 'bin/tengri.js'), 'start', '--data', directory, '--port', '0'], { env: environment });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line: ${output}`)), 20_000);
      child.stdout.on('data', () => {
        const match = /"url":"(http:\/\/[^"]+)","data"/.exec(output);
        if (match !== null) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    const tokenPath = join(directory, 'admin-token');
    const token = readFileSync(tokenPath, 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(statSync(tokenPath).mode & 0o777).toBe(0o600);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', role: 'leader' });
    expect((await fetch(`${url}/v1/assets`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${url}/v1/assets`, { headers: { authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
    expect(output).not.toContain(token);
    // Genesis happened exactly once and survives the restart.
    const report = await runCli(['verify', '--data', directory, '--json']);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({ ok: true, accounts: 2, transfers: 0 });
  });

  it('refuses a token that a client could not send, before writing anything', async () => {
    const directory = fresh();
    const result = await runCli(['start', '--data', directory, '--port', '0'], { TENGRI_ADMIN_TOKEN: 'correct horse battery staple' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('no spaces');
    expect(existsSync(join(directory, 'ledger.sqlite'))).toBe(false);
  });

  it('refuses a second process on the same data directory', async () => {
    const directory = fresh();
    const first = await spawnServer(directory);
    try {
      const second = await runCli(['start', '--data', directory, '--port', '0'], { TENGRI_ADMIN_TOKEN: testToken });
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain(`in use by process ${first.child.pid}`);
      expect((await fetch(`${first.url}/health`)).status).toBe(200);
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
  });
});

describe('tengri verify', () => {
  it('passes on an intact journal, then fails once a stored batch is altered', async () => {
    const directory = fresh();
    const server = await spawnServer(directory);
    try {
      expect((await post(server.url, '/v1/accounts', { id: 'acct:a', asset: 'KZT' })).status).toBe(201);
      expect((await post(server.url, '/v1/transfers', { id: 'issue-1', debit: 'cb:issuance', credit: 'acct:a', amount: '500000' })).status).toBe(201);
      expect((await post(server.url, '/v1/transfers', { id: 'back-1', debit: 'acct:a', credit: 'cb:issuance', amount: '1234' })).status).toBe(201);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    const intact = await runCli(['verify', '--data', directory]);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toContain('ok: ');
    expect(intact.stdout).toContain('KZT in circulation: 498766');

    // Alter one byte of the issuing transfer (its purpose code): the hash chain no longer matches.
    const db = new Database(join(directory, 'ledger.sqlite'));
    db.exec('DROP TRIGGER journal_no_update');
    const row = db.prepare('SELECT sequence, body FROM journal WHERE sequence = 3').get() as { sequence: number; body: Buffer };
    const body = Buffer.from(row.body);
    body[body.length - 4] = body[body.length - 4]! ^ 0x01;
    db.prepare('UPDATE journal SET body = ? WHERE sequence = 3').run(body);
    db.close();
    const tampered = await runCli(['verify', '--data', directory]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('journal batch 3');
  });

  it('passes while the server runs and writes, however the reads interleave with appends', async () => {
    const directory = fresh();
    const server = await spawnServer(directory);
    let writing = true;
    try {
      expect((await post(server.url, '/v1/accounts', { id: 'live:a', asset: 'KZT' })).status).toBe(201);
      let n = 0;
      const writer = (async () => {
        while (writing) {
          n++;
          const response = await post(server.url, '/v1/transfers', { id: `live-${n}`, debit: 'cb:issuance', credit: 'live:a', amount: '1' });
          expect(response.status).toBe(201);
        }
      })();
      for (let run = 0; run < 4; run++) {
        const report = await runCli(['verify', '--data', directory, '--json']);
        expect(report.code, report.stderr).toBe(0);
        expect(JSON.parse(report.stdout)).toMatchObject({ ok: true });
      }
      writing = false;
      await writer;
      expect(n).toBeGreaterThan(10);
    } finally {
      writing = false;
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('verifies an online backup taken while the server writes', async () => {
    const directory = fresh();
    const copy = join(fresh(), 'copy');
    const server = await spawnServer(directory);
    let writing = true;
    let n = 0;
    try {
      expect((await post(server.url, '/v1/accounts', { id: 'bk:a', asset: 'KZT' })).status).toBe(201);
      const writer = (async () => {
        while (writing) {
          n++;
          expect((await post(server.url, '/v1/transfers', { id: `bk-${n}`, debit: 'cb:issuance', credit: 'bk:a', amount: '3' })).status).toBe(201);
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const result = await runCli(['backup', '--data', directory, '--to', copy]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/backed up \d+ journal batches/);
      writing = false;
      await writer;
      const again = await runCli(['backup', '--data', directory, '--to', copy]);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toContain('exists');
    } finally {
      writing = false;
      server.child.kill('SIGTERM');
      await server.exited;
    }
    const report = await runCli(['verify', '--data', copy, '--json']);
    expect(report.code, report.stderr).toBe(0);
    const parsed = JSON.parse(report.stdout) as { ok: boolean; transfers: number };
    expect(parsed.ok).toBe(true);
    expect(parsed.transfers).toBeGreaterThan(0);
    expect(parsed.transfers).toBeLessThanOrEqual(n);
  });

  it('fails on a directory without a ledger', async () => {
    const result = await runCli(['verify', '--data', join(fresh(), 'nothing-here')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no ledger');
  });
});
