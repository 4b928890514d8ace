/**
 * The default destination rules cover every cloud metadata address, not only 169.254.169.254 (issue 12
 * item 14): fd00:ec2::254 (AWS over IPv6), 100.100.100.200 (Alibaba Cloud), 192.0.0.192 (Oracle Cloud),
 * in every spelling a URL or getaddrinfo accepts (IPv4-mapped IPv6, NAT64, decimal, hex, octal), for
 * absolute-form GET and CONNECT, with the default configuration.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { exchange } from './support.js';
import { DestinationPolicy } from '../../src/proxy/destination.js';
import { OPTION_BY_KEY } from '../../src/config/options.js';

const cleanup: (() => Promise<void>)[] = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const SPELLINGS: Record<string, string[]> = {
  'fd00:ec2::254': ['[fd00:ec2::254]', '[FD00:EC2:0:0:0:0:0:254]', '[fd00:0ec2::0254]'],
  '100.100.100.200': ['100.100.100.200', '[::ffff:100.100.100.200]', '[::ffff:6464:64c8]', '[64:ff9b::6464:64c8]', '1684301000', '0x646464c8', '0144.0144.0144.0310', '100.6579400'],
  '192.0.0.192': ['192.0.0.192', '[::ffff:192.0.0.192]', '[64:ff9b::c000:c0]', '3221225664', '0xc00000c0', '0300.0.0.0300', '192.192'],
};

test('[forward] the default deny list refuses fd00:ec2::254, 100.100.100.200 and 192.0.0.192 in every spelling (GET and CONNECT, 403)', async () => {
  const l: TestLarder = await startTestLarder({ connectPorts: ['*'] });
  cleanup.push(() => l.stop());
  for (const [address, hosts] of Object.entries(SPELLINGS)) {
    for (const host of hosts) {
      const g = await exchange(l.port, `GET http://${host}/latest/meta-data/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 3000);
      assert.equal(g.status, 403, `GET ${host} (${address}): ${JSON.stringify(g.text.slice(0, 200))}`);
      assert.match(g.text, /denyCidrs/, `${host}: refused for another reason`);
      const c = await exchange(l.port, `CONNECT ${host}:80 HTTP/1.1\r\nHost: ${host}:80\r\n\r\n`, 3000);
      assert.equal(c.status, 403, `CONNECT ${host} (${address}): ${JSON.stringify(c.text.slice(0, 200))}`);
    }
  }
});

test('the default deny list refuses a name resolving to one of the metadata addresses (checked at lookup)', async () => {
  const denyCidrs = OPTION_BY_KEY.get('denyCidrs')!.default as string[];
  const answers: Record<string, string> = { 'aws6.example': 'fd00:ec2::254', 'ali.example': '100.100.100.200', 'oci.example': '192.0.0.192', 'mapped.example': '::ffff:100.100.100.200' };
  const p = new DestinationPolicy({
    denyHosts: [], denyCidrs, connectPorts: ['443'],
    resolve: async (name) => [{ address: answers[name] ?? '93.184.215.14', family: (answers[name] ?? '').includes(':') ? 6 : 4 }],
  });
  for (const name of Object.keys(answers)) {
    await assert.rejects(p.resolveForConnect(name, 443), /denied range/, name);
  }
  assert.deepEqual(await p.resolveForConnect('public.example', 443), { address: '93.184.215.14', family: 4 });
  // neighbours of the single addresses stay allowed
  for (const a of ['100.100.100.201', '192.0.0.193', 'fd00:ec2::255']) assert.equal(p.checkHost(a), undefined, a);
});
