// Loads the production bundle (dist/module.js, written by `npm run build`)
// the way Grafana's SystemJS does: an AMD module whose dependencies are
// Grafana's own react and @grafana/* packages (here the real 13.2 ones),
// and checks it exports a working data source plugin.
import fs from 'fs';
import path from 'path';
import React from 'react';
import { render, screen } from '@testing-library/react';
import * as data from '@grafana/data';
import * as runtime from '@grafana/runtime';
import * as ui from '@grafana/ui';

const bundle = path.resolve(__dirname, '..', '..', 'dist', 'module.js');

function loadBundle(): { plugin: data.DataSourcePlugin<any, any, any> } {
  if (!fs.existsSync(bundle)) {
    throw new Error(`${bundle} is missing: run npm run build first (make grafana-check does)`);
  }
  const deps: Record<string, unknown> = {
    react: React,
    '@grafana/data': data,
    '@grafana/runtime': runtime,
    '@grafana/ui': ui,
    module: { uri: '/public/plugins/phonesignals-phonesignals-datasource/module.js' },
  };
  let exported: unknown;
  const define = (names: string[], factory: (...args: unknown[]) => unknown) => {
    exported = factory(
      ...names.map((n) => {
        if (!(n in deps)) {
          throw new Error(`dist/module.js needs ${n}, which Grafana does not provide to plugins`);
        }
        return deps[n];
      })
    );
  };
  new Function('define', fs.readFileSync(bundle, 'utf8'))(define);
  return exported as { plugin: data.DataSourcePlugin<any, any, any> };
}

describe('dist/module.js', () => {
  it('is an AMD module exporting the data source plugin with both editors', () => {
    const { plugin } = loadBundle();
    expect(plugin).toBeInstanceOf(data.DataSourcePlugin);
    expect(plugin.components.ConfigEditor).toBeDefined();
    expect(plugin.components.QueryEditor).toBeDefined();
    expect(plugin.DataSourceClass.name).toBeTruthy();
  });

  it('renders its config editor with the real @grafana/ui', () => {
    const { plugin } = loadBundle();
    const ConfigEditor = plugin.components.ConfigEditor as React.ComponentType<any>;
    render(<ConfigEditor options={{ jsonData: { clickhouse: 'clickhouse:9000', org: 'acme' }, secureJsonFields: {} }} onOptionsChange={() => {}} />);
    expect(screen.getByDisplayValue('acme')).toBeInTheDocument();
  });
});
