import { z } from 'zod';

const slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a slug: lower-case letters, digits, "-" or "_"');

const httpUrl = z
  .string()
  .refine(
    (value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol),
    'must be an http(s) URL',
  )
  .transform((value) => value.replace(/\/+$/, ''));

const timeoutMs = z.number().int().min(1).max(3_600_000);

const operationTimeouts = z.strictObject({
  /** Deadline for `core_webservice_get_site_info`. @default `timeouts.siteInfoMs` */
  siteInfoMs: timeoutMs.optional(),
  /** Deadline for the zip-creating call: a large private area takes a while to zip. @default `timeouts.zipMs` */
  zipMs: timeoutMs.optional(),
  /** A download has no total deadline, only this idle one (no byte for this long). @default `timeouts.downloadIdleMs` */
  downloadIdleMs: timeoutMs.optional(),
});

export const siteConfigSchema = z.strictObject({
  /** The site's id in GraphQL, links and logs: a slug, unique within its tenant. */
  id: slug,
  /** The Moodle's base URL (its `wwwroot`), e.g. `https://moodle.example.edu`; a trailing `/` is dropped. */
  url: httpUrl,
  /** The web-service token of the site's service account (`MOODLE_SITE_<ID>_TOKEN` overrides it). */
  token: z.string().min(1, 'must not be empty'),
  /** Shown while the site's own name (its `sitename`) is unknown, e.g. when it is down. */
  name: z.string().min(1).max(200).optional(),
  /** Shorthand for `timeouts.siteInfoMs`. */
  timeoutMs: timeoutMs.optional(),
  /** Per-operation deadlines of this site, overriding the global `timeouts`. */
  timeouts: operationTimeouts.optional(),
  /** Higher comes first in every list of sites. @default 0 */
  priority: z.number().int().default(0),
  /** A disabled site stays configured but is neither listed nor asked. */
  enabled: z.boolean().default(true),
  /** The tenant (portal) the site belongs to; callers see only their tenant's sites. */
  tenant: slug.default('default'),
  /** A real Moodle, or a local provider (users are then pushed through its remote-user-synchronization endpoint). */
  kind: z.enum(['moodle', 'provider']).default('moodle'),
  /**
   * Moodle sites: role names → this site's role ids, for `syncUser`'s enrolments (a default Moodle has
   * manager 1, editingteacher 3, teacher 4, student 5, but sites differ).
   */
  roles: z.record(z.string().min(1), z.number().int().positive()).optional(),
  /** Provider sites: the security token `syncUser` presents to the remote-user-synchronization endpoint. */
  userSync: z
    .strictObject({ client: z.string().min(1).max(100), token: z.string().min(1, 'must not be empty') })
    .optional(),
});

export const gatewayConfigSchema = z.strictObject({
  server: z
    .strictObject({
      /** Address to listen on: `0.0.0.0` (or `::`) to accept connections from other machines. */
      host: z.string().min(1).default('localhost'),
      /** Port to listen on; 0 picks a free one. */
      port: z.number().int().min(0).max(65_535).default(4000),
      /** The URL callers reach the gateway at, for download links; derived from the request when absent. */
      publicUrl: httpUrl.optional(),
      /** Grace period for in-flight requests and downloads on shutdown. @default 10000 */
      shutdownGraceMs: timeoutMs.default(10_000),
    })
    .prefault({}),
  sites: z
    .array(siteConfigSchema)
    .default([])
    .superRefine((sites, ctx) => {
      const seen = new Set<string>();
      sites.forEach((site, index) => {
        if (seen.has(site.id)) {
          ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate site id "${site.id}"` });
        }
        seen.add(site.id);
      });
    }),
  timeouts: z
    .strictObject({
      /** Deadline for a site's `core_webservice_get_site_info`; past it the site is a TIMEOUT. */
      siteInfoMs: timeoutMs.default(10_000),
      /** Deadline for the zip-creating call: a large private area takes a while to zip. */
      zipMs: timeoutMs.default(120_000),
      /** A download has no total deadline, only this idle one (no byte for this long). */
      downloadIdleMs: timeoutMs.default(30_000),
      /** Time allowed to open a TCP (and TLS) connection to a site. */
      connectMs: timeoutMs.default(5_000),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** What a caller without credentials may do: `public` sees the sites' public fields; `deny` nothing. */
      anonymous: z.enum(['public', 'deny']).default('public'),
      jwt: z
        .strictObject({
          /** HS256 shared secret. Either this or `jwksUrl`. */
          secret: z.string().min(32, 'must be at least 32 characters').optional(),
          /** Where the issuer publishes its keys (RS256, ES256, …). */
          jwksUrl: httpUrl.optional(),
          issuer: z.string().min(1).optional(),
          audience: z.string().min(1).optional(),
          /** Claims tried in order for the username. @default ['preferred_username', 'sub'] */
          usernameClaims: z.array(z.string().min(1)).min(1).default(['preferred_username', 'sub']),
          /** The claim naming the caller's tenant. @default 'tenant' */
          tenantClaim: z.string().min(1).default('tenant'),
          /** Leeway for exp/nbf. @default 30 */
          clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
        })
        .refine((jwt) => (jwt.secret === undefined) !== (jwt.jwksUrl === undefined), {
          message: 'set exactly one of secret and jwksUrl',
        })
        .optional(),
      /** API keys, by the SHA-256 (hex) of the key: the key itself is never configured in clear. */
      apiKeys: z
        .array(
          z.strictObject({
            id: slug,
            sha256: z.string().regex(/^[a-f0-9]{64}$/, 'must be the SHA-256 of the key, in lower-case hex'),
            /** `admin` manages everything, every tenant included; `tenant-admin` only its own tenant's sites. */
            role: z.enum(['service', 'admin', 'tenant-admin']),
            tenant: slug.default('default'),
          }),
        )
        .default([]),
    })
    .prefault({}),
  graphql: z
    .strictObject({
      /** @default true, false when NODE_ENV=production */
      graphiql: z.boolean().optional(),
      /** @default true, false when NODE_ENV=production */
      introspection: z.boolean().optional(),
      maxDepth: z.number().int().min(1).default(10),
      maxCost: z.number().int().min(1).default(5000),
      maxAliases: z.number().int().min(0).default(30),
      maxTokens: z.number().int().min(1).default(2000),
      maxDirectives: z.number().int().min(0).default(20),
      /** Operations in one batched request; 0 refuses batches. @default 0 */
      maxBatch: z.number().int().min(0).max(100).default(0),
      /** Largest request body (JSON). @default 1 MiB */
      maxBodyBytes: z
        .number()
        .int()
        .min(1024)
        .default(1024 * 1024),
      /**
       * Whole answers to queries of sites (`externalSites`, `externalSite`) kept per caller and asked
       * again, given back only while exact: dropped as soon as a site, its cached info or its circuit
       * changes, or a cached info they hold expires.
       */
      responseCache: z
        .strictObject({
          /** Answers kept, least recently used dropped first; 0 turns the cache off. */
          maxEntries: z.number().int().min(0).max(1_000_000).default(1000),
          /** Their total size. @default 16 MiB */
          maxBytes: z
            .number()
            .int()
            .min(64 * 1024)
            .default(16 * 1024 * 1024),
        })
        .prefault({}),
    })
    .prefault({}),
  rateLimit: z
    .strictObject({
      /** Requests per caller (API key, user, or IP when anonymous) per window; 0 turns limiting off. */
      max: z.number().int().min(0).default(600),
      windowMs: z.number().int().min(1000).default(60_000),
      /** Downloads one user may run at once, single-site zips and all-sites bundles together. @default 4 */
      downloadsPerUser: z.number().int().min(1).default(4),
    })
    .prefault({}),
  /** Origins allowed to call the gateway from a browser; none but the gateway's own pages by default. */
  corsOrigins: z.array(httpUrl).default([]),
  /** Largest REST answer read from a site. @default 4 MiB */
  maxResponseBytes: z
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
  /**
   * Retries of idempotent reads: site info only (the zip call builds a zip each time, so it is never
   * retried), within the call's deadline, only when no byte came back or the site answered 429.
   */
  retries: z
    .strictObject({
      /** Attempts after the first; 0 turns retries off. @default 2 */
      siteInfo: z.number().int().min(0).max(5).default(2),
      /** Retry n (from 0) waits a random time up to baseDelayMs × 2^n (full jitter). @default 100 */
      baseDelayMs: z.number().int().min(1).max(60_000).default(100),
      /** Cap of one backoff wait. @default 1000 */
      maxDelayMs: z.number().int().min(1).max(60_000).default(1_000),
      /** A 429 asking to wait longer than this is answered at once, its Retry-After kept. @default 5000 */
      maxRetryAfterMs: z.number().int().min(0).max(600_000).default(5_000),
    })
    .prefault({}),
  /**
   * One circuit breaker per site: after `failureThreshold` failures in a row that say the site is unwell
   * (TIMEOUT, UNREACHABLE, BAD_RESPONSE, MAINTENANCE), the site is answered CIRCUIT_OPEN at once for
   * `openMs`, then one probe call decides. Shown as `ExternalSite.status`.
   */
  circuitBreaker: z
    .strictObject({
      /** Failures in a row that open a site's circuit; 0 turns the breakers off. @default 5 */
      failureThreshold: z.number().int().min(0).max(1_000).default(5),
      /** How long an open circuit refuses calls before letting a probe through. @default 30000 */
      openMs: timeoutMs.default(30_000),
    })
    .prefault({}),
  /** How long a site's answered info is reused (as the Moodle app does); 0 asks every time. Failures are never cached. */
  siteInfoCacheTtlMs: z.number().int().min(0).default(300_000),
  /** The name a user's zip is saved as: `{prefix}_{site name}_{Y-m-d-H-i-s}.zip`, as the original block names it. */
  zipFileName: z
    .strictObject({
      /** The file name's first part (the block's `filename` setting). */
      prefix: z
        .string()
        .max(100)
        .regex(/^[a-zA-Z0-9_-]*$/, 'only letters, digits, "-" and "_"')
        .default('my_privatefiles'),
      /** Put the site's name (characters other than `a-zA-Z0-9-` as `_`) after the prefix. */
      includeSiteName: z.boolean().default(true),
      /** The site name is cut to this many characters. */
      siteNameLength: z.number().int().min(1).max(255).default(150),
    })
    .prefault({}),
  downloadLinks: z
    .strictObject({
      /** HMAC secret; with none, a random one per process (links die with the process). */
      secret: z.string().min(32, 'must be at least 32 characters').optional(),
      /** How long a download link stays valid after `privateFilesZip` answered it. */
      ttlSeconds: z.number().int().min(10).max(86_400).default(300),
    })
    .prefault({}),
  provider: z
    .strictObject({
      /** Run the local provider (a Moodle-compatible server) inside the gateway. */
      enabled: z.boolean().default(false),
      /** Where its Moodle paths are served, like a Moodle installed in a sub-directory. */
      basePath: z
        .string()
        .regex(/^\/[a-zA-Z0-9/_-]*[a-zA-Z0-9_-]$/, 'must start with "/" and not end with "/"')
        .default('/provider'),
      /** The store: `provider.sqlite` and the blob directory. One gateway process writes it at a time. */
      dataDir: z.string().min(1).default('./data'),
      /** The provider's `sitename`. */
      siteName: z.string().min(1).max(200).default('Moodle Gateway local provider'),
      /** Federate the provider with this gateway as a site of this id; null to not federate. */
      federateAs: slug.nullable().default(null),
      /** Seed the demo users, files and token at start (idempotent). */
      seedDemo: z.boolean().default(false),
      /** Largest private file accepted by `uploadPrivateFile`. */
      maxUploadBytes: z
        .number()
        .int()
        .min(1)
        .default(100 * 1024 * 1024),
      /**
       * Uploads read at once: each is held in memory up to `maxUploadBytes` while it is parsed, so this
       * bounds that memory; more are answered 503 with Retry-After. Only administrators' are read at all.
       */
      maxConcurrentUploads: z.number().int().min(1).max(64).default(2),
      /** `store` keeps entries uncompressed, as Moodle does; `deflate` trades CPU for size. */
      zipCompression: z.enum(['store', 'deflate']).default('store'),
      /** The scheduled deletion of generated zips and unreferenced blobs (`moodle-gateway cleanup` runs it now). */
      cleanup: z
        .strictObject({
          /** When it runs (cron syntax, server time; six fields for seconds). */
          cron: z.string().min(1).default('0 * * * *'),
          /** Generated zips older than this are deleted. */
          maxAgeHours: z.number().positive().default(24),
        })
        .prefault({}),
      /** Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed for tokens' IP restriction. */
      trustedProxies: z.array(z.string()).default([]),
    })
    .prefault({}),
  /** Sites and tenants added at run time by the registry's mutations. */
  registry: z
    .strictObject({
      /**
       * Holds `registry.sqlite`. Unset: the provider's `dataDir` when the provider is enabled; otherwise
       * the registry lives in memory and what it holds is lost at a restart (a warning says so).
       */
      dataDir: z.string().min(1).optional(),
      /**
       * How often a gateway looks whether another process changed the registry (`moodle-gateway sites
       * add|remove`, another gateway on the same file), and then takes the change into account; 0: never
       * (such changes are seen at the next start).
       */
      watchMs: z.number().int().min(0).max(3_600_000).default(2_000),
    })
    .prefault({}),
  /** `debug` adds a line for every successful site call; `info` logs requests and failures. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type SiteConfig = z.output<typeof siteConfigSchema>;
