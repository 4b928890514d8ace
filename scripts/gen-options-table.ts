import { OPTIONS } from '../src/config/options.ts';
import { camelToKebab, camelToEnv } from '../src/config/load.ts';
import { formatBytes, formatDuration } from '../src/config/units.ts';
const rows = ['| flag | environment | config key | default | what |', '| --- | --- | --- | --- | --- |'];
for (const o of OPTIONS) {
  let d: string;
  if (o.defaultText) d = o.defaultText;
  else if (o.default === undefined) d = '–';
  else if (o.type === 'duration') d = formatDuration(o.default as number);
  else if (o.type === 'size') d = formatBytes(o.default as number);
  else if (Array.isArray(o.default)) d = o.default.length ? (o.default as string[]).join(',') : '–';
  else d = String(o.default);
  const flag = o.fileOnly ? '(file only)' : o.type === 'bool' ? `\`--${camelToKebab(o.key)}\` / \`--no-${camelToKebab(o.key)}\`` : `\`--${camelToKebab(o.key)}\``;
  rows.push(`| ${flag} | \`${camelToEnv(o.key)}\` | \`${o.key}\` | ${d.replace(/\|/g, '\\|')} | ${o.help.replace(/\|/g, '\\|')} |`);
}
console.log(rows.join('\n'));
