import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env.ts';

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

const ADMIN_KEY = 'a-long-random-admin-secret-0123456789';

describe('loadConfig', () => {
  it('starts with documented defaults when nothing is set', () => {
    expect(loadConfig({})).toEqual({
      http: { port: 4000, host: '127.0.0.1' },
      storage: { url: undefined, dataDir: './.sightline', embeddedPort: 27018 },
      adminKey: undefined,
      logLevel: 'info',
      production: false,
    });
  });

  it('reads every variable it knows', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      MONGODB_URL: 'mongodb://db1:27017,db2:27017/analytics?replicaSet=rs0',
      DATA_DIR: '/var/lib/sightline',
      ADMIN_KEY,
      LOG_LEVEL: 'debug',
      NODE_ENV: 'production',
      EMBEDDED_STORE_PORT: '0',
    });
    expect(config).toEqual({
      http: { port: 8080, host: '0.0.0.0' },
      storage: { url: 'mongodb://db1:27017,db2:27017/analytics?replicaSet=rs0', dataDir: '/var/lib/sightline', embeddedPort: 0 },
      adminKey: ADMIN_KEY,
      logLevel: 'debug',
      production: true,
    });
  });

  it('ignores variables that are not its own, as a whole process environment has many', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root', PORT: '5000' }).http.port).toBe(5000);
  });

  it('reports every invalid variable at once, naming each', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const { problems, message } = caught as ConfigError;
    expect(problems).toHaveLength(2);
    expect(problems.some((p) => p.startsWith('PORT'))).toBe(true);
    expect(problems.some((p) => p.startsWith('LOG_LEVEL'))).toBe(true);
    expect(message).toContain('PORT');
    expect(message).toContain('LOG_LEVEL');
  });

  it('reports five mistakes in one error rather than one per restart', () => {
    const problems = problemsOf({
      PORT: '70000',
      EMBEDDED_STORE_PORT: '-1',
      MONGODB_URL: 'postgres://localhost/db',
      ADMIN_KEY: 'short',
      NODE_ENV: 'prod',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['ADMIN_KEY', 'EMBEDDED_STORE_PORT', 'MONGODB_URL', 'NODE_ENV', 'PORT']);
  });

  it('treats empty strings as unset', () => {
    expect(
      loadConfig({ PORT: '', HOST: '', MONGODB_URL: '', DATA_DIR: '', ADMIN_KEY: '', LOG_LEVEL: '', NODE_ENV: '', EMBEDDED_STORE_PORT: '' }),
    ).toEqual(loadConfig({}));
  });

  it('treats blank strings as unset, so a stray space never means port 0 (any free port)', () => {
    expect(loadConfig({ PORT: '   ', EMBEDDED_STORE_PORT: ' ', LOG_LEVEL: '\t' })).toEqual(loadConfig({}));
  });

  it.each(['abc', '1.5', '65536', '-1'])('refuses PORT=%s', (value) => {
    expect(problemsOf({ PORT: value })).toEqual([expect.stringMatching(/^PORT/)]);
  });

  it.each(['mongodb://localhost:27017', 'mongodb+srv://cluster0.example.net/analytics', 'mongodb://u:p@h1,h2/?replicaSet=rs'])(
    'accepts the MongoDB connection string %s',
    (url) => {
      expect(loadConfig({ MONGODB_URL: url }).storage.url).toBe(url);
    },
  );

  it.each(['localhost:27017', 'postgres://localhost/db', 'http://mongodb.example.com', 'MONGODB://localhost'])(
    'refuses MONGODB_URL=%s, which is not a MongoDB connection string',
    (url) => {
      expect(problemsOf({ MONGODB_URL: url })).toEqual([expect.stringMatching(/^MONGODB_URL/)]);
    },
  );

  it('refuses an admin key too short to be a secret', () => {
    expect(problemsOf({ ADMIN_KEY: 'changeme' })).toEqual([expect.stringMatching(/^ADMIN_KEY/)]);
  });

  it('turns on production only for NODE_ENV=production', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).production).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development' }).production).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).production).toBe(false);
  });
});
