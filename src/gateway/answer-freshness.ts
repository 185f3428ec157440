/**
 * What one GraphQL request's answer was computed from, told by the resolvers as they run: whether it
 * may be reused for the same question (nothing was asked of a site, no part of it is live) and until
 * when (the earliest expiry of the cached entries it read). Reused only while `SitesVersion` stays put.
 */
export interface AnswerFreshness {
  /** The answer holds until `time` (ms since the epoch) at the latest. */
  until(time: number): void;
  /** The answer depends on something asked now (a site call, a zip): it must never be reused. */
  live(): void;
  /** Marks the operation (its name, if any) as made only of fields whose answers `until`/`live` describe. */
  reusableOperation(name: string | null): void;
  /** The reusable operation's name. */
  readonly operationName: string | null;
  /** Reusable: the operation was, and nothing live went into its answer. */
  readonly reusable: boolean;
  readonly validUntil: number;
}

export function createAnswerFreshness(): AnswerFreshness {
  let operation = false;
  let operationName: string | null = null;
  let live = false;
  let validUntil = Number.POSITIVE_INFINITY;
  return {
    until(time) {
      if (time < validUntil) validUntil = time;
    },
    live() {
      live = true;
    },
    reusableOperation(name) {
      operation = true;
      operationName = name;
    },
    get operationName() {
      return operationName;
    },
    get reusable() {
      return operation && !live;
    },
    get validUntil() {
      return validUntil;
    },
  };
}
