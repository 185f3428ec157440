import { GraphQLError } from 'graphql';
import { ProviderInputError } from '../provider/provider-admin.js';
import { StoreConflictError, StoreInvariantError } from '../provider/store/repository.js';

export const fromUnixSeconds = (seconds: number) => new Date(seconds * 1000);

const CODE_OF_REASON: Record<ProviderInputError['reason'], string> = {
  invalid: 'BAD_USER_INPUT',
  'not-found': 'NOT_FOUND',
  conflict: 'CONFLICT',
  'too-large': 'PAYLOAD_TOO_LARGE',
};

/**
 * Runs a management action on the in-process provider. Its input errors become GraphQL errors naming
 * the field; without a provider in this process, the caller is told so.
 */
export async function manageProvider<A, T>(admin: A | null, action: (admin: A) => Promise<T>): Promise<T> {
  if (admin === null) {
    throw new GraphQLError('the local provider is not enabled on this gateway', {
      extensions: { code: 'PROVIDER_DISABLED' },
    });
  }
  try {
    return await action(admin);
  } catch (error) {
    if (error instanceof ProviderInputError) {
      throw new GraphQLError(`${error.field}: ${error.message}`, {
        extensions: { code: CODE_OF_REASON[error.reason], field: error.field },
      });
    }
    if (error instanceof StoreConflictError || error instanceof StoreInvariantError) {
      throw new GraphQLError(`${error.field}: ${error.message}`, {
        extensions: {
          code: error instanceof StoreConflictError ? 'CONFLICT' : 'BAD_USER_INPUT',
          field: error.field,
        },
      });
    }
    throw error;
  }
}
