import type { FastifyReply } from 'fastify';
import type { MoodleWsErrorBody } from '../moodle-errors.js';
import { phpJsonEncode } from './php-json-encode.js';
import { renderMoodleXmlException, renderMoodleXmlResponse } from './render-moodle-xml.js';

/** `moodlewsrestformat`: anything but `json` is XML, as Moodle's REST server decides. */
export type WsFormat = 'json' | 'xml';

export function wsFormatOf(moodlewsrestformat: string | undefined): WsFormat {
  return moodlewsrestformat === 'json' ? 'json' : 'xml';
}

// The headers of Moodle's webservice_rest_server::send_headers(), in its order.
function setWsHeaders(reply: FastifyReply, format: WsFormat): FastifyReply {
  if (format === 'json') {
    reply.header('Content-type', 'application/json');
  } else {
    reply.header('Content-Type', 'application/xml; charset=utf-8');
    reply.header('Content-Disposition', 'inline; filename="response.xml"');
  }
  return reply
    .header('Cache-Control', 'private, must-revalidate, pre-check=0, post-check=0, max-age=0')
    .header('Expires', 'Thu, 01 Jan 1970 00:00:00 GMT')
    .header('Pragma', 'no-cache')
    .header('Accept-Ranges', 'none')
    .header('Access-Control-Allow-Origin', '*');
}

/*
 * Bodies go out as bytes: given a string, Fastify would append `; charset=utf-8` to Moodle's bare
 * `application/json`.
 */

/** Every answer is HTTP 200, error or not: the body says which. */
export function sendWsResult(reply: FastifyReply, format: WsFormat, value: unknown): FastifyReply {
  const body = format === 'json' ? phpJsonEncode(value ?? null) : renderMoodleXmlResponse(value);
  return setWsHeaders(reply, format).code(200).send(Buffer.from(body, 'utf8'));
}

/** `debuginfo` is added as a 4th key only when given (the provider's debug mode), as Moodle does. */
export function sendWsError(
  reply: FastifyReply,
  format: WsFormat,
  error: MoodleWsErrorBody,
  debuginfo?: string,
): FastifyReply {
  const body =
    format === 'json'
      ? phpJsonEncode(debuginfo === undefined ? error : { ...error, debuginfo })
      : renderMoodleXmlException(error, debuginfo);
  return setWsHeaders(reply, format).code(200).send(Buffer.from(body, 'utf8'));
}
