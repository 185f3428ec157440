import './scalars.js';
import './site-failure.js';
import './sites.js';
import './private-files.js';
import './provider.js';
import './user-sync.js';
import './failure-hint.js';
import './registry.js';
import './tenants.js';
import './viewer.js';
import './bundle.js';
import { builder } from './builder.js';

export const schema = builder.toSchema();
