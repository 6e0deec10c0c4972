import { KeyriteError } from '../../errors';
import { SERIAL_HINT, SERIAL_PATTERN } from '../../../shared/serial-rule';
import { requirePlainText } from '../../text/plain-text';
import type { ActionContext, ActionHandler } from '../context';
import { gatherPreflight } from '../preflight';
import { describeGaps, mechanismGaps } from '../hsm-requirements';
import { bagRows, parseBagSerials, type BagRecord } from '../bag-serials';
import { roleSpecs } from '../script';
import { confirmFingerprint, enrolPresentedKeys, fingerprintConfirmNeed } from './openpgp-enrolment';
import { quorumShortfalls } from '../validate/quorum';
import type { Participant } from '../types';

/** Bounds on what a person types, so a name or a statement fits a line of the printed record. */
const MAX_NAME_LENGTH = 200;
const MAX_STATEMENT_LENGTH = 2000;

/** Participants check in with their roles; counts are checked against the script's role bounds. */
export const checkIn: ActionHandler = {
  requiresLogin: false,
  need: (ctx) => (ctx.state.participants.length > 0 ? fingerprintConfirmNeed(ctx) : null) ?? { kind: 'participants', roles: checkInRoles(ctx) },
  async provide(ctx, input) {
    if (input.kind === 'openpgpConfirm' || input.kind === 'openpgpReject') {
      confirmFingerprint(ctx, input);
      return fingerprintConfirmNeed(ctx) ? 'pending' : 'done';
    }
    if (input.kind !== 'participants') return 'pending';
    const list = validateParticipants(ctx.script.roles, input.participants);
    const count = ctx.params.count;
    const handsOut = ctx.script.steps.some((s) => s.action === 'createBackup' || s.action === 'resplitShares');
    if (handsOut && typeof count === 'number') {
      const custodians = list.filter((p) => p.roles.includes('custodian')).length;
      if (custodians !== count) {
        throw new KeyriteError('CEREMONY_CUSTODIAN_COUNT', `The backup is split into ${count} shares, one per custodian, but ${custodians} custodian(s) checked in. Check in exactly ${count} custodians or change the share count.`, { details: { custodians, count } });
      }
    }
    const shortfalls = quorumShortfalls(ctx.script, ctx.script.steps.indexOf(ctx.step), list, ctx.params);
    if (shortfalls.length > 0) {
      throw new KeyriteError('CEREMONY_QUORUM_INFEASIBLE', `These people cannot give every sign-off this ceremony needs: ${shortfalls.map((s) => s.message).join('; ')}. Check in the missing people now (nothing has been done yet), or stop and fix the script's quorum.`, { details: { shortfalls } });
    }
    const keys = await enrolPresentedKeys(ctx, input.participants, list);
    ctx.state.participants = list;
    ctx.state.openpgp = keys;
    for (const p of list) ctx.emit('PARTICIPANT_CHECKED_IN', { personId: p.id, name: p.name, roles: p.roles, ...(keys[p.id] ? { openpgpFingerprint: keys[p.id].fingerprint } : {}) }, p.id);
    ctx.state.evidence = { participants: list.map((p) => `${p.name} (${p.roles.join(', ')})${keys[p.id] ? ` · OpenPGP ${keys[p.id].fingerprintGroups}` : ''}`) };
    // Each enrolled custodian confirms their key's fingerprint before the check-in is complete.
    return fingerprintConfirmNeed(ctx) ? 'pending' : 'done';
  },
};

/**
 * The roles with the bounds check-in really enforces: a ceremony that splits a backup into
 * `count` shares needs exactly `count` custodians, whatever the script's wider role bounds say.
 */
function checkInRoles(ctx: ActionContext) {
  const count = ctx.params.count;
  const handsOut = ctx.script.steps.some((s) => s.action === 'createBackup' || s.action === 'resplitShares');
  return roleSpecs(ctx.script).map((r) => (r.id === 'custodian' && handsOut && typeof count === 'number' ? { ...r, min: count, max: count } : r));
}

export function validateParticipants(roles: Array<{ id: string; title: string; min: number; max: number }>, given: Participant[]): Participant[] {
  const ids = new Set<string>();
  const out: Participant[] = [];
  for (const [i, p] of given.entries()) {
    const id = String(p.id ?? '').trim();
    const name = String(p.name ?? '').trim();
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(id)) throw new KeyriteError('CEREMONY_PARTICIPANT_INVALID', `Participant ${i + 1} needs a short id (letters, digits, . _ -), not '${id}'.`, { details: { index: i } });
    if (!name) throw new KeyriteError('CEREMONY_PARTICIPANT_INVALID', `Participant '${id}' needs a name.`, { details: { index: i } });
    requirePlainText(name, `The name of participant '${id}'`, 'CEREMONY_PARTICIPANT_INVALID', { index: i });
    if (name.length > MAX_NAME_LENGTH) throw new KeyriteError('CEREMONY_PARTICIPANT_INVALID', `The name of participant '${id}' is ${name.length} characters long; at most ${MAX_NAME_LENGTH}.`, { details: { index: i } });
    if (ids.has(id)) throw new KeyriteError('CEREMONY_PARTICIPANT_DUPLICATE', `Participant id '${id}' is used twice; every person checks in once.`, { details: { id } });
    ids.add(id);
    const unknown = (p.roles ?? []).filter((r) => !roles.some((x) => x.id === r));
    if (unknown.length > 0) throw new KeyriteError('CEREMONY_ROLE_UNKNOWN', `Participant '${id}' has role '${unknown[0]}', which this ceremony does not have (roles: ${roles.map((r) => r.id).join(', ')}).`, { details: { id, role: unknown[0] } });
    if (!p.roles || p.roles.length === 0) throw new KeyriteError('CEREMONY_PARTICIPANT_INVALID', `Participant '${id}' needs at least one role.`, { details: { id } });
    out.push({ id, name, roles: [...new Set(p.roles)] });
  }
  for (const r of roles) {
    const n = out.filter((p) => p.roles.includes(r.id)).length;
    if (n < r.min) throw new KeyriteError('CEREMONY_ROLE_UNDERSTAFFED', `Role '${r.title}' needs at least ${r.min} people; ${n} checked in.`, { details: { role: r.id, count: n, min: r.min } });
    if (n > r.max) throw new KeyriteError('CEREMONY_ROLE_OVERSTAFFED', `Role '${r.title}' allows at most ${r.max} people; ${n} checked in.`, { details: { role: r.id, count: n, max: r.max } });
  }
  return out;
}

/**
 * Records the machine, the code and the HSM, and refuses to go on while a network interface is
 * up unless the administrator overrides it with a typed reason (which is recorded).
 */
export const preflight: ActionHandler = {
  requiresLogin: false,
  need(ctx) {
    const facts = ctx.state.actionState.facts as ReturnType<typeof gatherPreflight> | undefined ?? collect(ctx);
    if (facts.exposedInterfaces.length > 0 && !ctx.state.actionState.override) {
      return {
        kind: 'preflightOverride',
        interfaces: facts.exposedInterfaces,
        message: `Network interface(s) ${facts.exposedInterfaces.join(', ')} are up. A key ceremony runs air-gapped: disconnect them and restart the step, or the administrator overrides with a reason that goes into the transcript.`,
      };
    }
    return null;
  },
  async provide(ctx, input) {
    if (input.kind !== 'preflightOverride') return 'pending';
    const person = ctx.person(input.personId);
    if (!person.roles.includes('admin')) {
      throw new KeyriteError('CEREMONY_SIGNOFF_ROLE', `Only the ceremony administrator can override the network check; ${person.name} is ${person.roles.join(', ')}.`, { details: { personId: person.id } });
    }
    requirePlainText(input.reason, 'The reason for overriding the network check', 'CEREMONY_OVERRIDE_REASON');
    if (input.reason.trim().length < 8) throw new KeyriteError('CEREMONY_OVERRIDE_REASON', 'Type a real reason for overriding the network check (at least a few words); it goes into the transcript.');
    ctx.state.actionState.override = { reason: input.reason.trim(), personId: person.id };
    ctx.emit('NETWORK_OVERRIDE', { reason: input.reason.trim(), personId: person.id, name: person.name, interfaces: (ctx.state.actionState.facts as { exposedInterfaces: string[] }).exposedInterfaces }, person.id);
    return record(ctx);
  },
  run: async (ctx) => record(ctx),
  continueMessage: () => 'Record the preflight checks.',
};

function collect(ctx: Parameters<ActionHandler['need']>[0]): ReturnType<typeof gatherPreflight> {
  const conn = ctx.connection();
  const facts = gatherPreflight({ appVersion: ctx.deps.appVersion, hsm: ctx.deps.hsm, token: conn.session.token, interfaces: ctx.deps.interfaces, now: ctx.now() });
  ctx.state.actionState.facts = facts;
  ctx.state.evidence = { hostname: facts.hostname, hsm: `${facts.hsm.tokenLabel} (serial ${facts.hsm.tokenSerial})`, exposedInterfaces: facts.exposedInterfaces, codeSha256: facts.codeSha256 };
  return facts;
}

function record(ctx: Parameters<ActionHandler['need']>[0]): 'done' {
  const facts = (ctx.state.actionState.facts as ReturnType<typeof gatherPreflight>) ?? collect(ctx);
  const session = ctx.connection().session;
  const gaps = mechanismGaps(session, ctx.script, ctx.params);
  if (gaps.length > 0) {
    // Before any key exists: a backup ceremony on a module that cannot wrap (a TPM) stops here.
    throw new KeyriteError('CEREMONY_MECHANISMS_MISSING', `Token '${session.token.label}' (${session.module.profile.description}, ${ctx.deps.hsm.modulePath}) cannot run this ceremony: it lacks ${describeGaps(gaps)}. Nothing was generated. Run this ceremony on an HSM that offers them; ceremonies that only sign can still run on this token.`, {
      details: { tokenLabel: session.token.label, profile: session.module.profile.name, missing: gaps },
    });
  }
  ctx.emit('PREFLIGHT_RECORDED', { ...facts, override: ctx.state.actionState.override ?? null });
  return 'done';
}

/** Typed facts: bag serials, HSM serials, media hashes, hand-offs of physical items. */
export const recordStatement: ActionHandler = {
  requiresLogin: false,
  need: (ctx) => ({
    kind: 'statement',
    fields: (ctx.step.fields ?? []).map((f) => ({ id: f.id, label: f.label, kind: f.kind, required: f.required, ...(f.kind === 'bags' ? { rows: bagRows(ctx) } : {}) })),
  }),
  async provide(ctx, input) {
    if (input.kind !== 'statement') return 'pending';
    const values: Record<string, string> = {};
    let bags: BagRecord[] | null = null;
    for (const f of ctx.step.fields ?? []) {
      const v = requirePlainText(String(input.values[f.id] ?? ''), `'${f.label}'`, 'CEREMONY_STATEMENT_INVALID', { field: f.id }).trim();
      if (v.length > MAX_STATEMENT_LENGTH) throw new KeyriteError('CEREMONY_STATEMENT_INVALID', `'${f.label}' is ${v.length} characters long; at most ${MAX_STATEMENT_LENGTH}.`, { details: { field: f.id } });
      if (!v) {
        if (f.required) throw new KeyriteError('CEREMONY_STATEMENT_MISSING', `'${f.label}' is required for this step.`, { details: { field: f.id } });
        continue;
      }
      if (f.kind === 'sha256' && !/^[0-9a-f]{64}$/i.test(v)) throw new KeyriteError('CEREMONY_STATEMENT_INVALID', `'${f.label}' must be a SHA-256 hash (64 hex characters).`, { details: { field: f.id } });
      if (f.kind === 'serial' && !SERIAL_PATTERN.test(v)) throw new KeyriteError('CEREMONY_STATEMENT_INVALID', `'${f.label}' must be a serial number: ${SERIAL_HINT}.`, { details: { field: f.id } });
      if (f.kind === 'person') ctx.person(v);
      if (f.kind === 'bags') {
        bags = parseBagSerials(v, bagRows(ctx), f);
        values[f.id] = bags.map((b) => b.bag).join(' ');
        continue;
      }
      values[f.id] = f.kind === 'sha256' ? v.toLowerCase() : v;
    }
    const unknown = Object.keys(input.values).filter((k) => !(ctx.step.fields ?? []).some((f) => f.id === k));
    if (unknown.length > 0) throw new KeyriteError('CEREMONY_STATEMENT_INVALID', `This step does not record '${unknown[0]}'.`, { details: { field: unknown[0] } });
    const labels = Object.fromEntries((ctx.step.fields ?? []).map((f) => [f.id, f.label]));
    // The chain of custody: which bag holds which share of which split, held by whom.
    const custody = bags ? { bags, splitId: ctx.state.backup?.splitId ?? null } : {};
    ctx.emit('STATEMENT_RECORDED', { fields: values, labels, ...custody });
    ctx.state.evidence = bags ? { ...values, bags: bags.map((b) => `share ${b.shareIndex} (${b.custodian}): ${b.bag}`) } : values;
    const alias = typeof ctx.step.with?.key === 'string' ? ctx.step.with.key : undefined;
    const keyId = alias ? ctx.state.keys[alias]?.keyId : undefined;
    if (keyId) {
      const described = (k: string, v: string) => (bags && (ctx.step.fields ?? []).find((f) => f.id === k)?.kind === 'bags' ? bags.map((b) => `share ${b.shareIndex} (${b.custodian}) in bag ${b.bag}`).join(', ') : v);
      const text = Object.entries(values).map(([k, v]) => `${k}: ${described(k, v)}`).join('; ');
      ctx.onCommit((tx) => ctx.deps.inventory.addFact(keyId, { kind: ctx.step.id, text, at: ctx.now().toISOString(), ceremonyId: ctx.ceremonyId }, tx));
    }
    return 'done';
  },
};
