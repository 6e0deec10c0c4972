/**
 * What a serial number typed at a ceremony looks like (a tamper-evident bag, an HSM, a USB stick):
 * letters, digits and dashes, as printed on the item. One rule for the core, which enforces it,
 * and the screens, which check it as it is typed.
 */
export const SERIAL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{2,63}$/;

export const SERIAL_HINT = 'letters, digits and dashes (3–64 characters), as printed on the item';

/** Serials in a list are separated by spaces, commas or semicolons. */
export function splitSerials(text: string): string[] {
  return text.split(/[\s,;]+/).filter(Boolean);
}
