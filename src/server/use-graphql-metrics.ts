import { type DocumentNode, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface GraphQLOperationEvent {
  /** `query`, `mutation`, `subscription`, or `unknown` when the document could not be read. */
  readonly type: string;
  /** The operation's name as the caller sent it; `null` when anonymous. */
  readonly name: string | null;
  /** `ok`; `error` when the result carries errors; `invalid` when refused before execution. */
  readonly outcome: 'ok' | 'error' | 'invalid';
  /** Execution time; absent for an operation refused before execution. */
  readonly seconds?: number;
}

export interface UseGraphQLMetricsOptions {
  /** Told once per operation; must not throw. */
  readonly onOperation: (event: GraphQLOperationEvent) => void;
}

/** A Yoga plugin reporting every operation's type, name, outcome and execution time. */
export function useGraphQLMetrics({ onOperation }: UseGraphQLMetricsOptions): Plugin {
  return {
    onParse({ params }) {
      return ({ result }) => {
        if (result instanceof Error)
          onOperation({ type: 'unknown', name: nameOf(params.source), outcome: 'invalid' });
      };
    },
    onValidate({ params }) {
      return ({ valid }) => {
        if (!valid) onOperation({ ...describe(params.documentAST, undefined), outcome: 'invalid' });
      };
    },
    onExecute({ args }) {
      const started = performance.now();
      const operation = describe(args.document, args.operationName ?? undefined);
      return {
        onExecuteDone({ result }) {
          const seconds = (performance.now() - started) / 1000;
          // A streamed result (subscription, @defer) is counted once, when it starts.
          const failed = !(Symbol.asyncIterator in result) && (result.errors?.length ?? 0) > 0;
          onOperation({ ...operation, outcome: failed ? 'error' : 'ok', seconds });
        },
      };
    },
  };
}

function describe(document: DocumentNode, operationName: string | undefined) {
  const operation = getOperationAST(document, operationName);
  return { type: operation?.operation ?? 'unknown', name: operation?.name?.value ?? null };
}

function nameOf(source: unknown): string | null {
  if (typeof source !== 'string') return null;
  return /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(source)?.[1] ?? null;
}
