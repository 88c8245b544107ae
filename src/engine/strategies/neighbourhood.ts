// Moves in the space of decision lists that the model-free and model-based strategies share:
// random architectures, one-decision neighbours, and a key that identifies an architecture.

import type { Architecture, Decision } from '../../space/decisions.ts';
import type { Rng } from '../../space/rng.ts';

/** Each decision uniform and independent. */
export function randomArchitecture(decisions: readonly Decision[], rng: Rng): Architecture {
  return decisions.map((d) => rng.int(d.options.length));
}

/** Every architecture that differs from `architecture` in exactly one decision. */
export function neighbours(decisions: readonly Decision[], architecture: Architecture): Architecture[] {
  const result: Architecture[] = [];
  decisions.forEach((decision, index) => {
    for (let option = 0; option < decision.options.length; option++) {
      if (option === architecture[index]) continue;
      const neighbour = [...architecture];
      neighbour[index] = option;
      result.push(neighbour);
    }
  });
  return result;
}

/** Changes `count` distinct decisions, chosen uniformly among those with a choice, each to another of its options. */
export function mutate(decisions: readonly Decision[], architecture: Architecture, rng: Rng, count = 1): Architecture {
  const mutable = decisions.flatMap((d, index) => (d.options.length > 1 ? [index] : []));
  const child = [...architecture];
  for (let k = 0; k < Math.min(count, mutable.length); k++) {
    // A partial shuffle: each changed decision is drawn among those not changed yet.
    const pick = k + rng.int(mutable.length - k);
    [mutable[k], mutable[pick]] = [mutable[pick], mutable[k]];
    const index = mutable[k];
    // Drawing among the other options makes every mutation a change.
    const shift = 1 + rng.int(decisions[index].options.length - 1);
    child[index] = (child[index] + shift) % decisions[index].options.length;
  }
  return child;
}

/** Identifies an architecture by its choices (two architectures are the same trial when their keys are equal). */
export function choicesKey(architecture: Architecture): string {
  return architecture.join(',');
}

/** The number of decisions in which two architectures differ. */
export function hammingDistance(a: Architecture, b: Architecture): number {
  let distance = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) distance += 1;
  return distance;
}

// Past this many draws the space is (nearly) exhausted, and a repeat is better than no proposal.
const MAX_FRESH_DRAWS = 1000;

/** A random architecture whose key `isKnown` rejects, or a random one when none turns up. */
export function randomUnknown(decisions: readonly Decision[], rng: Rng, isKnown: (key: string) => boolean): Architecture {
  let architecture = randomArchitecture(decisions, rng);
  for (let draw = 1; draw < MAX_FRESH_DRAWS && isKnown(choicesKey(architecture)); draw++) {
    architecture = randomArchitecture(decisions, rng);
  }
  return architecture;
}
