import './scalars.js';
import './site-failure.js';
import './sites.js';
import './private-files.js';
import './provider.js';
import './user-sync.js';
import { builder } from './builder.js';

export const schema = builder.toSchema();
