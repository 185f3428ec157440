import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** What every log line written while serving a request carries. */
export interface RequestContext {
  readonly reqId: string;
}

export const REQUEST_ID_HEADER = 'x-request-id';

const storage = new AsyncLocalStorage<RequestContext>();
const scopes = new WeakMap<FastifyRequest, AsyncResource>();

/** The request being served by the current async call chain, if any. */
export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

// A proxy's or load balancer's id is kept so one id follows a request across machines; anything
// else (too long, odd characters that could forge log fields) is replaced.
const ACCEPTED_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify's `genReqId`: the caller's `X-Request-Id` when it is a plain token, else a random UUID. */
export function requestIdFor(request: IncomingMessage): string {
  const header = request.headers[REQUEST_ID_HEADER];
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && ACCEPTED_ID.test(given) ? given : randomUUID();
}

/**
 * Runs the rest of each request inside its own context, so that every log line written on its
 * behalf carries its id, even from code holding the root logger (the Moodle client), and answers
 * the id in `X-Request-Id`. Must be called on the root instance, before the routes.
 */
export function registerRequestContext(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    storage.run({ reqId: request.id }, () => {
      const scope = new AsyncResource('moodle-gateway:request');
      scopes.set(request, scope);
      scope.runInAsyncScope(done, request.raw);
    });
  });
  // The body is read in the socket's own async context: re-enter the request's before the handler.
  app.addHook('preValidation', (request, _reply, done) => {
    const scope = scopes.get(request);
    if (scope) scope.runInAsyncScope(done, request.raw);
    else done();
  });
}
