import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** What the HTTP layer answers by itself, before GraphQL runs: a stable code and a fixed message each. */
const ANSWERS: Record<number, { readonly code: string; readonly message: string }> = {
  400: { code: 'BAD_REQUEST', message: 'the request is malformed' },
  404: { code: 'NOT_FOUND', message: 'no such route' },
  405: { code: 'METHOD_NOT_ALLOWED', message: 'this method is not allowed here' },
  413: { code: 'PAYLOAD_TOO_LARGE', message: 'the request body is too large' },
  414: { code: 'URI_TOO_LONG', message: 'the URL is too long' },
  415: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'this content type is not accepted' },
  429: { code: 'RATE_LIMITED', message: 'too many requests: try again after the Retry-After delay' },
};
const INTERNAL = { code: 'INTERNAL_SERVER_ERROR', message: 'internal error' };

/**
 * Errors raised by the HTTP layer get a stable code and a fixed message, never an internal detail nor
 * a piece of the request (a URL may be a download capability): a GraphQL-shaped body on /graphql,
 * `{ error: { code, message } }` elsewhere.
 */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(answerError);
  app.setNotFoundHandler((request, reply) => send(request, reply, 404, ANSWERS[404] as typeof INTERNAL));
}

function send(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  { code, message }: typeof INTERNAL,
) {
  const path = request.url.split('?', 1)[0];
  const body =
    path === '/graphql' ? { errors: [{ message, extensions: { code } }] } : { error: { code, message } };
  // A refused body is not read to its end: closing the connection is what lets the client see the answer.
  if (status === 413) reply.header('connection', 'close');
  return reply.status(status).header('cache-control', 'no-store').send(body);
}

/** The error handler; also Fastify's `frameworkErrors`, for what the router refuses (bad or over-long URLs). */
export function answerError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
  if (status >= 500) request.log.error({ err: error }, 'unexpected error');
  const answer = ANSWERS[status] ?? (status >= 500 ? INTERNAL : (ANSWERS[400] as typeof INTERNAL));
  return send(request, reply, status, answer);
}
