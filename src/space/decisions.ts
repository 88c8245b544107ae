// Every search space compiles to a sequence of categorical decisions; an architecture is the
// list of chosen option indices, one per decision.

/**
 * Where the hidden state that stands for an earlier layer or node comes from:
 * `step` is the index of the decision after which the controller's hidden state represents it;
 * `fixed` names one of the learned anchors for things no decision produced
 * (0 = the image / cell input 0, 1 = cell input 1).
 */
export type AnchorRef = { step: number } | { fixed: number };

export type Decision =
  /** A plain choice among values (filter size, filter count, operation). */
  | { kind: 'categorical'; name: string; options: string[] }
  /** Pick one earlier layer or node: scored by attention over the anchors, one per option. */
  | { kind: 'input'; name: string; options: string[]; anchors: AnchorRef[] }
  /** Yes or no: does this earlier layer feed the current one (NAS-RL anchor points). Options are ['no', 'yes']. */
  | { kind: 'skip'; name: string; options: string[]; anchor: AnchorRef };

/** The chosen option index of each decision, in order. */
export type Architecture = number[];

/** The number of fixed anchors a decision list refers to (learned embeddings the controller needs). */
export function fixedAnchorCount(decisions: readonly Decision[]): number {
  let count = 0;
  const visit = (ref: AnchorRef) => {
    if ('fixed' in ref) count = Math.max(count, ref.fixed + 1);
  };
  for (const d of decisions) {
    if (d.kind === 'input') d.anchors.forEach(visit);
    else if (d.kind === 'skip') visit(d.anchor);
  }
  return count;
}

/** log10 of the number of architectures in the space. */
export function log10SpaceSize(decisions: readonly Decision[]): number {
  return decisions.reduce((sum, d) => sum + Math.log10(d.options.length), 0);
}
