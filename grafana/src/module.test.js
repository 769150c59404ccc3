// Checks module.js with stand-ins for the modules Grafana provides:
//   node --test grafana/src/module.test.js
// (run by grafana/pkg/plugin's Go tests when node is installed).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

// Minimal React: elements are plain objects; hooks work for one render.
function makeReact() {
  const effects = [];
  return {
    effects,
    createElement(type, props, ...children) {
      return { type, props: Object.assign({}, props, { children: children.flat() }) };
    },
    useState(init) {
      const cell = { v: init };
      return [cell.v, (v) => { cell.v = v; }];
    },
    useEffect(fn) {
      effects.push(fn);
    },
  };
}

const templateVars = { cycle: '2026-09' };
const runtime = {
  DataSourceWithBackend: class {
    constructor(settings) {
      this.instanceSettings = settings;
      this.resources = [];
    }
    getResource(p) {
      this.resources.push(p);
      return Promise.resolve([{ cycle_id: '2026-09', period_start: '2026-09-01T00:00:00Z', period_end: '2026-10-01T00:00:00Z' }]);
    }
  },
  getTemplateSrv: () => ({
    replace: (s, scoped) => s.replace(/\$\{?(\w+)\}?/g, (m, n) => ((scoped && scoped[n]) ? scoped[n].value : (templateVars[n] !== undefined ? templateVars[n] : m))),
    getVariables: () => Object.keys(templateVars).map((name) => ({ name })),
  }),
};
const data = {
  DataSourceVariableSupport: class {},
  DataSourcePlugin: class {
    constructor(ds) { this.DataSourceClass = ds; this.components = {}; }
    setConfigEditor(c) { this.components.ConfigEditor = c; return this; }
    setQueryEditor(c) { this.components.QueryEditor = c; return this; }
  },
};
const ui = new Proxy({}, { get: (_, name) => String(name) });

function load() {
  const React = makeReact();
  let exported;
  const src = fs.readFileSync(path.join(__dirname, 'module.js'), 'utf8');
  const deps = { react: React, '@grafana/data': data, '@grafana/runtime': runtime, '@grafana/ui': ui };
  // eslint-disable-next-line no-new-func
  new Function('define', src)((names, factory) => {
    assert.deepStrictEqual(names, ['react', '@grafana/data', '@grafana/runtime', '@grafana/ui']);
    exported = factory(...names.map((n) => deps[n]));
  });
  return { mod: exported, React };
}

// find returns every element of a tree whose props match.
function find(node, pred, out = []) {
  if (!node || typeof node !== 'object') return out;
  if (Array.isArray(node)) { node.forEach((n) => find(n, pred, out)); return out; }
  if (node.props && pred(node)) out.push(node);
  if (node.props && node.props.children) find(node.props.children, pred, out);
  return out;
}

test('exports a data source plugin with both editors', () => {
  const { mod } = load();
  assert.ok(mod.plugin instanceof data.DataSourcePlugin);
  assert.strictEqual(mod.plugin.DataSourceClass, mod.DataSource);
  assert.strictEqual(mod.plugin.components.ConfigEditor, mod.ConfigEditor);
  assert.strictEqual(mod.plugin.components.QueryEditor, mod.QueryEditor);
});

test('queries: $cycle interpolated, org dropped, default and variable queries', () => {
  const { mod } = load();
  const ds = new mod.DataSource({ uid: 'phonesignals-acme' });
  const q = ds.applyTemplateVariables({ refId: 'A', queryType: 'employee_metrics', cycle: '$cycle', org: 'globex' }, {});
  assert.deepStrictEqual(q, { refId: 'A', queryType: 'employee_metrics', cycle: '2026-09' });
  const scoped = ds.applyTemplateVariables({ refId: 'B', queryType: 'cohort_baselines', cycle: '${cycle}' }, { cycle: { value: '2026-08' } });
  assert.strictEqual(scoped.cycle, '2026-08');
  assert.deepStrictEqual(ds.applyTemplateVariables({ refId: 'C', queryType: 'unmapped_users' }, {}), { refId: 'C', queryType: 'unmapped_users' });
  assert.deepStrictEqual(ds.getDefaultQuery(), { queryType: 'employee_metrics', cycle: '$cycle' });
  assert.ok(ds.variables instanceof data.DataSourceVariableSupport);
  assert.deepStrictEqual(ds.variables.getDefaultQuery(), { queryType: 'cycles' });
  assert.strictEqual(ds.filterQuery({ queryType: 'cycles', hide: true }), false);
  assert.strictEqual(ds.filterQuery({ queryType: 'cycles' }), true);
});

test('config editor writes jsonData and the secure password', () => {
  const { mod } = load();
  const changes = [];
  const options = { jsonData: { clickhouse: 'clickhouse:9000' }, secureJsonFields: { password: true }, secureJsonData: {} };
  const tree = mod.ConfigEditor({ options, onOptionsChange: (o) => changes.push(o) });
  const byId = (id) => find(tree, (n) => n.props.id === id)[0];
  byId('phonesignals-org').props.onChange({ currentTarget: { value: 'acme' } });
  assert.deepStrictEqual(changes.pop().jsonData, { clickhouse: 'clickhouse:9000', org: 'acme' });
  byId('phonesignals-database').props.onChange({ currentTarget: { value: 'ps' } });
  assert.strictEqual(changes.pop().jsonData.database, 'ps');
  assert.strictEqual(byId('phonesignals-org').props.invalid, true, 'an empty org is flagged');
  const pw = byId('phonesignals-password');
  assert.strictEqual(pw.props.isConfigured, true);
  pw.props.onChange({ currentTarget: { value: 's3cret' } });
  const c = changes.pop();
  assert.deepStrictEqual(c.secureJsonData, { password: 's3cret' });
  assert.strictEqual(c.jsonData.password, undefined, 'the password never goes to jsonData');
  pw.props.onReset();
  assert.strictEqual(changes.pop().secureJsonFields.password, false);
});

test('query editor: query types, cycles from GET /cycles and variables', async () => {
  const { mod, React } = load();
  const ds = new mod.DataSource({ uid: 'x' });
  const changes = [];
  let runs = 0;
  const props = { query: { refId: 'A', queryType: 'employee_metrics', cycle: '$cycle' }, datasource: ds, onChange: (q) => changes.push(q), onRunQuery: () => runs++ };
  const tree = mod.QueryEditor(props);
  const selects = find(tree, (n) => n.type === 'Select');
  assert.strictEqual(selects.length, 2, 'query type and cycle pickers');
  const [typeSel, cycleSel] = selects;
  assert.deepStrictEqual(typeSel.props.options.map((o) => o.value), ['employee_metrics', 'cohort_baselines', 'unmapped_users', 'cycles']);
  assert.deepStrictEqual(cycleSel.props.options.map((o) => o.value), ['$cycle']);
  assert.strictEqual(cycleSel.props.allowCustomValue, true);
  // The effect loads the cycles from the backend's GET /cycles.
  React.effects.forEach((fn) => fn());
  await new Promise((r) => setImmediate(r));
  assert.deepStrictEqual(ds.resources, ['cycles']);
  typeSel.props.onChange({ value: 'cycles' });
  assert.deepStrictEqual(changes.pop(), { refId: 'A', queryType: 'cycles', cycle: '$cycle' });
  cycleSel.props.onChange({ value: '2026-08' });
  assert.strictEqual(changes.pop().cycle, '2026-08');
  assert.strictEqual(runs, 2);
  const noCycle = mod.QueryEditor(Object.assign({}, props, { query: { refId: 'A', queryType: 'unmapped_users' } }));
  assert.strictEqual(find(noCycle, (n) => n.type === 'Select').length, 1, 'unmapped_users has no cycle picker');
});
