/**
 * `larder ca`: print where the interception CA certificate lives, the PEM itself, and how to trust it.
 * Creates the CA when it does not exist yet.
 */
import type { Config } from '../config/load.js';
import { loadOrCreateCa } from '../tls/ca.js';

export async function runCaCommand(config: Config, out: NodeJS.WritableStream): Promise<number> {
  let ca;
  try {
    ca = await loadOrCreateCa(config.caDir);
  } catch (err) {
    const code = (err as { code?: string }).code;
    out.write(`larder ca: ${(err as Error).message ?? String(err)}${code ? ` [${code}]` : ''}\n`);
    return 1;
  }
  const path = ca.certPath;
  const q = shellQuote(path);
  out.write(
    `# larder interception CA${ca.created ? ' (created now)' : ''}\n` +
    `# certificate: ${path}\n` +
    `# subject:     ${ca.cert.subject}\n` +
    `# valid until: ${ca.cert.notAfter.toISOString()}\n` +
    `# private key: ${ca.keyPath} (keep it secret: it can impersonate any site to clients that trust this CA)\n` +
    '#\n' +
    '# Trust it:\n' +
    `#   curl:      curl --cacert ${q} -x http://127.0.0.1:${config.port} https://example.com/\n` +
    `#   Node.js:   NODE_EXTRA_CA_CERTS=${q} node app.js\n` +
    `#   Debian:    sudo cp ${q} /usr/local/share/ca-certificates/larder.crt && sudo update-ca-certificates\n` +
    `#   Chromium:  certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n larder -i ${q}\n` +
    '#   Firefox:   Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import\n' +
    '\n' +
    ca.certPem.trimEnd() + '\n',
  );
  return 0;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./~:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
