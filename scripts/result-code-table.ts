/** Prints the Markdown table of every result and error code for docs/API.md. */
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
process.stdout.write(`${rows.join('\n')}\n`);
