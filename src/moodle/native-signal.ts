/**
 * The caller's signal as a native AbortSignal that follows it. Some servers hand out signals that
 * only look native: Yoga's (@whatwg-node/server) keeps `aborted === false` after it aborted once a
 * native API has used it, so the client would take a caller's cancellation for the site's failure.
 * A native signal that follows it says `aborted` truly.
 */
export function withNativeSignal<T extends { readonly signal?: AbortSignal }>(options: T): T {
  return options.signal === undefined ? options : { ...options, signal: AbortSignal.any([options.signal]) };
}
