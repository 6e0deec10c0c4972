import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KeyriteError } from '../../errors';
import { writeFileAtomic } from '../../fs/atomic-write';
import { exportPublicKey as exportPub, issueCrossCertificate, issueCsr as makeCsr, issueRootCertificate, loadCertProfile, parseCertificate, type IssuedCertificate, type SignatureEvent } from '../../x509';
import type { ActionContext, ActionHandler } from '../context';
import { inventoryKeyRef, keyRef } from './keys';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * Write a bundle artifact. An artifact already written by this step before an interruption is
 * kept (the signing is not done twice); a different file in its place is refused.
 */
function artifactPath(ctx: ActionContext, name: string): string {
  const file = path.join(ctx.outDir, 'keys', name);
  mkdirSync(path.dirname(file), { recursive: true });
  return file;
}

async function writeArtifact(ctx: ActionContext, file: string, content: string): Promise<string> {
  const rel = path.relative(ctx.outDir, file);
  // Say what is about to be written before writing it: after a crash the file is then known as ours.
  ctx.state.actionState.pendingArtifact = { path: rel, sha256: sha256(content) };
  await ctx.checkpoint();
  await writeFileAtomic(file, content, { exclusive: true });
  ctx.state.artifacts[rel] = { path: rel, sha256: sha256(content) };
  return rel;
}

function existingArtifact(ctx: ActionContext, file: string): string | null {
  const rel = path.relative(ctx.outDir, file);
  if (!existsSync(file)) return null;
  const recorded = ctx.state.artifacts[rel] ?? (ctx.state.actionState.pendingArtifact as { path: string; sha256: string } | undefined);
  const content = readFileSync(file, 'utf8');
  if (!recorded || recorded.path !== rel || recorded.sha256 !== sha256(content)) {
    throw new KeyriteError('CEREMONY_ARTIFACT_EXISTS', `'${file}' already exists and was not written by this step. Keyrite does not overwrite files; move it away and retry.`, { details: { file } });
  }
  // Written before an interruption: it is this ceremony's artifact (the seal takes only those).
  ctx.state.artifacts[rel] = { path: rel, sha256: recorded.sha256 };
  return content;
}

function signatureRecorder(ctx: ActionContext, keyId: string): (e: SignatureEvent) => void {
  return (e) => {
    ctx.emit('KEY_USED', { keyId, label: e.keyLabel, purpose: e.purpose, mechanism: e.mechanism });
    ctx.emit('SIGNATURE_GENERATED', { keyId, label: e.keyLabel, purpose: e.purpose, mechanism: e.mechanism, dataSha256: e.dataSha256 });
  };
}

export const exportPublicKey: ActionHandler = {
  requiresLogin: true,
  need: () => null,
  continueMessage: () => 'Export the public key (SubjectPublicKeyInfo PEM).',
  async run(ctx) {
    const ref = keyRef(ctx);
    const pub = exportPub(ctx.session(), ref.label);
    if (pub.fingerprint.hex !== ref.spkiSha256) throw new KeyriteError('CEREMONY_KEY_CHANGED', `The public key on the token is not the key this ceremony generated. Stop and investigate.`);
    const file = artifactPath(ctx, `${ref.keyId}.pub.pem`);
    const rel = existingArtifact(ctx, file) !== null ? path.relative(ctx.outDir, file) : await writeArtifact(ctx, file, pub.pem);
    ctx.emit('PUBLIC_KEY_EXPORTED', { keyId: ref.keyId, file: rel, sha256: sha256(pub.pem), spkiSha256: pub.fingerprint.hex, fingerprint: pub.fingerprint.colonHex, words: pub.fingerprint.words });
    ctx.state.evidence = { file: rel, fingerprint: pub.fingerprint.colonHex, words: pub.fingerprint.words.join(' ') };
    return 'done';
  },
};

export const issueRootCert: ActionHandler = {
  requiresLogin: true,
  need: () => null,
  continueMessage: (ctx) => `Sign the self-signed root certificate for "${String(ctx.params.subject)}" inside the HSM.`,
  async run(ctx) {
    const ref = keyRef(ctx);
    const file = artifactPath(ctx, `${ref.keyId}.cert.pem`);
    const already = existingArtifact(ctx, file);
    let pem: string;
    let issued: IssuedCertificate | null = null;
    if (already !== null) {
      pem = already;
    } else {
      const profile = loadCertProfile(String(ctx.step.with?.profile ?? 'root-ca'), { subject: String(ctx.params.subject), days: Number(ctx.params.days) });
      issued = await issueRootCertificate(ctx.session(), { label: ref.label, profile, policy: ctx.deps.policy, onSignature: signatureRecorder(ctx, ref.keyId) });
      pem = issued.pem;
      await writeArtifact(ctx, file, pem);
    }
    // Just issued: the certificate its lint parsed from the DER this PEM encodes; found on disk: read now.
    const cert = issued?.certificate ?? parseCertificate(pem, 'root certificate');
    const rel = path.relative(ctx.outDir, file);
    const data = { keyId: ref.keyId, file: rel, sha256: sha256(pem), serial: cert.serialNumber, subject: cert.subject, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(), reconciled: already !== null };
    ctx.emit('CERTIFICATE_ISSUED', { kind: 'root', ...data });
    ctx.state.evidence = { file: rel, serial: cert.serialNumber, subject: cert.subject, notAfter: data.notAfter };
    ctx.onCommit((tx) => ctx.deps.inventory.addCertificate(ref.keyId, { serial: cert.serialNumber, subject: cert.subject, issuer: cert.issuer, notBefore: data.notBefore, notAfter: data.notAfter, fingerprint: sha256(Buffer.from(cert.rawData)), file: rel, ceremonyId: ctx.ceremonyId }, tx));
    return 'done';
  },
};

export const issueCsr: ActionHandler = {
  requiresLogin: true,
  need: () => null,
  continueMessage: () => 'Sign the certificate signing request (PKCS#10) inside the HSM.',
  async run(ctx) {
    const ref = keyRef(ctx);
    const file = artifactPath(ctx, `${ref.keyId}.csr.pem`);
    const already = existingArtifact(ctx, file);
    let pem = already;
    if (pem === null) {
      const csr = await makeCsr(ctx.session(), { label: ref.label, subject: String(ctx.params.subject), policy: ctx.deps.policy, onSignature: signatureRecorder(ctx, ref.keyId) });
      pem = csr.pem;
      await writeArtifact(ctx, file, pem);
    }
    const rel = path.relative(ctx.outDir, file);
    ctx.emit('CSR_ISSUED', { keyId: ref.keyId, file: rel, sha256: sha256(pem), subject: String(ctx.params.subject), reconciled: already !== null });
    ctx.state.evidence = { file: rel, subject: String(ctx.params.subject) };
    return 'done';
  },
};

/** Rotation: the old root certifies the new key, so relying parties can move over gradually. */
export const issueCrossCert: ActionHandler = {
  requiresLogin: true,
  need: () => null,
  continueMessage: () => 'Sign the cross-certificate: the old root key certifies the new key.',
  async run(ctx) {
    const newRef = keyRef(ctx);
    const oldRef = await inventoryKeyRef(ctx, 'oldKeyId', 'old');
    const certFile = typeof ctx.params.oldCertFile === 'string' ? ctx.params.oldCertFile : null;
    if (!certFile) throw new KeyriteError('CEREMONY_PARAMETER_MISSING', 'A cross-certificate needs the old root\'s certificate (parameter oldCertFile).');
    const file = artifactPath(ctx, `${newRef.keyId}.cross-${oldRef.keyId}.cert.pem`);
    const already = existingArtifact(ctx, file);
    let pem = already;
    if (pem === null) {
      const profile = loadCertProfile(String(ctx.step.with?.profile ?? 'cross-cert'), { subject: String(ctx.params.subject), days: Number(ctx.params.days) });
      const cert = await issueCrossCertificate(ctx.session(), { issuerLabel: oldRef.label, issuerCertPem: readFileSync(certFile, 'utf8'), subjectLabel: newRef.label, profile, policy: ctx.deps.policy, onSignature: signatureRecorder(ctx, oldRef.keyId) });
      pem = cert.pem;
      await writeArtifact(ctx, file, pem);
    }
    const cert = parseCertificate(pem, 'cross-certificate');
    const rel = path.relative(ctx.outDir, file);
    ctx.emit('CERTIFICATE_ISSUED', { kind: 'cross', keyId: newRef.keyId, issuerKeyId: oldRef.keyId, file: rel, sha256: sha256(pem), serial: cert.serialNumber, subject: cert.subject, issuer: cert.issuer, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(), reconciled: already !== null });
    ctx.state.evidence = { file: rel, serial: cert.serialNumber, issuer: cert.issuer };
    ctx.onCommit((tx) => ctx.deps.inventory.addCertificate(newRef.keyId, { serial: cert.serialNumber, subject: cert.subject, issuer: cert.issuer, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(), fingerprint: sha256(Buffer.from(cert.rawData)), file: rel, ceremonyId: ctx.ceremonyId }, tx));
    return 'done';
  },
};
