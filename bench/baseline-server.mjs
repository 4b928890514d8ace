// Baseline for the hit-path benchmark: the fastest a plain node:http server answers the same bytes.
import http from 'node:http';
const body = Buffer.alloc(Number(process.env.SIZE ?? 1024), 'x');
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'cache-control': 'max-age=3600' });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
