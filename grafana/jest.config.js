// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');

const swc = base.transform['^.+\\.(t|j)sx?$'];

module.exports = {
  // Jest configuration provided by Grafana scaffolding
  ...base,
  // @grafana/data and @grafana/ui 13 import many ES-module-only packages
  // (d3's .mjs, @react-hookz/web, ...): SWC transforms every module, ours
  // and node_modules alike (Jest caches the result).
  transform: { '^.+\\.(t|j)sx?$': swc, '^.+\\.mjs$': swc },
  transformIgnorePatterns: [],
};
