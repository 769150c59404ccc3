// Checks what `npm run build` (make grafana-check, grafana/build.sh) puts
// beside module.js for a release: the repository's Apache-2.0 LICENSE, and
// plugin.json with its version and date filled in from the build
// (create-plugin's %VERSION% and %TODAY%), not hard-coded in src/.
import fs from 'fs';
import path from 'path';

const grafanaDir = path.resolve(__dirname, '..', '..');
const dist = path.join(grafanaDir, 'dist');

function readDist(file: string): string {
  const p = path.join(dist, file);
  if (!fs.existsSync(p)) {
    throw new Error(`${p} is missing: run npm run build first (make grafana-check does)`);
  }
  return fs.readFileSync(p, 'utf8');
}

describe('the production build', () => {
  it('ships the repository LICENSE (Apache License 2.0)', () => {
    const license = readDist('LICENSE');
    expect(license).toContain('Apache License');
    expect(license).toContain('Version 2.0, January 2004');
    expect(license).toBe(fs.readFileSync(path.join(grafanaDir, '..', 'LICENSE'), 'utf8'));
  });

  it('declares the license in package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(grafanaDir, 'package.json'), 'utf8'));
    expect(pkg.license).toBe('Apache-2.0');
  });

  it('fills plugin.json version and date from the build', () => {
    const src = JSON.parse(fs.readFileSync(path.join(grafanaDir, 'src', 'plugin.json'), 'utf8'));
    expect(src.info.version).toBe('%VERSION%');
    expect(src.info.updated).toBe('%TODAY%');
    const built = JSON.parse(readDist('plugin.json'));
    const pkg = JSON.parse(fs.readFileSync(path.join(grafanaDir, 'package.json'), 'utf8'));
    expect(built.info.version).toBe(pkg.version);
    expect(built.info.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(built.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Number.isNaN(Date.parse(built.info.updated))).toBe(false);
  });
});
