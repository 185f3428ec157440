import { failureInPlainWords } from '../gateway/failure-words.js';
import { builder } from './builder.js';
import { SiteFailureRef } from './site-failure.js';

builder.objectFields(SiteFailureRef, (t) => ({
  hint: t.string({
    description: 'What the failure means for a person, and what they can do, in plain words.',
    resolve: (failure) => failureInPlainWords(failure.code),
  }),
}));
