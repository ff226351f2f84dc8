/**
 * The Markdown tables of every result and error code in docs/API.md, generated from the code.
 * `npx tsx scripts/result-code-table.ts` prints them; `--write` puts them into docs/API.md in
 * place of the generated part (from "### Creating a transfer" to the next "## " heading).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiErrorCodes, problemStatus } from '../src/api/problem.ts';
import { accountCodes, assetCodes, platformCodes, resolveCodes, resultCodeDescriptions, transferCodes } from '../src/ledger/result-codes.ts';

const rows: string[] = [];
const section = (title: string, codes: readonly string[], describe: (code: string) => string): void => {
  rows.push(`\n### ${title}\n\n| precedence | code | HTTP | meaning |\n|---|---|---|---|`);
  codes.forEach((code, index) => rows.push(`| ${index + 1} | \`${code}\` | ${problemStatus(code as never)} | ${describe(code)} |`));
};
const ledgerDescription = (code: string): string => resultCodeDescriptions[code as keyof typeof resultCodeDescriptions];
section('Creating a transfer', transferCodes, ledgerDescription);
section('Posting or voiding a pending transfer', resolveCodes, ledgerDescription);
section('Creating an account, freezing and unfreezing', accountCodes, ledgerDescription);
section('Creating an asset', assetCodes, ledgerDescription);
section('Platform commands (banks, wallets, payments)', platformCodes, ledgerDescription);
rows.push('\n### Errors of the API itself\n\n| code | HTTP | meaning |\n|---|---|---|');
for (const [code, entry] of Object.entries(apiErrorCodes)) rows.push(`| \`${code}\` | ${entry.status} | ${entry.title}. ${entry.detail} |`);
const tables = `${rows.join('\n')}\n`;
if (process.argv.includes('--write')) {
  const path = join(import.meta.dirname, '..', 'docs', 'API.md');
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf('\n### Creating a transfer');
  if (start < 0) throw new Error('docs/API.md has no "### Creating a transfer" section to replace');
  const end = text.indexOf('\n## ', start + 1);
  writeFileSync(path, text.slice(0, start) + '\n' + tables.replace(/^\n+/, '') + (end < 0 ? '' : text.slice(end)));
} else {
  process.stdout.write(tables);
}
