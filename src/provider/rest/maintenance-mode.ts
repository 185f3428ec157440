import type { FastifyReply } from 'fastify';
import { CLI_MAINTENANCE_PAGE, CLI_MAINTENANCE_RETRY_AFTER_SECONDS } from '../moodle-errors.js';

/**
 * Moodle's two maintenance modes: `admin` (switched on from the admin pages: web services answer
 * `sitemaintenance`) and `cli` (`admin/cli/maintenance.php`: every page is an HTTP 503).
 */
export type MaintenanceMode = 'off' | 'admin' | 'cli';

export function sendCliMaintenancePage(reply: FastifyReply): FastifyReply {
  return reply
    .code(503)
    .header('Retry-After', String(CLI_MAINTENANCE_RETRY_AFTER_SECONDS))
    .header('Content-Type', 'text/html; charset=utf-8')
    .send(CLI_MAINTENANCE_PAGE);
}
