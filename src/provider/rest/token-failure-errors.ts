import {
  DOWNLOAD_ERRORS,
  type DownloadErrorDefinition,
  type MoodleWsErrorBody,
  WS_ERRORS,
  wsAccessUserSuspended,
} from '../moodle-errors.js';
import type { TokenFailure } from '../token-check.js';

/** The body `webservice/rest/server.php` answers for a failed token check. */
export function wsErrorForTokenFailure(failure: TokenFailure): MoodleWsErrorBody {
  switch (failure.reason) {
    case 'missingtoken':
    case 'invalidtoken':
      return WS_ERRORS.invalidtoken;
    case 'expired':
    case 'ipnotallowed':
    case 'serviceunavailable':
    case 'usernotauthorised':
    case 'functionnotinservice':
    case 'downloaddisabled':
      return WS_ERRORS.accessexception;
    case 'maintenance':
      return WS_ERRORS.sitemaintenance;
    case 'usersuspended':
      return wsAccessUserSuspended(failure.username ?? '');
    case 'missingfunction':
      return WS_ERRORS.invalidparameter;
    case 'unknownfunction':
      return WS_ERRORS.invalidrecord;
    case 'missingcapability':
      return failure.capability === 'canRetrieveFilesFromOtherUsers'
        ? WS_ERRORS.nopermissionsRetrieveFiles
        : WS_ERRORS.nopermissionsCreateDraft;
  }
}

/** The error the file-serving script answers for a failed token check. */
export function downloadErrorForTokenFailure(failure: TokenFailure): DownloadErrorDefinition {
  switch (failure.reason) {
    case 'missingtoken':
      return DOWNLOAD_ERRORS.missingparam;
    case 'invalidtoken':
      return DOWNLOAD_ERRORS.invalidtoken;
    case 'maintenance':
      return DOWNLOAD_ERRORS.sitemaintenance;
    case 'usersuspended':
      return DOWNLOAD_ERRORS.wsaccessusersuspended;
    case 'missingcapability':
      return DOWNLOAD_ERRORS.nopermissions;
    default:
      return DOWNLOAD_ERRORS.accessexception;
  }
}
