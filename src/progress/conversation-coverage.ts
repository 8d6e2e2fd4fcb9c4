/**
 * Conversation coverage: the share of conversations whose participants are all enabled (only
 * those can be end-to-end encrypted). An estimate under a stated model, not a count: Cutover
 * does not see who talks to whom. Pure.
 */
export const COVERAGE_MODEL =
  'participants drawn independently at random from the campaign population: a conversation of k participants is covered with probability p^k, where p is the enabled share';

/** 1:1 chats and calls, then group sizes up to the largest conversation evaluation takes (32). */
export const GROUP_SIZES = [3, 5, 10, 32] as const;

export interface ConversationCoverage {
  model: 'independent_participants';
  description: string;
  /** p: the enabled share of the population */
  enabledShare: number;
  /** p^2 */
  oneToOne: number;
  groups: Array<{ participants: number; share: number }>;
}

export function conversationCoverage(enabledShare: number): ConversationCoverage {
  const p = Math.min(1, Math.max(0, enabledShare));
  return {
    model: 'independent_participants',
    description: COVERAGE_MODEL,
    enabledShare: p,
    oneToOne: p ** 2,
    groups: GROUP_SIZES.map((k) => ({ participants: k, share: p ** k })),
  };
}
