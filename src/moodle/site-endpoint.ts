/** What the gateway knows to call one site. The token is a secret: it never leaves this folder in a message. */
export interface SiteCredentials {
  /** Stable slug of the site, for logs. */
  readonly id: string;
  /** The site's root, as configured (`https://moodle.example/` or `https://host/moodle`). */
  readonly url: string;
  readonly token: string;
}

export interface SiteEndpoint {
  readonly origin: string;
  /** Path on the origin, beginning with `/`. */
  readonly path: string;
}

/** Where a script of the site lives, keeping the path of a site installed below the web root. */
export function siteEndpoint(siteUrl: string, script: string): SiteEndpoint {
  const url = new URL(siteUrl);
  const base = url.pathname.replace(/\/+$/, '');
  return { origin: url.origin, path: `${base}${script}` };
}
