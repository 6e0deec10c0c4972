import path from 'node:path';
import { KeyriteError } from '../../core/errors';
import { checkOutputDir } from '../../core/fs/output-dir';

/**
 * Folders of the operating system and of Keyrite itself that a ceremony bundle must never be
 * written into, whatever the (untrusted) renderer asks for.
 */
const SYSTEM_ROOTS = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/run', '/sbin', '/sys', '/usr', '/var/lib', '/var/log', '/var/cache', '/var/spool', '/snap'];

const within = (child: string, parent: string): boolean => {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/**
 * The bundle folder for `ceremony:start`: a relative name is taken inside the output folder and
 * may not climb out of it; an absolute one may be anywhere a person could mean (a USB medium),
 * but never into a system folder or Keyrite's own data folder; either way the checks of
 * `checkOutputDir` (not a file, not under /proc, writable) run before the ceremony exists.
 */
export function resolveBundleDir(requested: string | undefined, defaults: { outputFolder: string; home: string; name: string }): string {
  const base = path.resolve(defaults.outputFolder);
  const wanted = requested?.trim() ? requested.trim() : defaults.name;
  const abs = path.isAbsolute(wanted) ? path.resolve(wanted) : path.resolve(base, wanted);
  if (!path.isAbsolute(wanted) && !within(abs, base)) {
    throw new KeyriteError('CEREMONY_OUT_OUTSIDE', `The bundle folder '${wanted}' would be outside the output folder '${base}'. Give a plain folder name, or a full path on the export medium.`, { details: { dir: abs, outputFolder: base } });
  }
  if (abs === '/' || SYSTEM_ROOTS.some((r) => within(abs, r))) {
    throw new KeyriteError('CEREMONY_OUT_SYSTEM_FOLDER', `The bundle folder '${abs}' is inside a system folder. Choose a folder on the export medium or under the output folder '${base}'.`, { details: { dir: abs } });
  }
  const home = path.resolve(defaults.home);
  if (within(abs, home) && !within(abs, path.join(home, 'bundles')) && !within(abs, base)) {
    throw new KeyriteError('CEREMONY_OUT_SYSTEM_FOLDER', `The bundle folder '${abs}' is inside Keyrite's own data folder '${home}'. Choose a folder on the export medium or under the output folder '${base}'.`, { details: { dir: abs } });
  }
  return checkOutputDir(abs);
}
