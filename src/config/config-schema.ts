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
  /** Deadline for `core_webservice_get_site_info`. @default 10000 */
  siteInfoMs: timeoutMs.optional(),
  /** Deadline for the zip-creating call: a large private area takes a while to zip. @default 120000 */
  zipMs: timeoutMs.optional(),
  /** A download has no total deadline, only this idle one (no byte for this long). @default 30000 */
  downloadIdleMs: timeoutMs.optional(),
});

export const siteConfigSchema = z.strictObject({
  id: slug,
  url: httpUrl,
  token: z.string().min(1, 'must not be empty'),
  name: z.string().min(1).max(200).optional(),
  /** Shorthand for `timeouts.siteInfoMs`. */
  timeoutMs: timeoutMs.optional(),
  timeouts: operationTimeouts.optional(),
  /** Higher comes first in every list of sites. @default 0 */
  priority: z.number().int().default(0),
  enabled: z.boolean().default(true),
  tenant: slug.default('default'),
});

export const gatewayConfigSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default('localhost'),
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
      siteInfoMs: timeoutMs.default(10_000),
      zipMs: timeoutMs.default(120_000),
      downloadIdleMs: timeoutMs.default(30_000),
      connectMs: timeoutMs.default(5_000),
    })
    .prefault({}),
  /** Largest REST answer read from a site. @default 4 MiB */
  maxResponseBytes: z
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
  siteInfoCacheTtlMs: z.number().int().min(0).default(300_000),
  zipFileName: z
    .strictObject({
      prefix: z
        .string()
        .max(100)
        .regex(/^[a-zA-Z0-9_-]*$/, 'only letters, digits, "-" and "_"')
        .default('my_privatefiles'),
      includeSiteName: z.boolean().default(true),
      siteNameLength: z.number().int().min(1).max(255).default(150),
    })
    .prefault({}),
  downloadLinks: z
    .strictObject({
      /** HMAC secret; with none, a random one per process (links die with the process). */
      secret: z.string().min(32, 'must be at least 32 characters').optional(),
      ttlSeconds: z.number().int().min(10).max(86_400).default(300),
    })
    .prefault({}),
  provider: z
    .strictObject({
      enabled: z.boolean().default(false),
      basePath: z
        .string()
        .regex(/^\/[a-zA-Z0-9/_-]*[a-zA-Z0-9_-]$/, 'must start with "/" and not end with "/"')
        .default('/provider'),
      dataDir: z.string().min(1).default('./data'),
      siteName: z.string().min(1).max(200).default('Moodle Gateway local provider'),
      /** Federate the provider with this gateway as a site of this id; null to not federate. */
      federateAs: slug.nullable().default(null),
      /** Seed the demo users, files and token at start (idempotent). */
      seedDemo: z.boolean().default(false),
      maxUploadBytes: z
        .number()
        .int()
        .min(1)
        .default(100 * 1024 * 1024),
      zipCompression: z.enum(['store', 'deflate']).default('store'),
      cleanup: z
        .strictObject({
          cron: z.string().min(1).default('0 * * * *'),
          maxAgeHours: z.number().positive().default(24),
        })
        .prefault({}),
      trustedProxies: z.array(z.string()).default([]),
    })
    .prefault({}),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type SiteConfig = z.output<typeof siteConfigSchema>;
