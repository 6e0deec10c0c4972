import type { Parameters } from '../parameters';
import type { CeremonyScript } from '../script';
import type { Participant } from '../types';

export interface QuorumShortfall {
  stepId: string;
  title: string;
  message: string;
}

/**
 * Whether the people checked in can give every sign-off the ceremony will ask for, from step
 * `from` on: each step's quorum is filled by distinct people (a person signs a step once, in one
 * of their roles). Steps switched off by a false `when:` parameter are left out. A shortfall found
 * here, at check-in, costs nothing; found after the HSM login it strands the ceremony.
 */
export function quorumShortfalls(script: CeremonyScript, from: number, people: Participant[], params: Parameters): QuorumShortfall[] {
  const out: QuorumShortfall[] = [];
  const title = (role: string): string => (script.roles.find((r) => r.id === role)?.title ?? role).toLowerCase();
  for (const step of script.steps.slice(from)) {
    if (step.when && params[step.when] !== true) continue;
    const quorum = Object.entries(step.confirm ?? {}).filter(([, n]) => n > 0);
    if (quorum.length === 0) continue;
    const short = quorum.flatMap(([role, n]) => {
      const have = people.filter((p) => p.roles.includes(role)).length;
      return have < n ? [`${n} ${plural(title(role), n)}; ${have} checked in`] : [];
    });
    if (short.length > 0) {
      out.push({ stepId: step.id, title: step.title, message: `the step '${step.title}' needs ${short.join(', and ')}` });
    } else if (!coverable(quorum, people)) {
      const need = quorum.map(([role, n]) => `${n} ${plural(title(role), n)}`).join(' and ');
      out.push({ stepId: step.id, title: step.title, message: `the step '${step.title}' needs ${need}, each a different person; the people checked in hold these roles only together, not as ${quorum.reduce((a, [, n]) => a + n, 0)} separate people` });
    }
  }
  return out;
}

function plural(word: string, n: number): string {
  if (n === 1) return word;
  return /(s|x|ch|sh)$/.test(word) ? `${word}es` : `${word}s`;
}

/** Bipartite matching (augmenting paths): can every seat of the quorum get its own person? */
function coverable(quorum: Array<[string, number]>, people: Participant[]): boolean {
  const seats = quorum.flatMap(([role, n]) => Array.from({ length: n }, () => role));
  const seatOf = new Map<number, number>(); // person index -> seat index
  const tryAssign = (seat: number, seen: Set<number>): boolean => {
    for (const [p, person] of people.entries()) {
      if (!person.roles.includes(seats[seat]) || seen.has(p)) continue;
      seen.add(p);
      const taken = seatOf.get(p);
      if (taken === undefined || tryAssign(taken, seen)) {
        seatOf.set(p, seat);
        return true;
      }
    }
    return false;
  };
  return seats.every((_, seat) => tryAssign(seat, new Set()));
}
