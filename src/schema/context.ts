import type { Logger } from 'pino';
import type { GatewayLoaders } from '../gateway/loaders.js';
import type { PrivateFiles } from '../gateway/private-files.js';
import type { SiteRegistry } from '../gateway/site-registry.js';

/** What every resolver may use: the gateway's services plus this request's own loaders. */
export interface GraphQLContext {
  readonly tenant: string;
  readonly registry: SiteRegistry;
  readonly privateFiles: PrivateFiles;
  readonly loaders: GatewayLoaders;
  /** Where this caller reaches the gateway; download links are built on it. */
  readonly baseUrl: string;
  readonly logger: Logger;
}
