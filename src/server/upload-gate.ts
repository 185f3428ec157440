import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Policy } from '../auth/policy.js';
import { createConcurrencySlots } from './concurrency-slots.js';

const MULTIPART = /^multipart\/form-data\b/i;

export type UploadAdmission = { readonly refused: true } | { readonly refused: false; release(): void };

export interface UploadGate {
  /**
   * For a multipart GraphQL request (a file upload): answers it at once, its body unread, when the caller
   * may not upload or too many uploads are being read; else takes a slot, to be released once answered.
   * `null` for any other request.
   */
  enter(request: FastifyRequest, reply: FastifyReply): UploadAdmission | null;
}

/**
 * Yoga reads a multipart body whole, holding its file in memory (up to `provider.maxUploadBytes`), before
 * any resolver can check who sent it. So only callers allowed to upload are read at all, and only
 * `maxConcurrent` at once: the memory uploads can take is bounded, whoever sends them.
 */
export function createUploadGate(policy: Policy, maxConcurrent: number): UploadGate {
  const reading = createConcurrencySlots(maxConcurrent);
  return {
    enter(request, reply) {
      if (!MULTIPART.test(request.headers['content-type'] ?? '')) return null;
      if (!policy.canAdminister(request.caller)) {
        const anonymous = request.caller.role === 'anonymous';
        refuseUnread(reply);
        if (anonymous) reply.header('www-authenticate', 'Bearer');
        reply.status(anonymous ? 401 : 403).send({
          errors: [
            {
              message: 'Only an administrator may upload files.',
              extensions: { code: anonymous ? 'UNAUTHENTICATED' : 'FORBIDDEN' },
            },
          ],
        });
        return { refused: true };
      }
      const release = reading.take('uploads');
      if (release === null) {
        refuseUnread(reply);
        reply
          .header('retry-after', '5')
          .status(503)
          .send({
            errors: [
              {
                message: `At most ${maxConcurrent} uploads are read at once: try again in a few seconds.`,
                extensions: { code: 'TOO_MANY_UPLOADS' },
              },
            ],
          });
        return { refused: true };
      }
      return { refused: false, release };
    },
  };
}

/** The body is left unread: closing the connection is what lets the client see the answer. */
function refuseUnread(reply: FastifyReply): void {
  reply.header('connection', 'close');
}
