// Extends create-plugin's webpack config (.config/, scaffolded, not edited):
// the provisioned dashboards ship inside dist/, and the plugin has no
// LICENSE file of its own.
import CopyWebpackPlugin from 'copy-webpack-plugin';
import type { Configuration } from 'webpack';

import grafanaConfig, { type Env } from './.config/webpack/webpack.config.ts';

const config = async (env: Env): Promise<Configuration> => {
  const base = await grafanaConfig(env);
  for (const p of base.plugins ?? []) {
    if (p instanceof CopyWebpackPlugin) {
      const c = p as unknown as { patterns: Array<{ from: string }> };
      c.patterns = c.patterns.filter((pat) => pat.from !== '../LICENSE');
    }
  }
  base.plugins = [...(base.plugins ?? []), new CopyWebpackPlugin({ patterns: [{ from: '../dashboards/*.json', to: 'dashboards/[name][ext]' }] })];
  return base;
};

export default config;
