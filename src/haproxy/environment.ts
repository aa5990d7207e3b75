// The environment HAProxy runs with. HAProxy expands "${VAR}" and env() from
// its own environment into the config, so whatever it inherits a natives
// line could send to clients: Aqueduct's token among them. It gets the bare
// minimum to run (the path, the locale, the time zone, a temp dir) and the
// names the operator lists with --haproxyEnv, nothing else.

const BASE = ['PATH', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR'];

/** The minimal environment for a haproxy process, from `env` (normally process.env). */
export function haproxyEnvironment(env: NodeJS.ProcessEnv, passThrough: readonly string[] = []): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    const wanted = BASE.includes(name) || name.startsWith('LC_') || passThrough.includes(name);
    if (wanted && value !== undefined) out[name] = value;
  }
  return out;
}
