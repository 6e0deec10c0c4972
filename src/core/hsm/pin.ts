import { KeyriteError } from '../errors';

/**
 * The one normalisation every PIN goes through, whatever its source (prompt, KEYRITE_PIN,
 * --pin-file, an answers file, the desktop app): one trailing line ending is dropped — a PIN
 * written to a file or an environment variable with `echo` ends with one — and anything that
 * cannot be part of a PIN someone typed (a control character, a second line, a leading or
 * trailing space) is refused before it reaches the token, where it would cost a PIN attempt.
 * The PIN itself never appears in the error.
 */
export function normalizePin(raw: string, source = 'the PIN'): string {
  const pin = raw.replace(/\r?\n$/, '');
  if (pin.length === 0) {
    throw new KeyriteError('PIN_EMPTY', `${capitalize(source)} is empty. Enter the PIN; nothing was sent to the token.`, { details: { source } });
  }
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f-\u009f]/.exec(pin);
  if (control) {
    const what = control[0] === '\n' || control[0] === '\r' ? 'a second line' : 'a control character';
    throw new KeyriteError('PIN_INVALID', `${capitalize(source)} contains ${what} (at character ${control.index + 1}), which no PIN has. Nothing was sent to the token, so no PIN attempt was used; check how the PIN was written.`, { details: { source, position: control.index + 1 } });
  }
  if (pin !== pin.trim()) {
    throw new KeyriteError('PIN_INVALID', `${capitalize(source)} starts or ends with a space. Nothing was sent to the token, so no PIN attempt was used; remove the space.`, { details: { source } });
  }
  return pin;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
