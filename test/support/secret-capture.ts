import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where every test gateway leaves what it said (responses, log lines) and the secrets it held. */
    secretCaptureDir: string;
  }
}

export interface Capture {
  readonly secrets: Set<string>;
  /** Response bodies and log lines, as sent. */
  readonly said: string[];
}

export function newCapture(): Capture {
  return { secrets: new Set(), said: [] };
}

let counter = 0;

/** Saved for the end of the run, when `secret-scan-setup.ts` reads every capture of every test file. */
export function saveCapture(capture: Capture): void {
  const dir = inject('secretCaptureDir');
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const secrets = [...capture.secrets].filter((secret) => secret.length >= 8);
  writeFileSync(
    join(dir, `${process.pid}-${Date.now()}-${counter++}.json`),
    JSON.stringify({ secrets, said: capture.said }),
  );
}
