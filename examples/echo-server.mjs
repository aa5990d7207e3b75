#!/usr/bin/env node
// A tiny HTTP server for the examples and tests: answers every request with
// its own name, the request's Host and path, so one can see where HAProxy
// routed it. Usage: node echo-server.mjs <name> <port> [<port> ...]
// With REGISTER=<registry url>,<service>,<version> in the environment it also
// registers each port in a Thalassa-compatible registry and checks in every
// 5 s, as a real service would. LISTEN_HOST (default 127.0.0.1) is the
// address to listen on, ADVERTISE_HOST (default 127.0.0.1) the one registered.
// FAIL_EVERY=<n> answers every n-th request with a 500: a broken version for
// trying a rollout that rolls itself back.
import http from 'node:http';

const [name = 'echo', ...ports] = process.argv.slice(2);
const [registry, service, version] = (process.env.REGISTER ?? '').split(',');
const listenHost = process.env.LISTEN_HOST ?? '127.0.0.1';
const advertiseHost = process.env.ADVERTISE_HOST ?? '127.0.0.1';
const failEvery = Number(process.env.FAIL_EVERY ?? 0);
let served = 0;

function checkIn(port) {
  const url = `${registry}/registrations/${service}/${version}/${advertiseHost}/${port}`;
  const body = JSON.stringify({ secondsToExpire: 15, server: name });
  const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } });
  req.on('response', (res) => res.resume());
  req.on('error', () => undefined); // the registry may not be up yet: the next check-in retries
  req.end(body);
}

for (const port of ports.length > 0 ? ports : ['9001']) {
  http
    .createServer((req, res) => {
      const body = JSON.stringify({ server: `${name}:${port}`, host: req.headers.host ?? null, path: req.url });
      const failing = failEvery > 0 && ++served % failEvery === 0;
      res.writeHead(failing ? 500 : 200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    })
    .listen(Number(port), listenHost, () => {
      process.stdout.write(`${name} listening on ${listenHost}:${port}\n`);
      if (registry && service && version) {
        checkIn(port);
        setInterval(() => checkIn(port), 5000);
      }
    });
}
