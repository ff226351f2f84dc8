// Proves the documentation covers what the code does: every result and error code appears in
// docs/API.md with the HTTP status the server actually uses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { apiErrorCodes, problemStatus } from '../src/api/problem.ts';
import { allResultCodes } from '../src/ledger/result-codes.ts';

const api = readFileSync(join(import.meta.dirname, '..', 'docs', 'API.md'), 'utf8');

it('docs/API.md lists every code with its HTTP status', () => {
  for (const code of [...allResultCodes, ...Object.keys(apiErrorCodes)]) {
    const row = new RegExp(`\\| \`${code}\` \\| ${problemStatus(code as never)} \\|`);
    expect(api, `docs/API.md row for ${code}`).toMatch(row);
  }
});
