// esbuild settings shared by the CLI and benchmark bundles: ESM for Node 20, one chunk per
// dynamic import, dependencies external (native modules such as pkcs11js and sqlite3 cannot be
// bundled), and a `require` for the CommonJS packages they load. `entry` is one file (named by
// `entryNames`) or an object of output name → file. `splitting: false` makes each entry one file
// with everything it imports; `plugins` are esbuild's.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/**
 * Test-only switches, replaced by `undefined` in every shipped bundle so the code that reads them
 * is gone (not just unset): the crash-test seam in src/core/fault.ts. Test builds
 * (`testBuild: true`) keep them live.
 */
export const TEST_ONLY_ENV = ['KEYRITE_FAULT_KILL_AT', 'KEYRITE_FAULT_TRACE'];
export const shippedDefines = () => Object.fromEntries(TEST_ONLY_ENV.map((name) => [`process.env.${name}`, 'undefined']));

export async function bundleNode({ entry, outdir, entryNames = '[name]', chunkNames = 'chunks/[name]-[hash]', testBuild = false, splitting = true, plugins = [] }) {
  return build({
    entryPoints: typeof entry === 'string' ? [entry] : entry,
    outdir,
    entryNames,
    chunkNames,
    outExtension: { '.js': '.mjs' },
    splitting,
    plugins,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    sourcesContent: testBuild, // shipped maps point at the sources without carrying them (or the test-only code)
    minifySyntax: true, // folds the replaced switches away, nothing else changes
    logLevel: 'warning',
    metafile: true, // the list of files written, so a caller can remove what an older build left
    define: { __KEYRITE_VERSION__: JSON.stringify(version), ...(testBuild ? {} : shippedDefines()) },
    banner: { js: "import { createRequire as __kr_cr } from 'node:module'; const require = __kr_cr(import.meta.url);" },
  });
}
