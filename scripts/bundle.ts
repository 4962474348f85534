/**
 * npm run bundle [-- --out DIR]   builds the MCP Bundle, DIR/mqtt-mcp-bridge-<version>.mcpb
 *
 * In a temporary folder (the repository's dist/ and node_modules/ are left alone): the code
 * compiled without source maps, the production dependencies from the lockfile (`npm ci
 * --omit=dev`), a package.json cut to what runs, README, SECURITY and CHANGELOG, and
 * manifest.json with its `tools` list taken from the tool definitions. Then `mcpb validate`
 * and `mcpb pack` (@anthropic-ai/mcpb), and one line with the bundle's size.
 * Default DIR: build/ (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ALL_TOOLS } from '../src/tools/index.js';

const ROOT = resolve(import.meta.dirname, '..');
const MCPB_CLI = join(ROOT, 'node_modules/@anthropic-ai/mcpb/dist/cli/cli.js');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const SHIPPED_DOCS = ['README.md', 'SECURITY.md', 'CHANGELOG.md'];
/**
 * Left out of the bundle besides mcpb's own list (source maps, .d.ts, lockfiles, dotfiles): what
 * no Node process loads from node_modules. Licence files stay.
 */
const MCPB_IGNORE = [
  'node_modules/**/*.ts',
  'node_modules/**/*.mts',
  'node_modules/**/*.cts',
  'node_modules/**/*.md',
  'node_modules/**/*.markdown',
  'node_modules/**/.github/',
  '!node_modules/**/LICENSE*',
  '!node_modules/**/LICENCE*',
];

interface PackageJson {
  name: string;
  version: string;
  type: string;
  license: string;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

function run(command: string, args: readonly string[], cwd: string): void {
  execFileSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
}

function outDir(argv: readonly string[]): string {
  const at = argv.indexOf('--out');
  if (at < 0) return join(ROOT, 'build');
  const dir = argv[at + 1];
  if (dir === undefined) throw new Error('--out needs a folder');
  return resolve(dir);
}

/** The tool list a host shows before installing: name and first sentence of each description. */
/** The rasteriser's binaries the bundle carries: the platforms of manifest.json's compatibility. */
const RESVG_PLATFORMS = ['darwin-arm64', 'darwin-x64', 'win32-x64-msvc', 'linux-x64-gnu', 'linux-arm64-gnu'];

function toolList(): Array<{ name: string; description: string }> {
  return ALL_TOOLS.map((tool) => ({
    name: tool.name,
    description: tool.description.split(/(?<=\.)\s/)[0] ?? tool.description,
  }));
}

function bundle(argv: readonly string[]): void {
  const pkg = readJson<PackageJson>(join(ROOT, 'package.json'));
  const manifest = readJson<Record<string, unknown>>(join(ROOT, 'manifest.json'));
  if (manifest.version !== pkg.version)
    throw new Error(`manifest.json version ${String(manifest.version)} is not package.json's ${pkg.version}`);
  const out = outDir(argv);
  const target = join(out, `${pkg.name}-${pkg.version}.mcpb`);
  const stage = mkdtempSync(join(tmpdir(), 'mqtt-mcp-bridge-bundle-'));
  try {
    run(
      process.execPath,
      [TSC, '-p', join(ROOT, 'tsconfig.json'), '--outDir', join(stage, 'dist'), '--sourceMap', 'false'],
      ROOT,
    );
    // The chart font and the MCP App's view, as npm run build makes them.
    run(process.execPath, [join(ROOT, 'src/build-assets.mjs'), join(stage, 'dist')], ROOT);
    copyFileSync(join(ROOT, 'package-lock.json'), join(stage, 'package-lock.json'));
    // What runs needs name, version (reported as serverInfo), "type": "module" and the
    // dependencies; no scripts, no development dependencies.
    const runtimePkg = {
      name: pkg.name,
      version: pkg.version,
      type: pkg.type,
      license: pkg.license,
      engines: pkg.engines,
      dependencies: pkg.dependencies,
    };
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(runtimePkg, null, 2)}\n`);
    run(
      'npm',
      ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
      stage,
    );
    // The chart rasteriser ships one native binary per platform as an optional dependency, and npm
    // installs only this machine's: add those of the platforms the manifest names.
    const resvg = readJson<PackageJson & { version: string }>(
      join(ROOT, 'node_modules/@resvg/resvg-js/package.json'),
    );
    run(
      'npm',
      [
        'install',
        '--no-save',
        '--force',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...RESVG_PLATFORMS.map((p) => `@resvg/resvg-js-${p}@${resvg.version}`),
      ],
      stage,
    );
    rmSync(join(stage, 'package-lock.json'), { force: true });
    for (const doc of SHIPPED_DOCS) copyFileSync(join(ROOT, doc), join(stage, doc));
    writeFileSync(join(stage, '.mcpbignore'), `${MCPB_IGNORE.join('\n')}\n`);
    writeFileSync(
      join(stage, 'manifest.json'),
      `${JSON.stringify({ ...manifest, tools: toolList() }, null, 2)}\n`,
    );
    run(process.execPath, [MCPB_CLI, 'validate', join(stage, 'manifest.json')], stage);
    mkdirSync(out, { recursive: true });
    run(process.execPath, [MCPB_CLI, 'pack', stage, target], stage);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const bytes = statSync(target).size;
  process.stdout.write(`bundle: ${target} (${bytes} bytes, ${(bytes / 1024 / 1024).toFixed(1)} MiB)\n`);
}

bundle(process.argv.slice(2));
