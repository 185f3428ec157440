import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../schema/context.js';
import { isReusableOperation } from '../schema/reusable-fields.js';

/**
 * Tells each request's `freshness` whether its operation is one the response cache may answer again
 * (a query of reusable fields), and that it is not after all when the result has errors or streams.
 */
export function useAnswerReuse(): Plugin<GraphQLContext> {
  return {
    onExecute({ args }) {
      const { freshness } = args.contextValue;
      if (isReusableOperation(args.schema, args.document, args.operationName)) {
        const name = getOperationAST(args.document, args.operationName)?.name?.value ?? null;
        freshness.reusableOperation(name);
      }
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in result || (result.errors?.length ?? 0) > 0) freshness.live();
        },
      };
    },
  };
}
