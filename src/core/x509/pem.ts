/** PEM armour (RFC 7468): base64 in 64-character lines between BEGIN/END labels. */
export function toPem(der: Buffer, label: 'PUBLIC KEY' | 'CERTIFICATE' | 'CERTIFICATE REQUEST'): string {
  const body = (der.toString('base64').match(/.{1,64}/g) ?? []).join('\n');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}
