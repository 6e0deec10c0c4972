import type { HsmConfig } from './config';
import { keyriteMechanismSupport, type MechanismSupport } from './mechanisms';
import { Pkcs11Module, type ModuleInfo } from './pkcs11-module';
import { describeTokenQuery, listTokens, tokenMatches, type TokenSummary } from './token';
import { formatPkcs11Uri } from './pkcs11-uri';

export interface TokenDescription extends Omit<TokenSummary, 'slot'> {
  mechanisms: MechanismSupport[];
  /** RFC 7512 URI naming this token (with its module), for settings, answers files and other tools. */
  uri: string;
  selected: boolean;
}

export interface HsmDescription {
  module: ModuleInfo & { profile: string };
  /** The configured token label (empty when the token is chosen by serial/model alone). */
  selectedToken: string;
  /** How the token is chosen, in words ("labelled 'x' with serial '1234'"). */
  selectedBy: string;
  demo: boolean;
  tokens: TokenDescription[];
}

/**
 * What `keyrite hsm info` and the desktop HSM screen show: the module, every slot with its token,
 * and which of the mechanisms Keyrite relies on each token supports. Needs no login.
 */
export function describeHsm(config: HsmConfig): HsmDescription {
  const module = Pkcs11Module.open(config.modulePath, { initArgs: config.initArgs });
  try {
    const query = { label: config.tokenLabel, ...config.token };
    const tokens = listTokens(module).map((token) => {
      // The slot handle is only valid inside this process: it is not part of the description.
      const { slot: _slot, ...rest } = token;
      return {
        ...rest,
        mechanisms: token.present ? keyriteMechanismSupport(module, token) : [],
        uri: formatPkcs11Uri({ token: token.label, serial: token.serial, model: token.model, manufacturer: token.manufacturer, modulePath: config.modulePath }),
        selected: token.present && token.flags.tokenInitialized && tokenMatches(token, query),
      };
    });
    return { module: { ...module.info, profile: module.profile.name }, selectedToken: config.tokenLabel, selectedBy: describeTokenQuery(query), demo: config.demo, tokens };
  } finally {
    module.close();
  }
}

/** The plain-text form of `describeHsm` for the terminal. */
export function formatHsmDescription(d: HsmDescription): string {
  const lines: string[] = [];
  lines.push(`Module:   ${d.module.path}`);
  lines.push(`          ${d.module.manufacturer} — ${d.module.description} (library ${d.module.libraryVersion}, Cryptoki ${d.module.cryptokiVersion})`);
  lines.push(`          module profile: ${d.module.profile}`);
  lines.push(`Selected: the token ${d.selectedBy}${d.demo ? ' (embedded demo token)' : ''}`);
  for (const t of d.tokens) {
    lines.push('');
    if (!t.present) {
      lines.push(`Slot ${t.slotId}: ${t.slotDescription} — no token present`);
      continue;
    }
    if (!t.flags.tokenInitialized) {
      // SoftHSM always offers one free slot for a new token; real HSMs may have blank tokens too.
      lines.push(`Slot ${t.slotId}: uninitialized token (${t.manufacturer} ${t.model}) — initialize it with the vendor's tools before use`);
      continue;
    }
    lines.push(`Slot ${t.slotId}: token '${t.label}'${t.selected ? '  <- selected' : ''}`);
    lines.push(`  serial ${t.serial}, ${t.manufacturer} ${t.model}, firmware ${t.firmware}, hardware ${t.hardware}`);
    lines.push(`  uri: ${t.uri}`);
    const flags = Object.entries(t.flags).filter(([, v]) => v).map(([k]) => k);
    lines.push(`  flags: ${flags.join(', ') || 'none'}; PIN length ${t.minPinLength}-${t.maxPinLength}`);
    lines.push('  mechanisms:');
    for (const m of t.mechanisms) {
      const size = m.supported && m.maxKeySize ? ` (key size ${m.minKeySize}-${m.maxKeySize})` : '';
      lines.push(`    ${m.supported ? 'yes' : 'NO '}  ${m.name.padEnd(26)} ${m.purpose}${size}${!m.supported && m.required ? '  — required by Keyrite' : ''}`);
    }
  }
  return lines.join('\n');
}
