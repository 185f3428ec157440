import { GraphQLError } from 'graphql';

/** Caller mistakes: GraphQL errors with a stable `extensions.code`. A site's trouble is data instead. */
export function badUserInput(field: string, message: string): GraphQLError {
  return new GraphQLError(`${field}: ${message}`, { extensions: { code: 'BAD_USER_INPUT', field } });
}

export function notFound(field: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'NOT_FOUND', field } });
}
