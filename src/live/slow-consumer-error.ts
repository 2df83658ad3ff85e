import { GraphQLError } from 'graphql';

/**
 * Ends a subscription whose client fell more than `queueLimit` events behind. A GraphQLError with a
 * stable code, so it reaches the client unmasked as the subscription's final `error` message.
 */
export class SlowConsumerError extends GraphQLError {
  constructor(queueLimit: number) {
    super(
      `The subscription fell more than ${queueLimit} events behind and was ended; resubscribe, and query \`events\` to catch up.`,
      { extensions: { code: 'SLOW_CONSUMER', queueLimit } },
    );
    this.name = 'SlowConsumerError';
  }
}
