import http from 'node:http';
import { apiUp, startAqueductProcess } from '../test/helpers/aqueduct.js';
import { freePort, startEchoServer } from '../test/helpers/haproxy.js';
import { percentile } from '../bench/lib.js';
const now = () => performance.now();
function header(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? String(res.headers['x-put']) : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.setTimeout(2000, () => req.destroy());
  });
}
async function put(api: string, route: string, body: object): Promise<number> {
  const t = now();
  const payload = JSON.stringify(body);
  await new Promise<void>((resolve, reject) => {
    const req = http.request(
      `${api}${route}`,
      {
        method: 'PUT',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve());
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
  return now() - t;
}
const echo = await startEchoServer('b1');
const port = await freePort();
const aq = await startAqueductProcess();
await apiUp(aq);
await put(aq.api, '/backends/b', { type: 'static', members: [{ host: '127.0.0.1', port: echo.port }] });
const lat: number[] = [];
const puts: number[] = [];
for (let i = 0; i < 21; i++) {
  const t0 = now();
  const mark = `m${i}`;
  puts.push(
    await put(aq.api, '/frontends/f', {
      bind: `127.0.0.1:${port}`,
      backend: 'b',
      natives: [`http-response set-header X-Put ${mark}`],
    }),
  );
  for (;;) {
    if ((await header(port)) === mark) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  if (i > 0) lat.push(now() - t0);
}
console.log('served p50', percentile(lat, 50).toFixed(1), 'put p50', percentile(puts, 50).toFixed(1));
await aq.stop();
await echo.close();
