#!/usr/bin/env node
// A tiny HTTP server for the examples and tests: answers every request with
// its own name, the request's Host and path, so one can see where HAProxy
// routed it. Usage: node echo-server.mjs <name> <port> [<port> ...]
import http from 'node:http';

const [name = 'echo', ...ports] = process.argv.slice(2);
for (const port of ports.length > 0 ? ports : ['9001']) {
  http
    .createServer((req, res) => {
      const body = JSON.stringify({ server: `${name}:${port}`, host: req.headers.host ?? null, path: req.url });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    })
    .listen(Number(port), '127.0.0.1', () => process.stdout.write(`${name} listening on 127.0.0.1:${port}\n`));
}
