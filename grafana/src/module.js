/*
 * phonesignals data source: Grafana's frontend half of the plugin.
 *
 * Hand-written AMD module (what create-plugin's webpack build emits), with
 * no build step: Grafana provides react, @grafana/data, @grafana/runtime and
 * @grafana/ui to plugins. Everything is answered by the Go backend
 * (grafana/pkg): queries go to QueryData, "Save & test" to CheckHealth, the
 * cycle picker to GET /cycles.
 *
 * Query model: {"queryType": "employee_metrics" | "cohort_baselines" |
 * "unmapped_users" | "cycles", "cycle": "<cycle id or $cycle>"}. There is
 * no org: each data source is scoped to the org in its settings.
 */
define(['react', '@grafana/data', '@grafana/runtime', '@grafana/ui'], function (React, data, runtime, ui) {
  'use strict';

  var h = React.createElement;

  var QUERY_TYPES = [
    { value: 'employee_metrics', label: 'Employee metrics', description: "Every employee's seven review numbers in a cycle" },
    { value: 'cohort_baselines', label: 'Cohort baselines', description: 'Cohort size and exact median total_calls in a cycle' },
    { value: 'unmapped_users', label: 'Unmapped users', description: 'Provider users with calls and no employee, in the time range' },
    { value: 'cycles', label: 'Review cycles', description: "The org's review cycles (for the cycle variable)" },
  ];
  var NEEDS_CYCLE = { employee_metrics: true, cohort_baselines: true };
  var DEFAULT_QUERY = { queryType: 'employee_metrics', cycle: '$cycle' };

  // Grafana adds its own keys (refId, datasource, hide, ...); org is never
  // sent: the backend refuses it.
  function cleanQuery(query) {
    var out = Object.assign({}, query);
    delete out.org;
    return out;
  }

  class CycleVariableSupport extends data.DataSourceVariableSupport {
    getDefaultQuery() {
      return { queryType: 'cycles' };
    }
  }

  class DataSource extends runtime.DataSourceWithBackend {
    constructor(instanceSettings) {
      super(instanceSettings);
      // A query variable on this data source runs a "cycles" query; Grafana
      // takes the options from the first string field (cycle_id).
      this.variables = new CycleVariableSupport();
    }

    getDefaultQuery() {
      return Object.assign({}, DEFAULT_QUERY);
    }

    filterQuery(query) {
      return !query.hide && !!query.queryType;
    }

    applyTemplateVariables(query, scopedVars) {
      var out = cleanQuery(query);
      if (typeof out.cycle === 'string') {
        out.cycle = runtime.getTemplateSrv().replace(out.cycle, scopedVars);
      }
      return out;
    }

    // The org's review cycles: [{cycle_id, period_start, period_end}].
    getCycles() {
      return this.getResource('cycles');
    }
  }

  function ConfigEditor(props) {
    var options = props.options;
    var jsonData = options.jsonData || {};
    var secureFields = options.secureJsonFields || {};
    var secureData = options.secureJsonData || {};

    function setJSON(key) {
      return function (ev) {
        var jd = Object.assign({}, jsonData);
        jd[key] = ev.currentTarget.value;
        props.onOptionsChange(Object.assign({}, options, { jsonData: jd }));
      };
    }
    function setPassword(ev) {
      props.onOptionsChange(Object.assign({}, options, {
        secureJsonData: Object.assign({}, secureData, { password: ev.currentTarget.value }),
      }));
    }
    function resetPassword() {
      props.onOptionsChange(Object.assign({}, options, {
        secureJsonFields: Object.assign({}, secureFields, { password: false }),
        secureJsonData: Object.assign({}, secureData, { password: '' }),
      }));
    }
    function field(label, tooltip, input) {
      return h(ui.InlineField, { label: label, labelWidth: 20, tooltip: tooltip }, input);
    }

    return h('div', { className: 'gf-form-group' },
      h(ui.FieldSet, { label: 'ClickHouse' },
        field('Address', 'HOST:PORT of the native protocol (usually 9000, not the HTTP port 8123)',
          h(ui.Input, { id: 'phonesignals-clickhouse', width: 40, value: jsonData.clickhouse || '', placeholder: 'clickhouse:9000', onChange: setJSON('clickhouse') })),
        field('Database', 'Default phonesignals',
          h(ui.Input, { id: 'phonesignals-database', width: 40, value: jsonData.database || '', placeholder: 'phonesignals', onChange: setJSON('database') })),
        field('Username', 'Default: default',
          h(ui.Input, { id: 'phonesignals-username', width: 40, value: jsonData.username || '', placeholder: 'default', onChange: setJSON('username') })),
        field('Password', 'Optional; stored encrypted',
          h(ui.SecretInput, { id: 'phonesignals-password', width: 40, isConfigured: !!secureFields.password, value: secureData.password || '', placeholder: 'optional', onChange: setPassword, onReset: resetPassword }))),
      h(ui.FieldSet, { label: 'Org' },
        field('Org', 'Required. This data source reads only this phonesignals org: create one data source per org and give each manager access to theirs.',
          h(ui.Input, { id: 'phonesignals-org', width: 40, value: jsonData.org || '', placeholder: 'acme', required: true, invalid: !jsonData.org, onChange: setJSON('org') }))));
  }

  function QueryEditor(props) {
    var query = Object.assign({}, DEFAULT_QUERY, props.query);
    var state = React.useState([]);
    var cycles = state[0];
    var setCycles = state[1];
    var errState = React.useState('');
    var loadError = errState[0];
    var setLoadError = errState[1];
    var datasource = props.datasource;

    React.useEffect(function () {
      var live = true;
      if (!NEEDS_CYCLE[query.queryType] || !datasource || !datasource.getCycles) {
        return undefined;
      }
      Promise.resolve(datasource.getCycles()).then(function (cs) {
        if (live) {
          setCycles(cs || []);
          setLoadError('');
        }
      }, function (err) {
        if (live) {
          setLoadError((err && err.data && err.data.error) || (err && err.message) || String(err));
        }
      });
      return function () { live = false; };
    }, [datasource, query.queryType]);

    function change(patch) {
      props.onChange(cleanQuery(Object.assign({}, props.query, patch)));
      if (props.onRunQuery) {
        props.onRunQuery();
      }
    }

    var variables = [];
    try {
      variables = runtime.getTemplateSrv().getVariables().map(function (v) {
        return { value: '$' + v.name, label: '$' + v.name, description: 'dashboard variable' };
      });
    } catch (e) {
      variables = [];
    }
    var cycleOptions = variables.concat(cycles.map(function (c) {
      return { value: c.cycle_id, label: c.cycle_id, description: String(c.period_start).slice(0, 10) + ' to ' + String(c.period_end).slice(0, 10) + ' (end exclusive)' };
    }));

    var children = [
      h(ui.InlineField, { key: 'type', label: 'Query', labelWidth: 12 },
        h(ui.Select, {
          inputId: 'phonesignals-query-type', width: 30, options: QUERY_TYPES,
          value: query.queryType,
          onChange: function (v) { change({ queryType: v.value }); },
        })),
    ];
    if (NEEDS_CYCLE[query.queryType]) {
      children.push(h(ui.InlineField, { key: 'cycle', label: 'Cycle', labelWidth: 12, invalid: !!loadError, error: loadError, tooltip: 'A review cycle id, or $cycle' },
        h(ui.Select, {
          inputId: 'phonesignals-cycle', width: 30, options: cycleOptions, allowCustomValue: true,
          value: query.cycle ? { value: query.cycle, label: query.cycle } : null,
          placeholder: 'cycle or $cycle',
          onChange: function (v) { change({ cycle: v ? v.value : '' }); },
        })));
    }
    return h(ui.InlineFieldRow, null, children);
  }

  var plugin = new data.DataSourcePlugin(DataSource)
    .setConfigEditor(ConfigEditor)
    .setQueryEditor(QueryEditor);

  return { plugin: plugin, DataSource: DataSource, ConfigEditor: ConfigEditor, QueryEditor: QueryEditor };
});
