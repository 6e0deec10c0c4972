import type { HsmSession } from '../hsm/session';

/** Bytes drawn from the token's RNG per serial: 127 random bits after the sign bit is cleared. */
export const SERIAL_BYTES = 16;

/**
 * A certificate serial number from the HSM's RNG (CA/B Forum: ≥ 64 bits of CSPRNG output),
 * made positive by clearing the top bit and written as its minimal big-endian octets.
 */
export function drawSerial(session: HsmSession): Buffer {
  for (;;) {
    const raw = session.random(SERIAL_BYTES);
    raw[0] &= 0x7f;
    // Minimal DER: drop a leading zero octet only while the next one keeps the sign bit clear
    // (00 9A … must stay, or the serial would read as negative).
    let i = 0;
    while (i < raw.length - 1 && raw[i] === 0 && (raw[i + 1] & 0x80) === 0) i++;
    const serial = Buffer.from(raw.subarray(i));
    // All-zero is not a positive integer; the chance is 2^-127, but a loop costs nothing.
    if (serial.some((b) => b !== 0)) return serial;
  }
}
