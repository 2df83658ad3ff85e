import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.coerce.number().int().min(0).max(65_535);

/** The environment Sightline reads. Nothing else in the code base touches `process.env`. */
const EnvSchema = z.object({
  PORT: port.default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  MONGODB_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// connection string')
    .optional(),
  DATA_DIR: z.string().min(1).default('./.sightline'),
  ADMIN_KEY: z.string().min(24, 'must be at least 24 characters (use a long random secret)').optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  EMBEDDED_STORE_PORT: port.default(27018),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  http: { port: number; host: string };
  /** `url` unset means the embedded store, which lives under `dataDir/store`. */
  storage: { url?: string; dataDir: string; embeddedPort: number };
  adminKey?: string;
  logLevel: (typeof LOG_LEVELS)[number];
  production: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates the whole environment at once so every mistake is reported in one go, not one per restart. */
export function loadConfig(source: Record<string, string | undefined>): Config {
  // Empty (or blank) strings mean "unset": `PORT= npm start` should use the default, not fail on "",
  // and a stray space must not coerce to 0, which would mean "any free port".
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value.trim() !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'env'}: ${issue.message}`));
  }
  const env = parsed.data;
  return {
    http: { port: env.PORT, host: env.HOST },
    storage: { url: env.MONGODB_URL, dataDir: env.DATA_DIR, embeddedPort: env.EMBEDDED_STORE_PORT },
    adminKey: env.ADMIN_KEY,
    logLevel: env.LOG_LEVEL,
    production: env.NODE_ENV === 'production',
  };
}
