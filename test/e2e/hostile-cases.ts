import { HOSTILE_TEXT, bodyWith, deepJson } from './hostile.helpers';
import { encodeAny } from './fuzz.helpers';

/** One hand-made hostile request; `ifMatch` names the resource whose current ETag it carries. */
export interface HostileCase {
  label: string;
  method: string;
  path: string;
  body?: string | Buffer;
  contentType?: string;
  ifMatch?: string;
  /** a kill switch: it must answer 200 and take effect, so it may write */
  kill?: boolean;
}

/** The fixtures the cases point at (created by the spec before replaying). */
export interface Fixtures {
  flag: string;
  draft: string;
  running: string;
  killFlag: string;
  halt: string;
  pause: string;
  viewerKeyId: string;
  userId: string;
}

interface Field {
  what: string;
  method: string;
  path: string;
  base: Record<string, unknown>;
  /** dot path of the free-text field */
  field: string;
  /** dot path of an object whose keys are free text */
  keysOf?: string;
  ifMatch?: string;
  kill?: boolean;
}

const DEEP = '"__deep__"';

/** Every free-text field the issue found answering 500, and more of the same kind. */
function fields(f: Fixtures): Field[] {
  const rule = (condition: Record<string, unknown>) => ({ rules: [{ name: 'r', conditions: [{ attribute: 'country', operator: 'equals', value: 'DE', ...condition }], variant: 'on' }] });
  return [
    { what: 'key name', method: 'POST', path: '/api/v1/keys', base: { name: 'n', role: 'viewer' }, field: 'name' },
    { what: 'key revoke reason', method: 'POST', path: `/api/v1/keys/${f.viewerKeyId}/revoke`, base: {}, field: 'reason' },
    { what: 'campaign name', method: 'POST', path: '/api/v1/campaigns', base: { key: 'hx-new', name: 'n', flag: f.flag }, field: 'name' },
    { what: 'campaign description', method: 'POST', path: '/api/v1/campaigns', base: { key: 'hx-new', name: 'n', flag: f.flag }, field: 'description' },
    { what: 'campaign filter value', method: 'POST', path: '/api/v1/campaigns', base: { key: 'hx-new', name: 'n', flag: f.flag }, field: 'populationFilter.attributes.team', keysOf: 'populationFilter.attributes' },
    { what: 'campaign filter platform', method: 'PATCH', path: `/api/v1/campaigns/${f.draft}`, base: {}, field: 'populationFilter.platforms', ifMatch: `/api/v1/campaigns/${f.draft}` },
    { what: 'campaign patch name', method: 'PATCH', path: `/api/v1/campaigns/${f.draft}`, base: {}, field: 'name', ifMatch: `/api/v1/campaigns/${f.draft}` },
    { what: 'hold filter value', method: 'POST', path: `/api/v1/campaigns/${f.draft}/holds`, base: { reason: 'hold for a test' }, field: 'filter.attributes.team', keysOf: 'filter.attributes' },
    { what: 'hold reason', method: 'POST', path: `/api/v1/campaigns/${f.draft}/holds`, base: { filter: { countries: ['DE'] } }, field: 'reason' },
    { what: 'flag description', method: 'POST', path: '/api/v1/flags', base: { key: 'hx-new-flag' }, field: 'description' },
    { what: 'flag variant value', method: 'POST', path: '/api/v1/flags', base: { key: 'hx-new-flag', kind: 'string', variants: { on: 'a', off: 'b' }, offVariant: 'off', rolloutVariant: 'on' }, field: 'variants.on', keysOf: 'variants' },
    { what: 'flag rule value', method: 'PATCH', path: `/api/v1/flags/${f.flag}`, base: rule({}), field: 'rules.0.conditions.0.value', ifMatch: `/api/v1/flags/${f.flag}` },
    { what: 'flag rule values', method: 'PATCH', path: `/api/v1/flags/${f.flag}`, base: rule({ operator: 'in', value: undefined }), field: 'rules.0.conditions.0.values', ifMatch: `/api/v1/flags/${f.flag}` },
    { what: 'flag rule name', method: 'PATCH', path: `/api/v1/flags/${f.flag}`, base: rule({}), field: 'rules.0.name', ifMatch: `/api/v1/flags/${f.flag}` },
    { what: 'flag revive reason', method: 'POST', path: `/api/v1/flags/${f.flag}/revive`, base: {}, field: 'reason', ifMatch: `/api/v1/flags/${f.flag}` },
    { what: 'user attribute', method: 'PATCH', path: `/api/v1/users/${f.userId}`, base: {}, field: 'attributes.note', keysOf: 'attributes' },
    { what: 'user patch reason', method: 'PATCH', path: `/api/v1/users/${f.userId}`, base: { e2eeCapable: true }, field: 'reason' },
    { what: 'opt-in user id', method: 'POST', path: `/api/v1/campaigns/${f.running}/opt-in`, base: {}, field: 'userId' },
    { what: 'OFREP context', method: 'POST', path: `/ofrep/v1/evaluate/flags/${f.flag}`, base: {}, field: 'context.targetingKey', keysOf: 'context' },
    { what: 'OFREP bulk context', method: 'POST', path: '/ofrep/v1/evaluate/flags', base: {}, field: 'context.country', keysOf: 'context' },
    { what: 'flag kill reason', method: 'POST', path: `/api/v1/flags/${f.killFlag}/kill`, base: {}, field: 'reason', ifMatch: `/api/v1/flags/${f.killFlag}`, kill: true },
    { what: 'campaign halt reason', method: 'POST', path: `/api/v1/campaigns/${f.halt}/halt`, base: {}, field: 'reason', ifMatch: `/api/v1/campaigns/${f.halt}`, kill: true },
    { what: 'campaign pause reason', method: 'POST', path: `/api/v1/campaigns/${f.pause}/pause`, base: {}, field: 'reason', ifMatch: `/api/v1/campaigns/${f.pause}`, kill: true },
  ];
}

function fieldCases(f: Fixtures): HostileCase[] {
  const out: HostileCase[] = [];
  for (const x of fields(f)) {
    const common = { method: x.method, path: x.path, ifMatch: x.ifMatch };
    const asList = x.field.endsWith('platforms') || x.field.endsWith('values');
    for (const [label, v] of HOSTILE_TEXT) {
      out.push({ ...common, label: `${x.what}: ${label}`, body: JSON.stringify(bodyWith(x.base, x.field, asList ? [v] : v)), kill: x.kill });
    }
    // a reason that is a deep JSON value is not text: a 400 even on a kill switch
    out.push({ ...common, label: `${x.what}: 10,000-deep JSON value`, body: JSON.stringify(bodyWith(x.base, x.field, '__deep__')).replace(DEEP, deepJson(10_000)) });
    if (x.keysOf) {
      for (const [label, v] of HOSTILE_TEXT.slice(0, 5)) out.push({ ...common, label: `${x.what} key: ${label}`, body: JSON.stringify(bodyWith(x.base, x.keysOf, { [v]: 'x' })) });
    }
  }
  return out;
}

/** Bodies that are not JSON, not UTF-8, or hold numbers no field can take. */
function bodyCases(f: Fixtures): HostileCase[] {
  const raw = (label: string, path: string, body: string | Buffer, ifMatch?: string): HostileCase => ({ label, method: 'POST', path, body, ifMatch });
  const rollout = `/api/v1/flags/${f.flag}/rollout`;
  return [
    raw('empty JSON body', '/api/v1/keys', ''),
    raw('malformed JSON body', '/api/v1/keys', '{"name":'),
    raw('JSON with a BOM', '/api/v1/keys', '\ufeff{"name":"x","role":"viewer"}'),
    raw('two JSON values', '/api/v1/keys', '{"name":"x"}{"role":"viewer"}'),
    raw('invalid UTF-8 in a string', '/api/v1/flags', Buffer.concat([Buffer.from('{"key":"hx-utf","description":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')])),
    raw('CESU surrogate bytes', '/api/v1/flags', Buffer.concat([Buffer.from('{"key":"hx-utf","description":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])),
    raw('10,000-deep array body', '/api/v1/flags', deepJson(10_000, true)),
    raw('huge percent', rollout, '{"rolloutPercent":1e400}', `/api/v1/flags/${f.flag}`),
    raw('huge ppm', rollout, '{"rolloutPpm":123456789012345678901234567890}', `/api/v1/flags/${f.flag}`),
    raw('huge seed count', '/api/v1/users/seed', '{"count":1e308}'),
    raw('huge opt-in id', `/api/v1/campaigns/${f.running}/opt-in`, '{"userId":99999999999999999999999999}'),
    raw('huge pacing', '/api/v1/campaigns', `{"key":"hx-new","name":"n","flag":"${f.flag}","pacing":{"batchSize":1e400}}`),
    raw('__proto__ key', '/api/v1/keys', '{"__proto__":{"role":"admin"},"name":"x","role":"viewer"}'),
    { label: 'urlencoded body', method: 'POST', path: '/api/v1/keys', body: 'name=x&role=admin', contentType: 'application/x-www-form-urlencoded' },
  ];
}

/** Hostile path parameters and query values on read routes. */
function urlCases(): HostileCase[] {
  const out: HostileCase[] = [];
  for (const [label, v] of HOSTILE_TEXT.filter(([l]) => !l.startsWith('100 kB') && l !== 'deep JSON text')) {
    for (const path of ['/api/v1/flags/', '/api/v1/campaigns/', '/api/v1/users/', '/api/v1/campaigns/x/users/']) out.push({ label: `path ${path}: ${label}`, method: 'GET', path: path + encodeAny(v) });
    for (const q of ['/api/v1/audit?entityId=', '/api/v1/flags?cursor=', '/api/v1/campaigns?status=', '/api/v1/keys?includeRevoked=']) out.push({ label: `query ${q}: ${label}`, method: 'GET', path: q + encodeAny(v) });
  }
  return out;
}

export function hostileCases(f: Fixtures): HostileCase[] {
  return [...fieldCases(f), ...bodyCases(f), ...urlCases()];
}
