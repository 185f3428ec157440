/*
 * The throughput benchmark's baseline: a bare graphql-yoga server on node:http (no Fastify, no auth, no
 * limits, no metrics, no logs) answering the gateway's `externalSites` query, same shape and size, from
 * constants.
 *   node --import tsx bench/bare-yoga.ts <count>
 * Prints one JSON line `{ "url": … }` when ready, and stops on SIGTERM.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { moodleBodies } from '../test/support/fault-injector.js';

const count = Number(process.argv[2] ?? 10);
const info = JSON.parse(moodleBodies.siteInfo) as Record<string, unknown>;
const sites = Array.from({ length: count }, (_, index) => ({
  id: `site-${index + 1}`,
  name: `Bench site ${index + 1}`,
  info: { __typename: 'SiteInfo', ...info },
}));

const yoga = createYoga({
  schema: createSchema({
    typeDefs: /* GraphQL */ `
      type SiteFunction { name: String! version: String }
      type SiteInfo { sitename: String! release: String version: String functions: [SiteFunction!]! }
      type SiteFailure { code: String! message: String! }
      union SiteInfoResult = SiteInfo | SiteFailure
      type ExternalSite { id: ID! name: String! info: SiteInfoResult! }
      type Query { externalSites: [ExternalSite!]! }
    `,
    resolvers: {
      Query: { externalSites: () => sites },
      SiteInfoResult: { __resolveType: (value: { __typename: string }) => value.__typename },
    },
  }),
  graphiql: false,
  landingPage: false,
  logging: false,
});

const server = createServer(yoga);
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
