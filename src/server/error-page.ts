export interface ErrorPageContent {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** The site itself, for the user to go to instead, as the original block's error page does. */
  readonly siteUrl?: string;
}

/** JSON for a program that asks for it, a small HTML page for a browser. */
export function errorPage(content: ErrorPageContent, accept: string | undefined) {
  if (wantsJson(accept)) {
    return {
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({
        error: { code: content.code, message: content.message, siteUrl: content.siteUrl },
      }),
    };
  }
  const link = content.siteUrl
    ? `<p><a href="${escapeHtml(content.siteUrl)}">Go to ${escapeHtml(content.siteUrl)}</a></p>`
    : '';
  return {
    contentType: 'text/html; charset=utf-8',
    body: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Download failed</title></head>
<body><h1>Download failed</h1><p>${escapeHtml(content.message)}</p>${link}<p><small>${escapeHtml(content.code)} · ${content.status}</small></p></body></html>
`,
  };
}

function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.includes('application/json') && !accept.includes('text/html');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
