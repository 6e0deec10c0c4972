import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The packaging configuration is not run in CI (it needs the Electron binary), so its promises
// are checked here: fuses off, asar, no updates, no publishing, AppImage and .deb — and the file
// passes electron-builder's own schema validation.
const ROOT = path.resolve(__dirname, '../..');
const FILE = path.join(ROOT, 'build/electron-builder.yml');
const config = parse(readFileSync(FILE, 'utf8')) as Record<string, unknown>;

describe('build/electron-builder.yml', () => {
  it('turns off the Electron fuses a ceremony app does not need', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('packs the app into asar, never publishes, never updates, builds an AppImage and a .deb', () => {
    expect(config.asar).toBe(true);
    expect(config.publish).toBeNull();
    expect(config.electronUpdaterCompatibility).toBeNull();
    expect((config.linux as { target: string[] }).target).toEqual(['AppImage', 'deb']);
    expect(config.extraResources).toEqual([{ from: 'resources', to: 'resources' }]);
    expect(config.asarUnpack).toEqual(expect.arrayContaining(['node_modules/pkcs11js/**', 'node_modules/sqlite3/**']));
  });

  it('says that the asar-integrity fuse has no effect on the Linux targets, and how integrity is kept there instead', () => {
    const yml = readFileSync(FILE, 'utf8');
    expect(yml).toMatch(/No effect on the Linux targets[^\n]*\n[^\n]*\n\s*enableEmbeddedAsarIntegrityValidation: true/);
    const doc = readFileSync(path.join(ROOT, 'docs/input-checks.md'), 'utf8');
    expect(doc).toMatch(/on the Linux targets \(AppImage, \.deb\) it has no effect/);
    expect(doc).toMatch(/dpkg --verify/);
  });

  it("passes electron-builder's configuration schema", async () => {
    const require = createRequire(path.join(ROOT, 'package.json'));
    const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      getConfig: (dir: string, file: string, extra: null) => Promise<unknown>;
      validateConfiguration: (c: unknown, logger: unknown) => Promise<void>;
    };
    const { DebugLogger } = require('builder-util/out/DebugLogger') as { DebugLogger: new (enabled: boolean) => unknown };
    const loaded = await getConfig(ROOT, FILE, null);
    await expect(validateConfiguration(loaded, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(validateConfiguration({ ...(loaded as object), notAnOption: 1 }, new DebugLogger(false))).rejects.toThrow(/notAnOption|Invalid configuration/);
  });
});
