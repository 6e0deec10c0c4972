import { KeyriteError } from '../errors';

/**
 * A token (and optionally its module) named by an RFC 7512 PKCS#11 URI, the way p11-kit,
 * OpenSSL's pkcs11 provider and step-kms-plugin name them:
 *   pkcs11:token=Root%20CA;serial=4a1b2c;model=SoftHSM%20v2?module-path=/usr/lib/softhsm/libsofthsm2.so
 * Only token-selecting attributes are accepted: a URI that names a key or carries a PIN is
 * refused (PINs are typed, never stored in settings or answers files).
 */
export interface TokenUri {
  token?: string;
  serial?: string;
  model?: string;
  manufacturer?: string;
  modulePath?: string;
}

const TOKEN_ATTRS: Record<string, keyof TokenUri> = {
  token: 'token',
  serial: 'serial',
  model: 'model',
  manufacturer: 'manufacturer',
  'module-path': 'modulePath',
};
/** PKCS#11 token-info fields are fixed-width: label 32, manufacturer 32, model 16, serial 16 bytes. */
const MAX_BYTES: Partial<Record<keyof TokenUri, number>> = { token: 32, manufacturer: 32, model: 16, serial: 16 };
const OBJECT_ATTRS = new Set(['object', 'id', 'type', 'library-manufacturer', 'library-description', 'library-version', 'slot-description', 'slot-id', 'slot-manufacturer']);
const PIN_ATTRS = new Set(['pin-value', 'pin-source']);

function bad(uri: string, problem: string, details: Record<string, unknown> = {}): KeyriteError {
  return new KeyriteError('HSM_URI_INVALID', `The PKCS#11 URI '${redact(uri)}' ${problem}.`, { details: { ...details } });
}

/** Never echo a PIN back, even inside an error message. */
function redact(uri: string): string {
  return uri.replace(/(pin-value=)[^;&?]*/gi, '$1…');
}

function decode(uri: string, raw: string, name: string): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) throw bad(uri, `has a broken percent-escape in '${name}'; write special characters as %XX`, { attribute: name });
  try {
    return decodeURIComponent(raw);
  } catch {
    throw bad(uri, `has a value for '${name}' that is not valid UTF-8 once percent-decoded`, { attribute: name });
  }
}

export function isPkcs11Uri(text: string): boolean {
  return /^pkcs11:/i.test(text.trim());
}

export function parsePkcs11Uri(text: string): TokenUri {
  const uri = text.trim();
  if (!/^pkcs11:/i.test(uri)) throw bad(uri, 'does not start with "pkcs11:"; write it like pkcs11:token=MyToken;serial=1234');
  const body = uri.slice('pkcs11:'.length);
  const q = body.indexOf('?');
  const pathPart = q < 0 ? body : body.slice(0, q);
  const queryPart = q < 0 ? '' : body.slice(q + 1);
  const out: TokenUri = {};
  const take = (pair: string, sep: string): void => {
    if (pair === '') return;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw bad(uri, `has '${pair}' where an attribute=value pair belongs (pairs are separated by '${sep}')`, { attribute: pair });
    const name = pair.slice(0, eq).toLowerCase();
    if (PIN_ATTRS.has(name)) throw bad(uri, `carries a PIN (${name}); Keyrite asks for PINs when they are needed and never keeps them in a URI, setting or file. Remove it`, { attribute: name });
    if (OBJECT_ATTRS.has(name)) throw bad(uri, `selects '${name}', but Keyrite needs a URI that names a token (token, serial, model, manufacturer, module-path)`, { attribute: name });
    const field = TOKEN_ATTRS[name];
    if (!field) {
      if (name.startsWith('x-') || name === 'module-name') return; // vendor or p11-kit extensions: not ours to interpret
      throw bad(uri, `has an unknown attribute '${name}'; Keyrite understands token, serial, model, manufacturer and module-path`, { attribute: name });
    }
    if (out[field] !== undefined) throw bad(uri, `gives '${name}' twice`, { attribute: name });
    const value = decode(uri, pair.slice(eq + 1), name);
    if (value === '') throw bad(uri, `gives an empty '${name}'`, { attribute: name });
    const max = MAX_BYTES[field];
    if (max !== undefined && Buffer.byteLength(value) > max) throw bad(uri, `gives a ${name} of ${Buffer.byteLength(value)} bytes; PKCS#11 allows at most ${max}`, { attribute: name });
    if (field === 'modulePath' && !value.startsWith('/')) throw bad(uri, `gives module-path '${value}', which is not an absolute path`, { attribute: name });
    out[field] = value;
  };
  // step-kms-plugin writes module-path in the path part; RFC 7512 puts it in the query: accept both.
  for (const pair of pathPart.split(';')) take(pair, ';');
  for (const pair of queryPart.split('&')) take(pair, '&');
  if (out.token === undefined && out.serial === undefined && out.model === undefined && out.manufacturer === undefined) {
    throw bad(uri, 'names no token; give at least token=, serial=, model= or manufacturer=');
  }
  return out;
}

/** The URI for a token (what the transcript and `hsm info` show). */
export function formatPkcs11Uri(t: TokenUri): string {
  const enc = (v: string): string => encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const parts: string[] = [];
  if (t.model) parts.push(`model=${enc(t.model)}`);
  if (t.manufacturer) parts.push(`manufacturer=${enc(t.manufacturer)}`);
  if (t.serial) parts.push(`serial=${enc(t.serial)}`);
  if (t.token) parts.push(`token=${enc(t.token)}`);
  return `pkcs11:${parts.join(';')}${t.modulePath ? `?module-path=${enc(t.modulePath).replace(/%2F/g, '/')}` : ''}`;
}
