import { describe, expect, it } from 'vitest';
import type { HsmSession } from '../../src/core/hsm/session';
import { drawSerial } from '../../src/core/x509/serial';

/** drawSerial's encoding, fed fixed "random" octets (the HSM's RNG is exercised by the integration tests). */
const fromRng = (hex: string[]): HsmSession => {
  const queue = hex.map((h) => Buffer.from(h, 'hex'));
  return { random: () => queue.shift()! } as unknown as HsmSession;
};

describe('certificate serial numbers', () => {
  it.each([
    ['a random first octet: sign bit cleared', 'ff' + '11'.repeat(15), '7f' + '11'.repeat(15)],
    ['a zero first octet before a high octet stays (else the serial is negative)', '00' + '9a'.repeat(15), '00' + '9a'.repeat(15)],
    ['a zero first octet before a low octet is dropped (minimal DER)', '80' + '12'.repeat(15), '12'.repeat(15)],
    ['several zero octets are dropped down to the sign-safe octet', '0000' + 'c3'.repeat(14), '00' + 'c3'.repeat(14)],
  ])('%s', (_name, raw, expected) => {
    const serial = drawSerial(fromRng([raw]));
    expect(serial.toString('hex')).toBe(expected);
    expect(serial[0] & 0x80).toBe(0);
  });

  it('draws again for the (2^-127) all-zero serial', () => {
    expect(drawSerial(fromRng(['80' + '00'.repeat(15), '01' + '00'.repeat(15)])).toString('hex')).toBe('01' + '00'.repeat(15));
  });
});
