import { createHash, randomBytes } from 'node:crypto';
import { connectHsm } from '../../src/core/hsm/connect';
import { generateKeyPair } from '../../src/core/hsm/keygen';
import { parseKeyType } from '../../src/core/hsm/key-spec';
import { pkcs11js, type P11 } from '../../src/core/hsm/pkcs11js';
import { signData, verifyWithPublicKey, type SignatureAlgorithm } from '../../src/core/hsm/sign';
import { ratioCheck, ratioOf, type Row } from '../lib/row';
import { interleave, nowMs, stats } from '../lib/stats';
import { freshToken, USER_PIN } from '../lib/token';

/**
 * 1. HSM layer overhead: signData (Keyrite's hsm layer) against the same C_SignInit + C_Sign made
 * directly with pkcs11js on the same session and key. For ECDSA, Keyrite hashes in Node and the
 * token signs the digest (CKM_ECDSA), so the direct path hashes in Node too.
 */
export async function run(opts: { quick: boolean }): Promise<Row[]> {
  const token = freshToken('hsm-layer');
  const conn = connectHsm(token.config);
  try {
    const session = conn.session;
    session.login(USER_PIN);
    const api = session.api;
    const h = session.handle;
    // A message the size of a certificate's TBS part: what a ceremony key actually signs.
    const data = randomBytes(1024);

    const ec = generateKeyPair(session, { spec: parseKeyType('ec-p384'), label: 'bench-ec-p384' });
    const rsa = generateKeyPair(session, { spec: parseKeyType('rsa-3072'), label: 'bench-rsa-3072' });

    const ecAlg: SignatureAlgorithm = { scheme: 'ecdsa', hash: 'SHA-384' };
    const rsaAlg: SignatureAlgorithm = { scheme: 'rsa-pss', hash: 'SHA-384' };
    const pss: P11.Mechanism = {
      mechanism: pkcs11js.CKM_SHA384_RSA_PKCS_PSS,
      parameter: { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: pkcs11js.CKM_SHA384, mgf: pkcs11js.CKG_MGF1_SHA384, saltLen: 48 } as P11.RsaPSS,
    };
    const rawEcdsa = (): Buffer => {
      const digest = createHash('sha384').update(data).digest();
      api.C_SignInit(h, { mechanism: pkcs11js.CKM_ECDSA }, ec.privateKey);
      return api.C_Sign(h, digest, Buffer.alloc(256));
    };
    const rawPss = (): Buffer => {
      api.C_SignInit(h, pss, rsa.privateKey);
      return api.C_Sign(h, data, Buffer.alloc(1024));
    };

    // Both paths must produce signatures that verify, or the comparison means nothing.
    if (!verifyWithPublicKey(ec.publicInfo.keyObject, ecAlg, data, rawEcdsa())) throw new Error('raw ECDSA signature does not verify');
    if (!verifyWithPublicKey(ec.publicInfo.keyObject, ecAlg, data, signData(session, ec.privateKey, ecAlg, data).signature)) throw new Error('Keyrite ECDSA signature does not verify');
    if (!verifyWithPublicKey(rsa.publicInfo.keyObject, rsaAlg, data, rawPss())) throw new Error('raw RSA-PSS signature does not verify');
    if (!verifyWithPublicKey(rsa.publicInfo.keyObject, rsaAlg, data, signData(session, rsa.privateKey, rsaAlg, data).signature)) throw new Error('Keyrite RSA-PSS signature does not verify');

    const timed = (fn: () => unknown) => (): number => {
      const t0 = nowMs();
      fn();
      return nowMs() - t0;
    };
    const cases = [
      { id: '1a', name: 'ECDSA P-384 sign, SHA-384, 1 KiB', key: ec, alg: ecAlg, raw: rawEcdsa, rounds: opts.quick ? 200 : 1000, ref: 'pkcs11js C_SignInit+C_Sign (CKM_ECDSA, SHA-384 in Node)' },
      { id: '1b', name: 'RSA-3072 PSS sign, SHA-384, 1 KiB', key: rsa, alg: rsaAlg, raw: rawPss, rounds: opts.quick ? 60 : 300, ref: 'pkcs11js C_SignInit+C_Sign (CKM_SHA384_RSA_PKCS_PSS)' },
    ];
    const rows: Row[] = [];
    for (const c of cases) {
      const samples = await interleave(
        [
          { name: 'keyrite', run: timed(() => signData(session, c.key.privateKey, c.alg, data)) },
          { name: 'raw', run: timed(c.raw) },
        ],
        { rounds: c.rounds, warmup: 20 },
      );
      const k = stats(samples.get('keyrite')!);
      const r = stats(samples.get('raw')!);
      const ratio = ratioOf(k, r);
      rows.push({
        id: c.id,
        group: 'HSM layer overhead',
        name: c.name,
        keyrite: { label: 'signData', unit: 'ms', stats: k },
        reference: { label: c.ref, unit: 'ms', stats: r },
        ratio,
        target: 'ratio ≤ 1.05',
        checks: [ratioCheck(ratio, 1.05)],
        notes: [`same session and key, ${c.rounds} interleaved calls per side; Keyrite also takes the SHA-256 of the data for the transcript evidence`],
      });
    }
    return rows;
  } finally {
    conn.close();
    token.cleanup();
  }
}
