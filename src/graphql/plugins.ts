import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { NoSchemaIntrospectionCustomRule, validate, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from './context.ts';
import { SightlineError, UnauthenticatedError } from './errors.ts';
import { ARMOR_LIMITS } from './limits.ts';

/** Armor's refusals carry no code and call themselves syntax errors; clients get one stable code instead. */
function refuseAsTooExpensive(_ctx: unknown, error: GraphQLError): never {
  throw new SightlineError('QUERY_TOO_EXPENSIVE', error.message.replace(/^Syntax Error: /, ''));
}

/**
 * Document-shape limits (depth, aliases, directives, tokens, cost) and hidden field suggestions.
 * Fragments are flattened so depth cannot be hidden behind spreads; limits are not echoed in production.
 */
export function armorPlugin(production: boolean): Plugin {
  const exposeLimits = !production;
  const onReject = [refuseAsTooExpensive];
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: ARMOR_LIMITS.maxDepth, flattenFragments: true, ignoreIntrospection: false, exposeLimits, onReject },
    maxAliases: { n: ARMOR_LIMITS.maxAliases, exposeLimits, onReject },
    maxDirectives: { n: ARMOR_LIMITS.maxDirectives, exposeLimits, onReject },
    maxTokens: { n: ARMOR_LIMITS.maxTokens, exposeLimits, onReject },
    costLimit: { maxCost: ARMOR_LIMITS.maxCost, flattenFragments: true, ignoreIntrospection: false, exposeLimits, onReject },
    // Armor's version only rewrites field hints in validation errors; ours covers every kind.
    blockFieldSuggestion: { enabled: false },
  }) as Plugin;
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(armor);
      addPlugin(hideSuggestionsPlugin());
    },
  };
}

const SUGGESTION = /Did you mean [^?]*\?/g;

function hideSuggestions(errors: readonly Error[] | undefined): void {
  for (const error of errors ?? []) error.message = error.message.replace(SUGGESTION, '[Suggestion hidden]');
}

/**
 * "Did you mean …?" hints map the schema for someone without introspection. They appear in
 * validation errors (fields, arguments, types, enum literals) and in variable errors raised at
 * execution (enum values, input fields), so both are rewritten.
 */
function hideSuggestionsPlugin(): Plugin {
  return {
    onValidate: () => ({ result }) => hideSuggestions(result),
    onExecute: () => ({
      onExecuteDone: ({ result }) => {
        if (!isAsyncIterable(result)) hideSuggestions(result.errors);
      },
    }),
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * In production, only authenticated callers may introspect; development keeps GraphiQL's docs working for everyone.
 * Checked at execution, not validation: the caller is only known once the context has been built.
 */
export function introspectionPolicyPlugin(production: boolean): Plugin<Context> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (!production || (args.contextValue as Context).access.principal.kind !== 'anonymous') return;
      if (validate(args.schema, args.document, [NoSchemaIntrospectionCustomRule]).length === 0) return;
      setResultAndStopExecution({
        errors: [new UnauthenticatedError('Introspection needs a personal API key in production: send "Authorization: Bearer <key>".')],
      });
    },
  };
}
