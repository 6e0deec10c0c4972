// esbuild settings shared by the CLI and benchmark bundles: ESM for Node 20, one chunk per
// dynamic import, dependencies external (native modules such as pkcs11js and sqlite3 cannot be
// bundled), and a `require` for the CommonJS packages they load. `entry` is one file (named by
// `entryNames`) or an object of output name → file.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

export async function bundleNode({ entry, outdir, entryNames = '[name]', chunkNames = 'chunks/[name]-[hash]' }) {
  return build({
    entryPoints: typeof entry === 'string' ? [entry] : entry,
    outdir,
    entryNames,
    chunkNames,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
    metafile: true, // the list of files written, so a caller can remove what an older build left
    define: { __KEYRITE_VERSION__: JSON.stringify(version) },
    banner: { js: "import { createRequire as __kr_cr } from 'node:module'; const require = __kr_cr(import.meta.url);" },
  });
}
