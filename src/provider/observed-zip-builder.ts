import type { BuildPrivateFilesZipOptions, PrivateFilesZipOutcome } from './zip-builder.js';

export interface ZipBuildEvent {
  readonly seconds: number;
  /** `created`, `empty` (the user has no private files) or `failed`. */
  readonly outcome: 'created' | 'empty' | 'failed';
  /** The zip's size, when one was created. */
  readonly bytes?: number;
}

type BuildZip = (options: BuildPrivateFilesZipOptions) => Promise<PrivateFilesZipOutcome>;

/** Wraps a zip builder so that each build reports its time, outcome and size. `onBuilt` must not throw. */
export function observeZipBuilder(build: BuildZip, onBuilt: (event: ZipBuildEvent) => void): BuildZip {
  return async (options) => {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const outcome = await build(options);
      onBuilt(
        outcome.kind === 'created'
          ? { seconds: seconds(), outcome: 'created', bytes: outcome.zip.size }
          : { seconds: seconds(), outcome: 'empty' },
      );
      return outcome;
    } catch (error) {
      onBuilt({ seconds: seconds(), outcome: 'failed' });
      throw error;
    }
  };
}
