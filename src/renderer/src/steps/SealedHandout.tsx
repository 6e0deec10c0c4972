import { useState } from 'react';
import { call, keyrite } from '../app/api';
import { useAutoFocus } from '../app/hooks';
import { HashDisplay } from '../components/HashDisplay';
import { PrintShareCard } from './PrintShareCard';
import { ReadBackForm } from './ReadBack';
import type { StepProps } from './types';

/**
 * Hand-out of a share sealed to the custodian's OpenPGP key. No word of it is ever on this screen:
 * Keyrite encrypts it to the key enrolled at check-in and writes the file to the medium the
 * administrator chooses (phase 'seal'); then the custodian decrypts it on their own device and
 * types back the words asked for, blind (phase 'confirm'). Nobody needs to look away.
 */
export function SealedHandout(props: StepProps<'shareHandout'>): React.JSX.Element {
  const { need } = props;
  if (need.phase === 'confirm' && need.sealed?.file) return <ProofOfPossession {...props} />;
  return <SealTheShare {...props} />;
}

function Recipient({ need }: { need: StepProps<'shareHandout'>['need'] }): React.JSX.Element {
  const s = need.sealed!;
  return <HashDisplay label={`Sealed to the OpenPGP key of ${need.custodian.name}`} hex={s.recipientFingerprint} className="recipient-key" />;
}

function SealTheShare({ need, busy, provide, runView }: StepProps<'shareHandout'>): React.JSX.Element {
  const sealed = need.sealed!;
  const [dir, setDir] = useState<string | null>(null);
  const [picking, setPicking] = useState(false);
  const ref = useAutoFocus<HTMLButtonElement>();
  const chooseDir = async () => {
    if (!runView) return;
    setPicking(true);
    // Through runView so that a refusal (no dialog here, a bad folder) shows like any step error.
    await runView(async () => {
      const r = await call(keyrite().share.pickSealDir());
      if (r.path) setDir(r.path);
      return null;
    });
    setPicking(false);
  };
  return (
    <section className="sealed-handout sealed-seal" aria-labelledby="seal-title">
      <p className="share-count">
        Share {need.shareIndex} of {need.of}
      </p>
      <h2 id="seal-title">{need.custodian.name}&apos;s share is sealed, never shown</h2>
      <p>
        Keyrite encrypts share {need.shareIndex} to the OpenPGP key {need.custodian.name} confirmed at check-in and writes it as a file. Its words do not appear on this screen, so nobody needs to look away. Only {need.custodian.name}&apos;s own device can open it.
      </p>
      <Recipient need={need} />
      <div className="field seal-dir">
        <p className="label" id="seal-dir-label">
          Folder for the sealed file (the custodian&apos;s removable medium)
        </p>
        <p aria-labelledby="seal-dir-label">
          <code className="path">{dir ?? sealed.defaultDir}</code>
          {dir === null && <span className="hint"> (the default: a folder beside the bundle, never inside it)</span>}
        </p>
        <button type="button" className="secondary" disabled={busy || picking || !runView} onClick={() => void chooseDir()}>
          {picking ? 'Choosing…' : 'Choose the medium folder…'}
        </button>
      </div>
      <div className="actions">
        <button ref={ref} type="button" disabled={busy} onClick={() => void provide(dir ? { kind: 'shareSeal', dir } : { kind: 'shareSeal' })}>
          {busy ? 'Encrypting…' : `Seal share ${need.shareIndex} to ${need.custodian.name}'s key and write the file`}
        </button>
      </div>
    </section>
  );
}

function ProofOfPossession(props: StepProps<'shareHandout'>): React.JSX.Element {
  const { need, view, busy, provide } = props;
  const file = need.sealed!.file!;
  const [cannot, setCannot] = useState(false);
  const name = need.custodian.name;
  return (
    <section className="sealed-handout sealed-proof" data-file={file.path} aria-label={`Sealed share ${need.shareIndex} of ${need.of} for ${name}`}>
      <div className="sealed-file">
        <h3>Share {need.shareIndex} of {need.of} is written, sealed to {name}&apos;s key</h3>
        <dl className="openpgp-facts">
          <div>
            <dt>File</dt>
            <dd>
              <code className="sealed-file-name">{file.name}</code>
            </dd>
          </div>
          <div>
            <dt>On the medium</dt>
            <dd>
              <code className="path">{file.dir}</code>
            </dd>
          </div>
          <div>
            <dt>Sealed to</dt>
            <dd>
              <code className="recipient-fingerprint" data-fingerprint={need.sealed!.recipientFingerprint}>
                {need.sealed!.fingerprintGroups}
              </code>
            </dd>
          </div>
        </dl>
        <HashDisplay label="SHA-256 of the file, to read aloud (also on the printed card and in the transcript)" hex={file.sha256} className="sealed-sha256" />
      </div>
      {cannot ? (
        <CannotDecrypt name={name} index={need.shareIndex} busy={busy} onBack={() => setCannot(false)} onConfirm={() => void provide({ kind: 'shareCannotDecrypt' })} />
      ) : (
        <ReadBackForm
          className="sealed-readback"
          positions={need.confirmPositions ?? []}
          view={view}
          busy={busy}
          masked
          title={`${name}: prove you can open it`}
          intro={
            <>
              On your own device, decrypt the file (for example <code>gpg --decrypt {file.name}</code> with your card) and type the words at these positions. What you type is hidden here.
            </>
          }
          submitLabel="Check the words"
          onSubmit={(words) => void provide({ kind: 'shareConfirm', words })}
          actions={
            <>
              <button type="button" className="secondary" disabled={busy} onClick={() => setCannot(true)}>
                {name} cannot decrypt it…
              </button>
              {need.shareCards === true && <PrintShareCard ceremonyId={view.ceremonyId} shareIndex={need.shareIndex} disabled={busy} />}
            </>
          }
        />
      )}
    </section>
  );
}

function CannotDecrypt({ name, index, busy, onBack, onConfirm }: { name: string; index: number; busy: boolean; onBack: () => void; onConfirm: () => void }): React.JSX.Element {
  const ref = useAutoFocus<HTMLButtonElement>();
  return (
    <div className="warn-box cannot-decrypt" role="group" aria-labelledby="cannot-title">
      <h3 id="cannot-title">{name} cannot decrypt share {index}?</h3>
      <p>
        Then this split cannot be trusted: every share of it is void and Keyrite makes a fresh backup with a new split. {name} then receives words on screen instead. This is recorded in the transcript. Destroy the file written for {name}.
      </p>
      <div className="actions">
        <button ref={ref} type="button" className="secondary" onClick={onBack}>
          Back: try decrypting again
        </button>
        <button type="button" className="danger" disabled={busy} onClick={onConfirm}>
          Void the split and make a fresh one (recorded)
        </button>
      </div>
    </div>
  );
}
