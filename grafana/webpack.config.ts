// Extends create-plugin's webpack config (.config/, scaffolded, not edited):
// the provisioned dashboards ship inside dist/, and the LICENSE shipped is
// the repository's (../LICENSE from grafana/, Apache-2.0): create-plugin
// looks for grafana/LICENSE, which does not exist. The Dockerfile's
// frontend stage has grafana/ only: there build.sh adds LICENSE, and a
// Jest test and build.sh require it in every other build.
import CopyWebpackPlugin from 'copy-webpack-plugin';
import type { Configuration } from 'webpack';

import grafanaConfig, { type Env } from './.config/webpack/webpack.config.ts';

const config = async (env: Env): Promise<Configuration> => {
  const base = await grafanaConfig(env);
  for (const p of base.plugins ?? []) {
    if (p instanceof CopyWebpackPlugin) {
      const c = p as unknown as { patterns: Array<{ from: string; noErrorOnMissing?: boolean }> };
      c.patterns = c.patterns.map((pat) => (pat.from === '../LICENSE' ? { ...pat, from: '../../LICENSE', noErrorOnMissing: true } : pat));
    }
  }
  base.plugins = [
    ...(base.plugins ?? []),
    new CopyWebpackPlugin({ patterns: [{ from: '../dashboards/*.json', to: 'dashboards/[name][ext]' }] }),
  ];
  return base;
};

export default config;
