import type { Command } from 'commander';
import { DEMO_USER_PIN, resolveHsmConfig } from '../../core/hsm/config';
import { withHsm } from '../../core/hsm/connect';
import { generateKeyPair, selfTest } from '../../core/hsm/keygen';
import { KEY_TYPES, parseKeyType } from '../../core/hsm/key-spec';
import { describeHsm, formatHsmDescription } from '../../core/hsm/describe';
import { KEY_CUSTODIES, type KeyCustody } from '../../core/hsm/templates';
import { KeyriteError } from '../../core/errors';
import { readTokenPin } from '../io';

function parseCustody(text: string): KeyCustody {
  const found = KEY_CUSTODIES.find((c) => c === text);
  if (!found) throw new KeyriteError('USAGE', `--custody takes ${KEY_CUSTODIES.join(', ')}, not '${text}'.`);
  return found;
}

export function registerHsmCommands(program: Command): void {
  const hsm = program.command('hsm').description('inspect the HSM and make test keys');

  hsm
    .command('info')
    .description('show the PKCS#11 module, its slots and tokens, and the mechanisms Keyrite needs')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const description = describeHsm(resolveHsmConfig());
      process.stdout.write((opts.json ? JSON.stringify(description, null, 2) : formatHsmDescription(description)) + '\n');
    });

  hsm
    .command('keygen')
    .description('generate a key pair in the token and self-test it (for operators\' tests)')
    .requiredOption('--type <type>', KEY_TYPES.join(' | '))
    .requiredOption('--label <label>', 'CKA_LABEL of the new key')
    .option('--wrappable', 'generate it for backup: extractable only under a trusted KEK (CKA_WRAP_WITH_TRUSTED)')
    .option('--custody <custody>', `how the key may leave the token: ${KEY_CUSTODIES.join(' | ')} (default non-extractable)`)
    .option('--pin-file <file>', 'read the user PIN from this file')
    .action(async (opts: { type: string; label: string; wrappable?: boolean; custody?: string; pinFile?: string }) => {
      const spec = parseKeyType(opts.type); // refused before touching the HSM
      const custody = parseCustody(opts.custody ?? (opts.wrappable ? 'wrap-with-trusted' : 'non-extractable'));
      const config = resolveHsmConfig();
      const pin = await readTokenPin(config, opts.pinFile, config.demo ? DEMO_USER_PIN : undefined);
      await withHsm(config, { pin }, ({ session }) => {
        const key = generateKeyPair(session, { spec, label: opts.label, custody });
        const tests = selfTest(session, key);
        process.stdout.write(
          [
            `Generated ${spec.type} key '${key.label}' on token '${session.token.label}' (serial ${session.token.serial}).`,
            `SPKI SHA-256: ${key.publicInfo.fingerprint}`,
            `Attributes: sensitive=${key.attributes.sensitive} always-sensitive=${key.attributes.alwaysSensitive} extractable=${key.attributes.extractable} never-extractable=${key.attributes.neverExtractable} wrap-with-trusted=${key.attributes.wrapWithTrusted} modifiable=${key.attributes.modifiable} copyable=${key.attributes.copyable} local=${key.attributes.local}`,
            ...tests.map((t) => `Self-test passed: ${t.mechanism} with ${t.hash}`),
          ].join('\n') + '\n',
        );
      });
    });
}

