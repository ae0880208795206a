// Compiles contracts/*.sol OFFLINE with solc-js (the compiler shipped in the npm package, never
// downloaded) against @openzeppelin/contracts from node_modules, and writes the artifact (abi +
// bytecode) that the dev chain and the tests deploy. The artifact is committed next to its source;
// a test recompiles and checks that the two still match.
//
//   node --import tsx scripts/compile-contracts.ts          # writes contracts/artifacts/TestUSDT.json
//   node --import tsx scripts/compile-contracts.ts --check  # exits 1 if the committed artifact is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface ContractArtifact {
  contract: string;
  compiler: string;
  abi: unknown[];
  bytecode: `0x${string}`;
}

interface SolcOutput {
  errors?: Array<{ severity: string; formattedMessage: string }>;
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
}

/** compileContract('TestUSDT') -> { abi, bytecode } (deterministic for a given solc version). */
export function compileContract(name: string): ContractArtifact {
  const solc = require('solc') as { compile(input: string, opts: { import(path: string): { contents: string } | { error: string } }): string; version(): string };
  const source = `contracts/${name}.sol`;
  const input = {
    language: 'Solidity',
    sources: { [source]: { content: readFileSync(join(ROOT, source), 'utf8') } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'cancun',
      metadata: { bytecodeHash: 'none' },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const findImport = (path: string) => {
    try {
      return { contents: readFileSync(require.resolve(path), 'utf8') };
    } catch {
      return { error: `not found: ${path}` };
    }
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const compiled = output.contracts[source]?.[name];
  if (!compiled) throw new Error(`${source} has no contract ${name}`);
  return { contract: name, compiler: `solc-js ${solc.version()}`, abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}` };
}

export function artifactPath(name: string): string {
  return join(ROOT, 'contracts', 'artifacts', `${name}.json`);
}

export function renderArtifact(artifact: ContractArtifact): string {
  return `${JSON.stringify(artifact, null, 2)}\n`;
}

const CONTRACTS = ['TestUSDT'];

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const name of CONTRACTS) {
    const text = renderArtifact(compileContract(name));
    if (check) {
      const committed = readFileSync(artifactPath(name), 'utf8');
      if (committed !== text) {
        stale++;
        console.error(`${artifactPath(name)} does not match contracts/${name}.sol (run: node --import tsx scripts/compile-contracts.ts)`);
      }
    } else {
      writeFileSync(artifactPath(name), text);
      console.log(`wrote ${artifactPath(name)}`);
    }
  }
  process.exit(stale ? 1 : 0);
}
