import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Every error a caller sees carries a stable `extensions.code`: parse and validation errors
 * (including the query limits) get one here, as our own errors and masked ones already do.
 */
export function useStableErrorCodes(): Plugin {
  return {
    onExecutionResult: ({ result, setResult }) => {
      if (!result || !('errors' in result) || !result.errors?.some(needsCode)) return;
      setResult({ ...result, errors: result.errors.map(withCode) });
    },
    onResultProcess: ({ result, setResult }) => {
      if (Array.isArray(result) || !('errors' in result) || !result.errors?.some(needsCode)) return;
      setResult({ ...result, errors: result.errors.map(withCode) });
    },
  };
}

function needsCode(error: GraphQLError): boolean {
  return typeof error.extensions?.code !== 'string';
}

function withCode(error: GraphQLError): GraphQLError {
  if (!needsCode(error)) return error;
  const code = error.message.startsWith('Syntax Error')
    ? 'GRAPHQL_PARSE_FAILED'
    : 'GRAPHQL_VALIDATION_FAILED';
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}
